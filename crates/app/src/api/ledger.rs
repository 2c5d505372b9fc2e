//! The mirrored ledger: balances and the account tree, the trial balance, postings page by
//! page, an account's general ledger; and reading the days and instants people type.

use closebook_engine::Error;
use closebook_engine::ledger::{
    self, AccountBalance, GeneralLedger, PostingFilter, PostingPage, TreeNode, TrialBalance,
};
use closebook_engine::workspace::Workspace;
use jiff::Timestamp;

use super::Result;

/// A date or an instant as typed: `YYYY-MM-DD` is a whole day in the workspace's time zone
/// (its start, or with `end_of_day` its end); otherwise an RFC 3339 instant.
pub fn instant(ws: &Workspace, text: &str, end_of_day: bool) -> Result<Timestamp> {
    let text = text.trim();
    if let Ok(date) = text.parse::<jiff::civil::Date>()
        && !text.contains('T')
    {
        let bound = if end_of_day {
            ws.end_of_day(date)
        } else {
            ws.start_of_day(date)
        };
        return bound.map_err(|e| Error::InvalidInput(format!("{text}: {e}")));
    }
    text.parse::<Timestamp>().map_err(|_| {
        Error::InvalidInput(format!(
            "`{text}` is neither a date (YYYY-MM-DD) nor an RFC 3339 instant (2026-10-31T23:59:59Z)"
        ))
    })
}

/// A page cursor as a previous page printed it (`created.seq`, or `created/seq`).
pub fn cursor(text: &str) -> Result<(i64, i64)> {
    text.trim()
        .split_once(['.', '/'])
        .and_then(|(t, s)| Some((t.parse().ok()?, s.parse().ok()?)))
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "`{text}` is not a page cursor printed by a previous page"
            ))
        })
}

/// Leaf balances up to `as_of` (of `account` and below), and the tree rolled up from them.
pub fn balances(
    ws: &Workspace,
    as_of: Option<Timestamp>,
    account: Option<&str>,
) -> Result<(Vec<AccountBalance>, Vec<TreeNode>)> {
    let leaves = ledger::balances(ws, as_of, account)?;
    let tree = ledger::account_tree(&leaves)?;
    Ok((leaves, tree))
}

pub fn trial_balance(ws: &Workspace, as_of: Option<Timestamp>) -> Result<TrialBalance> {
    Ok(ledger::trial_balance(ws, as_of)?)
}

pub fn postings(ws: &Workspace, filter: &PostingFilter) -> Result<PostingPage> {
    Ok(ledger::postings(ws, filter)?)
}

pub fn general_ledger(
    ws: &Workspace,
    account: &str,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: u32,
) -> Result<GeneralLedger> {
    Ok(ledger::general_ledger(ws, account, from, to, limit)?)
}
