//! What the simulator serves: Stripe's side of a generated platform.

use closebook_generate::{AccountLine, Platform, PlatformSpec, StripeActivity, generate};

/// The clock of an empty dataset: 2026-01-01T00:00:00Z.
const EMPTY_DATASET_NOW: i64 = 1_767_225_600;

/// Stripe's side of a platform: one line per balance transaction (from which charges,
/// refunds, disputes, transfers, payouts and events are derived) and the creators' connected
/// accounts.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub activity: Vec<StripeActivity>,
    pub accounts: Vec<AccountLine>,
}

impl Dataset {
    /// Stripe's side of a generated platform.
    pub fn from_platform(platform: &Platform) -> Dataset {
        Dataset {
            activity: platform.stripe.clone(),
            accounts: platform.accounts.clone(),
        }
    }

    /// The demo platform (`PlatformSpec::demo()`, the one of `fixtures/demo`).
    pub fn demo() -> Dataset {
        Dataset::from_platform(&generate(&PlatformSpec::demo()))
    }

    /// A clean platform of roughly `postings` ledger postings (`PlatformSpec::scale`).
    pub fn scale(postings: u64, seed: u64) -> Dataset {
        Dataset::from_platform(&generate(&PlatformSpec::scale(postings, seed)))
    }

    /// No activity, no accounts.
    pub fn empty() -> Dataset {
        Dataset::default()
    }

    /// The default clock: the moment of the last activity (so the last days' charges are still
    /// pending, as on the day the data was pulled), or 2026-01-01 for an empty dataset.
    pub fn suggested_now(&self) -> i64 {
        self.activity
            .iter()
            .map(|a| a.created)
            .max()
            .unwrap_or(EMPTY_DATASET_NOW)
    }
}
