//! Configuration: mode and key, the simulator's clock, latency, the rate limit and the fault
//! plan.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::error::SimError;
use crate::{DEFAULT_TIMEOUT_HOLD, IDEMPOTENCY_WINDOW_SECS};

/// The key of [`SimConfig::test`]: a test-mode secret key that is obviously not a real one.
pub const DEFAULT_TEST_KEY: &str = "sk_test_closebook_simulator";

/// The platform's own account id (answers `GET /v1/account`; a `Stripe-Account` header with
/// this id means the platform itself).
pub const PLATFORM_ACCOUNT_ID: &str = "acct_1CloseBookPlatformSim";

/// Test or live mode: every object's `livemode`, and which keys are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Test,
    Live,
}

impl Mode {
    pub fn livemode(self) -> bool {
        self == Mode::Live
    }

    /// The mode a Stripe key belongs to: `sk_test_`/`rk_test_` → test,
    /// `sk_live_`/`rk_live_` → live, anything else → `None`.
    pub fn of_key(key: &str) -> Option<Mode> {
        if key.starts_with("sk_test_") || key.starts_with("rk_test_") {
            Some(Mode::Test)
        } else if key.starts_with("sk_live_") || key.starts_with("rk_live_") {
            Some(Mode::Live)
        } else {
            None
        }
    }
}

/// What goes wrong with one request.
///
/// The first three answer without running the request (nothing is created); the others run
/// it (a `POST /v1/transfers` creates its transfer and stores its idempotent result) and then
/// lose the answer, which is the case a client must survive without paying twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500, 502, 503 or 504 with a Stripe `api_error` JSON body and
    /// `Stripe-Should-Retry: true`. Not executed.
    Status(u16),
    /// HTTP 400 `invalid_request_error` with `Stripe-Should-Retry: false`. Not executed.
    NonRetryable,
    /// HTTP 429 with Stripe's `rate_limit` body (no `Stripe-Should-Retry`, as Stripe). Not
    /// executed.
    RateLimited,
    /// Executed; the response is held for [`SimConfig::timeout_hold`] (longer than the
    /// client's timeout) and the connection is then dropped without an answer.
    Timeout,
    /// Executed; the headers go out with the full `Content-Length`, then only half the body,
    /// then the connection is aborted.
    TruncatedBody,
    /// The connection is reset (TCP RST) before any response byte. Not executed.
    ConnectionReset,
    /// Executed, then the connection is reset before any response byte.
    ConnectionResetAfterProcessing,
}

impl FaultKind {
    /// Whether the request runs (and its effects persist) before the answer is lost.
    pub fn executes_request(self) -> bool {
        matches!(
            self,
            FaultKind::Timeout
                | FaultKind::TruncatedBody
                | FaultKind::ConnectionResetAfterProcessing
        )
    }
}

/// The denominator of [`FaultPlan::random`] rates.
pub const PER_MILLION: u32 = 1_000_000;

