//! Closebook's own entries (adjustments, transfers, a month's booking), balanced and
//! marked as its own, written with the kept totals.

use super::*;

use jiff::Timestamp;

/// One entry Closebook books itself (an adjustment, a payout batch's month-end, a paid
/// line's transfer): marked `origin = 'closebook'`, exportable to the platform.
#[derive(Debug, Clone)]
pub struct OwnEntry<'a> {
    pub entry_id: &'a str,
    pub entry_type: &'a str,
    pub currency: &'a str,
    pub stripe_object_id: Option<&'a str>,
    pub description: &'a str,
    /// `(account, amount_minor)`, debits positive.
    pub postings: &'a [(&'a str, i64)],
}

/// Books `entry` inside the caller's transaction, after checking that it balances and that
/// its id is new: an entry is booked once or not at all.
pub(crate) fn book_own(
    conn: &rusqlite::Connection,
    entry: &OwnEntry<'_>,
    live: bool,
    at: Timestamp,
) -> Result<(), LedgerError> {
    let sum = entry
        .postings
        .iter()
        .try_fold(0i64, |s, p| s.checked_add(p.1))
        .ok_or_else(|| LedgerError::Invariant(format!("entry {} overflows", entry.entry_id)))?;
    if sum != 0 || entry.postings.len() < 2 {
        return Err(LedgerError::Invariant(format!(
            "entry {} does not balance ({sum})",
            entry.entry_id
        )));
    }
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM ledger_postings WHERE entry_id = ?1)",
        [entry.entry_id],
        |r| r.get(0),
    )?;
    if exists {
        return Err(LedgerError::Invariant(format!(
            "entry {} already exists",
            entry.entry_id
        )));
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO ledger_postings (posting_key, entry_id, account, amount_minor, currency, entry_type, stripe_object_id, livemode, created_at, description, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'closebook')",
    )?;
    let mut totals = TotalsDelta::default();
    totals.new_entry();
    for (n, (account, amount)) in entry.postings.iter().enumerate() {
        stmt.execute(rusqlite::params![
            format!("closebook:{}:{n}", entry.entry_id),
            entry.entry_id,
            account,
            amount,
            entry.currency,
            entry.entry_type,
            entry.stripe_object_id,
            live,
            at.as_microsecond(),
            entry.description,
        ])?;
        totals.posting(account, entry.currency, entry.entry_type, *amount);
    }
    totals.apply(conn)?;
    Ok(())
}
