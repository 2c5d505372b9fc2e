//! The roster: add a person, list it, vouch for people no admin has signed for.

use closebook_engine::OpContext;
use closebook_engine::payouts::people::{self, Person, Role, Signer};
use closebook_engine::secrets::SecretStore;
use closebook_engine::workspace::Workspace;

use super::Result;

/// The named person, proven by their key on this computer; nobody for no (or a blank) name.
pub fn signer_if_named(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    name: Option<&str>,
) -> Result<Option<Signer>> {
    name.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|n| people::authenticate(ws, secrets, n).map_err(Into::into))
        .transpose()
}

/// The named person, proven by their key on this computer.
pub fn signer(ws: &Workspace, secrets: &dyn SecretStore, name: &str) -> Result<Signer> {
    Ok(people::authenticate(ws, secrets, name)?)
}

/// Adds a person with a fresh key pair (its private half in this computer's keychain), as
/// the admin `as_person` once the roster has one.
pub fn add(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    name: &str,
    role: &str,
    as_person: Option<&str>,
    ctx: &OpContext,
) -> Result<Person> {
    let role = Role::parse(role.trim())?;
    let by = signer_if_named(ws, secrets, as_person)?;
    let seed = people::fresh_seed()?;
    Ok(people::add(
        ws,
        secrets,
        name,
        role,
        seed,
        by.as_ref(),
        ctx,
    )?)
}

/// The roster with whether each key is here, and the admin who roots the signed roster.
pub fn list(ws: &Workspace, secrets: &dyn SecretStore) -> Result<(Vec<Person>, Option<String>)> {
    let listed = people::list(ws, Some(secrets))?;
    let root = people::signed_roster(ws)?.root().map(String::from);
    Ok((listed, root))
}

/// The admin `as_person` vouches for the people named; returns who vouched and for whom.
pub fn vouch(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    names: &[String],
    as_person: &str,
    ctx: &OpContext,
) -> Result<(String, Vec<String>)> {
    let admin = signer(ws, secrets, as_person)?;
    let done = people::vouch(ws, &admin, names, ctx)?;
    Ok((admin.person.name, done))
}
