//! A payout batch in the workspace: the locked month, its lines, its sign-off.
//!
//! `prepare` copies the month's allocations and balances, what the ledger owed each creator
//! at that instant, their accounts' eligibility and the pending withdrawal requests into
//! the batch (one transaction), computes the lines, digests it all and has the preparer
//! sign the digest. `load` reads it back and proves it again: the locked rows hash to the
//! stored digest, recomputing them gives the stored lines and totals, the identity holds,
//! and every signature verifies against the roster. Approvers sign that digest; a batch
//! whose digest changed has no approvals left.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, params};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use smol_str::SmolStr;

use super::compute::{
    self, Computed, CreatorInput, Eligibility, Held, Inputs, Line, LineKind, Params,
    SubscriberInput, Totals, WithdrawalInput,
};
use super::people::{self, Action, Signer};
use super::{PayoutError, parse_month};
use crate::ledger::{OwnEntry, book_own};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// The currency of every batch: the platform's allocations are in US cents (seed 004).
pub const BATCH_CURRENCY: &str = "usd";
/// Longest rejection reason: an approver must say why, briefly.
pub const MAX_REASON_LEN: usize = 2_000;
/// Largest approval file read: a real one is under 2 KiB.
pub const MAX_APPROVAL_FILE: usize = 16 * 1024;
/// Drift rows listed per batch (the count is always complete).
pub const MAX_DRIFT_LISTED: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    Draft,
    Approved,
    Executing,
    Done,
    Rejected,
    Superseded,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Draft => "draft",
            BatchState::Approved => "approved",
            BatchState::Executing => "executing",
            BatchState::Done => "done",
            BatchState::Rejected => "rejected",
            BatchState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<BatchState> {
        [
            BatchState::Draft,
            BatchState::Approved,
            BatchState::Executing,
            BatchState::Done,
            BatchState::Rejected,
            BatchState::Superseded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// The only moves a batch makes.
    pub fn can_become(self, next: BatchState) -> bool {
        use BatchState::*;
        matches!(
            (self, next),
            (Draft, Approved | Rejected | Superseded) | (Approved, Executing) | (Executing, Done)
        )
    }
}

/// One approval or rejection, as signed.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub person: String,
    pub public_key: String,
    pub decision: String,
    pub reason: Option<String>,
    pub signed_at: Timestamp,
    pub nonce: String,
    pub signature: String,
    pub recorded_at: Timestamp,
    /// `here` (signed on this computer) or `file` (imported).
    pub via: String,
}

/// A line's execution record.
#[derive(Debug, Clone, Serialize)]
pub struct Execution {
    pub line_no: u32,
    pub generation: u32,
    pub idempotency_key: String,
    /// pending (a person asked for a retry), sent (the request may have reached Stripe),
    /// paid, failed.
    pub state: String,
    pub transfer_id: Option<String>,
    pub failure: Option<String>,
    pub first_sent_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// A batch as loaded and proven.
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub id: String,
    pub month: String,
    pub version: u32,
    pub currency: String,
    pub state: BatchState,
    pub params: Params,
    pub inputs_digest: String,
    pub digest: String,
    pub totals: Totals,
    pub prepared_by: String,
    pub prepared_at: Timestamp,
    pub preparer_signature: String,
    pub state_changed_at: Timestamp,
    pub lines: Vec<Line>,
    pub decisions: Vec<Decision>,
    pub approvals_required: u32,
    pub executions: Vec<Execution>,
    /// Subscribers' unallocated money, for the sweep entries.
    #[serde(skip)]
    pub unallocated: Vec<(String, i64)>,
}

impl Batch {
    pub fn approvals(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.decision == "approve")
    }

    pub fn execution(&self, line_no: u32) -> Option<&Execution> {
        self.executions
            .binary_search_by_key(&line_no, |e| e.line_no)
            .ok()
            .map(|i| &self.executions[i])
    }
}

/// A batch that is waiting for sign-off: the only kind that can be approved or rejected.
#[derive(Debug)]
pub struct DraftBatch(Batch);

/// A fully approved batch (or one whose execution started): the only kind that executes.
#[derive(Debug)]
pub struct ApprovedBatch(pub(crate) Batch);

impl DraftBatch {
    pub fn batch(&self) -> &Batch {
        &self.0
    }
}

impl ApprovedBatch {
    pub fn batch(&self) -> &Batch {
        &self.0
    }
}

pub fn load_draft(ws: &Workspace, id: &str) -> Result<DraftBatch, PayoutError> {
    draft_of(load(ws, id)?)
}

fn draft_of(b: Batch) -> Result<DraftBatch, PayoutError> {
    if b.state != BatchState::Draft {
        return Err(PayoutError::InvalidState(format!(
            "batch {} is {}: only a draft awaits sign-off",
            b.id,
            b.state.as_str()
        )));
    }
    Ok(DraftBatch(b))
}

pub fn load_approved(ws: &Workspace, id: &str) -> Result<ApprovedBatch, PayoutError> {
    match load_for_execution(ws, id)? {
        ForExecution::Approved(b) => Ok(b),
        ForExecution::Done(_) => Err(PayoutError::InvalidState(format!(
            "batch {id} is done: every payable line is paid"
        ))),
    }
}

/// What executing a batch finds: an approved batch with lines still to pay, or a batch
/// whose every payable line is paid (a re-run's work is done).
pub enum ForExecution {
    Approved(ApprovedBatch),
    Done(Batch),
}

pub fn load_for_execution(ws: &Workspace, id: &str) -> Result<ForExecution, PayoutError> {
    let b = load(ws, id)?;
    match b.state {
        BatchState::Approved | BatchState::Executing => {
            Ok(ForExecution::Approved(ApprovedBatch(b)))
        }
        BatchState::Done => Ok(ForExecution::Done(b)),
        s => Err(PayoutError::InvalidState(format!(
            "batch {id} is {}: only a fully approved batch can be executed",
            s.as_str()
        ))),
    }
}

/// Logs (at debug level) how long each phase of a long operation took.
struct Phases(std::time::Instant);

impl Phases {
    fn start() -> Phases {
        Phases(std::time::Instant::now())
    }

    fn mark(&mut self, phase: &str) {
        tracing::debug!(ms = self.0.elapsed().as_millis() as u64, "payouts: {phase}");
        self.0 = std::time::Instant::now();
    }
}

// ---------------------------------------------------------------------------------------
// Settings

const SETTINGS: [&str; 3] = [
    "payouts_fee_bps",
    "payouts_minimum_minor",
    "payouts_dual_approval_at_minor",
];

/// The workspace's payout parameters (defaults: 7%, $25, two approvers from $10,000).
pub fn settings(ws: &Workspace) -> Result<Params, PayoutError> {
    let get = |k: &str| -> Result<Option<i64>, PayoutError> {
        Ok(crate::workspace::setting(&ws.conn, k)?.and_then(|v| v.parse().ok()))
    };
    let d = Params::default();
    Ok(Params {
        fee_bps: get(SETTINGS[0])?
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(d.fee_bps),
        minimum_minor: get(SETTINGS[1])?.unwrap_or(d.minimum_minor),
        dual_approval_at_minor: get(SETTINGS[2])?.unwrap_or(d.dual_approval_at_minor),
    })
}

