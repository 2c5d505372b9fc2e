//! Reconciliation: a day's snapshot (saved, or a dry run), catching up every day missing,
//! the reconciled days, exceptions (list, show, propose, resolve, export the adjustments),
//! the matching rules and webhook health; and reading the names and days people type.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use closebook_engine::reconcile::exceptions::{
    self, ExceptionDetail, ExceptionFilter, ExceptionRow, ProposedEntry, Resolution,
    ResolveRequest, StateFilter,
};
use closebook_engine::reconcile::rules::{self, MatchRules, Rule};
use closebook_engine::reconcile::snapshot::{
    self, CatchUpProgress, CatchUpReport, DaySummary, Snapshot,
};
use closebook_engine::reconcile::webhooks::{self, WebhookDay};
use closebook_engine::reconcile::{Kind, ReconcileError};
use closebook_engine::workspace::Workspace;
use closebook_engine::{Error, OpContext};
use jiff::civil::Date;

use super::Result;

fn names<T>(all: &[T], name: impl Fn(&T) -> &'static str) -> String {
    all.iter().map(name).collect::<Vec<_>>().join(", ")
}

/// A day as typed: `YYYY-MM-DD`.
pub fn day(text: &str) -> Result<Date> {
    text.trim()
        .parse()
        .map_err(|_| Error::InvalidInput(format!("`{}` is not a day: use YYYY-MM-DD", text.trim())))
}

/// An exception kind by name.
pub fn kind(text: &str) -> Result<Kind> {
    Kind::parse(text.trim()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "no exception kind `{}`: use one of {}",
            text.trim(),
            names(&Kind::ALL, |k| k.name())
        ))
    })
}

/// Which exceptions: `open` (also when blank), `resolved` or `all`.
pub fn state(text: Option<&str>) -> Result<StateFilter> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("open") => Ok(StateFilter::Open),
        Some("resolved") => Ok(StateFilter::Resolved),
        Some("all") => Ok(StateFilter::All),
        Some(s) => Err(Error::InvalidInput(format!(
            "`{s}`: use open, resolved or all"
        ))),
    }
}

/// A resolution by name.
pub fn resolution(text: &str) -> Result<Resolution> {
    Resolution::parse(text.trim()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "no resolution `{}`: use one of {}",
            text.trim(),
            names(&Resolution::ALL, |r| r.name())
        ))
    })
}

/// A matching rule by name.
pub fn rule(text: &str) -> Result<Rule> {
    Rule::parse(text.trim()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "no matching rule `{}`: use {}",
            text.trim(),
            names(&Rule::ALL, |r| r.name())
        ))
    })
}

/// Reconciles `day` (saved), or shows the result without saving (`dry_run`). A day that has
/// not happened yet in the workspace's time zone is refused.
pub fn snapshot(ws: &Workspace, day: Date, dry_run: bool, ctx: &OpContext) -> Result<Snapshot> {
    let today = ctx.now.to_zoned(ws.time_zone().clone()).date();
    if day > today {
        return Err(Error::InvalidInput(format!(
            "{day} has not happened yet in {} (today is {today}): reconcile a day up to today",
            ws.info().timezone
        )));
    }
    Ok(if dry_run {
        snapshot::compute(ws, day, ctx)?
    } else {
        snapshot::take(ws, day, ctx)?
    })
}

/// The saved snapshot of a day (its latest version).
pub fn saved_day(ws: &Workspace, day: Date) -> Result<Snapshot> {
    Ok(snapshot::latest_of(ws, day)?.ok_or(ReconcileError::NoSnapshot(day))?)
}

/// The days not reconciled yet, up to yesterday, and the last reconciled day.
pub fn missing(ws: &Workspace, ctx: &OpContext) -> Result<(Vec<Date>, Option<Date>)> {
    Ok((
        snapshot::missing_days(ws, ctx.now)?,
        snapshot::last_day(ws)?,
    ))
}

/// Reconciles every day missing since the last, oldest first (a daily schedule).
pub fn catch_up(
    ws: &Workspace,
    ctx: &OpContext,
    progress: &mut dyn FnMut(&CatchUpProgress),
    cancel: &AtomicBool,
) -> Result<CatchUpReport> {
    Ok(snapshot::catch_up(ws, ctx, progress, cancel)?)
}

pub fn history(ws: &Workspace) -> Result<Vec<DaySummary>> {
    Ok(snapshot::history(ws)?)
}

pub fn exceptions(ws: &Workspace, filter: &ExceptionFilter) -> Result<Vec<ExceptionRow>> {
    Ok(exceptions::list(ws, filter)?)
}

pub fn exception(ws: &Workspace, id: i64) -> Result<ExceptionDetail> {
    Ok(exceptions::show(ws, id)?)
}

/// The adjustment entries that resolving `ids` as booked adjustments would book (nothing is).
pub fn propose(
    ws: &Workspace,
    ids: &[i64],
    counter_account: Option<&str>,
) -> Result<Vec<ProposedEntry>> {
    let mut all = Vec::new();
    for id in ids {
        all.extend(exceptions::propose_adjustment(ws, *id, counter_account)?);
    }
    Ok(all)
}

/// Resolves the exceptions (all or none), booking the adjustments when so resolved.
pub fn resolve(
    ws: &Workspace,
    request: &ResolveRequest,
    ctx: &OpContext,
) -> Result<Vec<ExceptionRow>> {
    Ok(exceptions::resolve(ws, request, ctx)?)
}

/// Writes Closebook's adjustment entries in the platform's ledger file format (a new file).
pub fn export_adjustments(ws: &Workspace, dest: &Path) -> Result<u64> {
    Ok(exceptions::export_adjustments(ws, dest)?)
}

/// Changes to the matching rules; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct RulesChange {
    pub order: Option<Vec<Rule>>,
    pub amount_tolerance_minor: Option<i64>,
    pub date_window_days: Option<u32>,
}

/// The matching rules, changed first when `change` changes anything.
pub fn rules(ws: &Workspace, change: RulesChange, ctx: &OpContext) -> Result<MatchRules> {
    let mut r = rules::rules(ws).map_err(ReconcileError::from)?;
    if change.order.is_none()
        && change.amount_tolerance_minor.is_none()
        && change.date_window_days.is_none()
    {
        return Ok(r);
    }
    if let Some(order) = change.order {
        r.order = order;
    }
    if let Some(t) = change.amount_tolerance_minor {
        r.amount_tolerance_minor = t;
    }
    if let Some(w) = change.date_window_days {
        r.date_window_days = w;
    }
    rules::set_rules(ws, &r, ctx)?;
    Ok(rules::rules(ws).map_err(ReconcileError::from)?)
}

/// Webhook health over `from..=to`: per day and event type, sent against recorded.
pub fn webhooks(ws: &Workspace, from: Date, to: Date) -> Result<Vec<WebhookDay>> {
    Ok(webhooks::health(ws, from, to)?)
}
