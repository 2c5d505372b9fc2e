//! The Reconciliation screen's commands and transport types.

use closebook_engine::reconcile::Kind;
use closebook_engine::reconcile::exceptions::{
    self, Appearance, ExceptionDetail, ExceptionFilter, ExceptionRow, ProposedEntry, Resolution,
    ResolveRequest,
};
use closebook_engine::reconcile::rules::{MatchRules, Rule};
use closebook_engine::reconcile::snapshot::{
    self, CurrencyLine, DaySummary, ResolutionRecord, Snapshot, SnapshotException,
};
use closebook_engine::workspace::Workspace;
use closebook_engine::{ErrorCode, money::Money};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::views::AdjustmentsExportView;
use crate::views::{AmountView, ProgressEvent, TimeView};
use crate::{App, CommandError, Result, api, lock};

#[derive(Debug, Clone, Serialize, TS)]
pub struct MatchRulesView {
    /// Applied in this order.
    pub order: Vec<String>,
    /// Every rule there is, in the default order.
    pub available: Vec<String>,
    #[ts(type = "number")]
    pub amount_tolerance_minor: i64,
    pub date_window_days: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct MatchRulesArgs {
    pub order: Vec<String>,
    #[ts(type = "number")]
    pub amount_tolerance_minor: i64,
    pub date_window_days: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReconDayCurrencyView {
    pub currency: String,
    pub difference: AmountView,
    pub remainder: AmountView,
    #[ts(type = "number")]
    pub open_exceptions: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReconDayView {
    /// "2026-10-31"
    pub day: String,
    #[ts(type = "number")]
    pub version: i64,
    /// "balanced" | "explained" | "unexplained"
    pub status: String,
    pub computed_at: TimeView,
    pub currencies: Vec<ReconDayCurrencyView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReconOverview {
    pub last_day: Option<String>,
    /// Every reconciled day, oldest first.
    pub days: Vec<ReconDayView>,
    /// Days a catch-up would reconcile now (up to yesterday).
    #[ts(type = "number")]
    pub missing_days: u64,
    #[ts(type = "number")]
    pub open_exceptions: u64,
    pub rules: MatchRulesView,
    /// Every exception kind, in the waterfall's order.
    pub kinds: Vec<String>,
    /// Every resolution.
    pub resolutions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ExplainedView {
    pub kind: String,
    pub amount: AmountView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReconCurrencyView {
    pub currency: String,
    pub stripe_available: AmountView,
    pub stripe_pending: AmountView,
    pub stripe_total: AmountView,
    pub ledger: AmountView,
    /// Stripe − ledger.
    pub difference: AmountView,
    /// Σ per exception kind (the waterfall's steps).
    pub explained: Vec<ExplainedView>,
    pub remainder: AmountView,
    #[ts(type = "number")]
    pub matched: u64,
    #[ts(type = "number")]
    pub unmatched_stripe: u64,
    #[ts(type = "number")]
    pub unmatched_ledger: u64,
    #[ts(type = "number")]
    pub open_exceptions: u64,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ResolutionView {
    pub resolution: String,
    pub note: String,
    pub actor: String,
    pub at: TimeView,
    pub adjustment_entry: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ExceptionView {
    /// `null` only in a dry run, for an exception never saved.
    #[ts(type = "number | null")]
    pub id: Option<i64>,
    pub key: String,
    pub kind: String,
    pub currency: String,
    pub stripe_object: Option<String>,
    /// This exception's share of Stripe − ledger.
    pub effect: AmountView,
    pub stripe_amount: Option<AmountView>,
    pub ledger_amount: Option<AmountView>,
    pub stripe_ids: Vec<String>,
    pub ledger_entries: Vec<String>,
    pub stripe_date: Option<TimeView>,
    pub ledger_date: Option<TimeView>,
    pub event_id: Option<String>,
    pub webhook_status: Option<String>,
    pub matched_by: Option<String>,
    pub note: String,
    pub first_day: String,
    /// The last reconciled day that found it (lists only).
    pub last_day: Option<String>,
    #[ts(type = "number | null")]
    pub appearances: Option<u64>,
    /// Whether the latest snapshot still finds it (lists only).
    pub current: Option<bool>,
    pub resolution: Option<ResolutionView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct MirrorView {
    pub currency: String,
    pub live: AmountView,
    pub mirrored: AmountView,
    pub missing: AmountView,
    pub complete: bool,
    pub fetched_at: TimeView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SnapshotView {
    #[ts(type = "number | null")]
    pub id: Option<i64>,
    pub day: String,
    #[ts(type = "number")]
    pub version: i64,
    pub dry_run: bool,
    /// Already reconciled from the same rows: the saved snapshot, nothing new written.
    pub unchanged: bool,
    pub computed_at: TimeView,
    pub actor: String,
    pub status: String,
    pub digest: String,
    #[ts(type = "number")]
    pub stripe_rows: u64,
    #[ts(type = "number")]
    pub ledger_rows: u64,
    #[ts(type = "number")]
    pub matched: u64,
    pub rules: MatchRulesView,
    pub currencies: Vec<ReconCurrencyView>,
    pub exceptions: Vec<ExceptionView>,
    pub mirror: Vec<MirrorView>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SnapshotArgs {
    /// "YYYY-MM-DD" in the workspace's time zone.
    pub day: String,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CatchUpView {
    #[ts(type = "number")]
    pub days_added: u64,
    pub last_day: Option<String>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct ExceptionQuery {
    /// One of the overview's `kinds`; absent: every kind.
    pub kind: Option<String>,
    /// "open" (default), "resolved" or "all".
    pub state: Option<String>,
    pub currency: Option<String>,
    /// Only exceptions whose effect is at least this much (absolute), as the person typed
    /// it in the chosen `currency`'s units ("12.50"): the engine reads it.
    pub min_amount: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppearanceView {
    pub day: String,
    #[ts(type = "number")]
    pub version: i64,
    pub effect: AmountView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ProposedPostingView {
    pub account: String,
    pub amount: AmountView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ProposedEntryView {
    pub entry_id: String,
    pub entry_type: String,
    pub stripe_object_id: Option<String>,
    pub description: String,
    pub postings: Vec<ProposedPostingView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ExceptionDetailView {
    pub exception: ExceptionView,
    pub history: Vec<AppearanceView>,
    /// The resolutions that fit this exception's kind.
    pub allowed: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ResolveArgs {
    #[ts(type = "number[]")]
    pub ids: Vec<i64>,
    pub resolution: String,
    pub note: String,
    pub counter_account: Option<String>,
}

fn money(ws: &Workspace, minor: i64, currency: &str) -> Result<AmountView> {
    let unit = ws.units().lookup(currency)?;
    Ok(Money::new(minor, unit).into())
}

fn time(ws: &Workspace, us: i64) -> TimeView {
    TimeView::new(
        ws,
        Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH),
    )
}

fn invalid(message: String) -> CommandError {
    CommandError::new(ErrorCode::InvalidInput, message)
}

fn rules_view(r: &MatchRules) -> MatchRulesView {
    MatchRulesView {
        order: r.order.iter().map(|r| r.name().to_string()).collect(),
        available: Rule::ALL.iter().map(|r| r.name().to_string()).collect(),
        amount_tolerance_minor: r.amount_tolerance_minor,
        date_window_days: r.date_window_days,
    }
}

fn resolution_view(ws: &Workspace, r: &ResolutionRecord) -> ResolutionView {
    ResolutionView {
        resolution: r.resolution.clone(),
        note: r.note.clone(),
        actor: r.actor.clone(),
        at: TimeView::new(ws, r.at),
        adjustment_entry: r.adjustment_entry.clone(),
    }
}

fn exception_view(ws: &Workspace, e: &SnapshotException) -> Result<ExceptionView> {
    let c = &e.currency;
    Ok(ExceptionView {
        id: e.id,
        key: e.key.clone(),
        kind: e.kind.name().to_string(),
        currency: c.to_uppercase(),
        stripe_object: e.stripe_object.clone(),
        effect: money(ws, e.effect, c)?,
        stripe_amount: e.stripe_amount.map(|v| money(ws, v, c)).transpose()?,
        ledger_amount: e.ledger_amount.map(|v| money(ws, v, c)).transpose()?,
        stripe_ids: e.evidence.stripe_ids.clone(),
        ledger_entries: e.evidence.ledger_entries.clone(),
        stripe_date: e.evidence.stripe_date.map(|t| time(ws, t)),
        ledger_date: e.evidence.ledger_date.map(|t| time(ws, t)),
        event_id: e.evidence.event_id.clone(),
        webhook_status: e.evidence.webhook_status.clone(),
        matched_by: e.evidence.matched_by.map(|r| r.name().to_string()),
        note: e.evidence.note.clone(),
        first_day: e.first_day.to_string(),
        last_day: None,
        appearances: None,
        current: None,
        resolution: e.resolution.as_ref().map(|r| resolution_view(ws, r)),
    })
}

fn row_view(ws: &Workspace, x: &ExceptionRow) -> Result<ExceptionView> {
    let mut v = exception_view(ws, &x.exception)?;
    v.last_day = Some(x.last_day.to_string());
    v.appearances = Some(x.appearances);
    v.current = Some(x.current);
    Ok(v)
}

fn currency_view(ws: &Workspace, l: &CurrencyLine) -> Result<ReconCurrencyView> {
    let c = &l.currency;
    Ok(ReconCurrencyView {
        currency: c.to_uppercase(),
        stripe_available: money(ws, l.stripe_available, c)?,
        stripe_pending: money(ws, l.stripe_pending, c)?,
        stripe_total: money(ws, l.stripe_total, c)?,
        ledger: money(ws, l.ledger, c)?,
        difference: money(ws, l.difference, c)?,
        explained: l
            .explained
            .iter()
            .map(|(k, v)| {
                Ok(ExplainedView {
                    kind: k.name().to_string(),
                    amount: money(ws, *v, c)?,
                })
            })
            .collect::<Result<_>>()?,
        remainder: money(ws, l.remainder, c)?,
        matched: l.matched,
        unmatched_stripe: l.unmatched_stripe,
        unmatched_ledger: l.unmatched_ledger,
        open_exceptions: l.open_exceptions,
        status: l.status.name().to_string(),
    })
}

fn snapshot_view(ws: &Workspace, s: &Snapshot, dry_run: bool) -> Result<SnapshotView> {
    Ok(SnapshotView {
        id: s.id,
        day: s.day.to_string(),
        version: s.version,
        dry_run,
        unchanged: s.unchanged,
        computed_at: TimeView::new(ws, s.computed_at),
        actor: s.actor.clone(),
        status: s.status.name().to_string(),
        digest: s.digest.clone(),
        stripe_rows: s.stripe_rows,
        ledger_rows: s.ledger_rows,
        matched: s.matched,
        rules: rules_view(&s.rules),
        currencies: s
            .currencies
            .iter()
            .map(|l| currency_view(ws, l))
            .collect::<Result<_>>()?,
        exceptions: s
            .exceptions
            .iter()
            .map(|e| exception_view(ws, e))
            .collect::<Result<_>>()?,
        mirror: s
            .mirror
            .iter()
            .map(|m| {
                Ok(MirrorView {
                    currency: m.currency.to_uppercase(),
                    live: money(ws, m.live, &m.currency)?,
                    mirrored: money(ws, m.mirrored, &m.currency)?,
                    missing: money(ws, m.missing, &m.currency)?,
                    complete: m.complete(),
                    fetched_at: TimeView::new(ws, m.fetched_at),
                })
            })
            .collect::<Result<_>>()?,
    })
}

fn day_view(ws: &Workspace, d: &DaySummary) -> Result<ReconDayView> {
    Ok(ReconDayView {
        day: d.day.to_string(),
        version: d.version,
        status: d.status.name().to_string(),
        computed_at: TimeView::new(ws, d.computed_at),
        currencies: d
            .currencies
            .iter()
            .map(|c| {
                Ok(ReconDayCurrencyView {
                    currency: c.currency.to_uppercase(),
                    difference: money(ws, c.difference, &c.currency)?,
                    remainder: money(ws, c.remainder, &c.currency)?,
                    open_exceptions: c.open_exceptions,
                })
            })
            .collect::<Result<_>>()?,
    })
}

fn proposal_view(ws: &Workspace, p: &[ProposedEntry]) -> Result<Vec<ProposedEntryView>> {
    p.iter()
        .map(|e| {
            Ok(ProposedEntryView {
                entry_id: e.entry_id.clone(),
                entry_type: e.entry_type.clone(),
                stripe_object_id: e.stripe_object_id.clone(),
                description: e.description.clone(),
                postings: e
                    .postings
                    .iter()
                    .map(|p| {
                        Ok(ProposedPostingView {
                            account: p.account.clone(),
                            amount: money(ws, p.amount_minor, &e.currency)?,
                        })
                    })
                    .collect::<Result<_>>()?,
            })
        })
        .collect()
}

fn non_blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl App {
    /// Reconciled days, the last one, what a catch-up would add, and the rules.
    pub fn recon_overview(&self) -> Result<ReconOverview> {
        let now = (self.clock)();
        self.read(|ws| {
            let days = api::reconcile::history(ws)?;
            let open = exceptions::list(ws, &ExceptionFilter::default())?.len() as u64;
            Ok(ReconOverview {
                last_day: snapshot::last_day(ws)?.map(|d| d.to_string()),
                days: days
                    .iter()
                    .map(|d| day_view(ws, d))
                    .collect::<Result<_>>()?,
                missing_days: snapshot::missing_days(ws, now)?.len() as u64,
                open_exceptions: open,
                rules: rules_view(&api::reconcile::rules(
                    ws,
                    api::reconcile::RulesChange::default(),
                    &self.ctx(),
                )?),
                kinds: Kind::ALL.iter().map(|k| k.name().to_string()).collect(),
                resolutions: Resolution::ALL
                    .iter()
                    .map(|r| r.name().to_string())
                    .collect(),
            })
        })
    }

    /// Reconciles every missing day up to yesterday, one saved snapshot per day, with
    /// progress; cancelling keeps the days finished.
    pub fn recon_catch_up(&self, op_id: String) -> Result<CatchUpView> {
        let session = self.session()?;
        let cancel = self.begin_operation(&op_id)?;
        let result = {
            let ws = lock(&session.writer);
            let events = self.events.clone();
            let id = op_id.clone();
            let mut progress = |p: &snapshot::CatchUpProgress| {
                events.progress(ProgressEvent {
                    op_id: id.clone(),
                    stage: format!("reconciling {}", p.day),
                    done: p.done,
                    total: Some(p.total),
                    sync: None,
                })
            };
            api::reconcile::catch_up(&ws, &self.ctx(), &mut progress, &cancel)
        };
        self.end_operation(&op_id);
        let r = result?;
        Ok(CatchUpView {
            days_added: r.days.len() as u64,
            last_day: r.last_day.map(|d| d.to_string()),
            cancelled: r.cancelled,
        })
    }

    /// Reconciles one day (saved), or shows the result without saving (`dry_run`).
    pub fn recon_snapshot(&self, args: SnapshotArgs) -> Result<SnapshotView> {
        let day = api::reconcile::day(&args.day)?;
        let session = self.session()?;
        let ws = lock(&session.writer);
        let s = api::reconcile::snapshot(&ws, day, args.dry_run, &self.ctx())?;
        snapshot_view(&ws, &s, args.dry_run)
    }

    /// The saved snapshot of a day (its latest version).
    pub fn recon_day(&self, day: String) -> Result<SnapshotView> {
        let day = api::reconcile::day(&day)?;
        self.read(|ws| {
            let s = api::reconcile::saved_day(ws, day)?;
            snapshot_view(ws, &s, false)
        })
    }

    pub fn recon_exceptions(&self, query: ExceptionQuery) -> Result<Vec<ExceptionView>> {
        let kind = non_blank(query.kind)
            .map(|k| api::reconcile::kind(&k))
            .transpose()?;
        let state = api::reconcile::state(query.state.as_deref())?;
        let currency = non_blank(query.currency).map(|c| c.to_lowercase());
        let min_typed = non_blank(query.min_amount);
        self.read(|ws| {
            let min_amount = match (&min_typed, &currency) {
                (None, _) => None,
                (Some(_), None) => {
                    return Err(invalid(
                        "choose a currency for the minimum amount: it is in that currency's units".into(),
                    ));
                }
                (Some(typed), Some(c)) => {
                    let unit = ws.units().lookup(c)?;
                    let m = crate::views::typed_amount(typed, unit, "The minimum amount")?;
                    if m < 0 {
                        return Err(invalid(
                            "The minimum amount: enter it without a sign; the filter compares sizes, whichever the direction".into(),
                        ));
                    }
                    Some(m)
                }
            };
            let filter = ExceptionFilter {
                kind,
                state,
                currency: currency.clone(),
                min_amount,
            };
            api::reconcile::exceptions(ws, &filter)?
                .iter()
                .map(|x| row_view(ws, x))
                .collect()
        })
    }

    pub fn recon_exception(&self, id: i32) -> Result<ExceptionDetailView> {
        self.read(|ws| {
            let ExceptionDetail { row, history } = api::reconcile::exception(ws, i64::from(id))?;
            let c = row.exception.currency.clone();
            Ok(ExceptionDetailView {
                allowed: Resolution::ALL
                    .iter()
                    .filter(|r| r.fits(row.exception.kind))
                    .map(|r| r.name().to_string())
                    .collect(),
                exception: row_view(ws, &row)?,
                history: history
                    .iter()
                    .map(|a: &Appearance| {
                        Ok(AppearanceView {
                            day: a.day.to_string(),
                            version: a.version,
                            effect: money(ws, a.effect, &c)?,
                        })
                    })
                    .collect::<Result<_>>()?,
            })
        })
    }

    /// The balanced entry an adjustment resolution would book, without booking it.
    pub fn recon_propose_adjustment(
        &self,
        id: i32,
        counter_account: Option<String>,
    ) -> Result<Vec<ProposedEntryView>> {
        let counter = non_blank(counter_account);
        self.read(|ws| {
            let p = api::reconcile::propose(ws, &[i64::from(id)], counter.as_deref())?;
            proposal_view(ws, &p)
        })
    }

    /// Resolves one or more exceptions (all or none), booking the adjustment if asked.
    pub fn recon_resolve(&self, args: ResolveArgs) -> Result<Vec<ExceptionView>> {
        let resolution = api::reconcile::resolution(&args.resolution)?;
        let session = self.session()?;
        let rows = {
            let ws = lock(&session.writer);
            let rows = api::reconcile::resolve(
                &ws,
                &ResolveRequest {
                    ids: args.ids,
                    resolution,
                    note: args.note,
                    counter_account: non_blank(args.counter_account),
                },
                &self.ctx(),
            )?;
            rows.iter()
                .map(|x| row_view(&ws, x))
                .collect::<Result<Vec<_>>>()?
        };
        session.invalidate();
        Ok(rows)
    }

    /// Writes Closebook's adjustment entries in the platform's ledger file format, to a new
    /// file the person chose (never over an existing one).
    pub fn recon_export_adjustments(&self, dest: String) -> Result<AdjustmentsExportView> {
        let path = std::path::PathBuf::from(dest.trim());
        if dest.trim().is_empty() {
            return Err(invalid("choose where to save the adjustments".into()));
        }
        let postings = self.read(|ws| Ok(api::reconcile::export_adjustments(ws, &path)?))?;
        Ok(AdjustmentsExportView {
            path: path.display().to_string(),
            postings,
        })
    }

    pub fn recon_set_rules(&self, args: MatchRulesArgs) -> Result<MatchRulesView> {
        let order = args
            .order
            .iter()
            .map(|name| api::reconcile::rule(name))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let change = api::reconcile::RulesChange {
            order: Some(order),
            amount_tolerance_minor: Some(args.amount_tolerance_minor),
            date_window_days: Some(args.date_window_days),
        };
        let session = self.session()?;
        let ws = lock(&session.writer);
        Ok(rules_view(&api::reconcile::rules(
            &ws,
            change,
            &self.ctx(),
        )?))
    }
}