/// Changes the parameters later batches are prepared with (audited). Batches already
/// prepared keep theirs: they are part of what approvers signed. The two-approver threshold
/// is a control: once the roster has an admin, only an admin changes these (`by`).
pub fn set_settings(
    ws: &Workspace,
    by: Option<&Signer>,
    p: Params,
    ctx: &OpContext,
) -> Result<(), PayoutError> {
    let actor = people::admin_actor(ws, by, Action::ChangeSettings, ctx)?;
    p.validate()?;
    let tx = ws.conn.unchecked_transaction()?;
    for (k, v) in SETTINGS.iter().zip([
        i64::from(p.fee_bps),
        p.minimum_minor,
        p.dual_approval_at_minor,
    ]) {
        crate::workspace::set_setting(&tx, k, &v.to_string())?;
    }
    audit::append(
        &tx,
        ctx.now,
        &actor,
        "settings.payouts",
        &format!(
            "payout settings: fee {} bps, minimum {}, two approvers from {}",
            p.fee_bps, p.minimum_minor, p.dual_approval_at_minor
        ),
        &serde_json::to_value(p).unwrap_or_default(),
    )?;
    tx.commit()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Signed statements

/// What a person signs: every field that identifies the decision, one per line.
#[allow(clippy::too_many_arguments)]
pub fn statement(
    workspace_id: &str,
    batch_id: &str,
    digest: &str,
    decision: &str,
    person: &str,
    reason: &str,
    signed_at_us: i64,
    nonce: &str,
) -> Vec<u8> {
    format!(
        "closebook payout decision v1\nworkspace {workspace_id}\nbatch {batch_id}\ndigest {digest}\ndecision {decision}\nperson {person}\nreason {}\nsigned_at {signed_at_us}\nnonce {nonce}\n",
        reason.replace('\n', " ")
    )
    .into_bytes()
}

fn nonce_from(digest: &str, person: &str, decision: &str, at_us: i64) -> String {
    let mut h = Sha256::new();
    for f in [digest, person, decision, &at_us.to_string()] {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

// ---------------------------------------------------------------------------------------
// Prepare

/// One reading of the locked month: the digest of its raw rows (each row in key order,
/// each field tagged by type and length-prefixed) and the aggregates the computation needs
/// (gross per creator, allocated per subscriber), from the same pass. A million
/// allocations are read once and allocate only per distinct creator and subscriber.
fn scan_locked(
    conn: &rusqlite::Connection,
    batch_id: &str,
) -> Result<(String, Inputs), PayoutError> {
    let bad = |what: String| PayoutError::Integrity(format!("batch {batch_id}: {what}"));
    let mut h = Sha256::new();
    let field = |h: &mut Sha256, v: ValueRef<'_>| -> Result<(), PayoutError> {
        match v {
            ValueRef::Integer(n) => {
                h.update(b"i");
                h.update(n.to_be_bytes());
            }
            ValueRef::Text(t) => {
                h.update(b"t");
                h.update((t.len() as u64).to_be_bytes());
                h.update(t);
            }
            ValueRef::Null => h.update(b"n"),
            ValueRef::Real(_) | ValueRef::Blob(_) => {
                return Err(PayoutError::Integrity(format!(
                    "batch {batch_id}: a locked value of the wrong type"
                )));
            }
        }
        Ok(())
    };
    fn text<'a>(v: ValueRef<'a>, batch_id: &str) -> Result<&'a str, PayoutError> {
        v.as_str().map_err(|_| {
            PayoutError::Integrity(format!("batch {batch_id}: a locked id is not text"))
        })
    }
    let int = |v: ValueRef<'_>| -> Result<i64, PayoutError> {
        v.as_i64().map_err(|_| {
            PayoutError::Integrity(format!(
                "batch {batch_id}: a locked amount is not an integer"
            ))
        })
    };

    // Allocations: gross and count per creator, allocated per subscriber.
    let mut gross: FxHashMap<SmolStr, (i64, u32)> = FxHashMap::default();
    let mut allocated: FxHashMap<SmolStr, i64> = FxHashMap::default();
    {
        let mut stmt = conn.prepare(
            "SELECT id, user_id, page_id, author_id, amount, updated_at FROM payout_locked_allocations WHERE batch_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"allocation");
            for i in 0..6 {
                field(&mut h, r.get_ref(i)?)?;
            }
            let amount = int(r.get_ref(4)?)?;
            let user = text(r.get_ref(1)?, batch_id)?;
            let author = text(r.get_ref(3)?, batch_id)?;
            let g = gross.entry(SmolStr::new(author)).or_insert((0, 0));
            g.0 = g.0.checked_add(amount).ok_or(PayoutError::Overflow)?;
            g.1 = g.1.saturating_add(1);
            let a = allocated.entry(SmolStr::new(user)).or_insert(0);
            *a = a.checked_add(amount).ok_or(PayoutError::Overflow)?;
        }
    }
    // Balances: every subscriber's total.
    let mut totals: BTreeMap<SmolStr, i64> = BTreeMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT user_id, total, allocated, updated_at FROM payout_locked_balances WHERE batch_id = ?1 ORDER BY user_id",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"balance");
            for i in 0..4 {
                field(&mut h, r.get_ref(i)?)?;
            }
            totals.insert(
                SmolStr::new(text(r.get_ref(0)?, batch_id)?),
                int(r.get_ref(1)?)?,
            );
        }
    }
    let mut inputs = Inputs {
        currency: BATCH_CURRENCY.into(),
        ..Inputs::default()
    };
    {
        let mut stmt = conn.prepare(
            "SELECT creator, carried_in, destination, eligibility FROM payout_locked_creators WHERE batch_id = ?1 ORDER BY creator",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"creator");
            for i in 0..4 {
                field(&mut h, r.get_ref(i)?)?;
            }
            let creator = text(r.get_ref(0)?, batch_id)?;
            let e = text(r.get_ref(3)?, batch_id)?;
            let eligibility = Eligibility::parse(e)
                .ok_or_else(|| bad(format!("creator {creator} has eligibility `{e}`")))?;
            let (g, n) = gross.remove(creator).unwrap_or((0, 0));
            inputs.creators.insert(
                creator.to_string(),
                CreatorInput {
                    gross: g,
                    allocations: n,
                    carried_in: int(r.get_ref(1)?)?,
                    destination: r
                        .get_ref(2)?
                        .as_str_or_null()
                        .map_err(|_| bad("a destination is not text".into()))?
                        .map(str::to_string),
                    eligibility,
                },
            );
        }
    }
    if let Some(author) = gross.keys().next() {
        return Err(bad(format!(
            "allocations to {author}, who is not among the locked creators"
        )));
    }
    {
        let mut stmt = conn.prepare(
            "SELECT ordinal, id, creator, amount, currency, requested_at FROM payout_locked_withdrawals WHERE batch_id = ?1 ORDER BY ordinal",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"withdrawal");
            for i in 0..6 {
                field(&mut h, r.get_ref(i)?)?;
            }
            inputs.withdrawals.push(WithdrawalInput {
                id: text(r.get_ref(1)?, batch_id)?.to_string(),
                creator: text(r.get_ref(2)?, batch_id)?.to_string(),
                amount: int(r.get_ref(3)?)?,
                currency: text(r.get_ref(4)?, batch_id)?.to_string(),
            });
        }
    }
    // Every subscriber with a balance or an allocation, in order.
    let mut users: Vec<SmolStr> = totals
        .keys()
        .cloned()
        .chain(allocated.keys().cloned())
        .collect();
    users.sort_unstable();
    users.dedup();
    inputs.subscribers = users
        .into_iter()
        .map(|u| SubscriberInput {
            total: totals.get(&u).copied(),
            allocated: allocated.get(&u).copied().unwrap_or(0),
            user: u.to_string(),
        })
        .collect();
    Ok((hex::encode(h.finalize()), inputs))
}

/// Each creator's obligation in the ledger at the lock (`?2` the currency, `?3` the
/// instant): the sum of their `<creator obligations>:<c>` account (the workspace's account
/// map; `liabilities:creators:<c>` by default), when not zero. The bounds are literals so
/// that the account index serves the range.
fn owed_sql(map: &crate::accounts::RoleMap) -> String {
    let (lo, hi) = map.below_range(crate::accounts::Role::CreatorObligations);
    let from = lo.chars().count() + 1;
    format!(
        "SELECT substr(account, {from}) AS creator, sum(amount_minor) AS owed
    FROM ledger_postings
    WHERE account >= {lo} AND account < {hi}
      AND instr(substr(account, {from}), ':') = 0 AND currency = ?2 AND created_at <= ?3
    GROUP BY account HAVING sum(amount_minor) != 0",
        lo = crate::accounts::literal(&lo),
        hi = crate::accounts::literal(&hi),
    )
}

