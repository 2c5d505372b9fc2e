//! The account map: which of the platform's accounts plays each role of the booking
//! conventions, what the ledger lacks for them, and changing it (an admin, once the roster
//! has one).

use closebook_engine::Error;
use closebook_engine::OpContext;
use closebook_engine::accounts::{self, AccountsError, MapChange, Role, RoleGap, RoleMap};
use closebook_engine::secrets::SecretStore;
use closebook_engine::workspace::Workspace;

use super::Result;
use super::people::signer_if_named;

/// A role by name (`stripe_balance`, or `stripe-balance`).
pub fn role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| {
        Error::InvalidInput(format!(
            "no account role `{}`: use one of {}",
            text.trim(),
            Role::ALL.map(|r| r.name()).join(", ")
        ))
    })
}

/// The map, and the roles the ledger's accounts do not fit.
pub fn show(ws: &Workspace) -> Result<(RoleMap, Vec<RoleGap>)> {
    let map = accounts::load(ws.connection()).map_err(AccountsError::from)?;
    let gaps = accounts::gaps(ws.connection()).map_err(AccountsError::from)?;
    Ok((map, gaps))
}

/// Maps roles onto accounts (checked whole), as the admin `as_person` once the roster has one.
pub fn map(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    changes: &[(Role, String)],
    as_person: Option<&str>,
    ctx: &OpContext,
) -> Result<MapChange> {
    if changes.is_empty() {
        return Err(Error::InvalidInput(
            "name at least one role to map, e.g. --stripe-balance \"1010 Stripe Balance\" (closebook accounts map --help)".into(),
        ));
    }
    let by = signer_if_named(ws, secrets, as_person)?;
    Ok(accounts::set(ws, by.as_ref(), changes, ctx)?)
}
