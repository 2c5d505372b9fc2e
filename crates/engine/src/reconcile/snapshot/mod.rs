//! Daily snapshots: read both sides as of the end of a day, match, explain the difference,
//! and save the result as immutable history with a digest of every row read.
//!
//! Here: a snapshot's types. Beside it, one job per file: `load` (both sides as of a day's
//! end), `digest` (every row read), `compute` (match and explain), `store` (save and read
//! back, checking the digest), `history` (reconciled days and catching up).

mod compute;
mod digest;
mod history;
mod load;
mod store;

pub use compute::*;
use digest::*;
pub use history::*;
use load::*;
pub use store::*;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use super::MirrorCheck;
use super::matching::{Evidence, Kind};
use super::rules::MatchRules;

/// A snapshot's status, per currency and overall (the worst of its currencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No difference and no open exception.
    Balanced,
    /// The difference is fully explained by exceptions (the remainder is zero).
    Explained,
    /// Some of the difference is explained by nothing, or the mirror is incomplete.
    Unexplained,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Balanced => "balanced",
            Status::Explained => "explained",
            Status::Unexplained => "unexplained",
        }
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "balanced" => Status::Balanced,
            "explained" => Status::Explained,
            _ => Status::Unexplained,
        }
    }
}

/// One currency of a snapshot: both sides, and the difference explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyLine {
    /// Both sides and their difference (read through `Deref`: `line.difference`).
    #[serde(flatten)]
    pub sides: crate::reconcile::DayBalance,
    /// Σ effect per exception kind, in [`Kind::ALL`] order, kinds with exceptions only.
    pub explained: Vec<(Kind, i64)>,
    /// difference − Σ explained: zero when every cent is explained.
    pub remainder: i64,
    pub matched: u64,
    pub unmatched_stripe: u64,
    pub unmatched_ledger: u64,
    pub open_exceptions: u64,
    pub status: Status,
}

impl std::ops::Deref for CurrencyLine {
    type Target = crate::reconcile::DayBalance;

    fn deref(&self) -> &crate::reconcile::DayBalance {
        &self.sides
    }
}

/// A person's resolution of an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolutionRecord {
    pub resolution: String,
    pub note: String,
    pub actor: String,
    pub at: Timestamp,
    pub adjustment_entry: Option<String>,
}

/// An exception as one snapshot found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotException {
    /// `None` in a dry run for an exception never saved before.
    pub id: Option<i64>,
    pub key: String,
    pub kind: Kind,
    pub currency: String,
    pub stripe_object: Option<String>,
    pub effect: i64,
    pub stripe_amount: Option<i64>,
    pub ledger_amount: Option<i64>,
    pub evidence: Evidence,
    pub first_day: Date,
    pub resolution: Option<ResolutionRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// `None` for a dry run.
    pub id: Option<i64>,
    pub day: Date,
    pub version: i64,
    pub computed_at: Timestamp,
    pub actor: String,
    pub status: Status,
    pub rules: MatchRules,
    pub digest: String,
    pub stripe_rows: u64,
    pub ledger_rows: u64,
    pub matched: u64,
    pub currencies: Vec<CurrencyLine>,
    pub exceptions: Vec<SnapshotException>,
    /// The live balance at the latest sync against the mirror; incomplete ⇒ unexplained.
    pub mirror: Vec<MirrorCheck>,
    /// True when this day was already reconciled from exactly the same rows: the saved
    /// snapshot is returned and nothing new is written.
    pub unchanged: bool,
}