/// A creator's eligibility from their connected account as mirrored from Stripe (`a`: the
/// platform's mapping, `s`: the mirrored account, `?2`: the currency): transfers capability
/// active, payouts enabled, the currency supported by default or by an external account.
pub(crate) const ELIGIBILITY_SQL: &str = "CASE
    WHEN a.author_id IS NULL THEN 'no_connected_account'
    WHEN s.id IS NULL OR NOT json_valid(s.raw) THEN 'account_not_synced'
    WHEN coalesce(json_extract(s.raw, '$.capabilities.transfers'), '') != 'active' THEN 'transfers_inactive'
    WHEN coalesce(json_extract(s.raw, '$.payouts_enabled'), 0) != 1 THEN 'payouts_disabled'
    WHEN lower(coalesce(json_extract(s.raw, '$.default_currency'), '')) = ?2
      OR EXISTS (SELECT 1 FROM json_each(s.raw, '$.external_accounts.data') e
                 WHERE lower(json_extract(e.value, '$.currency')) = ?2) THEN 'eligible'
    ELSE 'currency_unsupported' END";

/// What the batch's digest covers, in a fixed order.
#[derive(Serialize)]
struct Digested<'a> {
    format: &'static str,
    id: &'a str,
    month: &'a str,
    currency: &'a str,
    params: &'a Params,
    inputs_digest: &'a str,
    totals: &'a Totals,
    lines: &'a [Line],
}

fn batch_digest(
    id: &str,
    month: &str,
    currency: &str,
    params: &Params,
    inputs_digest: &str,
    totals: &Totals,
    lines: &[Line],
) -> String {
    let doc = Digested {
        format: "closebook-payout-batch-v1",
        id,
        month,
        currency,
        params,
        inputs_digest,
        totals,
        lines,
    };
    let mut h = Sha256::new();
    serde_json::to_writer(HashWriter(&mut h), &doc).expect("a batch serializes");
    hex::encode(h.finalize())
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Locks `month` into a new draft batch prepared and signed by `signer`. A draft of the
/// same month is superseded (its approvals die with it); an approved, executing or done
/// batch of the month means the month is closed.
pub fn prepare(
    ws: &Workspace,
    signer: &Signer,
    month: &str,
    params: Option<Params>,
    ctx: &OpContext,
) -> Result<Batch, PayoutError> {
    signer.require(Action::Prepare)?;
    let first = parse_month(month)?;
    let month = format!("{:04}-{:02}", first.year(), first.month());
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| PayoutError::BadInput(format!("{month} is out of range")))?;
    let month_end = ws
        .start_of_day(next)
        .map_err(|e| PayoutError::BadInput(e.to_string()))?;
    if ctx.now < month_end {
        return Err(PayoutError::InvalidState(format!(
            "{month} is not over yet (it ends at {month_end} in the workspace's time zone): allocations can still change"
        )));
    }
    // A month the platform closed itself (its month-end allocation entries, booked in the
    // month after, are in the mirror) must not be booked and paid a second time here.
    let after = next
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| PayoutError::BadInput(format!("{month} is out of range")))?;
    let after_end = ws
        .start_of_day(after)
        .map_err(|e| PayoutError::BadInput(e.to_string()))?;
    let (booked, first): (i64, Option<i64>) = ws.conn.query_row(
        "SELECT count(DISTINCT entry_id), min(created_at) FROM ledger_postings
         WHERE origin = 'mirror' AND entry_type = 'allocation' AND created_at >= ?1 AND created_at < ?2",
        params![month_end.as_microsecond(), after_end.as_microsecond()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if booked > 0 {
        let when = first
            .and_then(|us| Timestamp::from_microsecond(us).ok())
            .map_or_else(String::new, |t| {
                format!(" on {}", t.to_zoned(ws.time_zone().clone()).date())
            });
        return Err(PayoutError::InvalidState(format!(
            "the platform already closed {month} itself: its ledger holds {booked} month-end allocation entries booked{when}; preparing it here would book and pay the month twice"
        )));
    }
    let params = match params {
        Some(p) => p,
        None => settings(ws)?,
    };
    params.validate()?;

    let mut phases = Phases::start();
    let tx = ws.conn.unchecked_transaction()?;
    let mut closed: Option<(String, String)> = None;
    let mut drafts = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT id, state FROM payout_batches WHERE month = ?1")?;
        let rows = stmt.query_map([&month], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, state) = row?;
            match state.as_str() {
                "approved" | "executing" | "done" => closed = Some((id, state)),
                "draft" => drafts.push(id),
                _ => {}
            }
        }
    }
    if let Some((id, state)) = closed {
        return Err(PayoutError::InvalidState(format!(
            "{month} already has batch {id}, {state}: a month is paid once"
        )));
    }
    for id in &drafts {
        tx.execute(
            "UPDATE payout_batches SET state = 'superseded', state_changed_at = ?2 WHERE id = ?1",
            params![id, ctx.now.as_microsecond()],
        )?;
        audit::append(
            &tx,
            ctx.now,
            &signer.actor(),
            "payouts.supersede",
            &format!(
                "batch {id} superseded by a new preparation of {month}; its approvals are void"
            ),
            &serde_json::json!({"batch": id}),
        )?;
    }
    let version: u32 = tx.query_row(
        "SELECT coalesce(max(version), 0) + 1 FROM payout_batches WHERE month = ?1",
        [&month],
        |r| r.get(0),
    )?;
    let id = format!("pb_{month}_{version}");

    // The batch row first (the locked rows refer to it); its digest fields are filled
    // below, once, in this same transaction.
    tx.execute(
        "INSERT INTO payout_batches (id, month, version, currency, state, params, inputs_digest, digest, totals, prepared_by, prepared_at, preparer_signature, state_changed_at, lock_import)
         VALUES (?1, ?2, ?3, ?4, 'draft', '', '', '', '', ?5, ?6, '', ?6, (SELECT coalesce(max(id), 0) FROM imports))",
        params![id, month, version, BATCH_CURRENCY, signer.person.name, ctx.now.as_microsecond()],
    )?;
    tx.execute(
        "INSERT INTO payout_locked_allocations (batch_id, id, user_id, page_id, author_id, amount, updated_at)
         SELECT ?1, id, user_id, page_id, author_id, amount_cents, updated_at
         FROM platform_allocations WHERE month = ?2",
        params![id, month],
    )?;
    tx.execute(
        "INSERT INTO payout_locked_balances (batch_id, user_id, total, allocated, updated_at)
         SELECT ?1, user_id, total_usd_cents, allocated_usd_cents, updated_at
         FROM platform_balances WHERE month = ?2",
        params![id, month],
    )?;
    // Pending withdrawal requests not already in a batch that pays them.
    tx.execute(
        "INSERT INTO payout_locked_withdrawals (batch_id, ordinal, id, creator, amount, currency, requested_at)
         SELECT ?1, row_number() OVER (ORDER BY w.requested_at, w.id), w.id, w.user_id, w.amount_minor, w.currency, w.requested_at
         FROM platform_withdrawals w
         WHERE w.status = 'pending' AND w.requested_at < ?2
           AND NOT EXISTS (
             SELECT 1 FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id
             WHERE l.reference = w.id AND l.kind = 'withdrawal' AND l.held IS NULL
               AND b.state IN ('approved', 'executing', 'done'))",
        params![id, month_end.as_microsecond()],
    )?;
    phases.mark("month copied");
    let owed = owed_sql(&crate::accounts::load(&tx)?);
    // Creators: those allocated to, those the ledger owes, those asking to withdraw; each
    // with what the ledger owed at this instant and their account's eligibility, in one
    // set-based statement (a hundred thousand creators are one pass, not a query each).
    let n = tx.execute(
        &format!(
            "WITH owed AS MATERIALIZED ({owed})
             INSERT INTO payout_locked_creators (batch_id, creator, carried_in, destination, eligibility)
             SELECT ?1, c.creator, coalesce(-o.owed, 0), a.stripe_account_id, {ELIGIBILITY_SQL}
             FROM (SELECT DISTINCT author_id AS creator FROM platform_allocations WHERE month = ?4
                   UNION SELECT creator FROM payout_locked_withdrawals WHERE batch_id = ?1
                   UNION SELECT creator FROM owed) c
             LEFT JOIN owed o ON o.creator = c.creator
             LEFT JOIN platform_connected_accounts a ON a.author_id = c.creator
             LEFT JOIN stripe_objects s ON s.object_type = 'account' AND s.id = a.stripe_account_id"
        ),
        params![id, BATCH_CURRENCY, ctx.now.as_microsecond(), month],
    )?;
    // Credits are negative: the negation is what is owed. SQLite turns an overflowing
    // negation into a float, which this refuses.
    let inexact: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM payout_locked_creators WHERE batch_id = ?1 AND typeof(carried_in) != 'integer')",
        [&id],
        |r| r.get(0),
    )?;
    if inexact {
        return Err(PayoutError::Overflow);
    }
    tracing::debug!(creators = n, "payouts: creators locked");

    phases.mark("creators locked");
    let (inputs_digest, inputs) = scan_locked(&tx, &id)?;
    phases.mark("inputs digested and aggregated");
    let computed = compute::compute(&inputs, &params)?;
    phases.mark("computed");
    let digest = batch_digest(
        &id,
        &month,
        BATCH_CURRENCY,
        &params,
        &inputs_digest,
        &computed.totals,
        &computed.lines,
    );
    let at = ctx.now.as_microsecond();
    let nonce = nonce_from(&digest, &signer.person.name, "prepare", at);
    let signature = signer.sign(&statement(
        &ws.info().id,
        &id,
        &digest,
        "prepare",
        &signer.person.name,
        "",
        at,
        &nonce,
    ));
    // The trigger allows these fields to be filled exactly once, from empty.
    tx.execute(
        "UPDATE payout_batches SET params = ?2, inputs_digest = ?3, digest = ?4, totals = ?5, preparer_signature = ?6
         WHERE id = ?1",
        params![
            id,
            serde_json::to_string(&params).expect("params serialize"),
            inputs_digest,
            digest,
            serde_json::to_string(&computed.totals).expect("totals serialize"),
            signature
        ],
    )?;
    write_lines(&tx, &id, &computed.lines)?;
    phases.mark("lines written");
    audit::append(
        &tx,
        ctx.now,
        &signer.actor(),
        "payouts.prepare",
        &format!(
            "prepared {id} for {month}: {} lines, {} to pay, {} carried over, digest {}",
            computed.totals.lines,
            computed.totals.paid,
            computed.totals.carried_out,
            &digest[..16]
        ),
        &serde_json::json!({"batch": id, "digest": digest, "inputs_digest": inputs_digest, "totals": computed.totals, "params": params}),
    )?;
    tx.commit()?;
    phases.mark("committed");
    let b = load_with(ws, &id, Some(computed));
    phases.mark("read back");
    b
}

