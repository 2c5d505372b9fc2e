//! What each report holds, section by section, streamed into a [`Sink`].
//!
//! Long: one short function per report kind (seven), sharing the cell helpers at the top;
//! this file is the one list of what each report holds.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::ColumnKind::{Date as D, DateTime as T, Integer as I, Money as M, Text as X};
use super::{Cell, Column, ReportError, ReportMeta, Sink, col};
use crate::ledger;
use crate::money::{Money, apply_bps_half_even};
use crate::payouts::batch as pbatch;
use crate::reconcile::exceptions::{self, ExceptionFilter, StateFilter};
use crate::reconcile::snapshot;
use crate::reconcile::{Kind, ReconcileError};
use crate::workspace::Workspace;

/// Which report, over what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportSpec {
    /// A day's reconciliation snapshot (its latest version).
    Snapshot {
        day: Date,
    },
    /// Every exception ever found, with its resolution.
    Exceptions,
    PayoutBatch {
        batch: String,
    },
    /// Seed 004's admin page: every month's subscriptions, allocations, fees, payouts.
    MonthlyFinancials,
    TrialBalance {
        as_of: Option<Date>,
    },
    GeneralLedger {
        from: Option<Date>,
        to: Option<Date>,
        account: Option<String>,
    },
    AuditLog,
}

impl ReportSpec {
    pub fn name(&self) -> &'static str {
        match self {
            ReportSpec::Snapshot { .. } => "reconciliation_snapshot",
            ReportSpec::Exceptions => "exceptions",
            ReportSpec::PayoutBatch { .. } => "payout_batch",
            ReportSpec::MonthlyFinancials => "monthly_financials",
            ReportSpec::TrialBalance { .. } => "trial_balance",
            ReportSpec::GeneralLedger { .. } => "general_ledger",
            ReportSpec::AuditLog => "audit_log",
        }
    }

    /// Every report, for UIs.
    pub const NAMES: [&'static str; 7] = [
        "reconciliation_snapshot",
        "exceptions",
        "payout_batch",
        "monthly_financials",
        "trial_balance",
        "general_ledger",
        "audit_log",
    ];
}

