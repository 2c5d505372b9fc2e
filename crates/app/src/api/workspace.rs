//! Workspaces: create one (with the platform's account map checked first), what one holds,
//! declaring a unit, deleting one with every keychain entry it owns.

use std::path::Path;

use closebook_engine::accounts;
use closebook_engine::audit::{self, AuditRecord};
use closebook_engine::ledger::{self, MirrorSummary};
use closebook_engine::money::Unit;
use closebook_engine::secrets::SecretStore;
use closebook_engine::workspace::{
    FreshIdentity, InitOptions, KeySource, Mode, Workspace, WorkspaceInfo,
};
use closebook_engine::{Error, OpContext};

use super::Result;

/// A new workspace's settings as a person gives them.
pub struct NewWorkspace<'a> {
    pub name: String,
    pub mode: &'a str,
    pub timezone: &'a str,
    /// `ROLE=ACCOUNT` assignments for a platform with its own chart of accounts.
    pub map: &'a [String],
}

/// Opens an existing workspace, its key proven before anything is written.
pub fn open(dir: &Path, key: &KeySource, secrets: &dyn SecretStore) -> Result<Workspace> {
    Ok(Workspace::open(dir, key, secrets)?)
}

/// Reads a mode: `test` or `live`.
pub fn mode(text: &str) -> Result<Mode> {
    Mode::parse(text.trim()).ok_or_else(|| {
        Error::InvalidInput(format!("the mode is test or live, not `{}`", text.trim()))
    })
}

/// Creates a workspace at `dir`. The account map is checked before anything is created: a
/// bad one leaves no workspace behind.
pub fn create(
    dir: &Path,
    new: NewWorkspace<'_>,
    key: &KeySource,
    secrets: &dyn SecretStore,
    ctx: &OpContext,
) -> Result<Workspace> {
    let mode = mode(new.mode)?;
    let changes = new
        .map
        .iter()
        .map(|m| accounts::parse_assignment(m))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    accounts::apply(&accounts::RoleMap::default(), &changes)?;
    let ws = Workspace::init(
        dir,
        InitOptions {
            name: new.name,
            mode,
            timezone: new.timezone.to_string(),
            demo: false,
        },
        key,
        secrets,
        FreshIdentity::generate()?,
        ctx,
    )?;
    if !changes.is_empty() {
        accounts::set(&ws, None, &changes, ctx)?;
    }
    Ok(ws)
}

/// What the workspace holds and its most recent activity.
pub fn status(ws: &Workspace, recent: u32) -> Result<(MirrorSummary, Vec<AuditRecord>)> {
    Ok((
        ledger::summary(ws)?,
        audit::recent(ws.connection(), recent)?,
    ))
}

/// Declares a non-money unit (credits) with its exponent.
pub fn declare_unit(
    ws: &mut Workspace,
    code: &str,
    exponent: u8,
    description: &str,
    ctx: &OpContext,
) -> Result<Unit> {
    Ok(ws.declare_unit(code, exponent, description, ctx)?)
}

/// Deletes the workspace — its files and every keychain entry it owns — once `confirm` is
/// its id, typed out. Returns what was deleted.
pub fn delete(
    ws: Workspace,
    confirm: &str,
    key: &KeySource,
    secrets: &dyn SecretStore,
) -> Result<WorkspaceInfo> {
    let info = ws.info().clone();
    if confirm.trim() != info.id {
        return Err(Error::InvalidInput(format!(
            "to delete it, type this workspace's id ({}): nothing was deleted",
            info.id
        )));
    }
    ws.destroy(key, secrets)?;
    Ok(info)
}