fn write_lines(conn: &rusqlite::Connection, id: &str, lines: &[Line]) -> Result<(), PayoutError> {
    let mut stmt = conn.prepare(
        "INSERT INTO payout_lines (batch_id, line_no, kind, creator, reference, destination, gross, fee, net, carried_in, withdrawn, requested, payable, allocations, held)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for l in lines {
        stmt.execute(params![
            id,
            l.line_no,
            l.kind.as_str(),
            l.creator,
            l.reference,
            l.destination,
            l.gross,
            l.fee,
            l.net,
            l.carried_in,
            l.withdrawn,
            l.requested,
            l.payable,
            l.allocations,
            l.held.map(Held::as_str),
        ])?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Load

fn ts(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn read_lines(conn: &rusqlite::Connection, id: &str) -> Result<Vec<Line>, PayoutError> {
    let mut stmt = conn.prepare(
        "SELECT line_no, kind, creator, reference, destination, gross, fee, net, carried_in, withdrawn, requested, payable, allocations, held
         FROM payout_lines WHERE batch_id = ?1 ORDER BY line_no",
    )?;
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(1)?;
        let held: Option<String> = r.get(13)?;
        out.push(Line {
            line_no: r.get(0)?,
            kind: if kind == "withdrawal" {
                LineKind::Withdrawal
            } else {
                LineKind::Earnings
            },
            creator: r.get(2)?,
            reference: r.get(3)?,
            destination: r.get(4)?,
            gross: r.get(5)?,
            fee: r.get(6)?,
            net: r.get(7)?,
            carried_in: r.get(8)?,
            withdrawn: r.get(9)?,
            requested: r.get(10)?,
            payable: r.get(11)?,
            allocations: r.get(12)?,
            held: match held {
                None => None,
                Some(h) => Some(Held::parse(&h).ok_or_else(|| {
                    PayoutError::Integrity(format!("line held for an unknown reason `{h}`"))
                })?),
            },
        });
    }
    Ok(out)
}

/// Reads a batch and proves it: locked rows against their digest, lines and totals
/// against a recomputation, the identity, the batch digest, and every signature.
pub fn load(ws: &Workspace, id: &str) -> Result<Batch, PayoutError> {
    load_with(ws, id, None)
}

/// `load`, or, right after preparing (`just_computed`: what was computed from the rows
/// digested in the same transaction), the read-back check: the stored lines and totals are
/// exactly those computed, and digest and signatures verify.
fn load_with(
    ws: &Workspace,
    id: &str,
    just_computed: Option<Computed>,
) -> Result<Batch, PayoutError> {
    let conn = &ws.conn;
    type Row = (
        String,
        u32,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        String,
        i64,
    );
    let row: Option<Row> = conn
        .query_row(
            "SELECT month, version, currency, state, params, inputs_digest, digest, totals, prepared_by, prepared_at, preparer_signature, state_changed_at
             FROM payout_batches WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?,
                    r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?,
                ))
            },
        )
        .optional()?;
    let Some((
        month,
        version,
        currency,
        state,
        params,
        inputs_digest,
        digest,
        totals,
        prepared_by,
        prepared_at,
        preparer_signature,
        state_changed_at,
    )) = row
    else {
        return Err(PayoutError::NotFound(format!("no payout batch `{id}`")));
    };
    let broken = |what: String| PayoutError::Integrity(format!("batch {id}: {what}"));
    let state =
        BatchState::parse(&state).ok_or_else(|| broken(format!("unknown state `{state}`")))?;
    let params: Params = serde_json::from_str(&params)
        .map_err(|e| broken(format!("parameters unreadable ({e})")))?;
    let totals: Totals =
        serde_json::from_str(&totals).map_err(|e| broken(format!("totals unreadable ({e})")))?;
    let mut phases = Phases::start();
    let lines = read_lines(conn, id)?;
    phases.mark("lines read");

    let computed: Computed = match just_computed {
        Some(c) => c,
        None => {
            // The locked rows are those that were digested…
            let (again, inputs) = scan_locked(conn, id)?;
            if again != inputs_digest {
                return Err(broken(
                    "the locked month no longer matches its digest".into(),
                ));
            }
            phases.mark("inputs digested and aggregated again");
            // …and recomputing them gives exactly the stored lines and totals.
            let c = compute::compute(&inputs, &params)?;
            phases.mark("recomputed");
            c
        }
    };
    if computed.lines != lines {
        let first = computed
            .lines
            .iter()
            .zip(&lines)
            .find(|(a, b)| a != b)
            .map_or_else(
                || "the number of lines".to_string(),
                |(a, _)| format!("line {}", a.line_no),
            );
        return Err(broken(format!(
            "stored lines differ from the locked month at {first}"
        )));
    }
    let from_lines = compute::totals_of(
        &lines,
        totals.subscriptions,
        totals.unallocated,
        totals.subscribers,
    )?;
    if computed.totals != totals || from_lines != totals {
        return Err(broken("stored totals differ from the lines".into()));
    }
    compute::check_identity(&totals)?;
    if batch_digest(
        id,
        &month,
        &currency,
        &params,
        &inputs_digest,
        &totals,
        &lines,
    ) != digest
    {
        return Err(broken("the batch no longer matches its digest".into()));
    }
    let ws_id = ws.info().id.clone();
    // Every signer is taken from the signed roster, never from the table alone: a row no
    // admin signed for (written with the database key) vouches for no one.
    let roster = people::signed_roster(ws)?;
    let preparer = roster.vouched(&prepared_by).ok_or_else(|| {
        broken(format!(
            "its preparer {prepared_by} is not on the roster an admin signed"
        ))
    })?;
    if !matches!(preparer.role, people::Role::Preparer | people::Role::Admin) {
        return Err(broken(format!(
            "{prepared_by} prepared it without the preparer or admin role"
        )));
    }
    let nonce = nonce_from(&digest, &prepared_by, "prepare", prepared_at);
    if !people::verify(
        &preparer.public_key,
        &statement(
            &ws_id,
            id,
            &digest,
            "prepare",
            &prepared_by,
            "",
            prepared_at,
            &nonce,
        ),
        &preparer_signature,
    ) {
        return Err(broken(format!(
            "{prepared_by}'s preparation signature does not verify"
        )));
    }
    phases.mark("digest checked");
    let decisions = read_decisions(conn, id)?;
    for d in &decisions {
        if roster.vouched(&d.person).is_none() {
            return Err(broken(format!(
                "{}'s {} is by someone not on the roster an admin signed",
                d.person, d.decision
            )));
        }
        let ok = roster
            .vouched(&d.person)
            .is_some_and(|p| p.public_key == d.public_key)
            && people::verify(
                &d.public_key,
                &statement(
                    &ws_id,
                    id,
                    &digest,
                    &d.decision,
                    &d.person,
                    d.reason.as_deref().unwrap_or(""),
                    d.signed_at.as_microsecond(),
                    &d.nonce,
                ),
                &d.signature,
            );
        if !ok {
            return Err(broken(format!(
                "{}'s {} does not verify against the batch's digest",
                d.person, d.decision
            )));
        }
    }
    let approvals_required = if totals.paid >= params.dual_approval_at_minor {
        2
    } else {
        1
    };
    // Maker–checker, proven again from the signed decisions alone (the table can be written
    // by whoever holds the database key): an approval counts only from someone other than
    // the preparer, who holds the approver or admin role, once per person.
    let mut approvers: Vec<&str> = Vec::new();
    for d in decisions.iter().filter(|d| d.decision == "approve") {
        if d.person == prepared_by {
            return Err(broken(format!(
                "it carries an approval by its own preparer {prepared_by}: maker–checker is broken"
            )));
        }
        if approvers.contains(&d.person.as_str()) {
            return Err(broken(format!(
                "{} approved it twice: two approvals must come from two people",
                d.person
            )));
        }
        let allowed = roster
            .vouched(&d.person)
            .is_some_and(|p| matches!(p.role, people::Role::Approver | people::Role::Admin));
        if !allowed {
            return Err(broken(format!(
                "{} approved it without the approver or admin role",
                d.person
            )));
        }
        approvers.push(&d.person);
    }
    let approvals = approvers.len() as u32;
    if matches!(
        state,
        BatchState::Approved | BatchState::Executing | BatchState::Done
    ) && approvals < approvals_required
    {
        return Err(broken(format!(
            "it is {} with {approvals} of {approvals_required} approvals",
            state.as_str()
        )));
    }
    phases.mark("signatures verified");
    let executions = read_executions(conn, id)?;
    for e in &executions {
        let line = lines
            .get((e.line_no as usize).wrapping_sub(1))
            .filter(|l| l.line_no == e.line_no && l.is_paid());
        if line.is_none() {
            return Err(broken(format!(
                "line {} was executed but is not payable",
                e.line_no
            )));
        }
    }
    Ok(Batch {
        id: id.to_string(),
        month,
        version,
        currency,
        state,
        params,
        inputs_digest,
        digest,
        totals,
        prepared_by,
        prepared_at: ts(prepared_at),
        preparer_signature,
        state_changed_at: ts(state_changed_at),
        lines,
        decisions,
        approvals_required,
        executions,
        unallocated: computed.unallocated,
    })
}