fn ts(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn money(ws: &Workspace, minor: i64, currency: &str) -> Result<Cell, ReportError> {
    let unit = ws
        .units()
        .lookup(currency)
        .map_err(|e| ReportError::Invariant(format!("{currency}: {e}")))?;
    Ok(Cell::Money(Money::new(minor, unit)))
}

fn opt_money(ws: &Workspace, minor: Option<i64>, currency: &str) -> Result<Cell, ReportError> {
    minor.map_or(Ok(Cell::Empty), |m| money(ws, m, currency))
}

fn usd(ws: &Workspace, minor: i64) -> Result<Cell, ReportError> {
    money(ws, minor, "usd")
}

fn end_of(ws: &Workspace, d: Date) -> Result<Timestamp, ReportError> {
    ws.end_of_day(d)
        .map_err(|e| ReportError::BadInput(e.to_string()))
}

fn start_of(ws: &Workspace, d: Date) -> Result<Timestamp, ReportError> {
    ws.start_of_day(d)
        .map_err(|e| ReportError::BadInput(e.to_string()))
}

/// The cover's and manifest's description of a report; fails early when its subject does
/// not exist.
pub fn meta(ws: &Workspace, spec: &ReportSpec) -> Result<ReportMeta, ReportError> {
    let (title, as_of, scope) = match spec {
        ReportSpec::Snapshot { day } => {
            let s = snapshot::latest_of(ws, *day)?.ok_or_else(|| {
                ReportError::NotFound(format!(
                    "{day} is not reconciled yet: run the snapshot first"
                ))
            })?;
            (
                "Reconciliation snapshot".to_string(),
                Some(end_of(ws, *day)?.to_string()),
                format!("{day}, version {}, digest {}", s.version, s.digest),
            )
        }
        ReportSpec::Exceptions => (
            "Exceptions and resolutions".into(),
            None,
            "every exception found".into(),
        ),
        ReportSpec::PayoutBatch { batch } => {
            let b = pbatch::load(ws, batch)?;
            (
                "Payout batch".into(),
                Some(b.state_changed_at.to_string()),
                format!(
                    "{} for {} ({}), digest {}",
                    b.id,
                    b.month,
                    b.state.as_str(),
                    b.digest
                ),
            )
        }
        ReportSpec::MonthlyFinancials => ("Monthly financials".into(), None, "every month".into()),
        ReportSpec::TrialBalance { as_of } => (
            "Trial balance".into(),
            as_of
                .map(|d| end_of(ws, d))
                .transpose()?
                .map(|t| t.to_string()),
            as_of.map_or("all postings".into(), |d| format!("end of {d}")),
        ),
        ReportSpec::GeneralLedger { from, to, account } => (
            "General ledger".into(),
            to.map(|d| end_of(ws, d))
                .transpose()?
                .map(|t| t.to_string()),
            format!(
                "{} to {}{}",
                from.map_or("the first posting".into(), |d| d.to_string()),
                to.map_or("the last posting".into(), |d| d.to_string()),
                account
                    .as_ref()
                    .map(|a| format!(", {a} and below"))
                    .unwrap_or_default()
            ),
        ),
        ReportSpec::AuditLog => ("Audit log".into(), None, "every record".into()),
    };
    Ok(ReportMeta {
        report: spec.name().into(),
        title,
        as_of,
        scope,
    })
}

pub fn generate(ws: &Workspace, spec: &ReportSpec, sink: &mut dyn Sink) -> Result<(), ReportError> {
    match spec {
        ReportSpec::Snapshot { day } => snapshot_report(ws, *day, sink),
        ReportSpec::Exceptions => exceptions_report(ws, sink),
        ReportSpec::PayoutBatch { batch } => batch_report(ws, batch, sink),
        ReportSpec::MonthlyFinancials => monthly_financials(ws, sink),
        ReportSpec::TrialBalance { as_of } => trial_balance(ws, *as_of, sink),
        ReportSpec::GeneralLedger { from, to, account } => {
            general_ledger(ws, *from, *to, account.as_deref(), sink)
        }
        ReportSpec::AuditLog => audit_log(ws, sink),
    }
}

const EXCEPTION_COLUMNS: [Column; 17] = [
    col("Exception", I, 10.0),
    col("Kind", X, 18.0),
    col("Currency", X, 9.0),
    col("Stripe object", X, 30.0),
    col("Effect", M, 14.0),
    col("Stripe amount", M, 14.0),
    col("Ledger amount", M, 14.0),
    col("Stripe ids", X, 30.0),
    col("Ledger entries", X, 30.0),
    col("Stripe date", T, 20.0),
    col("Ledger date", T, 20.0),
    col("First day", D, 12.0),
    col("State", X, 10.0),
    col("Resolution", X, 18.0),
    col("Note", X, 40.0),
    col("Resolved by", X, 18.0),
    col("Resolved at", T, 20.0),
];

fn exception_row(
    ws: &Workspace,
    e: &snapshot::SnapshotException,
) -> Result<Vec<Cell>, ReportError> {
    let c = &e.currency;
    let r = e.resolution.as_ref();
    Ok(vec![
        e.id.map_or(Cell::Empty, Cell::Int),
        Cell::text(e.kind.name()),
        Cell::text(c.to_uppercase()),
        Cell::opt_text(e.stripe_object.clone()),
        money(ws, e.effect, c)?,
        opt_money(ws, e.stripe_amount, c)?,
        opt_money(ws, e.ledger_amount, c)?,
        Cell::text(e.evidence.stripe_ids.join(", ")),
        Cell::text(e.evidence.ledger_entries.join(", ")),
        e.evidence
            .stripe_date
            .map_or(Cell::Empty, |t| Cell::Time(ts(t))),
        e.evidence
            .ledger_date
            .map_or(Cell::Empty, |t| Cell::Time(ts(t))),
        Cell::Date(e.first_day),
        Cell::text(if r.is_some() { "resolved" } else { "open" }),
        Cell::opt_text(r.map(|r| r.resolution.clone())),
        Cell::opt_text(r.map(|r| r.note.clone())),
        Cell::opt_text(r.map(|r| r.actor.clone())),
        r.map_or(Cell::Empty, |r| Cell::Time(r.at)),
    ])
}

fn snapshot_report(ws: &Workspace, day: Date, sink: &mut dyn Sink) -> Result<(), ReportError> {
    let s = snapshot::latest_of(ws, day)?
        .ok_or_else(|| ReportError::NotFound(format!("{day} is not reconciled yet")))?;
    sink.section(
        "Summary",
        &[
            col("Currency", X, 9.0),
            col("Stripe available", M, 16.0),
            col("Stripe pending", M, 16.0),
            col("Stripe total", M, 16.0),
            col("Ledger", M, 16.0),
            col("Difference", M, 14.0),
            col("Unexplained", M, 14.0),
            col("Matched", I, 10.0),
            col("Unmatched Stripe", I, 10.0),
            col("Unmatched ledger", I, 10.0),
            col("Open exceptions", I, 10.0),
            col("Status", X, 12.0),
        ],
    )?;
    for c in &s.currencies {
        let cur = &c.currency;
        sink.row(vec![
            Cell::text(cur.to_uppercase()),
            money(ws, c.stripe_available, cur)?,
            money(ws, c.stripe_pending, cur)?,
            money(ws, c.stripe_total, cur)?,
            money(ws, c.ledger, cur)?,
            money(ws, c.difference, cur)?,
            money(ws, c.remainder, cur)?,
            Cell::Int(c.matched as i64),
            Cell::Int(c.unmatched_stripe as i64),
            Cell::Int(c.unmatched_ledger as i64),
            Cell::Int(c.open_exceptions as i64),
            Cell::text(c.status.name()),
        ])?;
    }
    sink.section(
        "Difference explained",
        &[
            col("Currency", X, 9.0),
            col("Step", X, 24.0),
            col("Amount", M, 16.0),
        ],
    )?;
    for c in &s.currencies {
        let cur = &c.currency;
        sink.row(vec![
            Cell::text(cur.to_uppercase()),
            Cell::text("Stripe balance"),
            money(ws, c.stripe_total, cur)?,
        ])?;
        for (kind, amount) in &c.explained {
            sink.row(vec![
                Cell::text(cur.to_uppercase()),
                Cell::text(kind.name()),
                money(ws, -*amount, cur)?,
            ])?;
        }
        sink.row(vec![
            Cell::text(cur.to_uppercase()),
            Cell::text("unexplained"),
            money(ws, -c.remainder, cur)?,
        ])?;
        sink.row(vec![
            Cell::text(cur.to_uppercase()),
            Cell::text("Ledger balance"),
            money(ws, c.ledger, cur)?,
        ])?;
    }
    // The day's Stripe activity that reconciled: every balance transaction created that
    // day whose object no exception names, with the ledger entries booking it.
    let excepted: std::collections::HashSet<&str> = s
        .exceptions
        .iter()
        .filter_map(|e| e.stripe_object.as_deref())
        .collect();
    sink.section(
        "Matched",
        &[
            col("Balance transaction", X, 30.0),
            col("Type", X, 14.0),
            col("Object", X, 30.0),
            col("Created", T, 20.0),
            col("Amount", M, 14.0),
            col("Fee", M, 12.0),
            col("Net", M, 14.0),
            col("Ledger entries", X, 30.0),
        ],
    )?;
    let (from, to) = (start_of(ws, day)?, end_of(ws, day)?);
    let mut stmt = ws.conn.prepare(
        "SELECT b.id, b.type, coalesce(b.source, b.id), b.created, b.amount, b.fee, b.net, b.currency,
                (SELECT group_concat(DISTINCT p.entry_id) FROM ledger_postings p WHERE p.stripe_object_id = coalesce(b.source, b.id))
         FROM stripe_balance_transactions b
         WHERE b.created >= ?1 AND b.created <= ?2 ORDER BY b.created, b.id",
    )?;
    let mut rows = stmt.query(params![from.as_microsecond(), to.as_microsecond()])?;
    while let Some(r) = rows.next()? {
        let object: String = r.get(2)?;
        if excepted.contains(object.as_str()) {
            continue;
        }
        let cur: String = r.get(7)?;
        sink.row(vec![
            Cell::Text(r.get(0)?),
            Cell::Text(r.get(1)?),
            Cell::Text(object),
            Cell::Time(ts(r.get(3)?)),
            money(ws, r.get(4)?, &cur)?,
            money(ws, r.get(5)?, &cur)?,
            money(ws, r.get(6)?, &cur)?,
            Cell::opt_text(r.get::<_, Option<String>>(8)?),
        ])?;
    }
    sink.section("Exceptions", &EXCEPTION_COLUMNS)?;
    for e in &s.exceptions {
        sink.row(exception_row(ws, e)?)?;
    }
    sink.section("Timing differences", &EXCEPTION_COLUMNS)?;
    for e in s
        .exceptions
        .iter()
        .filter(|e| e.kind == Kind::TimingDifference)
    {
        sink.row(exception_row(ws, e)?)?;
    }
    Ok(())
}

fn exceptions_report(ws: &Workspace, sink: &mut dyn Sink) -> Result<(), ReportError> {
    let all = exceptions::list(
        ws,
        &ExceptionFilter {
            state: StateFilter::All,
            ..ExceptionFilter::default()
        },
    )
    .map_err(|e: ReconcileError| ReportError::from(e))?;
    sink.section("Exceptions", &EXCEPTION_COLUMNS)?;
    for row in &all {
        sink.row(exception_row(ws, &row.exception)?)?;
    }
    Ok(())
}

fn batch_report(ws: &Workspace, id: &str, sink: &mut dyn Sink) -> Result<(), ReportError> {
    let p = pbatch::preview(ws, id)?;
    let b = &p.batch;
    sink.section("Totals", &[col("Figure", X, 34.0), col("Amount", M, 16.0)])?;
    let t = &b.totals;
    for (name, v) in [
        ("Subscriptions", t.subscriptions),
        ("Allocated to creators", t.allocated),
        ("Platform fees", t.fees),
        ("Net to creators", t.net),
        ("Carried in", t.carried_in),
        ("Withdrawals paid", t.withdrawals),
        ("Paid by this batch", t.paid),
        ("Carried over", t.carried_out),
        ("Unallocated", t.unallocated),
        (
            "Platform revenue",
            t.revenue()
                .ok_or(ReportError::Invariant("revenue overflows".into()))?,
        ),
    ] {
        sink.row(vec![Cell::text(name), usd(ws, v)?])?;
    }
    sink.section(
        "Lines",
        &[
            col("Line", I, 7.0),
            col("Kind", X, 11.0),
            col("Creator", X, 18.0),
            col("Reference", X, 14.0),
            col("Destination", X, 28.0),
            col("Allocations", I, 10.0),
            col("Gross", M, 13.0),
            col("Fee", M, 11.0),
            col("Net", M, 13.0),
            col("Carried in", M, 13.0),
            col("Withdrawn", M, 13.0),
            col("Requested", M, 13.0),
            col("Payable", M, 13.0),
            col("Previous payable", M, 14.0),
            col("Held", X, 20.0),
            col("Reason", X, 44.0),
        ],
    )?;
    for l in &b.lines {
        let prev = p
            .changes
            .iter()
            .find(|c| c.line_no == l.line_no)
            .and_then(|c| c.previous_payable);
        sink.row(vec![
            Cell::Int(i64::from(l.line_no)),
            Cell::text(l.kind.as_str()),
            Cell::text(&l.creator),
            Cell::opt_text(l.reference.clone()),
            Cell::opt_text(l.destination.clone()),
            Cell::Int(i64::from(l.allocations)),
            usd(ws, l.gross)?,
            usd(ws, l.fee)?,
            usd(ws, l.net)?,
            usd(ws, l.carried_in)?,
            usd(ws, l.withdrawn)?,
            usd(ws, l.requested)?,
            usd(ws, l.payable)?,
            opt_money(ws, prev, "usd")?,
            Cell::opt_text(l.held.map(|h| h.as_str())),
            Cell::opt_text(l.held.map(|h| h.describe())),
        ])?;
    }
    sink.section(
        "Approvals",
        &[
            col("Person", X, 20.0),
            col("Decision", X, 10.0),
            col("Reason", X, 30.0),
            col("Signed at", T, 20.0),
            col("Recorded via", X, 12.0),
            col("Batch digest", X, 66.0),
            col("Public key", X, 66.0),
            col("Ed25519 signature", X, 130.0),
        ],
    )?;
    sink.row(vec![
        Cell::text(&b.prepared_by),
        Cell::text("prepare"),
        Cell::Empty,
        Cell::Time(b.prepared_at),
        Cell::text("here"),
        Cell::text(&b.digest),
        Cell::text(
            crate::payouts::people::get(ws, &b.prepared_by)?
                .map(|p| p.public_key)
                .unwrap_or_default(),
        ),
        Cell::text(&b.preparer_signature),
    ])?;
    for d in &b.decisions {
        sink.row(vec![
            Cell::text(&d.person),
            Cell::text(&d.decision),
            Cell::opt_text(d.reason.clone()),
            Cell::Time(d.signed_at),
            Cell::text(&d.via),
            Cell::text(&b.digest),
            Cell::text(&d.public_key),
            Cell::text(&d.signature),
        ])?;
    }
    sink.section(
        "Execution",
        &[
            col("Line", I, 7.0),
            col("Creator", X, 18.0),
            col("Destination", X, 28.0),
            col("Payable", M, 13.0),
            col("Status", X, 10.0),
            col("Stripe transfer", X, 30.0),
            col("Failure", X, 40.0),
            col("Idempotency key", X, 60.0),
            col("First sent", T, 20.0),
            col("Finished", T, 20.0),
        ],
    )?;
    for l in b.lines.iter().filter(|l| l.is_paid()) {
        let e = b.execution(l.line_no);
        sink.row(vec![
            Cell::Int(i64::from(l.line_no)),
            Cell::text(&l.creator),
            Cell::opt_text(l.destination.clone()),
            usd(ws, l.payable)?,
            Cell::text(e.map_or("pending", |e| e.state.as_str())),
            Cell::opt_text(e.and_then(|e| e.transfer_id.clone())),
            Cell::opt_text(e.and_then(|e| e.failure.clone())),
            Cell::opt_text(e.map(|e| e.idempotency_key.clone())),
            e.map_or(Cell::Empty, |e| Cell::Time(e.first_sent_at)),
            e.and_then(|e| e.finished_at)
                .map_or(Cell::Empty, Cell::Time),
        ])?;
    }
    Ok(())
}

/// One month of seed 004's admin page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    pub month: String,
    pub subscriptions: i64,
    pub allocated: i64,
    pub unallocated: i64,
    pub platform_fees: i64,
    /// Allocated − fees: what creators earned this month.
    pub creator_payouts: i64,
    pub platform_revenue: i64,
    /// What the month's batch transferred (with carried-in money), once executed.
    pub transferred: Option<i64>,
    pub batch: Option<String>,
    pub batch_state: Option<String>,
    /// `batch`: the figures of the month's approved batch; `estimate`: from the platform's
    /// data at the current fee, no batch yet.
    pub basis: String,
}

