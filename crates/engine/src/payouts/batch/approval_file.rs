//! Approvals that travel between desktops as signed files: export, and import (refusing the
//! forged, the altered, the replayed, another workspace's or another version's).

#[allow(unused_imports)]
use super::*;

use serde::{Deserialize, Serialize};

use crate::payouts::PayoutError;
use crate::payouts::people::{self, Action, Signer};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

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