fn read_decisions(conn: &rusqlite::Connection, id: &str) -> Result<Vec<Decision>, PayoutError> {
    let mut stmt = conn.prepare(
        "SELECT person, public_key, decision, reason, signed_at, nonce, signature, recorded_at, via, batch_digest
         FROM payout_decisions WHERE batch_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Decision {
            person: r.get(0)?,
            public_key: r.get(1)?,
            decision: r.get(2)?,
            reason: r.get(3)?,
            signed_at: ts(r.get(4)?),
            nonce: r.get(5)?,
            signature: r.get(6)?,
            recorded_at: ts(r.get(7)?),
            via: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn read_executions(
    conn: &rusqlite::Connection,
    id: &str,
) -> Result<Vec<Execution>, PayoutError> {
    let mut stmt = conn.prepare(
        "SELECT line_no, generation, idempotency_key, state, transfer_id, failure, first_sent_at, finished_at
         FROM payout_executions WHERE batch_id = ?1 ORDER BY line_no",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Execution {
            line_no: r.get(0)?,
            generation: r.get(1)?,
            idempotency_key: r.get(2)?,
            state: r.get(3)?,
            transfer_id: r.get(4)?,
            failure: r.get(5)?,
            first_sent_at: ts(r.get(6)?),
            finished_at: r.get::<_, Option<i64>>(7)?.map(ts),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One batch per row, newest first, for history screens.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    pub id: String,
    pub month: String,
    pub version: u32,
    pub state: BatchState,
    pub totals: Totals,
    pub prepared_by: String,
    pub prepared_at: Timestamp,
    pub state_changed_at: Timestamp,
    pub approvals: u32,
    pub approvals_required: u32,
    pub paid_lines_done: u32,
    pub failed_lines: u32,
}

/// Every batch, newest month first (read as stored; `load` proves one).
pub fn list(ws: &Workspace) -> Result<Vec<BatchSummary>, PayoutError> {
    let mut stmt = ws.conn.prepare(
        "SELECT b.id, b.month, b.version, b.state, b.totals, b.params, b.prepared_by, b.prepared_at, b.state_changed_at,
                (SELECT count(*) FROM payout_decisions d WHERE d.batch_id = b.id AND d.decision = 'approve'),
                (SELECT count(*) FROM payout_executions e WHERE e.batch_id = b.id AND e.state = 'paid'),
                (SELECT count(*) FROM payout_executions e WHERE e.batch_id = b.id AND e.state = 'failed')
         FROM payout_batches b ORDER BY b.month DESC, b.version DESC",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let state: String = r.get(3)?;
        let totals: Totals = serde_json::from_str(&r.get::<_, String>(4)?)
            .map_err(|e| PayoutError::Integrity(format!("batch {id}: totals unreadable ({e})")))?;
        let params: Params = serde_json::from_str(&r.get::<_, String>(5)?).map_err(|e| {
            PayoutError::Integrity(format!("batch {id}: parameters unreadable ({e})"))
        })?;
        out.push(BatchSummary {
            state: BatchState::parse(&state)
                .ok_or_else(|| PayoutError::Integrity(format!("batch {id}: state `{state}`")))?,
            month: r.get(1)?,
            version: r.get(2)?,
            totals,
            prepared_by: r.get(6)?,
            prepared_at: ts(r.get(7)?),
            state_changed_at: ts(r.get(8)?),
            approvals: r.get(9)?,
            approvals_required: if totals.paid >= params.dual_approval_at_minor {
                2
            } else {
                1
            },
            paid_lines_done: r.get(10)?,
            failed_lines: r.get(11)?,
            id,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Preview

/// A creator's line against the same creator's earnings line in the previous month's batch.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub line_no: u32,
    pub previous_gross: Option<i64>,
    pub previous_payable: Option<i64>,
}

/// An allocation or balance of the month that changed after the lock: never included,
/// always reported.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    /// `allocation` or `balance`.
    pub kind: String,
    pub key: String,
    /// `changed` or `added`.
    pub change: String,
    pub locked_amount: Option<i64>,
    pub current_amount: i64,
    pub current_updated_at: Timestamp,
}

/// Stripe's available balance against what the batch pays.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub available: Option<i64>,
    pub fetched_at: Option<Timestamp>,
    pub paid: i64,
    pub covered: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub batch: Batch,
    pub changes: Vec<Change>,
    pub previous_batch: Option<String>,
    pub coverage: Coverage,
    pub drift: Vec<Drift>,
    pub drift_count: u64,
}

/// The batch with what a person needs to sign it off: month-on-month changes, coverage,
/// and any allocation that changed after the lock.
pub fn preview(ws: &Workspace, id: &str) -> Result<Preview, PayoutError> {
    let batch = load(ws, id)?;
    let previous: Option<String> = ws
        .conn
        .query_row(
            "SELECT id FROM payout_batches WHERE month < ?1 AND state IN ('approved', 'executing', 'done')
             ORDER BY month DESC, version DESC LIMIT 1",
            [&batch.month],
            |r| r.get(0),
        )
        .optional()?;
    let mut prev: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    if let Some(p) = &previous {
        let mut stmt = ws.conn.prepare(
            "SELECT creator, gross, payable FROM payout_lines WHERE batch_id = ?1 AND kind = 'earnings'",
        )?;
        let rows = stmt.query_map([p], |r| {
            Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?)))
        })?;
        for row in rows {
            let (c, v) = row?;
            prev.insert(c, v);
        }
    }
    let changes = batch
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Earnings)
        .map(|l| {
            let p = prev.get(&l.creator);
            Change {
                line_no: l.line_no,
                previous_gross: p.map(|x| x.0),
                previous_payable: p.map(|x| x.1),
            }
        })
        .collect();
    let mut phases = Phases::start();
    let coverage = coverage(ws, &batch)?;
    let (drift, drift_count) = drift(ws, &batch)?;
    phases.mark("coverage and drift");
    Ok(Preview {
        batch,
        changes,
        previous_batch: previous,
        coverage,
        drift,
        drift_count,
    })
}

fn coverage(ws: &Workspace, batch: &Batch) -> Result<Coverage, PayoutError> {
    let row: Option<(i64, i64)> = ws
        .conn
        .query_row(
            "SELECT b.available, b.fetched_at FROM stripe_balances b JOIN stripe_sync_runs r ON r.id = b.run_id
             WHERE b.currency = ?1 AND r.outcome = 'ok' ORDER BY b.run_id DESC LIMIT 1",
            [&batch.currency],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(Coverage {
        available: row.map(|r| r.0),
        fetched_at: row.map(|r| ts(r.1)),
        paid: batch.totals.paid,
        covered: row.is_some_and(|r| r.0 >= batch.totals.paid),
    })
}

fn drift(ws: &Workspace, batch: &Batch) -> Result<(Vec<Drift>, u64), PayoutError> {
    let mut out = Vec::new();
    let mut count = 0u64;
    // Only rows written by an import after the lock can differ from it (the import index
    // finds them without reading the month).
    let lock_import: i64 = ws.conn.query_row(
        "SELECT lock_import FROM payout_batches WHERE id = ?1",
        [&batch.id],
        |r| r.get(0),
    )?;
    for (kind, sql) in [
        (
            "allocation",
            "SELECT p.id, l.amount, p.amount_cents, p.updated_at, p.month
             FROM platform_allocations p
             LEFT JOIN payout_locked_allocations l ON l.batch_id = ?1 AND l.id = p.id
             WHERE p.import_id > ?3 AND (p.month = ?2 OR l.id IS NOT NULL)
               AND (l.id IS NULL OR p.month != ?2 OR l.amount != p.amount_cents OR l.updated_at != p.updated_at)
             ORDER BY p.id",
        ),
        (
            "balance",
            "SELECT p.user_id, l.total, p.total_usd_cents, p.updated_at, p.month
             FROM platform_balances p
             LEFT JOIN payout_locked_balances l ON l.batch_id = ?1 AND l.user_id = p.user_id
             WHERE p.import_id > ?3 AND p.month = ?2
               AND (l.user_id IS NULL OR l.total != p.total_usd_cents OR l.updated_at != p.updated_at)
             ORDER BY p.user_id",
        ),
    ] {
        let mut stmt = ws.conn.prepare(sql)?;
        let mut rows = stmt.query(params![batch.id, batch.month, lock_import])?;
        while let Some(r) = rows.next()? {
            count += 1;
            if out.len() < MAX_DRIFT_LISTED {
                let locked: Option<i64> = r.get(1)?;
                let month: String = r.get(4)?;
                out.push(Drift {
                    kind: kind.into(),
                    key: r.get(0)?,
                    change: if month != batch.month {
                        "moved to another month"
                    } else if locked.is_some() {
                        "changed"
                    } else {
                        "added"
                    }
                    .into(),
                    locked_amount: locked,
                    current_amount: r.get(2)?,
                    current_updated_at: ts(r.get(3)?),
                });
            }
        }
    }
    Ok((out, count))
}

/// The batch's month recomputed with other parameters, saving nothing.
pub fn what_if(ws: &Workspace, id: &str, params: Params) -> Result<Computed, PayoutError> {
    // Proves the batch first: a what-if over tampered inputs would mislead.
    let b = load(ws, id)?;
    let (digest, inputs) = scan_locked(&ws.conn, id)?;
    if digest != b.inputs_digest {
        return Err(PayoutError::Integrity(format!(
            "batch {id}: the locked month changed while reading it"
        )));
    }
    compute::compute(&inputs, &params)
}

// ---------------------------------------------------------------------------------------
// Sign-off

/// An approval that travels between desktops: everything needed to verify it, signed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApprovalFile {
    pub format: String,
    pub workspace_id: String,
    pub batch_id: String,
    pub batch_digest: String,
    pub decision: String,
    pub person: String,
    pub public_key: String,
    pub reason: String,
    pub signed_at_us: i64,
    pub nonce: String,
    pub signature: String,
}

pub const APPROVAL_FORMAT: &str = "closebook-approval-v1";

fn sign_decision(
    ws: &Workspace,
    batch: &Batch,
    signer: &Signer,
    decision: &str,
    reason: &str,
    ctx: &OpContext,
) -> ApprovalFile {
    let at = ctx.now.as_microsecond();
    let nonce = nonce_from(&batch.digest, &signer.person.name, decision, at);
    let signature = signer.sign(&statement(
        &ws.info().id,
        &batch.id,
        &batch.digest,
        decision,
        &signer.person.name,
        reason,
        at,
        &nonce,
    ));
    ApprovalFile {
        format: APPROVAL_FORMAT.into(),
        workspace_id: ws.info().id.clone(),
        batch_id: batch.id.clone(),
        batch_digest: batch.digest.clone(),
        decision: decision.into(),
        person: signer.person.name.clone(),
        public_key: signer.person.public_key.clone(),
        reason: reason.into(),
        signed_at_us: at,
        nonce,
        signature,
    }
}

fn check_approver(batch: &Batch, person: &str) -> Result<(), PayoutError> {
    if person == batch.prepared_by {
        return Err(PayoutError::Forbidden(format!(
            "{person} prepared {} and cannot approve it: another approver must (maker–checker)",
            batch.id
        )));
    }
    if batch.approvals().any(|d| d.person == person) {
        return Err(PayoutError::ApprovalInvalid(format!(
            "{person} has already approved {}: a second approval must come from someone else",
            batch.id
        )));
    }
    Ok(())
}

/// Approves `batch` as `signer` on this computer.
pub fn approve(
    ws: &Workspace,
    signer: &Signer,
    id: &str,
    ctx: &OpContext,
) -> Result<Batch, PayoutError> {
    signer.require(Action::Approve)?;
    let b = load(ws, id)?;
    // This person's approval is already recorded (a re-run): the work is done, whatever
    // the batch's state since; nothing is signed or written again.
    if b.approvals().any(|d| d.person == signer.person.name) {
        return Ok(b);
    }
    let draft = draft_of(b)?;
    check_approver(draft.batch(), &signer.person.name)?;
    let file = sign_decision(ws, draft.batch(), signer, "approve", "", ctx);
    record(ws, draft, &file, "here", &signer.actor(), ctx)
}

/// Rejects `batch` as `signer`, with a reason. The batch is closed; prepare the month again.
pub fn reject(
    ws: &Workspace,
    signer: &Signer,
    id: &str,
    reason: &str,
    ctx: &OpContext,
) -> Result<Batch, PayoutError> {
    signer.require(Action::Reject)?;
    let reason = check_reason(reason)?;
    let draft = load_draft(ws, id)?;
    let file = sign_decision(ws, draft.batch(), signer, "reject", reason, ctx);
    record(ws, draft, &file, "here", &signer.actor(), ctx)
}

fn check_reason(reason: &str) -> Result<&str, PayoutError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(PayoutError::BadInput("a rejection needs a reason".into()));
    }
    if r.chars().count() > MAX_REASON_LEN {
        return Err(PayoutError::BadInput(format!(
            "a reason is at most {MAX_REASON_LEN} characters"
        )));
    }
    // What is signed is exactly what is kept: no line break or other control character
    // (the signed statement is one line per field).
    if r.chars().any(char::is_control) {
        return Err(PayoutError::BadInput(
            "a reason is one line of text: no line breaks, tabs or other control characters".into(),
        ));
    }
    Ok(r)
}

