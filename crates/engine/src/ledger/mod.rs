//! Ledger queries over the mirror: balances as of any instant, the account tree with
//! roll-ups, the trial balance, and postings (the general ledger) by account and period.
//!
//! Read-back invariant: every query that sums the whole ledger checks that debits equal
//! credits per currency, and reports an invariant breach instead of a wrong number.
//!
//! Here: the types every query shares and the mirror's summary. Beside it: `totals` (the
//! kept totals and their proof), `balances` (balances, the tree, the trial balance),
//! `postings` (pages of postings, an entry, the general ledger) and `own` (Closebook's own
//! entries).

mod balances;
mod own;
mod postings;
#[cfg(test)]
mod tests;
mod totals;

pub use balances::*;
pub use own::*;
pub use postings::*;
pub use totals::*;

use jiff::Timestamp;
use serde::Serialize;

use crate::money::{Money, MoneyError, UnitRegistry};
use crate::workspace::Workspace;

/// Largest page of postings a single query returns (the desktop ledger pages through more).
pub const MAX_PAGE: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger invariant broken: {0}")]
    Invariant(String),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

/// An amount as it travels to JSON and the UI: integer minor units with the unit code and
/// its exponent (so a reader never guesses the decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub minor: i64,
    #[serde(serialize_with = "ser_code")]
    pub currency: crate::money::Unit,
    pub exponent: u8,
}

fn ser_code<S: serde::Serializer>(u: &crate::money::Unit, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.code())
}

impl From<Money> for Amount {
    fn from(m: Money) -> Amount {
        Amount {
            minor: m.minor(),
            currency: m.unit(),
            exponent: m.unit().exponent(),
        }
    }
}

impl Amount {
    pub fn money(&self) -> Money {
        Money::new(self.minor, self.currency)
    }
}

/// The balance of one account in one currency.
#[derive(Debug, Clone, Serialize)]
pub struct AccountBalance {
    pub account: String,
    pub balance: Amount,
    pub postings: u64,
}

/// A node of the account tree: its own postings' balance and the roll-up of its subtree.
#[derive(Debug, Clone, Serialize)]
pub struct TreeNode {
    pub account: String,
    pub name: String,
    pub depth: usize,
    pub own: Vec<Amount>,
    pub total: Vec<Amount>,
    pub has_children: bool,
}

/// SQL condition and parameter for "this account or any below it".
fn account_filter(prefix: &str) -> (String, Vec<String>) {
    // Sub-accounts sort between "p:" and "p;" (';' follows ':'): an index range, no LIKE.
    (
        "(account = ? OR (account >= ? AND account < ?))".to_string(),
        vec![
            prefix.to_string(),
            format!("{prefix}:"),
            format!("{prefix};"),
        ],
    )
}

fn money(units: &UnitRegistry, minor: i64, code: &str) -> Result<Money, LedgerError> {
    Ok(Money::new(minor, units.lookup(code)?))
}

/// Counts for `closebook status` and the demo summary.
#[derive(Debug, Clone, Serialize)]
pub struct MirrorSummary {
    pub postings: u64,
    pub entries: u64,
    pub accounts: u64,
    pub currencies: Vec<String>,
    pub first_posting: Option<Timestamp>,
    pub last_posting: Option<Timestamp>,
    pub balances: u64,
    pub allocations: u64,
    pub connected_accounts: u64,
    pub webhook_events: u64,
    pub withdrawals: u64,
    pub imports: u64,
}

pub fn summary(ws: &Workspace) -> Result<MirrorSummary, LedgerError> {
    let c = &ws.conn;
    let count = |sql: &str| -> Result<u64, LedgerError> {
        Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
    };
    // Two subqueries, not `min(x), max(x)` in one: SQLite answers a lone min() or max() from
    // the index's ends, but scans every row for both at once (260 ms on a million).
    let (first, last): (Option<i64>, Option<i64>) = c.query_row(
        "SELECT (SELECT min(created_at) FROM ledger_postings), (SELECT max(created_at) FROM ledger_postings)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // Counts from the kept totals (a few thousand rows), not from a million postings.
    let mut stmt =
        c.prepare("SELECT DISTINCT currency FROM ledger_account_totals ORDER BY currency")?;
    let currencies = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(MirrorSummary {
        postings: count("SELECT coalesce(sum(postings), 0) FROM ledger_account_totals")?,
        entries: count("SELECT coalesce((SELECT entries FROM ledger_counts WHERE id = 1), 0)")?,
        accounts: count("SELECT count(DISTINCT account) FROM ledger_account_totals")?,
        currencies,
        first_posting: first.and_then(|t| Timestamp::from_microsecond(t).ok()),
        last_posting: last.and_then(|t| Timestamp::from_microsecond(t).ok()),
        balances: count("SELECT count(*) FROM platform_balances")?,
        allocations: count("SELECT count(*) FROM platform_allocations")?,
        connected_accounts: count("SELECT count(*) FROM platform_connected_accounts")?,
        webhook_events: count("SELECT count(*) FROM platform_webhook_events")?,
        withdrawals: count("SELECT count(*) FROM platform_withdrawals")?,
        imports: count("SELECT count(*) FROM imports")?,
    })
}
