//! Month-end payout batches (seeds 001, 002 and 004; PRODUCT.md): lock the month, compute
//! every line exactly, preview it, have it signed off by people holding Ed25519 keys, and
//! execute it through Stripe so that every payable line is transferred exactly once.
//!
//! - `compute`: the pure computation (lines, totals, the identity), shared by preparing,
//!   loading (which recomputes from the locked inputs and compares), the what-if and tests.
//! - `people`: the roster, roles, keys in the keychain, signatures.
//! - `roster`: the chain of admin-signed records that vouches for each person.
//! - `batch`: prepare (lock), load (checking every invariant again), preview, approvals
//!   (here or as signed files), rejection, the month's booking.
//! - `execute`: one idempotent Stripe transfer per payable line, resumable after a kill.
//!
//! A batch's lifecycle is Draft → Approved → Executing → Done, or Draft → Rejected, or
//! Draft → Superseded (the month prepared again). Approving and executing take the typed
//! [`batch::DraftBatch`] and [`batch::ApprovedBatch`], which only `load` hands out after
//! checking the state.

pub mod batch;
pub mod compute;
pub mod execute;
pub mod people;
pub mod roster;

pub use batch::{Batch, BatchState};
pub use compute::{Held, Line, LineKind, Params, Totals};
pub use people::{Person, Role};

#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("approval refused: {0}")]
    ApprovalInvalid(String),
    #[error(
        "subscribers allocated more than their balance; fix the platform's data and prepare again: {}",
        .0.join("; ")
    )]
    OverAllocated(Vec<String>),
    #[error("payout batch integrity check failed: {0}")]
    Integrity(String),
    #[error("an amount does not fit in 64 bits")]
    Overflow,
    #[error("execution was cancelled; run it again to continue (no line is paid twice)")]
    Cancelled,
    #[error("cannot write {0}: {1}")]
    Io(String, String),
    #[error(transparent)]
    Stripe(#[from] crate::stripe::StripeError),
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("database error in payouts: {0}")]
    Database(#[from] rusqlite::Error),
}

/// A batch's month: `YYYY-MM`.
pub fn parse_month(s: &str) -> Result<jiff::civil::Date, PayoutError> {
    let bad = || PayoutError::BadInput(format!("`{s}` is not a month: use YYYY-MM"));
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i16 = y.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    jiff::civil::Date::new(y, m, 1).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        assert_eq!(parse_month("2024-12").unwrap().to_string(), "2024-12-01");
        for bad in ["2024-13", "2024-1", "24-12", "2024/12", "", "2024-12-01"] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
    }
}