/// Signs an approval (or rejection) as `signer` without recording it here: the file goes
/// to the preparer's desktop, which imports it.
pub fn export_approval(
    ws: &Workspace,
    signer: &Signer,
    id: &str,
    reject_reason: Option<&str>,
    ctx: &OpContext,
) -> Result<ApprovalFile, PayoutError> {
    let draft = load_draft(ws, id)?;
    let file = match reject_reason {
        Some(r) => {
            signer.require(Action::Reject)?;
            let r = check_reason(r)?;
            sign_decision(ws, draft.batch(), signer, "reject", r, ctx)
        }
        None => {
            signer.require(Action::Approve)?;
            check_approver(draft.batch(), &signer.person.name)?;
            sign_decision(ws, draft.batch(), signer, "approve", "", ctx)
        }
    };
    let tx = ws.conn.unchecked_transaction()?;
    audit::append(
        &tx,
        ctx.now,
        &signer.actor(),
        "payouts.approval.export",
        &format!(
            "signed a {} of {} to send as a file",
            file.decision, file.batch_id
        ),
        &serde_json::to_value(&file).unwrap_or_default(),
    )?;
    tx.commit()?;
    Ok(file)
}

/// Reads an approval file for [`import_approval`], never more than one byte past the limit:
/// a huge or endless file (a device, a pipe) is refused without being read whole.
pub fn read_approval_file(path: &std::path::Path) -> Result<Vec<u8>, PayoutError> {
    use crate::files::{ReadError, read_regular};
    match read_regular(path, MAX_APPROVAL_FILE as u64) {
        Ok(bytes) => Ok(bytes),
        Err(ReadError::TooLarge { .. }) => Err(PayoutError::ApprovalInvalid(format!(
            "the file is larger than {MAX_APPROVAL_FILE} bytes; an approval is under {MAX_APPROVAL_FILE}"
        ))),
        Err(ReadError::NotAFile) => Err(PayoutError::ApprovalInvalid(format!(
            "{} is not a regular file: not an approval file",
            path.display()
        ))),
        Err(ReadError::Io(e)) => Err(PayoutError::Io(path.display().to_string(), e.to_string())),
    }
}

