//! Ledger queries over the mirror: balances as of any instant, the account tree with
//! roll-ups, the trial balance, and postings (the general ledger) by account and period.
//!
//! Read-back invariant: every query that sums the whole ledger checks that debits equal
//! credits per currency, and reports an invariant breach instead of a wrong number.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{ToSql, params_from_iter};
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

/// The kept totals (every posting written so far), optionally of an account subtree.
fn kept_balances(ws: &Workspace, prefix: Option<&str>) -> Result<Vec<AccountBalance>, LedgerError> {
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
fn summed_balances(
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

fn add_to(list: &mut Vec<Money>, m: Money) -> Result<(), LedgerError> {
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

/// Fails naming the first accounts (up to five) where the kept totals and the postings'
/// sum differ.
fn compare_balances(summed: &[AccountBalance], kept: &[AccountBalance]) -> Result<(), LedgerError> {
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

fn trial_balance_of(
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

/// Which postings to list.
#[derive(Debug, Clone, Default)]
pub struct PostingFilter {
    pub account: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub entry_type: Option<String>,
    pub entry_id: Option<String>,
    pub stripe_object_id: Option<String>,
    /// Case-insensitive substring of the description, entry id or account.
    pub text: Option<String>,
    /// Keyset paging: postings after this (created_at µs, seq).
    pub after: Option<(i64, i64)>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Posting {
    pub seq: i64,
    pub platform_id: Option<i64>,
    pub entry_id: String,
    pub account: String,
    pub amount: Amount,
    pub entry_type: String,
    pub stripe_object_id: Option<String>,
    pub event_id: Option<String>,
    pub created_at: Timestamp,
    pub description: Option<String>,
    pub origin: String,
    pub import_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PostingPage {
    pub postings: Vec<Posting>,
    /// Pass as `after` for the next page; `None` when this was the last.
    pub next: Option<(i64, i64)>,
}

/// Postings in time order (then arrival order), filtered and paged by keyset.
pub fn postings(ws: &Workspace, filter: &PostingFilter) -> Result<PostingPage, LedgerError> {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(a) = &filter.account {
        let (cond, ps) = account_filter(a);
        conds.push(cond);
        params.extend(ps.into_iter().map(|p| Box::new(p) as Box<dyn ToSql>));
    }
    if let Some(f) = filter.from {
        conds.push("created_at >= ?".into());
        params.push(Box::new(f.as_microsecond()));
    }
    if let Some(t) = filter.to {
        conds.push("created_at <= ?".into());
        params.push(Box::new(t.as_microsecond()));
    }
    for (col, value) in [
        ("entry_type", &filter.entry_type),
        ("entry_id", &filter.entry_id),
        ("stripe_object_id", &filter.stripe_object_id),
    ] {
        if let Some(v) = value {
            conds.push(format!("{col} = ?"));
            params.push(Box::new(v.clone()));
        }
    }
    if let Some(text) = &filter.text {
        conds.push("(instr(lower(coalesce(description, '')), ?) > 0 OR instr(lower(entry_id), ?) > 0 OR instr(lower(account), ?) > 0)".into());
        for _ in 0..3 {
            params.push(Box::new(text.to_lowercase()));
        }
    }
    if let Some((t, s)) = filter.after {
        conds.push("(created_at, seq) > (?, ?)".into());
        params.push(Box::new(t));
        params.push(Box::new(s));
    }
    let mut sql = String::from(
        "SELECT seq, platform_id, entry_id, account, amount_minor, currency, entry_type, stripe_object_id, event_id, \
         created_at, description, origin, import_id FROM ledger_postings",
    );
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(" ORDER BY created_at, seq LIMIT ?");
    params.push(Box::new(i64::from(limit) + 1));
    let mut stmt = ws.conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter().map(|b| b.as_ref())))?;
    let mut postings = Vec::new();
    while let Some(r) = rows.next()? {
        let currency: String = r.get(5)?;
        let created_us: i64 = r.get(9)?;
        postings.push(Posting {
            seq: r.get(0)?,
            platform_id: r.get(1)?,
            entry_id: r.get(2)?,
            account: r.get(3)?,
            amount: money(ws.units(), r.get(4)?, &currency)?.into(),
            entry_type: r.get(6)?,
            stripe_object_id: r.get(7)?,
            event_id: r.get(8)?,
            created_at: Timestamp::from_microsecond(created_us).map_err(|_| {
                LedgerError::Invariant(format!("posting time {created_us} out of range"))
            })?,
            description: r.get(10)?,
            origin: r.get(11)?,
            import_id: r.get(12)?,
        });
    }
    let next = if postings.len() > limit as usize {
        postings.truncate(limit as usize);
        postings
            .last()
            .map(|p| (p.created_at.as_microsecond(), p.seq))
    } else {
        None
    };
    Ok(PostingPage { postings, next })
}

/// One journal entry: its postings in order, their sum per currency (zero in each for a
/// balanced entry) and the imports its postings arrived in.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub entry_id: String,
    pub entry_types: Vec<String>,
    pub postings: Vec<Posting>,
    pub totals: Vec<Amount>,
    pub import_ids: Vec<i64>,
}

/// Postings an entry may have before [`entry`] refuses it as not an entry a person booked.
pub const MAX_ENTRY_POSTINGS: u32 = MAX_PAGE;

/// The entry `entry_id`, or `None` when no posting has that entry id.
pub fn entry(ws: &Workspace, entry_id: &str) -> Result<Option<Entry>, LedgerError> {
    let page = postings(
        ws,
        &PostingFilter {
            entry_id: Some(entry_id.to_string()),
            limit: MAX_ENTRY_POSTINGS,
            ..PostingFilter::default()
        },
    )?;
    if page.postings.is_empty() {
        return Ok(None);
    }
    if page.next.is_some() {
        return Err(LedgerError::Invariant(format!(
            "entry {entry_id} has more than {MAX_ENTRY_POSTINGS} postings"
        )));
    }
    let mut totals: Vec<Money> = Vec::new();
    let mut entry_types: Vec<String> = Vec::new();
    let mut import_ids: Vec<i64> = Vec::new();
    for p in &page.postings {
        add_to(&mut totals, p.amount.money())?;
        if !entry_types.contains(&p.entry_type) {
            entry_types.push(p.entry_type.clone());
        }
        if let Some(id) = p.import_id
            && !import_ids.contains(&id)
        {
            import_ids.push(id);
        }
    }
    Ok(Some(Entry {
        entry_id: entry_id.to_string(),
        entry_types,
        postings: page.postings,
        totals: totals.into_iter().map(Amount::from).collect(),
        import_ids,
    }))
}

/// The entry types present in the ledger, sorted (from the kept totals).
pub fn entry_types(ws: &Workspace) -> Result<Vec<String>, LedgerError> {
    let mut stmt = ws
        .conn
        .prepare_cached("SELECT entry_type FROM ledger_type_totals ORDER BY entry_type")?;
    let types = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(types)
}

/// The general ledger of an account subtree for a period: opening balance, postings with
/// running balance, closing balance, per currency.
#[derive(Debug, Clone, Serialize)]
pub struct GeneralLedger {
    pub account: String,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub opening: Vec<Amount>,
    pub lines: Vec<GeneralLedgerLine>,
    pub closing: Vec<Amount>,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GeneralLedgerLine {
    pub posting: Posting,
    pub running: Amount,
}

pub fn general_ledger(
    ws: &Workspace,
    account: &str,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: u32,
) -> Result<GeneralLedger, LedgerError> {
    let before = from.and_then(|f| f.checked_sub(jiff::SignedDuration::from_micros(1)).ok());
    let opening_leaves = match before {
        Some(b) => balances(ws, Some(b), Some(account))?,
        None => Vec::new(),
    };
    let mut running: Vec<Money> = Vec::new();
    for leaf in &opening_leaves {
        add_to(&mut running, leaf.balance.money())?;
    }
    let opening: Vec<Amount> = running.iter().copied().map(Amount::from).collect();
    let page = postings(
        ws,
        &PostingFilter {
            account: Some(account.to_string()),
            from,
            to,
            limit: limit.min(MAX_PAGE),
            ..PostingFilter::default()
        },
    )?;
    let mut lines = Vec::with_capacity(page.postings.len());
    for p in page.postings {
        add_to(&mut running, p.amount.money())?;
        let r = running
            .iter()
            .find(|m| m.unit() == p.amount.currency)
            .copied()
            .expect("just added");
        lines.push(GeneralLedgerLine {
            posting: p,
            running: r.into(),
        });
    }
    Ok(GeneralLedger {
        account: account.to_string(),
        from,
        to,
        opening,
        lines,
        closing: running.into_iter().map(Amount::from).collect(),
        truncated: page.next.is_some(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Unit;

    fn leaf(account: &str, minor: i64) -> AccountBalance {
        AccountBalance {
            account: account.to_string(),
            balance: Money::new(minor, Unit::iso("usd").unwrap()).into(),
            postings: 1,
        }
    }

    /// Regression: `has_children` was computed in byte order, where `assets:bank-eur`
    /// (`-` sorts before `:`) sits between `assets:bank` and `assets:bank:checking`.
    #[test]
    fn tree_marks_children_of_a_node_followed_by_a_dashed_sibling() {
        let leaves = [
            leaf("assets:bank-eur", 5),
            leaf("assets:bank2", 7),
            leaf("assets:bank:checking", 100),
            leaf("assets:bank:savings", 11),
        ];
        let tree = account_tree(&leaves).unwrap();
        let order: Vec<&str> = tree.iter().map(|n| n.account.as_str()).collect();
        assert_eq!(
            order,
            [
                "assets",
                "assets:bank",
                "assets:bank:checking",
                "assets:bank:savings",
                "assets:bank-eur",
                "assets:bank2"
            ]
        );
        let node = |a: &str| tree.iter().find(|n| n.account == a).unwrap();
        assert!(node("assets").has_children);
        assert!(node("assets:bank").has_children);
        assert!(!node("assets:bank-eur").has_children);
        assert!(!node("assets:bank:checking").has_children);
        assert_eq!(node("assets:bank").total[0].minor, 111);
        assert!(node("assets:bank").own.is_empty());
        assert_eq!(node("assets").total[0].minor, 123);
    }
}

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
