//! The workspace's payout parameters: read, and changed by an admin (audited).

use crate::payouts::PayoutError;
use crate::payouts::compute::Params;
use crate::payouts::people::{self, Action, Signer};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

pub(super) const SETTINGS: [&str; 3] = [
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
