//! # closebook-stripe-sim
//!
//! A simulator of the part of Stripe's v1 API that Closebook uses, for tests, the demo and
//! benchmarks. The real async-stripe client is pointed at it
//! (`ClientBuilder::new(key).url(handle.url())`) and cannot tell it from Stripe for these
//! endpoints: objects have Stripe's wire shapes (each is rendered from Stripe's own API
//! fixture, `fixtures/stripe/objects.json`, with its ids, amounts, times and links replaced), lists
//! page like Stripe's, errors are Stripe's JSON.
//!
//! ## Data
//! A [`Dataset`] is Stripe's side of a platform made by the engine's deterministic generator
//! (`closebook_generate`): one line per balance transaction, plus the creators'
//! connected accounts. Charges, refunds, disputes, transfers, payouts and events are derived
//! from the lines (see `store.rs` for the rules, including how refunds and disputes find
//! their charge). Time-dependent fields follow the simulator's clock ([`SimConfig::now`],
//! [`SimHandle::set_now`]): a balance transaction is `available` once its `available_on` has
//! passed, a payout `paid` once its arrival date has, and the balance splits accordingly.
//! `livemode` is the configured [`Mode`] on every object that has the field at Stripe
//! (balance transactions, refunds and accounts have none). An event's `data.object` is the
//! object of its line as it is now (not a snapshot from the event's time); for
//! `charge.refunded` that is the refund, where Stripe would send the refunded charge.
//!
//! ## Endpoints (all under `/v1`)
//! - `GET /balance`, `GET /account`
//! - `GET /balance_transactions` (filters `created[gt|gte|lt|lte]`, `payout`, `type`,
//!   `source`, `currency`), `/payouts` (`status`), `/transfers` (`destination`,
//!   `transfer_group`), `/transfers/{id}/reversals` (always empty), `/charges`, `/refunds`
//!   (`charge`), `/disputes` (`charge`), `/accounts`, `/events` (`type`, `types[]`, with
//!   `prefix.*` wildcards), and `GET /<resource>/{id}` for each.
//! - `POST /transfers` (form-encoded `amount`, `currency`, `destination`, `transfer_group`,
//!   `metadata[k]`, `description`, `source_transaction`), with `Idempotency-Key`.
//!
//! Lists: newest first (by `created`, then id), `limit` 1–100 (default 10),
//! `starting_after` / `ending_before`, `has_more`, `url`. `expand` is accepted and ignored
//! (links are always ids). Unknown parameters are refused, as Stripe does. The `payout`
//! filter returns the payout's own balance transaction (the generator's payouts are manual).
//!
//! `Stripe-Account: acct_…` (a dataset account) shows that connected account's view, which
//! holds nothing: empty lists, a zero balance, `GET /account` and `GET /accounts/{own id}`
//! answer with the account itself, and a transfer from it fails with `balance_insufficient`.
//! An unknown account is a 403 `account_invalid`, as at Stripe.
//!
//! ## Failure injection
//! [`SimConfig::latency`] delays every answer; [`SimConfig::rate_limit`] admits N requests per
//! sliding second and answers the rest with Stripe's 429 `rate_limit` error (without
//! `Stripe-Should-Retry`, as Stripe); a [`FaultPlan`] fails chosen requests (by ordinal, or at
//! seeded random) with a [`FaultKind`]. Connections are served by hyper from a custom accept
//! loop so a fault can reset or drop the connection itself, and a truncated body really
//! stops mid-way. What each looks like from async-stripe 1.0.0-rc.10:
//!
//! | fault | async-stripe's error |
//! |---|---|
//! | `Status(500…504)` | `StripeError::Stripe(api_error, status)` (retried by `Retry(n)`) |
//! | `NonRetryable` | `StripeError::Stripe(invalid_request_error, 400)`, never retried |
//! | `RateLimited` | `StripeError::Stripe(invalid_request_error / rate_limit, 429)` |
//! | `Timeout` | `StripeError::Timeout` with a client timeout shorter than the hold |
//! | `TruncatedBody` | `StripeError::ClientError("error reading a body from connection")` |
//! | `ConnectionReset(AfterProcessing)` | `StripeError::ClientError(..)` |
//!
//! Every request is recorded ([`SimHandle::requests`]); transfers created through the API are
//! listed by [`SimHandle::transfers_created`].

mod api;
mod config;
mod dataset;
mod error;
mod render;
mod server;
mod store;

use std::time::Duration;

pub use config::{
    DEFAULT_TEST_KEY, FaultKind, FaultPlan, Mode, PER_MILLION, PLATFORM_ACCOUNT_ID, SimConfig,
};
pub use dataset::Dataset;
pub use error::SimError;
pub use server::{RequestRecord, SimHandle, SimService, Simulator};
pub use store::CreatedTransfer;

/// The largest page: Stripe's own maximum `limit`, so a client that works here pages the
/// same way against Stripe.
pub const MAX_PAGE_LIMIT: u32 = 100;
/// Stripe's default `limit`.
pub const DEFAULT_PAGE_LIMIT: u32 = 10;
/// The largest request body read. A transfer with the maximum metadata (50 keys of 40
/// characters, values of 500) is about 30 KiB form-encoded; anything larger is refused before
/// it is buffered.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long events are listed and retrievable: Stripe keeps them for 30 days.
pub const EVENT_RETENTION_SECS: i64 = 30 * 86_400;
/// How long an idempotency key is remembered: Stripe keeps keys for at least 24 hours.
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 3600;
/// Stripe's maximum idempotency key length.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500.
pub const MAX_METADATA_KEYS: usize = 50;
pub const MAX_METADATA_KEY_LEN: usize = 40;
pub const MAX_METADATA_VALUE_LEN: usize = 500;
/// Stripe's amounts have at most eight digits in the minor unit (99,999,999 = $999,999.99);
/// it also keeps every balance sum far from `i64` overflow.
pub const MAX_AMOUNT_MINOR: i64 = 99_999_999;
/// Requests kept by [`SimHandle::requests`]: enough for any test, bounded memory for a long
/// benchmark (the oldest are dropped first).
pub const MAX_RECORDED_REQUESTS: usize = 100_000;
/// How long a [`FaultKind::Timeout`] holds its answer by default: longer than any sensible
/// client timeout in a test, short enough not to pin connections for long.
pub const DEFAULT_TIMEOUT_HOLD: Duration = Duration::from_secs(30);
/// The API version stamped on events (the one async-stripe 1.0.0-rc.10 sends).
pub const STRIPE_API_VERSION: &str = "2026-09-30.endive";
