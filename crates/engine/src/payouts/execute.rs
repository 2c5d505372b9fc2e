//! Executing an approved batch: one Stripe transfer per payable line, each exactly once.
//!
//! For each line, in order:
//! 1. its idempotency key (derived from the batch digest, the line and its generation) is
//!    committed with state `sent` *before* the request leaves;
//! 2. the transfer is created through async-stripe with that key (`RequestStrategy::
//!    Idempotent`; our own loop retries network errors, timeouts, 429 and 5xx with
//!    exponential backoff and jitter, always with the same key);
//! 3. the answer is committed with the line's transfer entry (paid), or Stripe's reason
//!    (failed: a final 4xx created nothing).
//!
//! A run killed anywhere leaves lines `sent` whose outcome is unknown. The next run first
//! lists the batch's transfers at Stripe (`transfer_group` = the batch id, the line in the
//! metadata) and adopts any it finds; only then does it send again, with the same key
//! (which Stripe replays within its 24-hour window; after it, the listing has proven that no
//! transfer exists). Failed lines are retried only when a person says so ([`retry_failed`]),
//! with a new generation and therefore a new key.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};
use stripe_connect::transfer::{CreateTransfer, ListTransfer};

use super::PayoutError;
use super::batch::{self, ApprovedBatch, Batch, BatchState};
use super::compute::Line;
use super::people::{Action, Signer};
use crate::ledger::{OwnEntry, book_own};
use crate::stripe::api::Api;
use crate::stripe::{Limits, StripeError, StripeKey};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// Where and how fast to send.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    pub api_base: String,
    pub limits: Limits,
}

