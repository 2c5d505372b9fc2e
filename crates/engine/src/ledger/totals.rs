//! The ledger's kept totals: what each write adds (`TotalsDelta`, applied in the write's
//! transaction), balances read from them or summed again from the postings, and the proof
//! that the two agree.

use super::*;
use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{ToSql, params_from_iter};
use serde::Serialize;

use crate::workspace::Workspace;

/// What a write adds to the ledger's kept totals (`ledger_account_totals`,
/// `ledger_type_totals`, `ledger_counts`): every insert of a posting records it here and
/// the caller applies the delta in the same transaction, once per write (a few thousand
/// upserts for a million postings, not one per posting).
#[derive(Debug, Default)]
pub(crate) struct TotalsDelta {
    /// account → (currency, sum, postings); i128 so that summing never overflows here (the
    /// stored balance is checked when the delta is applied).
    accounts: rustc_hash::FxHashMap<String, Vec<(String, i128, i64)>>,
    types: rustc_hash::FxHashMap<String, i64>,
    entries: i64,
}

impl TotalsDelta {
    /// One posting written.
    pub(crate) fn posting(&mut self, account: &str, currency: &str, entry_type: &str, amount: i64) {
        let sums = match self.accounts.get_mut(account) {
            Some(s) => s,
            None => self.accounts.entry(account.to_string()).or_default(),
        };
        match sums.iter_mut().find(|s| s.0 == currency) {
            Some(s) => {
                s.1 += i128::from(amount);
                s.2 += 1;
            }
            None => sums.push((currency.to_string(), i128::from(amount), 1)),
        }
        match self.types.get_mut(entry_type) {
            Some(n) => *n += 1,
            None => {
                self.types.insert(entry_type.to_string(), 1);
            }
        }
    }

    /// An entry the ledger did not hold before (its first postings).
    pub(crate) fn new_entry(&mut self) {
        self.entries += 1;
    }

    /// Adds the delta to the kept totals, inside the caller's transaction. A balance that
    /// leaves 64 bits is refused (an error, and the caller's transaction rolls back).
    pub(crate) fn apply(self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        let out_of_range = |v: i128| {
            rusqlite::Error::ToSqlConversionFailure(
                format!("a ledger total of {v} minor units does not fit in 64 bits").into(),
            )
        };
        let mut account = conn.prepare_cached(
            "INSERT INTO ledger_account_totals (account, currency, balance_minor, postings)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account, currency) DO UPDATE SET
                 balance_minor = balance_minor + excluded.balance_minor,
                 postings = postings + excluded.postings",
        )?;
        for (name, sums) in &self.accounts {
            for (currency, sum, n) in sums {
                let sum = i64::try_from(*sum).map_err(|_| out_of_range(*sum))?;
                account.execute(rusqlite::params![name, currency, sum, n])?;
            }
        }
        let mut types = conn.prepare_cached(
            "INSERT INTO ledger_type_totals (entry_type, postings) VALUES (?1, ?2)
             ON CONFLICT (entry_type) DO UPDATE SET postings = postings + excluded.postings",
        )?;
        for (entry_type, n) in &self.types {
            types.execute(rusqlite::params![entry_type, n])?;
        }
        if self.entries > 0 {
            conn.prepare_cached(
                "INSERT INTO ledger_counts (id, entries) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET entries = entries + excluded.entries",
            )?
            .execute([self.entries])?;
        }
        Ok(())
    }
}

/// The kept totals (every posting written so far), optionally of an account subtree.
pub(super) fn kept_balances(
    ws: &Workspace,
    prefix: Option<&str>,
) -> Result<Vec<AccountBalance>, LedgerError> {
    let mut sql = String::from(
        "SELECT account, currency, balance_minor, postings FROM ledger_account_totals",
    );
    let mut params: Vec<String> = Vec::new();
    if let Some(p) = prefix {
        let (cond, ps) = account_filter(p);
        sql.push_str(" WHERE ");
        sql.push_str(&cond);
        params = ps;
    }
    sql.push_str(" ORDER BY account, currency");
    let mut stmt = ws.conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let currency = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let postings: i64 = r.get(3)?;
        out.push(AccountBalance {
            account: r.get(0)?,
            balance: money(ws.units(), r.get(2)?, currency)?.into(),
            postings: postings as u64,
        });
    }
    Ok(out)
}

