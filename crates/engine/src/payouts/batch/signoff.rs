//! Sign-off: what a person signs, approvals and rejections here, recording a decision and
//! moving the batch's state forward.

#[allow(unused_imports)]
use super::*;

use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::payouts::PayoutError;
use crate::payouts::people::{Action, Signer};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

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

pub(super) fn nonce_from(digest: &str, person: &str, decision: &str, at_us: i64) -> String {
    let mut h = Sha256::new();
    for f in [digest, person, decision, &at_us.to_string()] {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

pub(super) fn sign_decision(
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

pub(super) fn check_approver(batch: &Batch, person: &str) -> Result<(), PayoutError> {
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

pub(super) fn check_reason(reason: &str) -> Result<&str, PayoutError> {
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

/// Records a checked, signed decision; the last approval needed approves the batch and
/// books the month.
pub(super) fn record(
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