impl ExecuteOptions {
    pub fn new(api_base: &str, live: bool) -> ExecuteOptions {
        ExecuteOptions {
            api_base: api_base.to_string(),
            limits: Limits::for_mode(live),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExecuteProgress {
    pub phase: String,
    pub lines_total: u32,
    pub lines_paid: u32,
    pub lines_failed: u32,
    /// The line being sent.
    pub current_line: Option<u32>,
    pub requests: u64,
    pub retries: u64,
    pub recent_errors: Vec<String>,
}

pub struct ExecuteControl<'a> {
    pub progress: &'a mut dyn FnMut(&ExecuteProgress),
    pub cancel: &'a AtomicBool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExecuteReport {
    pub batch: String,
    pub state: BatchState,
    pub paid_now: u32,
    pub adopted: u32,
    pub failed_now: u32,
    pub paid_total: u32,
    pub failed_total: u32,
    pub payable_lines: u32,
    /// The batch was already done when this run started: nothing was left to pay, and
    /// nothing was sent.
    pub nothing_left: bool,
}

/// The key Stripe deduplicates a line's transfer by: the batch's digest, the line and the
/// attempt generation. Stable across runs and processes; at most 255 characters.
pub fn idempotency_key(digest: &str, line_no: u32, generation: u32) -> String {
    let mut h = Sha256::new();
    h.update(digest.as_bytes());
    h.update(line_no.to_be_bytes());
    h.update(generation.to_be_bytes());
    format!("closebook-{}", &hex::encode(h.finalize())[..48])
}

/// Executes `id` as `signer` (a preparer or admin).
pub fn execute(
    ws: &Workspace,
    signer: &Signer,
    key: &StripeKey,
    id: &str,
    options: &ExecuteOptions,
    ctx: &OpContext,
    control: &mut ExecuteControl<'_>,
) -> Result<ExecuteReport, PayoutError> {
    signer.require(Action::Execute)?;
    key.check_mode(ws)?;
    let approved = match batch::load_for_execution(ws, id)? {
        batch::ForExecution::Approved(b) => b,
        // A re-run (after a kill, from a scheduled job) whose work is done: a success that
        // sends nothing.
        batch::ForExecution::Done(b) => {
            let paid = b.executions.iter().filter(|e| e.state == "paid").count() as u32;
            return Ok(ExecuteReport {
                batch: b.id.clone(),
                state: b.state,
                paid_now: 0,
                adopted: 0,
                failed_now: 0,
                paid_total: paid,
                failed_total: 0,
                payable_lines: b.lines.iter().filter(|l| l.is_paid()).count() as u32,
                nothing_left: true,
            });
        }
    };
    let api = Arc::new(Api::new(key, &options.api_base, options.limits.clone())?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StripeError::Runtime(e.to_string()))?;
    runtime.block_on(run(ws, signer, &api, approved, ctx, control))
}

async fn run(
    ws: &Workspace,
    signer: &Signer,
    api: &Api,
    approved: ApprovedBatch,
    ctx: &OpContext,
    control: &mut ExecuteControl<'_>,
) -> Result<ExecuteReport, PayoutError> {
    let mut b: Batch = approved.0;
    if b.state == BatchState::Approved {
        let tx = ws.conn.unchecked_transaction()?;
        batch::set_state(&tx, &b, BatchState::Executing, ctx)?;
        audit::append(
            &tx,
            ctx.now,
            &signer.actor(),
            "payouts.execute.start",
            &format!(
                "started executing {}: {} lines, {} to pay",
                b.id, b.totals.paid_lines, b.totals.paid
            ),
            &serde_json::json!({"batch": b.id, "digest": b.digest, "signature": signer.sign(format!("execute {} {}", b.id, b.digest).as_bytes())}),
        )?;
        tx.commit()?;
        b.state = BatchState::Executing;
    }
    let payable: Vec<&Line> = b.lines.iter().filter(|l| l.is_paid()).collect();
    let mut progress = ExecuteProgress {
        phase: "checking Stripe for transfers already made".into(),
        lines_total: payable.len() as u32,
        ..ExecuteProgress::default()
    };
    let mut state: HashMap<u32, batch::Execution> = b
        .executions
        .iter()
        .map(|e| (e.line_no, e.clone()))
        .collect();
    let count = |state: &HashMap<u32, batch::Execution>, s: &str| {
        state.values().filter(|e| e.state == s).count() as u32
    };
    progress.lines_paid = count(&state, "paid");
    progress.lines_failed = count(&state, "failed");
    (control.progress)(&progress);

    // Lines whose request may have reached Stripe: find what Stripe made.
    let mut adopted = 0u32;
    if state.values().any(|e| e.state == "sent") {
        let found = list_group(api, &b.id).await?;
        for line in &payable {
            let Some(e) = state.get(&line.line_no) else {
                continue;
            };
            if e.state != "sent" {
                continue;
            }
            if let Some(t) = found.get(&e.idempotency_key) {
                settle(
                    ws,
                    signer,
                    &b,
                    line,
                    e,
                    t,
                    "found at Stripe after an interrupted run",
                    ctx,
                )?;
                adopted += 1;
                if let Some(e) = state.get_mut(&line.line_no) {
                    e.state = "paid".into();
                }
            }
        }
    }
    progress.lines_paid = count(&state, "paid");
    progress.phase = "sending transfers".into();
    (control.progress)(&progress);

    let (mut paid_now, mut failed_now) = (0u32, 0u32);
    for line in &payable {
        let existing = state.get(&line.line_no);
        if existing.is_some_and(|e| e.state == "paid" || e.state == "failed") {
            continue;
        }
        if control.cancel.load(Ordering::Relaxed) {
            return Err(PayoutError::Cancelled);
        }
        let generation = existing.map_or(1, |e| e.generation);
        let key = idempotency_key(&b.digest, line.line_no, generation);
        // The key is on disk before the request leaves.
        match existing {
            None => {
                ws.conn.execute(
                    "INSERT INTO payout_executions (batch_id, line_no, generation, idempotency_key, state, first_sent_at)
                     VALUES (?1, ?2, ?3, ?4, 'sent', ?5)",
                    params![b.id, line.line_no, generation, key, ctx.now.as_microsecond()],
                )?;
            }
            Some(e) if e.state == "pending" => {
                ws.conn.execute(
                    "UPDATE payout_executions SET state = 'sent', first_sent_at = ?3 WHERE batch_id = ?1 AND line_no = ?2 AND state = 'pending'",
                    params![b.id, line.line_no, ctx.now.as_microsecond()],
                )?;
            }
            Some(_) => {}
        }
        let exec = batch::Execution {
            line_no: line.line_no,
            generation,
            idempotency_key: key.clone(),
            state: "sent".into(),
            transfer_id: None,
            failure: None,
            first_sent_at: ctx.now,
            finished_at: None,
        };
        progress.current_line = Some(line.line_no);
        (control.progress)(&progress);
        let destination = line.destination.as_deref().ok_or_else(|| {
            PayoutError::Integrity(format!(
                "line {} is payable with no destination",
                line.line_no
            ))
        })?;
        let request = format!("POST /v1/transfers (batch {} line {})", b.id, line.line_no);
        let create = CreateTransfer::new(stripe_types::Currency::USD, destination)
            .amount(line.payable)
            .transfer_group(b.id.clone())
            .description(format!(
                "{} {} {} line {}",
                b.month,
                line.kind.as_str(),
                line.creator,
                line.line_no
            ))
            .metadata(HashMap::from([
                ("closebook_batch".to_string(), b.id.clone()),
                ("closebook_line".to_string(), line.line_no.to_string()),
                ("closebook_key".to_string(), key.clone()),
                ("creator".to_string(), line.creator.clone()),
            ]));
        let sent = api.send_idempotent(&request, &create, &key).await;
        let stats = &api.stats;
        progress.requests = stats.requests.load(Ordering::Relaxed);
        progress.retries = stats.retries.load(Ordering::Relaxed);
        progress.recent_errors = stats
            .recent_errors
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        match sent {
            Ok((t, _)) => {
                let made = Made {
                    id: t.id.as_str().to_string(),
                    amount: t.amount,
                    destination: t.destination.as_ref().map(|d| d.id().as_str().to_string()),
                };
                settle(ws, signer, &b, line, &exec, &made, "transferred", ctx)?;
                paid_now += 1;
                progress.lines_paid += 1;
                state.insert(
                    line.line_no,
                    batch::Execution {
                        state: "paid".into(),
                        ..exec
                    },
                );
            }
            Err(StripeError::Request { detail, .. }) => {
                // A final answer: Stripe made nothing. A person decides what happens next.
                let tx = ws.conn.unchecked_transaction()?;
                tx.execute(
                    "UPDATE payout_executions SET state = 'failed', failure = ?3, finished_at = ?4 WHERE batch_id = ?1 AND line_no = ?2",
                    params![b.id, line.line_no, detail, ctx.now.as_microsecond()],
                )?;
                audit::append(
                    &tx,
                    ctx.now,
                    &signer.actor(),
                    "payouts.line.failed",
                    &format!(
                        "{} line {} ({}) failed: {detail}",
                        b.id, line.line_no, line.creator
                    ),
                    &serde_json::json!({"batch": b.id, "line": line.line_no, "key": key, "failure": detail}),
                )?;
                tx.commit()?;
                failed_now += 1;
                progress.lines_failed += 1;
                state.insert(
                    line.line_no,
                    batch::Execution {
                        state: "failed".into(),
                        ..exec
                    },
                );
            }
            // Gave up after retries, or the answer could not be read: the outcome is unknown,
            // the line stays `sent`, and the next run finds out before sending again.
            Err(e) => return Err(e.into()),
        }
        (control.progress)(&progress);
    }

    let paid_total = count(&state, "paid");
    let failed_total = count(&state, "failed");
    if paid_total == payable.len() as u32 {
        let tx = ws.conn.unchecked_transaction()?;
        batch::set_state(&tx, &b, BatchState::Done, ctx)?;
        audit::append(
            &tx,
            ctx.now,
            &signer.actor(),
            "payouts.execute.done",
            &format!(
                "{} is done: {} lines paid, {} in all",
                b.id, paid_total, b.totals.paid
            ),
            &serde_json::json!({"batch": b.id, "paid_lines": paid_total, "paid": b.totals.paid}),
        )?;
        tx.commit()?;
        b.state = BatchState::Done;
    }
    progress.phase = "finished".into();
    progress.current_line = None;
    (control.progress)(&progress);
    Ok(ExecuteReport {
        batch: b.id.clone(),
        state: b.state,
        paid_now,
        adopted,
        failed_now,
        paid_total,
        failed_total,
        payable_lines: payable.len() as u32,
        nothing_left: false,
    })
}

/// A transfer Stripe made, as far as a line needs it.
struct Made {
    id: String,
    amount: i64,
    destination: Option<String>,
}

/// Records a line paid by `made`, with its transfer entry, in one transaction.
#[allow(clippy::too_many_arguments)]
fn settle(
    ws: &Workspace,
    signer: &Signer,
    b: &Batch,
    line: &Line,
    exec: &batch::Execution,
    made: &Made,
    how: &str,
    ctx: &OpContext,
) -> Result<(), PayoutError> {
    if made.amount != line.payable || made.destination.as_deref() != line.destination.as_deref() {
        return Err(PayoutError::Integrity(format!(
            "Stripe's transfer {} for {} line {} is {} to {:?}, but the line pays {} to {:?}",
            made.id,
            b.id,
            line.line_no,
            made.amount,
            made.destination,
            line.payable,
            line.destination
        )));
    }
    let tx = ws.conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE payout_executions SET state = 'paid', transfer_id = ?3, finished_at = ?4, failure = NULL
         WHERE batch_id = ?1 AND line_no = ?2 AND idempotency_key = ?5",
        params![b.id, line.line_no, made.id, ctx.now.as_microsecond(), exec.idempotency_key],
    )?;
    let map = crate::accounts::load(&tx)?;
    let ca = map.creator(&line.creator);
    book_own(
        &tx,
        &OwnEntry {
            entry_id: &format!("cb:{}:transfer:{}", b.id, line.line_no),
            entry_type: "transfer",
            currency: &b.currency,
            stripe_object_id: Some(&made.id),
            description: &format!(
                "Payout {} to {} ({} line {})",
                b.month, line.creator, b.id, line.line_no
            ),
            postings: &[
                (&ca, line.payable),
                (map.get(crate::accounts::Role::StripeBalance), -line.payable),
            ],
        },
        ws.info().mode.is_live(),
        ctx.now,
    )?;
    audit::append(
        &tx,
        ctx.now,
        &signer.actor(),
        "payouts.line.paid",
        &format!(
            "{} line {} ({}) {how}: {} as {}",
            b.id, line.line_no, line.creator, line.payable, made.id
        ),
        &serde_json::json!({"batch": b.id, "line": line.line_no, "transfer": made.id, "amount": line.payable, "key": exec.idempotency_key}),
    )?;
    tx.commit()?;
    Ok(())
}

/// Every transfer of the batch's transfer group, by the idempotency key in its metadata.
async fn list_group(api: &Api, group: &str) -> Result<HashMap<String, Made>, PayoutError> {
    let mut out = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let mut req = ListTransfer::new().transfer_group(group).limit(100);
        if let Some(a) = &after {
            req = req.starting_after(a.clone());
        }
        let (page, _) = api
            .send(
                &format!("GET /v1/transfers?transfer_group={group}"),
                &req,
                None,
            )
            .await?;
        for t in &page.data {
            if let Some(k) = t.metadata.get("closebook_key") {
                out.insert(
                    k.clone(),
                    Made {
                        id: t.id.as_str().to_string(),
                        amount: t.amount,
                        destination: t.destination.as_ref().map(|d| d.id().as_str().to_string()),
                    },
                );
            }
        }
        match page.data.last() {
            Some(last) if page.has_more => after = Some(last.id.as_str().to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// A person's decision to try failed lines again (all of them, or `lines`): each gets a new
/// generation, so a new idempotency key. Before sending, the next run still checks Stripe.
pub fn retry_failed(
    ws: &Workspace,
    signer: &Signer,
    id: &str,
    lines: Option<&[u32]>,
    ctx: &OpContext,
) -> Result<Vec<u32>, PayoutError> {
    signer.require(Action::Execute)?;
    let approved = batch::load_approved(ws, id)?;
    let b = approved.batch();
    let failed: Vec<&batch::Execution> = b
        .executions
        .iter()
        .filter(|e| e.state == "failed")
        .filter(|e| lines.is_none_or(|l| l.contains(&e.line_no)))
        .collect();
    if let Some(l) = lines
        && let Some(n) = l.iter().find(|n| !failed.iter().any(|e| e.line_no == **n))
    {
        return Err(PayoutError::InvalidState(format!(
            "line {n} of {id} has not failed: only failed lines are retried"
        )));
    }
    let tx = ws.conn.unchecked_transaction()?;
    let mut retried = Vec::new();
    for e in failed {
        let generation = e.generation + 1;
        tx.execute(
            "UPDATE payout_executions SET state = 'pending', generation = ?3, idempotency_key = ?4, failure = NULL, finished_at = NULL
             WHERE batch_id = ?1 AND line_no = ?2 AND state = 'failed'",
            params![id, e.line_no, generation, idempotency_key(&b.digest, e.line_no, generation)],
        )?;
        retried.push(e.line_no);
    }
    audit::append(
        &tx,
        ctx.now,
        &signer.actor(),
        "payouts.retry",
        &format!(
            "{} asked to retry lines {:?} of {id}",
            signer.person.name, retried
        ),
        &serde_json::json!({"batch": id, "lines": retried}),
    )?;
    tx.commit()?;
    Ok(retried)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_stable_and_distinct_per_line_and_generation() {
        let a = idempotency_key("d1", 1, 1);
        assert_eq!(a, idempotency_key("d1", 1, 1));
        assert_ne!(a, idempotency_key("d1", 2, 1));
        assert_ne!(a, idempotency_key("d1", 1, 2));
        assert_ne!(a, idempotency_key("d2", 1, 1));
        assert!(a.len() <= 255 && a.starts_with("closebook-"));
    }
}
