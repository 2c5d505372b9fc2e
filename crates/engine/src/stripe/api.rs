//! One Stripe request at a time, the way a careful client makes it: wait for the client-side
//! rate limiter, send once through async-stripe, keep the exact body Stripe sent, and retry
//! with exponential backoff and jitter when the failure is worth retrying (network errors,
//! timeouts, cut-off bodies, 429, 409 lock conflicts, 500–504). Anything else stops with a
//! message naming the request.
//!
//! async-stripe 1.0.0-rc.10 reads `Stripe-Should-Retry` only inside its own retry strategies
//! and does not hand it (or any header) to callers, so the decision here follows Stripe's
//! documented meaning of each status; when Stripe says a 4xx is final we never retry it.
//!
//! It also reports every connection failure as "client error (Connect)", a certificate it
//! refused included. A certificate is no passing fault: after a connection failure to an
//! https address, one handshake of our own ([`tls_problem`], the same rustls and roots)
//! tells an untrusted certificate from a network that is down, and the former stops the
//! run at once, naming the host and what is wrong.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use stripe::{RequestStrategy, StripeRequest};
use stripe_client_core::{CustomizedStripeRequest, StripeClient};

use super::{Limits, StripeError, StripeKey};

/// Counters a progress display reads while the sync runs.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    /// The most recent retried failures, in plain words (newest last, at most 20).
    pub recent_errors: Mutex<Vec<String>>,
}

/// How many retried failures a progress display keeps.
const RECENT_ERRORS: usize = 20;

impl Stats {
    fn note_retry(&self, request: &str, e: &stripe::StripeError) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        let mut list = self.recent_errors.lock().unwrap_or_else(|p| p.into_inner());
        list.push(format!("{request}: {}; retrying", describe(e)));
        let excess = list.len().saturating_sub(RECENT_ERRORS);
        list.drain(..excess);
    }
}

pub struct Api {
    client: stripe::Client,
    limiter: DefaultDirectRateLimiter,
    limits: Limits,
    /// `host:port` of an https base (a certificate can be checked), `None` for loopback http.
    tls_host: Option<(String, u16)>,
    /// A certificate problem found once ends every later attempt at once.
    certificate: tokio::sync::OnceCell<Option<String>>,
    pub stats: Stats,
}

/// One attempt's failure: Stripe's (retried by its meaning) or a refused certificate (final).
enum Attempt {
    Stripe(stripe::StripeError),
    Certificate(String),
}

impl From<stripe::StripeError> for Attempt {
    fn from(e: stripe::StripeError) -> Attempt {
        Attempt::Stripe(e)
    }
}

/// Forwards to async-stripe's client and keeps the body it returned.
struct Capture<'a> {
    inner: &'a stripe::Client,
    body: Mutex<Option<Bytes>>,
}

impl StripeClient for Capture<'_> {
    type Err = stripe::StripeError;

    async fn execute(&self, req: CustomizedStripeRequest) -> Result<Bytes, stripe::StripeError> {
        let bytes = self.inner.execute(req).await?;
        *self.body.lock().unwrap_or_else(|p| p.into_inner()) = Some(bytes.clone());
        Ok(bytes)
    }
}

impl Api {
    pub fn new(key: &StripeKey, api_base: &str, limits: Limits) -> Result<Api, StripeError> {
        let base = normalize_base(api_base)?;
        let client = stripe::ClientBuilder::new(key.secret())
            .url(base)
            .timeout(limits.timeout)
            .request_strategy(RequestStrategy::Once)
            .build()
            .map_err(|e| StripeError::BadApiBase(format!("{api_base} ({e})")))?;
        let rate = NonZeroU32::new(limits.requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let tls_host = url::Url::parse(api_base.trim()).ok().and_then(|u| {
            (u.scheme() == "https")
                .then(|| Some((u.host_str()?.to_string(), u.port_or_known_default()?)))
                .flatten()
        });
        Ok(Api {
            client,
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)),
            limits,
            tls_host,
            certificate: tokio::sync::OnceCell::new(),
            stats: Stats::default(),
        })
    }

    /// After a connection failure: the certificate problem behind it, if that is what it
    /// was (checked once per run).
    async fn certificate_problem(&self) -> Option<String> {
        let (host, port) = self.tls_host.as_ref()?;
        self.certificate
            .get_or_init(|| tls_problem(host, *port, self.limits.timeout))
            .await
            .clone()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sends `req` (named `request` in messages) and returns the typed answer with the
    /// exact body it was read from.
    pub async fn send<R>(
        &self,
        request: &str,
        req: &R,
        account: Option<&str>,
    ) -> Result<(R::Output, Bytes), StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        self.send_with(request, req, account, None).await
    }

    /// Sends a request that changes something, with `idempotency_key` on every attempt:
    /// retried exactly like [`Api::send`], and Stripe makes the change at most once.
    pub async fn send_idempotent<R>(
        &self,
        request: &str,
        req: &R,
        idempotency_key: &str,
    ) -> Result<(R::Output, Bytes), StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let key =
            stripe::IdempotencyKey::new(idempotency_key).map_err(|e| StripeError::Request {
                request: request.to_string(),
                detail: format!("unusable idempotency key ({e})"),
            })?;
        self.send_with(request, req, None, Some(key)).await
    }

    async fn send_with<R>(
        &self,
        request: &str,
        req: &R,
        account: Option<&str>,
        idempotency_key: Option<stripe::IdempotencyKey>,
    ) -> Result<(R::Output, Bytes), StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let attempt = || async {
            self.limiter.until_ready().await;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let capture = Capture {
                inner: &self.client,
                body: Mutex::new(None),
            };
            let strategy = match &idempotency_key {
                Some(k) => RequestStrategy::Idempotent(k.clone()),
                None => RequestStrategy::Once,
            };
            let mut call = req.customize().request_strategy(strategy);
            if let Some(a) = account {
                call = call.account_id(stripe::AccountId::from(a));
            }
            let out = match call.send(&capture).await {
                Ok(out) => out,
                Err(e @ stripe::StripeError::ClientError(_)) => {
                    return Err(match self.certificate_problem().await {
                        Some(problem) => Attempt::Certificate(problem),
                        None => Attempt::Stripe(e),
                    });
                }
                Err(e) => return Err(Attempt::Stripe(e)),
            };
            let body = capture
                .body
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_default();
            Ok((out, body))
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.limits.min_backoff)
            .with_max_delay(self.limits.max_backoff)
            .with_max_times(self.limits.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|a: &Attempt| match a {
                Attempt::Stripe(e) => retryable(e),
                Attempt::Certificate(_) => false,
            })
            .notify(|a: &Attempt, _| {
                if let Attempt::Stripe(e) = a {
                    self.stats.note_retry(request, e)
                }
            })
            .await
            .map_err(|a| {
                let e = match a {
                    Attempt::Stripe(e) => e,
                    Attempt::Certificate(detail) => {
                        return StripeError::Certificate {
                            request: request.to_string(),
                            detail,
                        };
                    }
                };
                let detail = describe(&e);
                if let stripe::StripeError::JSONDeserialize(msg) = &e
                    && msg.contains("request data")
                {
                    StripeError::BadObject {
                        request: request.to_string(),
                        detail,
                    }
                } else if retryable(&e) {
                    StripeError::GaveUp {
                        request: request.to_string(),
                        attempts: self.limits.max_attempts,
                        detail,
                    }
                } else {
                    StripeError::Request {
                        request: request.to_string(),
                        detail,
                    }
                }
            })
    }
}

