//! The batches of a workspace, newest month first.

#[allow(unused_imports)]
use super::*;

use jiff::Timestamp;
use serde::Serialize;

use crate::payouts::PayoutError;
use crate::payouts::compute::{Params, Totals};
use crate::workspace::Workspace;

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
