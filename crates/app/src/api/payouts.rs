//! Month-end payouts: settings, prepare, review, what-if, sign-off here or as files, execute
//! and retry. Each function proves who acts before the engine is asked anything.

use std::path::Path;

use closebook_engine::OpContext;
use closebook_engine::payouts::batch::{self, ApprovalFile, Batch, BatchSummary, Preview};
use closebook_engine::payouts::compute::Computed;
use closebook_engine::payouts::execute::{self, ExecuteControl, ExecuteOptions, ExecuteReport};
use closebook_engine::payouts::{Params, PayoutError};
use closebook_engine::secrets::SecretStore;
use closebook_engine::stripe::StripeKey;
use closebook_engine::workspace::Workspace;

use super::Result;
use super::people::{signer, signer_if_named};

/// Changes to the payout settings; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct SettingsChange {
    pub fee_bps: Option<u32>,
    pub minimum_minor: Option<i64>,
    pub dual_approval_at_minor: Option<i64>,
}

impl SettingsChange {
    fn is_empty(&self) -> bool {
        self.fee_bps.is_none()
            && self.minimum_minor.is_none()
            && self.dual_approval_at_minor.is_none()
    }

    fn apply(&self, p: Params) -> Params {
        Params {
            fee_bps: self.fee_bps.unwrap_or(p.fee_bps),
            minimum_minor: self.minimum_minor.unwrap_or(p.minimum_minor),
            dual_approval_at_minor: self
                .dual_approval_at_minor
                .unwrap_or(p.dual_approval_at_minor),
        }
    }
}

/// The payout settings, changed first (as the admin `as_person`, once the roster has one)
/// when `change` changes anything.
pub fn settings(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    change: SettingsChange,
    as_person: Option<&str>,
    ctx: &OpContext,
) -> Result<Params> {
    let current = batch::settings(ws)?;
    if change.is_empty() {
        return Ok(current);
    }
    let p = change.apply(current);
    let by = signer_if_named(ws, secrets, as_person)?;
    batch::set_settings(ws, by.as_ref(), p, ctx)?;
    Ok(p)
}

/// Locks `month` into a draft batch prepared by `as_person` (with this batch's own fee or
/// minimum when given), and returns it as a reviewer sees it.
pub fn prepare(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    month: &str,
    as_person: &str,
    overrides: SettingsChange,
    ctx: &OpContext,
) -> Result<Preview> {
    let preparer = signer(ws, secrets, as_person)?;
    let params = if overrides.is_empty() {
        None
    } else {
        Some(overrides.apply(batch::settings(ws)?))
    };
    let b = batch::prepare(ws, &preparer, month, params, ctx)?;
    Ok(batch::preview(ws, &b.id)?)
}

pub fn list(ws: &Workspace) -> Result<Vec<BatchSummary>> {
    Ok(batch::list(ws)?)
}

/// A batch, proven on load, with what a reviewer needs (changes, coverage, drift).
pub fn show(ws: &Workspace, id: &str) -> Result<Preview> {
    Ok(batch::preview(ws, id)?)
}

/// The batch as prepared, and what it would be with another fee or minimum (nothing saved).
pub fn what_if(
    ws: &Workspace,
    id: &str,
    fee_bps: Option<u32>,
    minimum_minor: Option<i64>,
) -> Result<(Batch, Params, Computed)> {
    let b = batch::load(ws, id)?;
    let params = Params {
        fee_bps: fee_bps.unwrap_or(b.params.fee_bps),
        minimum_minor: minimum_minor.unwrap_or(b.params.minimum_minor),
        ..b.params
    };
    let c = batch::what_if(ws, id, params)?;
    Ok((b, params, c))
}

/// `as_person` approves, or (with a reason) rejects, the batch here.
pub fn decide(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    id: &str,
    as_person: &str,
    reject_reason: Option<&str>,
    ctx: &OpContext,
) -> Result<Batch> {
    let s = signer(ws, secrets, as_person)?;
    Ok(match reject_reason {
        Some(reason) => batch::reject(ws, &s, id, reason, ctx)?,
        None => batch::approve(ws, &s, id, ctx)?,
    })
}

/// `as_person` signs an approval (or a rejection) into a new file at `dest` for another
/// desktop; nothing is recorded here. Never over an existing file or through a symlink:
/// checked before anything is signed, and again, atomically, when the file is written.
pub fn export_approval(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    id: &str,
    as_person: &str,
    reject_reason: Option<&str>,
    dest: &Path,
    ctx: &OpContext,
) -> Result<ApprovalFile> {
    if std::fs::symlink_metadata(dest).is_ok() {
        return Err(PayoutError::BadInput(format!(
            "{} already exists: choose another name (nothing was replaced)",
            dest.display()
        ))
        .into());
    }
    let s = signer(ws, secrets, as_person)?;
    let reason = reject_reason.map(str::trim).filter(|r| !r.is_empty());
    let file = batch::export_approval(ws, &s, id, reason, ctx)?;
    let text = serde_json::to_string_pretty(&file).expect("an approval serializes");
    closebook_engine::files::write_new(dest, text.as_bytes())
        .map_err(|e| PayoutError::Io(dest.display().to_string(), e.to_string()))?;
    Ok(file)
}

/// Records an approval or rejection signed on another desktop (refused when forged, altered,
/// replayed, for another workspace or another version of the batch).
pub fn import_approval(ws: &Workspace, path: &Path, ctx: &OpContext) -> Result<Batch> {
    let bytes = batch::read_approval_file(path)?;
    Ok(batch::import_approval(ws, &bytes, ctx)?)
}

/// Pays every payable line of an approved batch exactly once, as `as_person`, with `key`.
/// (The engine's execution, its key, options and control, plus who acts and where.)
#[allow(clippy::too_many_arguments)]
pub fn execute(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    id: &str,
    as_person: &str,
    key: &StripeKey,
    options: &ExecuteOptions,
    control: &mut ExecuteControl<'_>,
    ctx: &OpContext,
) -> Result<ExecuteReport> {
    let s = signer(ws, secrets, as_person)?;
    Ok(execute::execute(ws, &s, key, id, options, ctx, control)?)
}

/// Marks failed lines (all, or those given) to be sent again by the next execution.
pub fn retry(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    id: &str,
    as_person: &str,
    lines: &[u32],
    ctx: &OpContext,
) -> Result<Vec<u32>> {
    let s = signer(ws, secrets, as_person)?;
    let lines = (!lines.is_empty()).then_some(lines);
    Ok(execute::retry_failed(ws, &s, id, lines, ctx)?)
}

/// A batch, proven on load, with each line's execution.
pub fn status(ws: &Workspace, id: &str) -> Result<Batch> {
    Ok(batch::load(ws, id)?)
}