/// async-stripe joins `{base}v1{path}`: the base must end with `/`. The key goes in a header
/// of every request: only over https, or over plain http to this computer's loopback (the
/// simulator) — never in cleartext across a network.
pub(crate) fn normalize_base(api_base: &str) -> Result<String, StripeError> {
    let base = api_base.trim();
    let bad = || StripeError::BadApiBase(api_base.to_string());
    let url = url::Url::parse(base).map_err(|_| bad())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => return Err(bad()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(StripeError::CleartextApiBase(base.to_string())),
        _ => return Err(bad()),
    }
    Ok(if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    })
}

/// Whether Stripe's documented semantics make this failure worth another attempt.
pub fn retryable(e: &stripe::StripeError) -> bool {
    use stripe::StripeError as E;
    match e {
        E::Timeout | E::ClientError(_) => true,
        E::Stripe(api, status) => match status {
            429 | 500 | 502 | 503 | 504 => true,
            409 => api
                .code
                .as_ref()
                .is_some_and(|c| matches!(c.as_str(), "lock_timeout" | "idempotency_key_in_use")),
            _ => false,
        },
        // An error body that is not Stripe's JSON (a proxy's HTML 502) has lost its status;
        // a malformed successful body is not going to improve.
        E::JSONDeserialize(msg) => !msg.contains("request data"),
        E::ConfigError(_) => false,
    }
}

/// A failure in plain words, never holding the key.
pub fn describe(e: &stripe::StripeError) -> String {
    use stripe::StripeError as E;
    match e {
        E::Stripe(api, status) => {
            let mut s = format!("Stripe answered {status} {}", api.type_.as_str());
            if let Some(code) = &api.code {
                s.push_str(&format!(" ({})", code.as_str()));
            }
            if let Some(m) = &api.message {
                s.push_str(": ");
                s.push_str(m);
            }
            s
        }
        E::Timeout => "no complete answer within the request timeout".to_string(),
        E::ClientError(m) => format!("network error ({m})"),
        E::JSONDeserialize(m) => format!("unreadable answer ({m})"),
        E::ConfigError(m) => format!("client configuration ({m})"),
    }
}

/// One TLS handshake with `host:port`, verified as async-stripe's connector verifies it
/// (rustls, ring, the Mozilla roots of `webpki-roots`): the certificate problem in plain
/// words with what to do, or `None` when the handshake succeeds or fails for another
/// reason (no route, refused, timed out: a network that may come back).
pub async fn tls_problem(host: &str, port: u16, timeout: std::time::Duration) -> Option<String> {
    use std::sync::Arc;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .ok()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).ok()?;
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        connector.connect(name, tcp).await.err()
    };
    let err = tokio::time::timeout(timeout, handshake).await.ok()??;
    let tls = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())?;
    let what = match tls {
        rustls::Error::InvalidCertificate(c) => {
            use rustls::CertificateError as C;
            match c {
                C::UnknownIssuer => "it is self-signed or issued by an authority this computer does not trust (an intercepting proxy or antivirus does this)".to_string(),
                C::Expired | C::ExpiredContext { .. } => "it has expired".to_string(),
                C::NotValidYet | C::NotValidYetContext { .. } => {
                    "it is not valid yet (is this computer's clock right?)".to_string()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    format!("it is not issued for {host}")
                }
                C::Revoked => "it has been revoked".to_string(),
                C::BadSignature | C::BadEncoding => "it is malformed or its signature is bad".to_string(),
                other => format!("it was refused ({other:?})"),
            }
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the server ended the handshake ({alert:?})")
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateHandshakeMessage { .. } => {
            "the server does not speak TLS as expected (is this an https address?)".to_string()
        }
        _ => return None,
    };
    Some(format!(
        "the TLS certificate of {host}:{port} is not trusted: {what}. Nothing was sent with the Stripe key and nothing is retried: check the address (--api-base, CLOSEBOOK_STRIPE_API_BASE), or the proxy between this computer and Stripe"
    ))
}