/// Every month with subscriptions or allocations, oldest first.
pub fn monthly_figures(ws: &Workspace) -> Result<Vec<MonthFigures>, ReportError> {
    let fee_bps = pbatch::settings(ws)?.fee_bps;
    let mut months: BTreeMap<String, MonthFigures> = BTreeMap::new();
    {
        let mut stmt = ws
            .conn
            .prepare("SELECT month, sum(total_usd_cents) FROM platform_balances GROUP BY month")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let m: String = r.get(0)?;
            months
                .entry(m.clone())
                .or_insert_with(|| MonthFigures {
                    month: m,
                    ..MonthFigures::default()
                })
                .subscriptions = r.get(1)?;
        }
    }
    {
        let mut stmt = ws.conn.prepare(
            "SELECT month, author_id, sum(amount_cents) FROM platform_allocations GROUP BY month, author_id ORDER BY month, author_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let m: String = r.get(0)?;
            let gross: i64 = r.get(2)?;
            let f = months.entry(m.clone()).or_insert_with(|| MonthFigures {
                month: m,
                ..MonthFigures::default()
            });
            f.allocated = f
                .allocated
                .checked_add(gross)
                .ok_or(ReportError::Invariant("allocations overflow".into()))?;
            f.platform_fees += apply_bps_half_even(gross, fee_bps)
                .map_err(|e| ReportError::Invariant(e.to_string()))?;
        }
    }
    let batches = pbatch::list(ws)?;
    for f in months.values_mut() {
        f.basis = "estimate".into();
        if let Some(b) = batches.iter().find(|b| {
            b.month == f.month
                && matches!(
                    b.state,
                    pbatch::BatchState::Approved
                        | pbatch::BatchState::Executing
                        | pbatch::BatchState::Done
                )
        }) {
            f.subscriptions = b.totals.subscriptions;
            f.allocated = b.totals.allocated;
            f.platform_fees = b.totals.fees;
            f.batch = Some(b.id.clone());
            f.batch_state = Some(b.state.as_str().into());
            f.basis = "batch".into();
            f.transferred = (b.state == pbatch::BatchState::Done).then_some(b.totals.paid);
        } else if let Some(b) = batches.iter().find(|b| b.month == f.month) {
            f.batch = Some(b.id.clone());
            f.batch_state = Some(b.state.as_str().into());
        }
        f.unallocated = f.subscriptions - f.allocated;
        f.creator_payouts = f.allocated - f.platform_fees;
        f.platform_revenue = f.platform_fees + f.unallocated;
    }
    Ok(months.into_values().collect())
}

