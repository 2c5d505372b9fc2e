//! The reconciled days: their history, the first and last, and catching up every day
//! missing since the last (a daily schedule).

use super::*;

use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::OpContext;
use crate::reconcile::ReconcileError;
use crate::workspace::Workspace;

/// One reconciled day in the history list: the latest version's figures.
#[derive(Debug, Clone, Serialize)]
pub struct DaySummary {
    pub id: i64,
    pub day: Date,
    pub version: i64,
    pub status: Status,
    pub computed_at: Timestamp,
    pub currencies: Vec<DayCurrency>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayCurrency {
    pub currency: String,
    pub difference: i64,
    pub remainder: i64,
    pub open_exceptions: u64,
}

/// Every reconciled day, oldest first (latest version of each).
pub fn history(ws: &Workspace) -> Result<Vec<DaySummary>, ReconcileError> {
    let mut stmt = ws.conn.prepare(
        "SELECT s.id, s.day, s.version, s.status, s.computed_at, c.currency, c.difference, c.remainder, c.open_exceptions
         FROM recon_snapshots s LEFT JOIN recon_snapshot_currencies c ON c.snapshot_id = s.id
         WHERE s.version = (SELECT max(version) FROM recon_snapshots t WHERE t.day = s.day)
         ORDER BY s.day, c.currency",
    )?;
    let mut rows = stmt.query([])?;
    let mut out: Vec<DaySummary> = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if out.last().is_none_or(|d| d.id != id) {
            let day: String = r.get(1)?;
            out.push(DaySummary {
                id,
                day: day
                    .parse()
                    .map_err(|_| ReconcileError::Invariant(format!("bad day {day}")))?,
                version: r.get(2)?,
                status: Status::parse(&r.get::<_, String>(3)?),
                computed_at: Timestamp::from_microsecond(r.get(4)?)
                    .unwrap_or(Timestamp::UNIX_EPOCH),
                currencies: Vec::new(),
            });
        }
        if let Some(currency) = r.get::<_, Option<String>>(5)? {
            out.last_mut()
                .expect("pushed")
                .currencies
                .push(DayCurrency {
                    currency,
                    difference: r.get(6)?,
                    remainder: r.get(7)?,
                    open_exceptions: r.get::<_, i64>(8)? as u64,
                });
        }
    }
    Ok(out)
}

/// The last reconciled day.
pub fn last_day(ws: &Workspace) -> Result<Option<Date>, ReconcileError> {
    let d: Option<String> = ws
        .conn
        .query_row("SELECT max(day) FROM recon_snapshots", [], |r| r.get(0))?;
    Ok(d.and_then(|d| d.parse().ok()))
}

/// The first day with anything to reconcile: the earliest balance transaction or posting
/// to a Stripe-balance account, in the workspace's time zone.
pub fn first_day(ws: &Workspace) -> Result<Option<Date>, ReconcileError> {
    let stripe_sql = crate::accounts::load(&ws.conn)?.stripe_sql();
    let first: Option<i64> = ws.conn.query_row(
        &format!(
            "SELECT min(t) FROM (SELECT min(created) AS t FROM stripe_balance_transactions
             UNION ALL SELECT min(created_at) FROM ledger_postings WHERE {stripe_sql})"
        ),
        [],
        |r| r.get(0),
    )?;
    Ok(first
        .and_then(|us| Timestamp::from_microsecond(us).ok())
        .map(|t| t.to_zoned(ws.time_zone().clone()).date()))
}

/// Progress of a catch-up.
#[derive(Debug, Clone, Serialize)]
pub struct CatchUpProgress {
    pub day: Date,
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatchUpReport {
    pub days: Vec<DaySummary>,
    pub last_day: Option<Date>,
    pub cancelled: bool,
}

/// The days a catch-up would reconcile: from the day after the last reconciled one (or the
/// first day with data) to yesterday in the workspace's time zone (today is not over), and
/// only days a successful Stripe sync has covered ([`mirrored_until`]): before the first
/// sync, none.
pub fn missing_days(ws: &Workspace, now: Timestamp) -> Result<Vec<Date>, ReconcileError> {
    let today = now.to_zoned(ws.time_zone().clone()).date();
    let Some(until) = mirrored_until(ws)? else {
        return Ok(Vec::new());
    };
    let start = match last_day(ws)? {
        Some(d) => d
            .tomorrow()
            .map_err(|e| ReconcileError::BadDay(d, e.to_string()))?,
        None => match first_day(ws)? {
            Some(d) => d,
            None => return Ok(Vec::new()),
        },
    };
    let mut days = Vec::new();
    let mut d = start;
    while d < today
        && ws
            .end_of_day(d)
            .map_err(|e| ReconcileError::BadDay(d, e.to_string()))?
            <= until
    {
        days.push(d);
        d = d
            .tomorrow()
            .map_err(|e| ReconcileError::BadDay(d, e.to_string()))?;
    }
    Ok(days)
}

/// Reconciles every missing day (see [`missing_days`]), oldest first, each saved on its
/// own: a cancelled catch-up keeps the days it finished.
pub fn catch_up(
    ws: &Workspace,
    ctx: &OpContext,
    progress: &mut dyn FnMut(&CatchUpProgress),
    cancel: &AtomicBool,
) -> Result<CatchUpReport, ReconcileError> {
    let days = missing_days(ws, ctx.now)?;
    let total = days.len() as u64;
    let mut report = CatchUpReport {
        days: Vec::new(),
        last_day: last_day(ws)?,
        cancelled: false,
    };
    for (i, day) in days.into_iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            report.cancelled = true;
            break;
        }
        progress(&CatchUpProgress {
            day,
            done: i as u64,
            total,
        });
        let s = take(ws, day, ctx)?;
        report.last_day = Some(day);
        report.days.push(DaySummary {
            id: s.id.unwrap_or_default(),
            day,
            version: s.version,
            status: s.status,
            computed_at: s.computed_at,
            currencies: s
                .currencies
                .iter()
                .map(|c| DayCurrency {
                    currency: c.currency.clone(),
                    difference: c.difference,
                    remainder: c.remainder,
                    open_exceptions: c.open_exceptions,
                })
                .collect(),
        });
    }
    Ok(report)
}