/// Reads an approval file and records it, refusing anything forged, mismatched or replayed.
pub fn import_approval(
    ws: &Workspace,
    bytes: &[u8],
    ctx: &OpContext,
) -> Result<Batch, PayoutError> {
    if bytes.len() > MAX_APPROVAL_FILE {
        return Err(PayoutError::ApprovalInvalid(format!(
            "the file is {} bytes; an approval is under {MAX_APPROVAL_FILE}",
            bytes.len()
        )));
    }
    let file: ApprovalFile = serde_json::from_slice(bytes).map_err(|e| {
        PayoutError::ApprovalInvalid(format!("not a Closebook approval file ({e})"))
    })?;
    if file.format != APPROVAL_FORMAT {
        return Err(PayoutError::ApprovalInvalid(format!(
            "format `{}` is not {APPROVAL_FORMAT}",
            file.format
        )));
    }
    if file.workspace_id != ws.info().id {
        return Err(PayoutError::ApprovalInvalid(format!(
            "it was signed for workspace {}, not this one ({})",
            file.workspace_id,
            ws.info().id
        )));
    }
    let person = people::get(ws, &file.person)?.ok_or_else(|| {
        PayoutError::ApprovalInvalid(format!("{} is not on this workspace's roster", file.person))
    })?;
    if person.public_key != file.public_key {
        return Err(PayoutError::ApprovalInvalid(format!(
            "it carries a key that is not {}'s: forged",
            file.person
        )));
    }
    let msg = statement(
        &file.workspace_id,
        &file.batch_id,
        &file.batch_digest,
        &file.decision,
        &file.person,
        &file.reason,
        file.signed_at_us,
        &file.nonce,
    );
    if !people::verify(&person.public_key, &msg, &file.signature) {
        return Err(PayoutError::ApprovalInvalid(format!(
            "the signature is not {}'s over this content: forged or altered",
            file.person
        )));
    }
    let seen: bool = ws.conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM payout_decisions WHERE nonce = ?1)",
        [&file.nonce],
        |r| r.get(0),
    )?;
    if seen {
        return Err(PayoutError::ApprovalInvalid(format!(
            "this {} by {} was already recorded: a replay",
            file.decision, file.person
        )));
    }
    let draft = load_draft(ws, &file.batch_id).map_err(|e| match e {
        PayoutError::InvalidState(m) => PayoutError::ApprovalInvalid(m),
        other => other,
    })?;
    if draft.batch().digest != file.batch_digest {
        return Err(PayoutError::ApprovalInvalid(format!(
            "it approves another version of {} (digest {}…, now {}…): the batch changed, so the approval is void",
            file.batch_id,
            &file.batch_digest.get(..16).unwrap_or(&file.batch_digest),
            &draft.batch().digest[..16]
        )));
    }
    let role_ok = match file.decision.as_str() {
        "approve" => matches!(person.role, people::Role::Approver | people::Role::Admin),
        "reject" => matches!(person.role, people::Role::Approver | people::Role::Admin),
        other => {
            return Err(PayoutError::ApprovalInvalid(format!(
                "unknown decision `{other}`"
            )));
        }
    };
    if !role_ok {
        return Err(PayoutError::Forbidden(format!(
            "{} is {} and cannot {} batches",
            person.name,
            person.role.as_str(),
            file.decision
        )));
    }
    if person.vouched_by.is_none() {
        return Err(PayoutError::Forbidden(format!(
            "{} is on the roster, but no admin has signed for them: an admin vouches for them first (`closebook people vouch`)",
            person.name
        )));
    }
    if file.decision == "approve" {
        if file.reason.chars().any(char::is_control) {
            return Err(PayoutError::ApprovalInvalid(
                "its reason holds control characters: not a file Closebook signs".into(),
            ));
        }
        check_approver(draft.batch(), &person.name)?;
    } else {
        check_reason(&file.reason)?;
    }
    let actor = format!("person:{}", person.name);
    record(ws, draft, &file, "file", &actor, ctx)
}