/// Which requests fail and how: deterministic by request ordinal.
///
/// Ordinals count every request the simulator receives since it started, from 1 (see
/// [`crate::SimHandle::next_ordinal`]). Explicit rules win over the random part; the first
/// matching rule wins. The random part draws from a hash of `(seed, ordinal)`, so a given
/// ordinal always gets the same fault whatever the timing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    rules: Vec<(u64, u64, FaultKind)>,
    random: Option<(u64, Vec<(FaultKind, u32)>)>,
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    /// Request number `ordinal` gets `kind`.
    pub fn at(mut self, ordinal: u64, kind: FaultKind) -> FaultPlan {
        self.rules.push((ordinal, ordinal, kind));
        self
    }

    /// Every request whose ordinal is in `ordinals` gets `kind`.
    pub fn between(mut self, ordinals: RangeInclusive<u64>, kind: FaultKind) -> FaultPlan {
        self.rules.push((*ordinals.start(), *ordinals.end(), kind));
        self
    }

    /// Requests not covered by a rule get each kind with the given probability, in parts per
    /// million (the rates must add up to at most [`PER_MILLION`]).
    pub fn random(mut self, seed: u64, rates: &[(FaultKind, u32)]) -> FaultPlan {
        self.random = Some((seed, rates.to_vec()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.random.is_none()
    }

    /// The fault for request number `ordinal`, if any.
    pub fn fault_for(&self, ordinal: u64) -> Option<FaultKind> {
        if let Some((_, _, kind)) = self
            .rules
            .iter()
            .find(|(from, to, _)| (*from..=*to).contains(&ordinal))
        {
            return Some(*kind);
        }
        let (seed, rates) = self.random.as_ref()?;
        let draw = (crate::store::mix(*seed ^ ordinal.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            % u64::from(PER_MILLION)) as u32;
        let mut upto = 0u32;
        for (kind, rate) in rates {
            upto = upto.saturating_add(*rate);
            if draw < upto {
                return Some(*kind);
            }
        }
        None
    }

    pub(crate) fn validate(&self) -> Result<(), SimError> {
        let kinds = self
            .rules
            .iter()
            .map(|r| r.2)
            .chain(self.random.iter().flat_map(|r| r.1.iter().map(|k| k.0)));
        for kind in kinds {
            if let FaultKind::Status(code) = kind
                && !matches!(code, 500 | 502 | 503 | 504)
            {
                return Err(SimError::Config(format!(
                    "fault status {code} is not one of 500, 502, 503, 504"
                )));
            }
        }
        if let Some((_, rates)) = &self.random {
            let total: u64 = rates.iter().map(|r| u64::from(r.1)).sum();
            if total > u64::from(PER_MILLION) {
                return Err(SimError::Config(format!(
                    "random fault rates add up to {total} per million, more than {PER_MILLION}"
                )));
            }
        }
        Ok(())
    }
}

/// How the simulator behaves. Build with [`SimConfig::test`] / [`SimConfig::live`] and the
/// `with_*` methods, or set the public fields.
#[derive(Clone)]
pub struct SimConfig {
    pub mode: Mode,
    /// The one key accepted in `Authorization: Bearer <key>`; its prefix must match `mode`.
    pub api_key: String,
    /// The simulator's clock (unix seconds): balance transactions are `available` once
    /// `available_on <= now`. `None`: the dataset's [`crate::Dataset::suggested_now`].
    /// Change it while running with [`crate::SimHandle::set_now`].
    pub now: Option<i64>,
    /// When set, objects created after `now` do not exist yet (lists and retrieves skip them,
    /// the balance ignores them): advancing the clock reveals the dataset gradually, for
    /// incremental-sync tests. Off by default: everything is visible.
    pub reveal_by_clock: bool,
    /// Loopback port to bind; 0 picks a free one.
    pub port: u16,
    /// Added before every answer.
    pub latency: Duration,
    /// At most this many requests are admitted per sliding second (of real time); the others
    /// get 429 and do not count, so a client that backs off gets through.
    pub rate_limit: Option<u32>,
    pub faults: FaultPlan,
    /// How long a [`FaultKind::Timeout`] holds the response before dropping the connection.
    pub timeout_hold: Duration,
    /// How long (simulator clock, seconds) an idempotency key is remembered.
    pub idempotency_window_secs: i64,
    /// Connected accounts whose `transfers` capability is inactive (payouts disabled,
    /// requirements past due); transfers to them are refused.
    pub restricted_accounts: BTreeSet<String>,
    /// Refuse a transfer larger than the available balance (`balance_insufficient`), as
    /// Stripe does. On by default.
    pub check_balance: bool,
    /// Seed of the ids of objects created through the API.
    pub id_seed: u64,
}

impl fmt::Debug for SimConfig {
    /// The key is shown only by its prefix: it is a secret in the configuration's eyes even if
    /// only a simulator accepts it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("mode", &self.mode)
            .field("api_key", &redact_key(&self.api_key))
            .field("now", &self.now)
            .field("reveal_by_clock", &self.reveal_by_clock)
            .field("port", &self.port)
            .field("latency", &self.latency)
            .field("rate_limit", &self.rate_limit)
            .field("faults", &self.faults)
            .field("timeout_hold", &self.timeout_hold)
            .field("idempotency_window_secs", &self.idempotency_window_secs)
            .field("restricted_accounts", &self.restricted_accounts)
            .field("check_balance", &self.check_balance)
            .field("id_seed", &self.id_seed)
            .finish()
    }
}

/// `sk_test_****abcd`, as Stripe shows keys in its errors; the last four characters only when
/// at least twelve follow the prefix, so a short secret is not half shown.
pub(crate) fn redact_key(key: &str) -> String {
    let prefix_len = key.match_indices('_').nth(1).map_or(0, |(i, _)| i + 1);
    let (prefix, secret) = key.split_at(prefix_len);
    let n = secret.chars().count();
    if n >= 12 {
        let tail: String = secret.chars().skip(n - 4).collect();
        format!("{prefix}****{tail}")
    } else {
        format!("{prefix}****")
    }
}

impl SimConfig {
    /// `mode` with `api_key`, everything else at its default: no latency, no rate limit, no
    /// faults, the dataset's suggested clock, a free port.
    pub fn new(mode: Mode, api_key: impl Into<String>) -> SimConfig {
        SimConfig {
            mode,
            api_key: api_key.into(),
            now: None,
            reveal_by_clock: false,
            port: 0,
            latency: Duration::ZERO,
            rate_limit: None,
            faults: FaultPlan::none(),
            timeout_hold: DEFAULT_TIMEOUT_HOLD,
            idempotency_window_secs: IDEMPOTENCY_WINDOW_SECS,
            restricted_accounts: BTreeSet::new(),
            check_balance: true,
            id_seed: 0x5EED,
        }
    }

    /// Test mode with [`DEFAULT_TEST_KEY`].
    pub fn test() -> SimConfig {
        SimConfig::new(Mode::Test, DEFAULT_TEST_KEY)
    }

    /// Live mode with `key` (`sk_live_…` or `rk_live_…`).
    pub fn live(api_key: impl Into<String>) -> SimConfig {
        SimConfig::new(Mode::Live, api_key)
    }

    pub fn with_now(mut self, now: i64) -> SimConfig {
        self.now = Some(now);
        self
    }

    pub fn with_reveal_by_clock(mut self, on: bool) -> SimConfig {
        self.reveal_by_clock = on;
        self
    }

    pub fn with_port(mut self, port: u16) -> SimConfig {
        self.port = port;
        self
    }

    pub fn with_latency(mut self, latency: Duration) -> SimConfig {
        self.latency = latency;
        self
    }

    pub fn with_rate_limit(mut self, per_second: u32) -> SimConfig {
        self.rate_limit = Some(per_second);
        self
    }

    pub fn with_faults(mut self, faults: FaultPlan) -> SimConfig {
        self.faults = faults;
        self
    }

    pub fn with_timeout_hold(mut self, hold: Duration) -> SimConfig {
        self.timeout_hold = hold;
        self
    }

    pub fn with_idempotency_window_secs(mut self, secs: i64) -> SimConfig {
        self.idempotency_window_secs = secs;
        self
    }

    pub fn with_restricted_account(mut self, account: impl Into<String>) -> SimConfig {
        self.restricted_accounts.insert(account.into());
        self
    }

    pub fn with_check_balance(mut self, on: bool) -> SimConfig {
        self.check_balance = on;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), SimError> {
        match Mode::of_key(&self.api_key) {
            Some(m) if m == self.mode => {}
            Some(m) => {
                return Err(SimError::Config(format!(
                    "key {} is a {m:?}-mode key but the simulator runs in {:?} mode",
                    redact_key(&self.api_key),
                    self.mode
                )));
            }
            None => {
                return Err(SimError::Config(format!(
                    "key {} is not a Stripe secret or restricted key (sk_test_, rk_test_, sk_live_, rk_live_)",
                    redact_key(&self.api_key)
                )));
            }
        }
        if self.rate_limit == Some(0) {
            return Err(SimError::Config(
                "a rate limit of 0 requests per second would refuse everything".into(),
            ));
        }
        if self.idempotency_window_secs <= 0 {
            return Err(SimError::Config(
                "the idempotency window must be positive".into(),
            ));
        }
        self.faults.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_redacted_like_stripe() {
        assert_eq!(redact_key("sk_test_abcdefgh1234"), "sk_test_****1234");
        assert_eq!(redact_key("sk_test_ab"), "sk_test_****");
        assert_eq!(redact_key("garbage"), "****");
        let dbg = format!(
            "{:?}",
            SimConfig::new(Mode::Test, "sk_test_secretvalue9876")
        );
        assert!(!dbg.contains("secretvalue"), "{dbg}");
    }

    #[test]
    fn modes_follow_key_prefixes() {
        assert_eq!(Mode::of_key("rk_live_x"), Some(Mode::Live));
        assert_eq!(Mode::of_key("pk_test_x"), None);
        assert!(SimConfig::live("sk_test_x").validate().is_err());
        assert!(SimConfig::test().validate().is_ok());
        assert!(
            SimConfig::test()
                .with_faults(FaultPlan::none().at(1, FaultKind::Status(404)))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn rules_win_and_random_faults_are_a_function_of_the_ordinal() {
        let plan = FaultPlan::none()
            .at(5, FaultKind::Status(500))
            .between(10..=12, FaultKind::Timeout)
            .random(
                7,
                &[
                    (FaultKind::Status(503), 100_000),
                    (FaultKind::ConnectionReset, 50_000),
                ],
            );
        assert_eq!(plan.fault_for(5), Some(FaultKind::Status(500)));
        assert_eq!(plan.fault_for(11), Some(FaultKind::Timeout));
        let first: Vec<_> = (13..10_013).map(|n| plan.fault_for(n)).collect();
        let again: Vec<_> = (13..10_013).map(|n| plan.clone().fault_for(n)).collect();
        assert_eq!(first, again);
        let s503 = first
            .iter()
            .filter(|f| **f == Some(FaultKind::Status(503)))
            .count();
        let resets = first
            .iter()
            .filter(|f| **f == Some(FaultKind::ConnectionReset))
            .count();
        // 10 % and 5 % of 10,000 draws, within a generous margin.
        assert!((800..1200).contains(&s503), "{s503}");
        assert!((350..650).contains(&resets), "{resets}");
        let other_seed = FaultPlan::none().random(8, &[(FaultKind::Status(503), 100_000)]);
        let differ = (13..10_013)
            .filter(|n| other_seed.fault_for(*n) != plan.fault_for(*n))
            .count();
        assert!(differ > 100, "another seed gives another sequence");
        assert_eq!(FaultPlan::none().fault_for(1), None);
    }
}