fn monthly_financials(ws: &Workspace, sink: &mut dyn Sink) -> Result<(), ReportError> {
    sink.section(
        "Monthly financials",
        &[
            col("Month", X, 9.0),
            col("Subscriptions", M, 15.0),
            col("Allocated", M, 15.0),
            col("Unallocated", M, 15.0),
            col("Platform fees", M, 15.0),
            col("Creator payouts", M, 15.0),
            col("Platform revenue", M, 15.0),
            col("Transferred", M, 15.0),
            col("Allocation rate (bps)", I, 12.0),
            col("Batch", X, 16.0),
            col("Batch state", X, 12.0),
            col("Basis", X, 10.0),
        ],
    )?;
    for f in monthly_figures(ws)? {
        let rate = if f.subscriptions > 0 {
            Cell::Int(
                i64::try_from(
                    crate::money::div_round_half_even(
                        i128::from(f.allocated) * 10_000,
                        i128::from(f.subscriptions),
                    )
                    .map_err(|e| ReportError::Invariant(e.to_string()))?,
                )
                .unwrap_or(i64::MAX),
            )
        } else {
            Cell::Empty
        };
        sink.row(vec![
            Cell::text(&f.month),
            usd(ws, f.subscriptions)?,
            usd(ws, f.allocated)?,
            usd(ws, f.unallocated)?,
            usd(ws, f.platform_fees)?,
            usd(ws, f.creator_payouts)?,
            usd(ws, f.platform_revenue)?,
            opt_money(ws, f.transferred, "usd")?,
            rate,
            Cell::opt_text(f.batch),
            Cell::opt_text(f.batch_state),
            Cell::text(f.basis),
        ])?;
    }
    Ok(())
}