/// Records a checked, signed decision; the last approval needed approves the batch and
/// books the month.
fn record(
    ws: &Workspace,
    draft: DraftBatch,
    file: &ApprovalFile,
    via: &str,
    actor: &str,
    ctx: &OpContext,
) -> Result<Batch, PayoutError> {
    let batch = draft.0;
    let approving = file.decision == "approve";
    let approvals = batch.approvals().count() as u32 + u32::from(approving);
    if approving && approvals >= batch.approvals_required {
        let c = coverage(ws, &batch)?;
        if !c.covered {
            return Err(PayoutError::InvalidState(match c.available {
                None => format!(
                    "no Stripe balance is known: sync Stripe before approving {}",
                    batch.id
                ),
                Some(a) => format!(
                    "Stripe's available balance ({a}) does not cover the {} the batch pays: it cannot be approved",
                    batch.totals.paid
                ),
            }));
        }
    }
    let tx = ws.conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO payout_decisions (batch_id, batch_digest, person, public_key, decision, reason, signed_at, nonce, signature, recorded_at, via)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            batch.id,
            file.batch_digest,
            file.person,
            file.public_key,
            file.decision,
            (!file.reason.is_empty()).then_some(&file.reason),
            file.signed_at_us,
            file.nonce,
            file.signature,
            ctx.now.as_microsecond(),
            via
        ],
    )?;
    audit::append(
        &tx,
        ctx.now,
        actor,
        if approving {
            "payouts.approve"
        } else {
            "payouts.reject"
        },
        &if approving {
            format!(
                "{} approved {} ({approvals} of {} approvals), signature {}…",
                file.person,
                batch.id,
                batch.approvals_required,
                &file.signature[..16]
            )
        } else {
            format!("{} rejected {}: {}", file.person, batch.id, file.reason)
        },
        &serde_json::to_value(file).unwrap_or_default(),
    )?;
    let next = if !approving {
        Some(BatchState::Rejected)
    } else if approvals >= batch.approvals_required {
        Some(BatchState::Approved)
    } else {
        None
    };
    if let Some(next) = next {
        set_state(&tx, &batch, next, ctx)?;
        if next == BatchState::Approved {
            book_month(&tx, ws, &batch, ctx)?;
            audit::append(
                &tx,
                ctx.now,
                actor,
                "payouts.book",
                &format!(
                    "booked {}'s month: allocations {}, platform fees {}, unallocated {}",
                    batch.id, batch.totals.allocated, batch.totals.fees, batch.totals.unallocated
                ),
                &serde_json::json!({"batch": batch.id, "totals": batch.totals}),
            )?;
        }
    }
    tx.commit()?;
    load(ws, &batch.id)
}

pub(crate) fn set_state(
    conn: &rusqlite::Connection,
    batch: &Batch,
    next: BatchState,
    ctx: &OpContext,
) -> Result<(), PayoutError> {
    if !batch.state.can_become(next) {
        return Err(PayoutError::InvalidState(format!(
            "batch {} cannot go from {} to {}",
            batch.id,
            batch.state.as_str(),
            next.as_str()
        )));
    }
    let n = conn.execute(
        "UPDATE payout_batches SET state = ?2, state_changed_at = ?3 WHERE id = ?1 AND state = ?4",
        params![
            batch.id,
            next.as_str(),
            ctx.now.as_microsecond(),
            batch.state.as_str()
        ],
    )?;
    if n != 1 {
        return Err(PayoutError::InvalidState(format!(
            "batch {} changed while this was running: load it again",
            batch.id
        )));
    }
    Ok(())
}

/// The month in balanced entries of Closebook's own (`contracts/BOOKING.md`): each
/// subscriber's allocations to each creator, each creator's platform fee, each subscriber's
/// unallocated money swept to revenue.
fn book_month(
    conn: &rusqlite::Connection,
    ws: &Workspace,
    batch: &Batch,
    ctx: &OpContext,
) -> Result<(), PayoutError> {
    let live = ws.info().mode.is_live();
    let cur = batch.currency.as_str();
    let map = crate::accounts::load(conn)?;
    let platform_fees = map.get(crate::accounts::Role::PlatformFees);
    let unallocated = map.get(crate::accounts::Role::Unallocated);
    let mut stmt = conn.prepare(
        "SELECT user_id, author_id, sum(amount) FROM payout_locked_allocations
         WHERE batch_id = ?1 GROUP BY user_id, author_id HAVING sum(amount) != 0 ORDER BY user_id, author_id",
    )?;
    let mut rows = stmt.query([&batch.id])?;
    while let Some(r) = rows.next()? {
        let (user, creator, amount): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let (ua, ca) = (map.subscriber(&user), map.creator(&creator));
        book_own(
            conn,
            &OwnEntry {
                entry_id: &format!("cb:{}:allocation:{user}:{creator}", batch.id),
                entry_type: "allocation",
                currency: cur,
                stripe_object_id: None,
                description: &format!(
                    "Allocation {} from {user} to {creator} ({})",
                    batch.month, batch.id
                ),
                postings: &[(&ua, amount), (&ca, -amount)],
            },
            live,
            ctx.now,
        )?;
    }
    for l in batch
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Earnings && l.fee != 0)
    {
        let ca = map.creator(&l.creator);
        book_own(
            conn,
            &OwnEntry {
                entry_id: &format!("cb:{}:platform_fee:{}", batch.id, l.creator),
                entry_type: "platform_fee",
                currency: cur,
                stripe_object_id: None,
                description: &format!(
                    "Platform fee {} on {} ({})",
                    batch.month, l.creator, batch.id
                ),
                postings: &[(&ca, l.fee), (platform_fees, -l.fee)],
            },
            live,
            ctx.now,
        )?;
    }
    for (user, amount) in &batch.unallocated {
        let ua = map.subscriber(user);
        book_own(
            conn,
            &OwnEntry {
                entry_id: &format!("cb:{}:unallocated_sweep:{user}", batch.id),
                entry_type: "unallocated_sweep",
                currency: cur,
                stripe_object_id: None,
                description: &format!("Unallocated {} of {user} ({})", batch.month, batch.id),
                postings: &[(&ua, *amount), (unallocated, -*amount)],
            },
            live,
            ctx.now,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_move_only_forward() {
        use BatchState::*;
        assert!(
            Draft.can_become(Approved)
                && Approved.can_become(Executing)
                && Executing.can_become(Done)
        );
        assert!(Draft.can_become(Rejected) && Draft.can_become(Superseded));
        for (a, b) in [
            (Approved, Draft),
            (Done, Executing),
            (Rejected, Draft),
            (Draft, Executing),
            (Approved, Rejected),
            (Superseded, Approved),
        ] {
            assert!(!a.can_become(b), "{a:?} → {b:?}");
        }
    }

    /// [`ELIGIBILITY_SQL`] evaluated on one mirrored account (`None`: not mirrored).
    fn eligibility_of(raw: Option<&str>, currency: &str) -> Eligibility {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let sql = format!(
            "SELECT {ELIGIBILITY_SQL} FROM (SELECT 'cr_1' AS author_id) a
             LEFT JOIN (SELECT 'acct_1' AS id, ?1 AS raw) s ON ?1 IS NOT NULL"
        );
        let e: String = c
            .query_row(&sql, rusqlite::params![raw, currency], |r| r.get(0))
            .unwrap();
        Eligibility::parse(&e).unwrap()
    }

    #[test]
    fn eligibility_reads_the_mirrored_account() {
        let ok = r#"{"capabilities":{"transfers":"active"},"payouts_enabled":true,"default_currency":"usd","external_accounts":{"data":[]}}"#;
        assert_eq!(eligibility_of(Some(ok), "usd"), Eligibility::Eligible);
        assert_eq!(
            eligibility_of(Some(ok), "eur"),
            Eligibility::CurrencyUnsupported
        );
        let ext = r#"{"capabilities":{"transfers":"active"},"payouts_enabled":true,"default_currency":"gbp","external_accounts":{"data":[{"currency":"usd"}]}}"#;
        assert_eq!(eligibility_of(Some(ext), "usd"), Eligibility::Eligible);
        let inactive = r#"{"capabilities":{"transfers":"inactive"},"payouts_enabled":false}"#;
        assert_eq!(
            eligibility_of(Some(inactive), "usd"),
            Eligibility::TransfersInactive
        );
        let no_payouts = r#"{"capabilities":{"transfers":"active"},"payouts_enabled":false}"#;
        assert_eq!(
            eligibility_of(Some(no_payouts), "usd"),
            Eligibility::PayoutsDisabled
        );
        assert_eq!(eligibility_of(None, "usd"), Eligibility::AccountNotSynced);
    }
}
