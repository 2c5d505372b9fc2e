//! What a person reviews before signing: changes from last month, Stripe's coverage, the
//! allocations that drifted after the lock, and the what-if (recompute, save nothing).

#[allow(unused_imports)]
use super::*;
use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::payouts::PayoutError;
use crate::payouts::compute::{self, Computed, LineKind, Params};
use crate::workspace::Workspace;

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

pub(super) fn coverage(ws: &Workspace, batch: &Batch) -> Result<Coverage, PayoutError> {
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

pub(super) fn drift(ws: &Workspace, batch: &Batch) -> Result<(Vec<Drift>, u64), PayoutError> {
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