fn trial_balance(
    ws: &Workspace,
    as_of: Option<Date>,
    sink: &mut dyn Sink,
) -> Result<(), ReportError> {
    let at = as_of.map(|d| end_of(ws, d)).transpose()?;
    // Summed from the postings and proven equal to the kept totals: an auditor's copy never
    // rests on the totals alone.
    let tb = ledger::trial_balance_proven(ws, at)?;
    sink.section(
        "Trial balance",
        &[
            col("Account", X, 40.0),
            col("Currency", X, 9.0),
            col("Debit", M, 16.0),
            col("Credit", M, 16.0),
            col("Balance", M, 16.0),
        ],
    )?;
    for r in &tb.rows {
        sink.row(vec![
            Cell::text(&r.account),
            Cell::text(r.balance.currency.display_code()),
            Cell::Money(r.debit.money()),
            Cell::Money(r.credit.money()),
            Cell::Money(r.balance.money()),
        ])?;
    }
    sink.section(
        "Totals",
        &[
            col("Currency", X, 9.0),
            col("Debits", M, 16.0),
            col("Credits", M, 16.0),
        ],
    )?;
    for t in &tb.totals {
        sink.row(vec![
            Cell::text(t.currency.to_uppercase()),
            Cell::Money(t.debits.money()),
            Cell::Money(t.credits.money()),
        ])?;
    }
    Ok(())
}

