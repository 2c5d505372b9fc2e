//! Balances up to an instant, the account tree rolled up from them, and the trial balance
//! (refused when debits and credits differ).

use super::*;
use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{ToSql, params_from_iter};
use serde::Serialize;

use crate::money::Money;
use crate::workspace::Workspace;

/// Leaf balances (accounts that have postings) as of `as_of` (inclusive; `None` = all),
/// optionally limited to an account subtree. Sorted by account, then currency.
///
/// Up to the last posting these are the kept totals; for an earlier instant, the kept
/// totals less the postings after it when those are few (a month-end a few days back),
/// else a sum of the postings up to it.
pub fn balances(
    ws: &Workspace,
    as_of: Option<Timestamp>,
    prefix: Option<&str>,
) -> Result<Vec<AccountBalance>, LedgerError> {
    let Some(at) = as_of else {
        return kept_balances(ws, prefix);
    };
    let at_us = at.as_microsecond();
    let (last, after, total): (Option<i64>, i64, i64) = ws.conn.query_row(
        "SELECT (SELECT max(created_at) FROM ledger_postings),
                (SELECT count(*) FROM ledger_postings INDEXED BY ledger_postings_time WHERE created_at > ?1),
                (SELECT coalesce(sum(postings), 0) FROM ledger_account_totals)",
        [at_us],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if last.is_none_or(|l| l <= at_us) {
        return kept_balances(ws, prefix);
    }
    // Each posting after the instant costs a lookup in the table; a sum up to the instant
    // reads an index in order. A tenth is about where the two cost the same.
    if after.saturating_mul(10) > total {
        return summed_balances(ws, as_of, prefix);
    }
    let mut kept = kept_balances(ws, prefix)?;
    let mut sql = String::from(
        "SELECT account, currency, sum(amount_minor), count(*) FROM ledger_postings INDEXED BY ledger_postings_time WHERE created_at > ?",
    );
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(at_us)];
    if let Some(p) = prefix {
        let (cond, ps) = account_filter(p);
        sql.push_str(" AND ");
        sql.push_str(&cond);
        params.extend(ps.into_iter().map(|p| Box::new(p) as Box<dyn ToSql>));
    }
    sql.push_str(" GROUP BY account, currency");
    let mut stmt = ws.conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter().map(|b| b.as_ref())))?;
    while let Some(r) = rows.next()? {
        let account = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        let currency = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let (sum, count): (i64, i64) = (r.get(2)?, r.get(3)?);
        let i = kept
            .binary_search_by(|b| {
                (b.account.as_str(), b.balance.currency.code()).cmp(&(account, currency))
            })
            .map_err(|_| {
                LedgerError::Invariant(format!(
                    "postings of {account} in {currency} are missing from the kept totals"
                ))
            })?;
        let b = &mut kept[i];
        let minor =
            b.balance.minor.checked_sub(sum).ok_or_else(|| {
                LedgerError::Invariant(format!("the balance of {account} overflows"))
            })?;
        b.balance.minor = minor;
        b.postings = b.postings.checked_sub(count as u64).ok_or_else(|| {
            LedgerError::Invariant(format!(
                "the kept totals of {account} count fewer postings than the ledger holds"
            ))
        })?;
    }
    kept.retain(|b| b.postings > 0);
    Ok(kept)
}

