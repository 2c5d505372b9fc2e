//! Postings page by page (filters and a keyset cursor), one entry, the entry types, and an
//! account's general ledger with its opening and running balance.

use super::*;

use jiff::Timestamp;
use rusqlite::{ToSql, params_from_iter};
use serde::Serialize;

use crate::money::Money;
use crate::workspace::Workspace;

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