/// Every posting of the period, account by account, with opening, running and closing
/// balances. Streams: one posting in memory at a time.
fn general_ledger(
    ws: &Workspace,
    from: Option<Date>,
    to: Option<Date>,
    account: Option<&str>,
    sink: &mut dyn Sink,
) -> Result<(), ReportError> {
    let from_us = from
        .map(|d| start_of(ws, d))
        .transpose()?
        .map_or(i64::MIN, |t| t.as_microsecond());
    let to_us = to
        .map(|d| end_of(ws, d))
        .transpose()?
        .map_or(i64::MAX, |t| t.as_microsecond());
    if from_us > to_us {
        return Err(ReportError::BadInput(
            "the period ends before it starts".into(),
        ));
    }
    // ?1 is the account (and everything below it), or unused for the whole ledger.
    let scope = if account.is_some() {
        "(account = ?1 OR (account >= ?1 || ':' AND account < ?1 || ';'))"
    } else {
        "?1 IS NOT NULL"
    };
    let a1 = account.unwrap_or("");
    // Opening balances per account and currency.
    let mut opening: BTreeMap<(String, String), i64> = BTreeMap::new();
    {
        let sql = format!(
            "SELECT account, currency, sum(amount_minor) FROM ledger_postings WHERE {scope} AND created_at < ?2 GROUP BY account, currency"
        );
        let mut stmt = ws.conn.prepare(&sql)?;
        let mut rows = stmt.query(params![a1, from_us])?;
        while let Some(r) = rows.next()? {
            opening.insert((r.get(0)?, r.get(1)?), r.get(2)?);
        }
    }
    sink.section(
        "General ledger",
        &[
            col("Account", X, 36.0),
            col("Currency", X, 9.0),
            col("Date", T, 20.0),
            col("Entry", X, 24.0),
            col("Type", X, 18.0),
            col("Description", X, 40.0),
            col("Stripe object", X, 30.0),
            col("Debit", M, 14.0),
            col("Credit", M, 14.0),
            col("Balance", M, 15.0),
        ],
    )?;
    let sql = format!(
        "SELECT account, currency, created_at, entry_id, entry_type, description, stripe_object_id, amount_minor
         FROM ledger_postings WHERE {scope} AND created_at >= ?2 AND created_at <= ?3
         ORDER BY account, currency, created_at, seq"
    );
    let mut stmt = ws.conn.prepare(&sql)?;
    let mut rows = stmt.query(params![a1, from_us, to_us])?;
    let mut summary: Vec<(String, String, i64, i64, i64, i64)> = Vec::new();
    let mut current: Option<(String, String, i64, i64, i64, i64)> = None;
    let close = |c: (String, String, i64, i64, i64, i64),
                 sink: &mut dyn Sink,
                 summary: &mut Vec<(String, String, i64, i64, i64, i64)>|
     -> Result<(), ReportError> {
        let (a, cur, _open, _d, _c, bal) = &c;
        sink.row(vec![
            Cell::text(a),
            Cell::text(cur.to_uppercase()),
            Cell::Empty,
            Cell::Empty,
            Cell::text("closing balance"),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            money(ws, *bal, cur)?,
        ])?;
        summary.push(c);
        Ok(())
    };
    while let Some(r) = rows.next()? {
        let (a, cur): (String, String) = (r.get(0)?, r.get(1)?);
        let amount: i64 = r.get(7)?;
        let same = current.as_ref().is_some_and(|c| c.0 == a && c.1 == cur);
        if !same {
            if let Some(c) = current.take() {
                close(c, sink, &mut summary)?;
            }
            let open = opening.remove(&(a.clone(), cur.clone())).unwrap_or(0);
            sink.row(vec![
                Cell::text(&a),
                Cell::text(cur.to_uppercase()),
                Cell::Empty,
                Cell::Empty,
                Cell::text("opening balance"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                money(ws, open, &cur)?,
            ])?;
            current = Some((a.clone(), cur.clone(), open, 0, 0, open));
        }
        let c = current.as_mut().expect("set above");
        let overflow = || ReportError::Invariant(format!("the balance of {a} overflows"));
        c.5 = c.5.checked_add(amount).ok_or_else(overflow)?;
        if amount >= 0 {
            c.3 = c.3.checked_add(amount).ok_or_else(overflow)?;
        } else {
            c.4 = c.4.checked_sub(amount).ok_or_else(overflow)?;
        }
        sink.row(vec![
            Cell::text(&a),
            Cell::text(cur.to_uppercase()),
            Cell::Time(ts(r.get(2)?)),
            Cell::Text(r.get(3)?),
            Cell::Text(r.get(4)?),
            Cell::opt_text(r.get::<_, Option<String>>(5)?),
            Cell::opt_text(r.get::<_, Option<String>>(6)?),
            if amount >= 0 {
                money(ws, amount, &cur)?
            } else {
                Cell::Empty
            },
            if amount < 0 {
                money(ws, -amount, &cur)?
            } else {
                Cell::Empty
            },
            money(ws, c.5, &cur)?,
        ])?;
    }
    if let Some(c) = current.take() {
        close(c, sink, &mut summary)?;
    }
    // Accounts with an opening balance and no posting in the period.
    for ((a, cur), open) in opening {
        summary.push((a, cur, open, 0, 0, open));
    }
    summary.sort();
    sink.section(
        "Accounts",
        &[
            col("Account", X, 36.0),
            col("Currency", X, 9.0),
            col("Opening", M, 15.0),
            col("Debits", M, 15.0),
            col("Credits", M, 15.0),
            col("Closing", M, 15.0),
        ],
    )?;
    for (a, cur, open, d, c, close) in summary {
        sink.row(vec![
            Cell::text(a),
            Cell::text(cur.to_uppercase()),
            money(ws, open, &cur)?,
            money(ws, d, &cur)?,
            money(ws, c, &cur)?,
            money(ws, close, &cur)?,
        ])?;
    }
    Ok(())
}

fn audit_log(ws: &Workspace, sink: &mut dyn Sink) -> Result<(), ReportError> {
    sink.section(
        "Audit log",
        &[
            col("Seq", I, 8.0),
            col("At", T, 20.0),
            col("Actor", X, 22.0),
            col("Action", X, 24.0),
            col("Summary", X, 70.0),
            col("Payload SHA-256", X, 66.0),
            col("Previous hash", X, 66.0),
            col("Hash", X, 66.0),
        ],
    )?;
    let mut stmt = ws.conn.prepare(
        "SELECT seq, at, actor, action, summary, payload_sha256, prev_hash, hash FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        sink.row(vec![
            Cell::Int(r.get(0)?),
            Cell::Time(ts(r.get(1)?)),
            Cell::Text(r.get(2)?),
            Cell::Text(r.get(3)?),
            Cell::Text(r.get(4)?),
            Cell::Text(r.get(5)?),
            Cell::Text(r.get(6)?),
            Cell::Text(r.get(7)?),
        ])?;
    }
    Ok(())
}
