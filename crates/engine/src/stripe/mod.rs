//! The Stripe mirror: an exact, current copy of what Stripe knows about the platform's
//! money, pulled with async-stripe (its request builders, types and hyper client).
//!
//! - `keys`: the Stripe key in the keychain, and the mode (test / live) it implies.
//! - `api`: one request at a time through a client-side rate limiter, retried with
//!   exponential backoff and jitter when Stripe or the network says it is worth it, and the
//!   exact JSON Stripe sent kept beside the typed value.
//! - `sync`: the run: created-windows fetched concurrently, each page written with its
//!   window's cursor in one transaction; an interrupted run resumes where it stopped.
//! - `coverage`: Stripe's available balance against what the platform owes its creators.

use std::time::Duration;

use serde::Serialize;

pub mod api;
pub mod coverage;
pub mod keys;
pub mod status;
pub mod sync;

pub use keys::StripeKey;
pub use sync::{SyncControl, SyncOptions, SyncProgress, SyncReport, sync};

/// Where the real Stripe API lives.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com/";

#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error(
        "no Stripe key for this workspace: store one with `closebook stripe set-key` (reads stdin) or set STRIPE_API_KEY"
    )]
    NoKey,
    #[error(
        "that is not a Stripe secret or restricted key (sk_test_, sk_live_, rk_test_ or rk_live_ followed by its characters)"
    )]
    MalformedKey,
    #[error(
        "the Stripe key is a {key} key but this workspace holds {workspace} data; use a {workspace} key (modes never mix)"
    )]
    ModeMismatch {
        key: &'static str,
        workspace: &'static str,
    },
    #[error("Stripe returned {what} in {workspace} mode data; the key and the account disagree")]
    LivemodeMismatch {
        what: String,
        workspace: &'static str,
    },
    #[error("{request} failed: {detail}")]
    Request { request: String, detail: String },
    #[error("{request} failed: {detail}")]
    Certificate { request: String, detail: String },
    #[error("{request} failed after {attempts} attempts: {detail}")]
    GaveUp {
        request: String,
        attempts: u32,
        detail: String,
    },
    #[error("Stripe sent an object Closebook cannot read in {request}: {detail}")]
    BadObject { request: String, detail: String },
    #[error("invalid API base `{0}`: give a URL such as http://127.0.0.1:12111")]
    BadApiBase(String),
    #[error(
        "refusing to send the Stripe key in cleartext to `{0}`: use https:// (plain http is only for this computer's loopback, where the simulator runs)"
    )]
    CleartextApiBase(String),
    #[error("the sync was cancelled; run it again to continue where it stopped")]
    Cancelled,
    #[error("cannot start the sync's network runtime: {0}")]
    Runtime(String),
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Money(#[from] crate::money::MoneyError),
    #[error("database error during the Stripe sync: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Counts and limits for one sync, each with its reason.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    /// Objects per list request: Stripe's maximum, so pages ÷ rate is the floor.
    pub page_size: u8,
    /// Requests per second the client allows itself.
    pub requests_per_second: u32,
    /// Windows fetched at once: enough requests in flight to keep the limiter busy when
    /// each one takes a few hundred milliseconds.
    pub concurrency: usize,
    /// Attempts per request before the sync stops.
    pub max_attempts: u32,
    /// First backoff delay; doubles each retry, with jitter, up to `max_backoff`.
    #[serde(with = "millis")]
    pub min_backoff: Duration,
    #[serde(with = "millis")]
    pub max_backoff: Duration,
    /// One request's deadline (headers and body): a stuck connection never hangs a sync.
    #[serde(with = "millis")]
    pub timeout: Duration,
}

impl Limits {
    /// Stripe allows 100 requests/s in live mode and 25 in test mode (most endpoints 25
    /// each); we stay safely below: 80 and 20.
    pub fn for_mode(live: bool) -> Limits {
        Limits {
            page_size: 100,
            requests_per_second: if live { 80 } else { 20 },
            concurrency: 12,
            max_attempts: 6,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        }
    }
}

mod millis {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests;
