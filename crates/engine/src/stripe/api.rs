//! One Stripe request at a time, the way a careful client makes it: wait for the client-side
//! rate limiter, send once through async-stripe, keep the exact body Stripe sent, and retry
//! with exponential backoff and jitter when the failure is worth retrying (network errors,
//! timeouts, cut-off bodies, 429, 409 lock conflicts, 500–504). Anything else stops with a
//! message naming the request.
//!
//! async-stripe 1.0.0-rc.10 reads `Stripe-Should-Retry` only inside its own retry strategies
//! and does not hand it (or any header) to callers, so the decision here follows Stripe's
//! documented meaning of each status; when Stripe says a 4xx is final we never retry it.

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
    pub stats: Stats,
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
        Ok(Api {
            client,
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)),
            limits,
            stats: Stats::default(),
        })
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
            let out = call.send(&capture).await?;
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
            .when(retryable)
            .notify(|e, _| self.stats.note_retry(request, e))
            .await
            .map_err(|e| {
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