/// Rolls leaf balances up the colon-separated account tree. Parents that have no postings
/// of their own still appear, with their subtree's total. Zero totals are kept (an account
/// that nets to zero is still an account).
pub fn account_tree(leaves: &[AccountBalance]) -> Result<Vec<TreeNode>, LedgerError> {
    let mut own: BTreeMap<String, Vec<Money>> = BTreeMap::new();
    let mut total: BTreeMap<String, Vec<Money>> = BTreeMap::new();
    for leaf in leaves {
        add_to(
            own.entry(leaf.account.clone()).or_default(),
            leaf.balance.money(),
        )?;
        let parts: Vec<&str> = leaf.account.split(':').collect();
        for depth in 1..=parts.len() {
            let path = parts[..depth].join(":");
            add_to(total.entry(path).or_default(), leaf.balance.money())?;
        }
    }
    // BTreeMap order puts "a:b" after "a" but also "a-x" between them: sort by path parts,
    // so that every node's subtree follows it directly.
    let mut keys: Vec<&String> = total.keys().collect();
    keys.sort_by(|a, b| a.split(':').cmp(b.split(':')));
    let mut nodes = Vec::with_capacity(keys.len());
    for (i, account) in keys.iter().enumerate() {
        let has_children = keys
            .get(i + 1)
            .is_some_and(|next| next.starts_with(&format!("{account}:")));
        nodes.push(TreeNode {
            account: (*account).clone(),
            name: account.rsplit(':').next().unwrap_or(account).to_string(),
            depth: account.matches(':').count(),
            own: own
                .get(*account)
                .map(|v| v.iter().copied().map(Amount::from).collect())
                .unwrap_or_default(),
            total: total[*account].iter().copied().map(Amount::from).collect(),
            has_children,
        });
    }
    Ok(nodes)
}

pub(super) fn add_to(list: &mut Vec<Money>, m: Money) -> Result<(), LedgerError> {
    match list.iter_mut().find(|x| x.unit() == m.unit()) {
        Some(x) => *x = x.checked_add(m)?,
        None => {
            list.push(m);
            list.sort_by(|a, b| a.unit().code().cmp(b.unit().code()));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct TrialBalanceRow {
    pub account: String,
    pub debit: Amount,
    pub credit: Amount,
    pub balance: Amount,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrencyTotals {
    pub currency: String,
    pub debits: Amount,
    pub credits: Amount,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrialBalance {
    pub as_of: Option<Timestamp>,
    pub rows: Vec<TrialBalanceRow>,
    pub totals: Vec<CurrencyTotals>,
}

/// Every account's balance, split into debit (positive) and credit (negative) columns,
/// with totals per currency. Debits must equal credits in every currency.
pub fn trial_balance(
    ws: &Workspace,
    as_of: Option<Timestamp>,
) -> Result<TrialBalance, LedgerError> {
    trial_balance_of(as_of, balances(ws, as_of, None)?)
}

/// The trial balance summed from the postings themselves and proven equal to the kept
/// totals' answer: what an auditor's export uses (a million postings cost a fraction of a
/// second more, and the export says the totals were proven).
pub fn trial_balance_proven(
    ws: &Workspace,
    as_of: Option<Timestamp>,
) -> Result<TrialBalance, LedgerError> {
    let summed = summed_balances(ws, as_of, None)?;
    compare_balances(&summed, &balances(ws, as_of, None)?)?;
    trial_balance_of(as_of, summed)
}

pub(super) fn trial_balance_of(
    as_of: Option<Timestamp>,
    leaves: Vec<AccountBalance>,
) -> Result<TrialBalance, LedgerError> {
    let mut rows = Vec::with_capacity(leaves.len());
    let mut totals: BTreeMap<String, (Money, Money)> = BTreeMap::new();
    for leaf in leaves {
        let b = leaf.balance.money();
        let zero = Money::zero(b.unit());
        let (debit, credit) = if b.minor() >= 0 {
            (b, zero)
        } else {
            (zero, b.checked_neg()?)
        };
        let t = totals
            .entry(b.unit().code().to_string())
            .or_insert((zero, zero));
        t.0 = t.0.checked_add(debit)?;
        t.1 = t.1.checked_add(credit)?;
        rows.push(TrialBalanceRow {
            account: leaf.account,
            debit: debit.into(),
            credit: credit.into(),
            balance: b.into(),
        });
    }
    let mut out_totals = Vec::new();
    for (currency, (d, c)) in totals {
        if d != c {
            return Err(LedgerError::Invariant(format!(
                "debits {} and credits {} differ in {}: the mirror holds an unbalanced entry",
                d.format(),
                c.format(),
                currency.to_uppercase()
            )));
        }
        out_totals.push(CurrencyTotals {
            currency,
            debits: d.into(),
            credits: c.into(),
        });
    }
    Ok(TrialBalance {
        as_of,
        rows,
        totals: out_totals,
    })
}
