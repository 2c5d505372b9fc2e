//! The Payouts screen's commands and transport types: the roster, batches by month, a
//! batch's preview (lines, totals, changes, coverage, drift, sign-off, execution), the
//! what-if, approvals (here or as files), and execution with progress.

use closebook_engine::money::{Money, Unit};
use closebook_engine::payouts::batch::{self, Batch, BatchSummary, Preview};
use closebook_engine::payouts::execute::{ExecuteControl, ExecuteOptions, ExecuteProgress};
use closebook_engine::payouts::people::{self, Person, Role};
use closebook_engine::payouts::{LineKind, Params, PayoutError, Totals};
use closebook_engine::workspace::Workspace;
use closebook_engine::{Error, ErrorCode, demo};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::views::{AmountView, ProgressEvent, TimeView};
use crate::{App, CommandError, Result, api, lock};

#[derive(Debug, Clone, Serialize, TS)]
pub struct PersonView {
    pub name: String,
    /// preparer | approver | auditor | admin
    pub role: String,
    pub public_key: String,
    /// The person's private key is in this computer's keychain: they can act here.
    pub key_here: bool,
    pub added_at: TimeView,
    pub added_by: String,
    /// The admin whose signed record vouches for them (themselves, for the roster's root);
    /// none: no admin has, and they act on nothing until one does.
    pub vouched_by: Option<String>,
    /// Their public key's fingerprint, to read aloud and compare.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PayoutSettingsView {
    pub fee_bps: u32,
    /// Minor units, as a string of digits.
    pub minimum_minor: String,
    pub dual_approval_at_minor: String,
    pub minimum: AmountView,
    pub dual_approval_at: AmountView,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PayoutSettingsArgs {
    pub fee_bps: u32,
    /// In dollars, as the person typed it ("25", "$1,250.00"): the engine reads it.
    pub minimum: String,
    pub dual_approval_at: String,
    /// The admin changing them, once the roster has one.
    pub as_person: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BatchTotalsView {
    pub subscriptions: AmountView,
    pub allocated: AmountView,
    pub unallocated: AmountView,
    pub fees: AmountView,
    pub net: AmountView,
    pub carried_in: AmountView,
    pub withdrawals: AmountView,
    pub paid: AmountView,
    pub carried_out: AmountView,
    /// Platform revenue: fees + unallocated.
    pub revenue: AmountView,
    pub lines: u32,
    pub paid_lines: u32,
    pub held_lines: u32,
    pub creators: u32,
    pub subscribers: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BatchSummaryView {
    pub id: String,
    pub month: String,
    pub version: u32,
    /// draft | approved | executing | done | rejected | superseded
    pub state: String,
    pub paid: AmountView,
    pub carried_out: AmountView,
    pub paid_lines: u32,
    pub held_lines: u32,
    pub prepared_by: String,
    pub prepared_at: TimeView,
    pub state_changed_at: TimeView,
    pub approvals: u32,
    pub approvals_required: u32,
    pub lines_done: u32,
    pub lines_failed: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PayoutsOverview {
    pub people: Vec<PersonView>,
    /// The admin whose self-signed record begins the signed roster, and their fingerprint
    /// (whoever holds the database key could put another root in its place: compare it).
    pub roster_root: Option<String>,
    pub roster_root_fingerprint: Option<String>,
    pub roles: Vec<String>,
    /// Every batch, newest month first.
    pub batches: Vec<BatchSummaryView>,
    /// Months with allocations, newest first, each with its latest batch's state (or none).
    pub months: Vec<MonthView>,
    pub settings: PayoutSettingsView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct MonthView {
    pub month: String,
    /// The month has ended in the workspace's time zone (it can be prepared).
    pub over: bool,
    pub allocations: u32,
    pub latest_batch: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BatchLineView {
    pub line_no: u32,
    /// earnings | withdrawal
    pub kind: String,
    pub creator: String,
    pub reference: Option<String>,
    pub destination: Option<String>,
    pub gross: AmountView,
    pub fee: AmountView,
    pub net: AmountView,
    pub carried_in: AmountView,
    pub withdrawn: AmountView,
    pub requested: AmountView,
    pub payable: AmountView,
    pub allocations: u32,
    /// Why the line is carried over (a closed set of codes), or null when it is paid.
    pub held: Option<String>,
    pub held_text: Option<String>,
    /// The same creator's payable in the previous month's batch.
    pub previous_payable: Option<AmountView>,
    /// payable − previous payable.
    pub change: Option<AmountView>,
    /// For paid lines: pending | sent | paid | failed.
    pub execution: Option<String>,
    pub transfer_id: Option<String>,
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DecisionView {
    pub person: String,
    /// approve | reject
    pub decision: String,
    pub reason: Option<String>,
    pub signed_at: TimeView,
    pub signature: String,
    pub public_key: String,
    /// here | file
    pub via: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DriftView {
    pub kind: String,
    pub key: String,
    pub change: String,
    pub locked: Option<AmountView>,
    pub current: AmountView,
    pub updated_at: TimeView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BatchCoverageView {
    pub available: Option<AmountView>,
    pub fetched_at: Option<TimeView>,
    pub paid: AmountView,
    pub covered: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BatchView {
    pub id: String,
    pub month: String,
    pub version: u32,
    pub state: String,
    pub settings: PayoutSettingsView,
    pub digest: String,
    pub inputs_digest: String,
    pub prepared_by: String,
    pub prepared_at: TimeView,
    pub preparer_signature: String,
    pub totals: BatchTotalsView,
    pub lines: Vec<BatchLineView>,
    pub decisions: Vec<DecisionView>,
    pub approvals: u32,
    pub approvals_required: u32,
    pub coverage: BatchCoverageView,
    pub drift: Vec<DriftView>,
    #[ts(type = "number")]
    pub drift_count: u64,
    pub previous_batch: Option<String>,
    pub lines_paid: u32,
    pub lines_failed: u32,
    pub lines_sent: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct AddPersonArgs {
    pub name: String,
    pub role: String,
    /// The admin adding them, once the roster has one.
    pub as_person: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct VouchArgs {
    /// The people the admin vouches for, each confirmed by name.
    pub names: Vec<String>,
    /// The admin signing.
    pub as_person: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PrepareArgs {
    pub month: String,
    pub as_person: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct WhatIfArgs {
    pub batch_id: String,
    pub fee_bps: u32,
    /// In dollars, as the person typed it.
    pub minimum: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct WhatIfView {
    pub fee_bps: u32,
    pub minimum: AmountView,
    pub totals: BatchTotalsView,
    /// What changes against the batch as prepared.
    pub fees_change: AmountView,
    pub paid_change: AmountView,
    pub lines_newly_held: u32,
    pub lines_newly_paid: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DecisionArgs {
    pub batch_id: String,
    pub as_person: String,
    /// Required to reject.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExportApprovalArgs {
    pub batch_id: String,
    pub as_person: String,
    /// Where the signed file goes (chosen in the native save dialog).
    pub path: String,
    /// Sign a rejection with this reason instead of an approval.
    pub reject_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExecuteArgs {
    pub batch_id: String,
    pub as_person: String,
    pub op_id: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ExecuteReportView {
    pub batch: String,
    pub state: String,
    pub paid_now: u32,
    pub adopted: u32,
    pub failed_now: u32,
    pub paid_total: u32,
    pub failed_total: u32,
    pub payable_lines: u32,
    /// The batch was already done: nothing was left to pay and nothing was sent.
    pub nothing_left: bool,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RetryArgs {
    pub batch_id: String,
    pub as_person: String,
    /// Empty: every failed line.
    pub lines: Vec<u32>,
}

fn usd() -> Unit {
    Unit::iso("usd").expect("usd is ISO 4217")
}

fn amount(minor: i64) -> AmountView {
    Money::new(minor, usd()).into()
}

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError::new(ErrorCode::InvalidInput, message)
}

/// A dollar amount as the person typed it, read by the engine's one parser.
fn dollars(typed: &str, what: &str) -> Result<i64> {
    crate::views::typed_amount(typed, usd(), what)
}

fn person_view(ws: &Workspace, p: &Person) -> PersonView {
    PersonView {
        name: p.name.clone(),
        role: p.role.as_str().into(),
        public_key: p.public_key.clone(),
        key_here: p.key_here,
        added_at: TimeView::new(ws, p.added_at),
        added_by: p.added_by.clone(),
        vouched_by: p.vouched_by.clone(),
        fingerprint: p.fingerprint.clone(),
    }
}

fn settings_view(p: &Params) -> PayoutSettingsView {
    PayoutSettingsView {
        fee_bps: p.fee_bps,
        minimum_minor: p.minimum_minor.to_string(),
        dual_approval_at_minor: p.dual_approval_at_minor.to_string(),
        minimum: amount(p.minimum_minor),
        dual_approval_at: amount(p.dual_approval_at_minor),
    }
}

fn totals_view(t: &Totals) -> BatchTotalsView {
    BatchTotalsView {
        subscriptions: amount(t.subscriptions),
        allocated: amount(t.allocated),
        unallocated: amount(t.unallocated),
        fees: amount(t.fees),
        net: amount(t.net),
        carried_in: amount(t.carried_in),
        withdrawals: amount(t.withdrawals),
        paid: amount(t.paid),
        carried_out: amount(t.carried_out),
        revenue: amount(t.revenue().unwrap_or(i64::MAX)),
        lines: t.lines,
        paid_lines: t.paid_lines,
        held_lines: t.held_lines,
        creators: t.creators,
        subscribers: t.subscribers,
    }
}

fn summary_view(ws: &Workspace, b: &BatchSummary) -> BatchSummaryView {
    BatchSummaryView {
        id: b.id.clone(),
        month: b.month.clone(),
        version: b.version,
        state: b.state.as_str().into(),
        paid: amount(b.totals.paid),
        carried_out: amount(b.totals.carried_out),
        paid_lines: b.totals.paid_lines,
        held_lines: b.totals.held_lines,
        prepared_by: b.prepared_by.clone(),
        prepared_at: TimeView::new(ws, b.prepared_at),
        state_changed_at: TimeView::new(ws, b.state_changed_at),
        approvals: b.approvals,
        approvals_required: b.approvals_required,
        lines_done: b.paid_lines_done,
        lines_failed: b.failed_lines,
    }
}

fn batch_view(ws: &Workspace, p: &Preview) -> BatchView {
    let b: &Batch = &p.batch;
    let lines = b
        .lines
        .iter()
        .map(|l| {
            let prev = p
                .changes
                .iter()
                .find(|c| c.line_no == l.line_no)
                .and_then(|c| c.previous_payable);
            let e = b.execution(l.line_no);
            BatchLineView {
                line_no: l.line_no,
                kind: l.kind.as_str().into(),
                creator: l.creator.clone(),
                reference: l.reference.clone(),
                destination: l.destination.clone(),
                gross: amount(l.gross),
                fee: amount(l.fee),
                net: amount(l.net),
                carried_in: amount(l.carried_in),
                withdrawn: amount(l.withdrawn),
                requested: amount(l.requested),
                payable: amount(l.payable),
                allocations: l.allocations,
                held: l.held.map(|h| h.as_str().into()),
                held_text: l.held.map(|h| h.describe().into()),
                previous_payable: prev.map(amount),
                change: if l.kind == LineKind::Earnings {
                    prev.and_then(|x| l.payable.checked_sub(x)).map(amount)
                } else {
                    None
                },
                execution: if l.is_paid() {
                    Some(e.map_or("pending", |e| e.state.as_str()).into())
                } else {
                    None
                },
                transfer_id: e.and_then(|e| e.transfer_id.clone()),
                failure: e.and_then(|e| e.failure.clone()),
            }
        })
        .collect();
    let count = |s: &str| b.executions.iter().filter(|e| e.state == s).count() as u32;
    BatchView {
        id: b.id.clone(),
        month: b.month.clone(),
        version: b.version,
        state: b.state.as_str().into(),
        settings: settings_view(&b.params),
        digest: b.digest.clone(),
        inputs_digest: b.inputs_digest.clone(),
        prepared_by: b.prepared_by.clone(),
        prepared_at: TimeView::new(ws, b.prepared_at),
        preparer_signature: b.preparer_signature.clone(),
        totals: totals_view(&b.totals),
        lines,
        decisions: b
            .decisions
            .iter()
            .map(|d| DecisionView {
                person: d.person.clone(),
                decision: d.decision.clone(),
                reason: d.reason.clone(),
                signed_at: TimeView::new(ws, d.signed_at),
                signature: d.signature.clone(),
                public_key: d.public_key.clone(),
                via: d.via.clone(),
            })
            .collect(),
        approvals: b.approvals().count() as u32,
        approvals_required: b.approvals_required,
        coverage: BatchCoverageView {
            available: p.coverage.available.map(amount),
            fetched_at: p.coverage.fetched_at.map(|t| TimeView::new(ws, t)),
            paid: amount(p.coverage.paid),
            covered: p.coverage.covered,
        },
        drift: p
            .drift
            .iter()
            .map(|d| DriftView {
                kind: d.kind.clone(),
                key: d.key.clone(),
                change: d.change.clone(),
                locked: d.locked_amount.map(amount),
                current: amount(d.current_amount),
                updated_at: TimeView::new(ws, d.current_updated_at),
            })
            .collect(),
        drift_count: p.drift_count,
        previous_batch: p.previous_batch.clone(),
        lines_paid: count("paid"),
        lines_failed: count("failed"),
        lines_sent: count("sent"),
    }
}

fn months(
    ws: &Workspace,
    now: jiff::Timestamp,
    batches: &[BatchSummary],
) -> Result<Vec<MonthView>> {
    let mut stmt = ws
        .connection()
        .prepare(
            "SELECT month, count(*) FROM platform_allocations GROUP BY month ORDER BY month DESC",
        )
        .map_err(PayoutError::from)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(PayoutError::from)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(PayoutError::from)?;
    rows.into_iter()
        .map(|(month, n)| {
            let over = closebook_engine::payouts::parse_month(&month)
                .ok()
                .and_then(|d| d.checked_add(jiff::Span::new().months(1)).ok())
                .and_then(|next| ws.start_of_day(next).ok())
                .is_some_and(|end| now >= end);
            let latest = batches.iter().find(|b| b.month == month);
            Ok(MonthView {
                month,
                over,
                allocations: u32::try_from(n).unwrap_or(u32::MAX),
                latest_batch: latest.map(|b| b.id.clone()),
                state: latest.map(|b| b.state.as_str().into()),
            })
        })
        .collect()
}

pub use crate::api::demo::{DEMO_DUAL_APPROVAL_AT, DEMO_PEOPLE};

impl App {
    pub fn payouts_overview(&self) -> Result<PayoutsOverview> {
        let now = (self.clock)();
        let secrets = self.secrets.clone();
        self.read(|ws| {
            let list = batch::list(ws)?;
            let listed = people::list(ws, Some(secrets.as_ref()))?;
            let root = people::signed_roster(ws)?.root().map(String::from);
            Ok(PayoutsOverview {
                roster_root_fingerprint: root
                    .as_ref()
                    .and_then(|r| listed.iter().find(|p| &p.name == r))
                    .map(|p| p.fingerprint.clone()),
                roster_root: root,
                people: listed.iter().map(|p| person_view(ws, p)).collect(),
                roles: Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
                months: months(ws, now, &list)?,
                batches: list.iter().map(|b| summary_view(ws, b)).collect(),
                settings: settings_view(&batch::settings(ws)?),
            })
        })
    }

    pub fn payouts_add_person(&self, args: AddPersonArgs) -> Result<PayoutsOverview> {
        let session = self.session()?;
        {
            let ws = lock(&session.writer);
            api::people::add(
                &ws,
                self.secrets.as_ref(),
                &args.name,
                &args.role,
                args.as_person.as_deref(),
                &self.ctx(),
            )?;
        }
        self.payouts_overview()
    }

    /// An admin vouches for people on the roster whom no admin has signed for.
    pub fn payouts_vouch(&self, args: VouchArgs) -> Result<PayoutsOverview> {
        let session = self.session()?;
        {
            let ws = lock(&session.writer);
            api::people::vouch(
                &ws,
                self.secrets.as_ref(),
                &args.names,
                &args.as_person,
                &self.ctx(),
            )?;
        }
        self.payouts_overview()
    }

    pub fn payouts_set_settings(&self, args: PayoutSettingsArgs) -> Result<PayoutsOverview> {
        let change = api::payouts::SettingsChange {
            fee_bps: Some(args.fee_bps),
            minimum_minor: Some(dollars(&args.minimum, "The minimum payout")?),
            dual_approval_at_minor: Some(dollars(
                &args.dual_approval_at,
                "The two-approver threshold",
            )?),
        };
        let session = self.session()?;
        {
            let ws = lock(&session.writer);
            api::payouts::settings(
                &ws,
                self.secrets.as_ref(),
                change,
                args.as_person.as_deref(),
                &self.ctx(),
            )?;
        }
        self.payouts_overview()
    }

    pub fn payouts_prepare(&self, args: PrepareArgs) -> Result<BatchView> {
        let session = self.session()?;
        let ws = lock(&session.writer);
        let p = api::payouts::prepare(
            &ws,
            self.secrets.as_ref(),
            &args.month,
            &args.as_person,
            api::payouts::SettingsChange::default(),
            &self.ctx(),
        )?;
        Ok(batch_view(&ws, &p))
    }

    /// A batch, proven on load, with everything needed to sign it off.
    pub fn payouts_batch(&self, id: String) -> Result<BatchView> {
        self.read(|ws| {
            let p = api::payouts::show(ws, &id)?;
            Ok(batch_view(ws, &p))
        })
    }

    pub fn payouts_what_if(&self, args: WhatIfArgs) -> Result<WhatIfView> {
        let minimum = dollars(&args.minimum, "The minimum payout")?;
        self.read(|ws| {
            let (b, params, c) =
                api::payouts::what_if(ws, &args.batch_id, Some(args.fee_bps), Some(minimum))?;
            let newly = |from_paid: bool| {
                b.lines
                    .iter()
                    .zip(&c.lines)
                    .filter(|(old, new)| old.is_paid() == from_paid && new.is_paid() != from_paid)
                    .count() as u32
            };
            Ok(WhatIfView {
                fee_bps: params.fee_bps,
                minimum: amount(params.minimum_minor),
                totals: totals_view(&c.totals),
                fees_change: amount(c.totals.fees - b.totals.fees),
                paid_change: amount(c.totals.paid - b.totals.paid),
                lines_newly_held: newly(true),
                lines_newly_paid: newly(false),
            })
        })
    }

    fn decide(&self, args: &DecisionArgs, reject: bool) -> Result<BatchView> {
        let session = self.session()?;
        let ws = lock(&session.writer);
        let reason = reject.then(|| args.reason.as_deref().unwrap_or(""));
        let b = api::payouts::decide(
            &ws,
            self.secrets.as_ref(),
            &args.batch_id,
            &args.as_person,
            reason,
            &self.ctx(),
        )?;
        session.invalidate();
        let p = batch::preview(&ws, &b.id)?;
        Ok(batch_view(&ws, &p))
    }

    pub fn payouts_approve(&self, args: DecisionArgs) -> Result<BatchView> {
        self.decide(&args, false)
    }

    pub fn payouts_reject(&self, args: DecisionArgs) -> Result<BatchView> {
        self.decide(&args, true)
    }

    /// Signs an approval (or rejection) into a file for another desktop; records nothing.
    pub fn payouts_export_approval(&self, args: ExportApprovalArgs) -> Result<String> {
        let path = std::path::PathBuf::from(args.path.trim());
        if args.path.trim().is_empty() {
            return Err(invalid("choose where to save the approval file"));
        }
        let session = self.session()?;
        let ws = lock(&session.writer);
        api::payouts::export_approval(
            &ws,
            self.secrets.as_ref(),
            &args.batch_id,
            &args.as_person,
            args.reject_reason.as_deref(),
            &path,
            &self.ctx(),
        )?;
        Ok(path.display().to_string())
    }

    pub fn payouts_import_approval(&self, path: String) -> Result<BatchView> {
        let session = self.session()?;
        let ws = lock(&session.writer);
        let b = api::payouts::import_approval(&ws, std::path::Path::new(path.trim()), &self.ctx())?;
        session.invalidate();
        let p = batch::preview(&ws, &b.id)?;
        Ok(batch_view(&ws, &p))
    }

    /// Pays every payable line exactly once, with progress per line; cancelling stops
    /// between lines (nothing is paid twice when it runs again).
    pub fn payouts_execute(&self, args: ExecuteArgs) -> Result<ExecuteReportView> {
        let session = self.session()?;
        let (api_base, key) = {
            let ws = lock(&session.reader);
            self.stripe_target(&session, &ws)?
        };
        let key = key.ok_or_else(|| {
            CommandError::from(Error::from(closebook_engine::stripe::StripeError::NoKey))
        })?;
        let cancel = self.begin_operation(&args.op_id)?;
        let result = {
            let ws = lock(&session.writer);
            let mut options = ExecuteOptions::new(&api_base, ws.info().mode.is_live());
            if session.demo {
                options.limits = demo::sync_options(&api_base).limits;
            }
            let events = self.events.clone();
            let id = args.op_id.clone();
            let mut progress = |p: &ExecuteProgress| {
                events.progress(ProgressEvent {
                    op_id: id.clone(),
                    stage: p.phase.clone(),
                    done: u64::from(p.lines_paid + p.lines_failed),
                    total: Some(u64::from(p.lines_total)),
                    sync: None,
                })
            };
            let mut control = ExecuteControl {
                progress: &mut progress,
                cancel: &cancel,
            };
            api::payouts::execute(
                &ws,
                self.secrets.as_ref(),
                &args.batch_id,
                &args.as_person,
                &key,
                &options,
                &mut control,
                &self.ctx(),
            )
            .map_err(CommandError::from)
        };
        session.invalidate();
        self.end_operation(&args.op_id);
        let r = result?;
        Ok(ExecuteReportView {
            batch: r.batch,
            state: r.state.as_str().into(),
            paid_now: r.paid_now,
            adopted: r.adopted,
            failed_now: r.failed_now,
            paid_total: r.paid_total,
            failed_total: r.failed_total,
            payable_lines: r.payable_lines,
            nothing_left: r.nothing_left,
        })
    }

    pub fn payouts_retry(&self, args: RetryArgs) -> Result<BatchView> {
        let session = self.session()?;
        let ws = lock(&session.writer);
        api::payouts::retry(
            &ws,
            self.secrets.as_ref(),
            &args.batch_id,
            &args.as_person,
            &args.lines,
            &self.ctx(),
        )?;
        let p = batch::preview(&ws, &args.batch_id)?;
        Ok(batch_view(&ws, &p))
    }
}
