//! A payout batch in the workspace: the locked month, its lines, its sign-off.
//!
//! `prepare` copies the month's allocations and balances, what the ledger owed each creator
//! at that instant, their accounts' eligibility and the pending withdrawal requests into
//! the batch (one transaction), computes the lines, digests it all and has the preparer
//! sign the digest. `load` reads it back and proves it again: the locked rows hash to the
//! stored digest, recomputing them gives the stored lines and totals, the identity holds,
//! and every signature verifies against the roster. Approvers sign that digest; a batch
//! whose digest changed has no approvals left.
//!
//! Here: the batch's types, its states and the typed loaders. One job per file beside it:
//! `settings` (the workspace's parameters), `lock` (reading and digesting the locked month),
//! `prepare`, `proof` (load, proving it all again), `list`, `preview` (changes, coverage,
//! drift, what-if), `signoff` (statements, approve, reject, recording decisions, states),
//! `approval_file` (approvals between desktops) and `booking` (the month's own entries).

mod approval_file;
mod booking;
mod list;
mod lock;
mod prepare;
mod preview;
mod proof;
mod settings;
mod signoff;
#[cfg(test)]
mod tests;

pub use approval_file::*;
use booking::*;
pub use list::*;
pub(crate) use lock::*;
pub use prepare::*;
pub use preview::*;
pub use proof::*;
pub use settings::*;
pub use signoff::*;

use jiff::Timestamp;
use serde::Serialize;

use super::PayoutError;
use super::compute::{Line, Params, Totals};
use crate::workspace::Workspace;

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