/// Leaf balances summed from the postings themselves: the proof of the kept totals, and
/// balances at an instant with many postings after it.
pub(super) fn summed_balances(
    ws: &Workspace,
    as_of: Option<Timestamp>,
    prefix: Option<&str>,
) -> Result<Vec<AccountBalance>, LedgerError> {
    // The covering index (account, created_at, currency, amount_minor) is read in its own
    // order and summed here: accounts arrive one after the other, so no sort and no
    // temporary table is needed (SQL's GROUP BY would sort a million rows by account and
    // currency first).
    let mut sql = String::from(
        "SELECT account, currency, amount_minor FROM ledger_postings INDEXED BY ledger_postings_account_time WHERE created_at <= ?",
    );
    let mut params: Vec<Box<dyn ToSql>> =
        vec![Box::new(as_of.map_or(i64::MAX, |t| t.as_microsecond()))];
    if let Some(p) = prefix {
        let (cond, ps) = account_filter(p);
        sql.push_str(" AND ");
        sql.push_str(&cond);
        params.extend(ps.into_iter().map(|p| Box::new(p) as Box<dyn ToSql>));
    }
    sql.push_str(" ORDER BY account");
    let mut stmt = ws.conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter().map(|b| b.as_ref())))?;
    let mut out = Vec::new();
    // The account being summed and its (currency, sum, postings), a few currencies at most.
    let mut current: Option<String> = None;
    let mut sums: Vec<(String, i64, u64)> = Vec::new();
    let flush = |account: String,
                 sums: &mut Vec<(String, i64, u64)>,
                 out: &mut Vec<AccountBalance>|
     -> Result<(), LedgerError> {
        sums.sort_by(|a, b| a.0.cmp(&b.0));
        for (currency, sum, count) in sums.drain(..) {
            out.push(AccountBalance {
                account: account.clone(),
                balance: money(ws.units(), sum, &currency)?.into(),
                postings: count,
            });
        }
        Ok(())
    };
    while let Some(r) = rows.next()? {
        let account = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        let currency = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let amount: i64 = r.get(2)?;
        if current.as_deref() != Some(account) {
            if let Some(done) = current.take() {
                flush(done, &mut sums, &mut out)?;
            }
            current = Some(account.to_string());
        }
        match sums.iter_mut().find(|s| s.0 == currency) {
            Some(s) => {
                s.1 = s.1.checked_add(amount).ok_or_else(|| {
                    LedgerError::Invariant(format!("the balance of {account} overflows"))
                })?;
                s.2 += 1;
            }
            None => sums.push((currency.to_string(), amount, 1)),
        }
    }
    if let Some(done) = current.take() {
        flush(done, &mut sums, &mut out)?;
    }
    Ok(out)
}

/// Fails naming the first accounts (up to five) where the kept totals and the postings'
/// sum differ.
pub(super) fn compare_balances(
    summed: &[AccountBalance],
    kept: &[AccountBalance],
) -> Result<(), LedgerError> {
    let key = |b: &AccountBalance| (b.account.clone(), b.balance.currency.code().to_string());
    let summed_map: BTreeMap<_, _> = summed.iter().map(|b| (key(b), b)).collect();
    let kept_map: BTreeMap<_, _> = kept.iter().map(|b| (key(b), b)).collect();
    let mut differences = Vec::new();
    for k in summed_map
        .keys()
        .chain(kept_map.keys().filter(|k| !summed_map.contains_key(*k)))
    {
        let describe = |b: Option<&&AccountBalance>| {
            b.map_or_else(
                || "nothing".to_string(),
                |b| {
                    format!(
                        "{} in {} posting(s)",
                        b.balance.money().format(),
                        b.postings
                    )
                },
            )
        };
        let (s, kp) = (summed_map.get(k), kept_map.get(k));
        let same = match (s, kp) {
            (Some(a), Some(b)) => a.balance == b.balance && a.postings == b.postings,
            _ => false,
        };
        if !same {
            differences.push(format!(
                "{} ({}): the postings sum to {}, the kept totals say {}",
                k.0,
                k.1.to_uppercase(),
                describe(s),
                describe(kp)
            ));
        }
    }
    if differences.is_empty() {
        return Ok(());
    }
    let n = differences.len();
    differences.truncate(5);
    Err(LedgerError::Invariant(format!(
        "the kept ledger totals disagree with the postings for {n} account(s): {}",
        differences.join("; ")
    )))
}

/// What [`prove_totals`] summed and found equal to the kept totals.
#[derive(Debug, Clone, Serialize)]
pub struct TotalsProof {
    pub postings: u64,
    pub entries: u64,
    pub account_balances: u64,
    pub entry_types: u64,
}

/// Sums every posting again and proves the kept totals (balances per account and
/// currency, posting counts per entry type, the number of entries) equal to that sum. An
/// invariant error names what differs.
pub fn prove_totals(ws: &Workspace) -> Result<TotalsProof, LedgerError> {
    let summed = summed_balances(ws, None, None)?;
    compare_balances(&summed, &kept_balances(ws, None)?)?;
    let c = &ws.conn;
    let pairs = |sql: &str| -> Result<Vec<(String, i64)>, LedgerError> {
        let mut stmt = c.prepare(sql)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    };
    let types = pairs(
        "SELECT entry_type, count(*) FROM ledger_postings GROUP BY entry_type ORDER BY entry_type",
    )?;
    let kept_types =
        pairs("SELECT entry_type, postings FROM ledger_type_totals ORDER BY entry_type")?;
    if types != kept_types {
        return Err(LedgerError::Invariant(format!(
            "the kept posting counts per entry type ({kept_types:?}) disagree with the postings ({types:?})"
        )));
    }
    let entries: i64 = c.query_row(
        "SELECT count(DISTINCT entry_id) FROM ledger_postings",
        [],
        |r| r.get(0),
    )?;
    let kept_entries: i64 = c.query_row(
        "SELECT coalesce((SELECT entries FROM ledger_counts WHERE id = 1), 0)",
        [],
        |r| r.get(0),
    )?;
    if entries != kept_entries {
        return Err(LedgerError::Invariant(format!(
            "the kept count of entries ({kept_entries}) disagrees with the postings ({entries})"
        )));
    }
    Ok(TotalsProof {
        postings: summed.iter().map(|b| b.postings).sum(),
        entries: entries as u64,
        account_balances: summed.len() as u64,
        entry_types: types.len() as u64,
    })
}
