//! The roster: the people who prepare, approve, audit and administer payout batches, each
//! with an Ed25519 key pair. The public half is in the workspace; the private half only in
//! that person's own OS keychain. Acting "as" someone means holding their private key:
//! the engine loads it, checks it against the roster, and signs with it. Only people an
//! admin vouched for in the signed roster (`roster`) may act.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::PayoutError;
use super::roster::{self, Roster};
use crate::secrets::SecretStore;
use crate::workspace::Workspace;
use crate::{OpContext, audit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Preparer,
    Approver,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Preparer, Role::Approver, Role::Auditor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Preparer => "preparer",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, PayoutError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                PayoutError::BadInput(format!(
                    "`{s}` is not a role: preparer, approver, auditor or admin"
                ))
            })
    }
}

/// What a role may do. Enforced here, in the engine, whatever the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Prepare,
    Approve,
    Reject,
    Execute,
    ManagePeople,
    ChangeSettings,
    MapAccounts,
}

impl Action {
    fn allowed(self, role: Role) -> bool {
        matches!(
            (self, role),
            (_, Role::Admin)
                | (Action::Prepare, Role::Preparer)
                | (Action::Execute, Role::Preparer)
                | (Action::Approve | Action::Reject, Role::Approver)
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Action::Prepare => "prepare payout batches",
            Action::Approve => "approve payout batches",
            Action::Reject => "reject payout batches",
            Action::Execute => "execute payout batches",
            Action::ManagePeople => "change the roster",
            Action::ChangeSettings => "change the payout settings",
            Action::MapAccounts => "change the account map",
        }
    }
}

/// One person on the roster.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub name: String,
    pub role: Role,
    /// Hex of the 32-byte Ed25519 public key.
    pub public_key: String,
    pub added_at: Timestamp,
    pub added_by: String,
    /// Whether this computer's keychain holds the private key (who can act here).
    pub key_here: bool,
    /// The admin whose signed record vouches for this person (themselves, for the roster's
    /// root); `None` when no admin has: such a person acts on nothing.
    pub vouched_by: Option<String>,
    /// The public key's fingerprint, short enough to read aloud ([`fingerprint`]).
    pub fingerprint: String,
}

/// A person whose private key was found: the only way to act as them.
pub struct Signer {
    pub person: Person,
    key: SigningKey,
    /// Whether the signed roster had a root when this person was authenticated.
    roster_rooted: bool,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}, <private key redacted>)", self.person.name)
    }
}

impl Signer {
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.key.sign(message).to_bytes())
    }

    /// Refuses unless the person's role allows `action` and an admin vouched for them in
    /// the signed roster. One exception: while the roster has no root yet (a workspace from
    /// before signed rosters), an admin may vouch for people, themselves first.
    pub fn require(&self, action: Action) -> Result<(), PayoutError> {
        if !action.allowed(self.person.role) {
            return Err(PayoutError::Forbidden(format!(
                "{} is {} {}, and only {} may {}",
                self.person.name,
                article(self.person.role),
                self.person.role.as_str(),
                allowed_roles(action),
                action.describe()
            )));
        }
        let rooting = action == Action::ManagePeople && !self.roster_rooted;
        if self.person.vouched_by.is_none() && !rooting {
            return Err(PayoutError::Forbidden(format!(
                "{} is on the roster, but no admin has signed for them, so they cannot {}: an admin vouches for them (`closebook people vouch \"{}\" --as ADMIN`, or People in the desktop)",
                self.person.name,
                action.describe(),
                self.person.name
            )));
        }
        Ok(())
    }

    /// The audit actor: the roster person.
    pub fn actor(&self) -> String {
        format!("person:{}", self.person.name)
    }
}

fn article(r: Role) -> &'static str {
    match r {
        Role::Approver | Role::Auditor | Role::Admin => "an",
        Role::Preparer => "a",
    }
}

fn allowed_roles(a: Action) -> &'static str {
    match a {
        Action::Prepare | Action::Execute => "preparers and admins",
        Action::Approve | Action::Reject => "approvers and admins",
        Action::ManagePeople | Action::ChangeSettings | Action::MapAccounts => "admins",
    }
}

/// Checks a signature made by the holder of `public_key_hex`.
pub fn verify(public_key_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let Ok(pk) = hex::decode(public_key_hex) else {
        return false;
    };
    let Ok(pk) = <[u8; 32]>::try_from(pk.as_slice()) else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(sig.as_slice()) else {
        return false;
    };
    vk.verify_strict(message, &Signature::from_bytes(&sig))
        .is_ok()
}

/// Who does an admin's action: the signer, who must be allowed it; or, while the roster
/// has no admin yet (setting a workspace up), whoever runs the program. Once there is an
/// admin (in the table or, however the table was edited, in the signed roster), no one
/// acts anonymously.
pub(crate) fn admin_actor(
    ws: &Workspace,
    by: Option<&Signer>,
    action: Action,
    ctx: &OpContext,
) -> Result<String, PayoutError> {
    if let Some(s) = by {
        s.require(action)?;
        return Ok(s.actor());
    }
    let has_admin: bool = ws.conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM people WHERE role = 'admin')
             OR EXISTS (SELECT 1 FROM roster_records)",
        [],
        |r| r.get(0),
    )?;
    if has_admin {
        return Err(PayoutError::Forbidden(format!(
            "the roster has an admin: only an admin may {} (act as that admin: --as NAME)",
            action.describe()
        )));
    }
    Ok(ctx.actor.clone())
}

/// The keychain entry of a person's private key.
pub fn keychain_name(workspace_id: &str, public_key_hex: &str) -> String {
    crate::secrets::entries::signing_key(workspace_id, public_key_hex)
}

/// Longest name accepted: names appear in reports, signatures and file names.
pub const MAX_NAME_LEN: usize = 64;

/// A person's name, trimmed, or why it is not usable (the one rule for names, on the
/// roster and on identity cards).
pub(crate) fn usable_name(name: &str) -> Result<&str, String> {
    let n = name.trim();
    if n.is_empty()
        || n.chars().count() > MAX_NAME_LEN
        || !n
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '\''))
    {
        return Err(format!(
            "`{name}` is not a usable name: 1 to {MAX_NAME_LEN} letters, digits, spaces, dots, dashes, underscores or apostrophes"
        ));
    }
    Ok(n)
}

fn check_name(name: &str) -> Result<&str, PayoutError> {
    usable_name(name).map_err(PayoutError::BadInput)
}

fn read_person(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// A public key's fingerprint: the first 64 bits of its SHA-256, as four groups of four
/// hex digits — short enough to read aloud and compare over a call.
pub fn fingerprint(public_key_hex: &str) -> String {
    use sha2::{Digest, Sha256};
    let bytes = hex::decode(public_key_hex).unwrap_or_else(|_| public_key_hex.as_bytes().to_vec());
    let digest = hex::encode_upper(&Sha256::digest(&bytes)[..8]);
    digest
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn to_person(
    ws: &Workspace,
    secrets: Option<&dyn SecretStore>,
    roster: &Roster,
    (name, role, public_key, added_at, added_by): (String, String, String, i64, String),
) -> Result<Person, PayoutError> {
    let role = Role::parse(&role)
        .map_err(|_| PayoutError::Integrity(format!("{name} has an unknown role `{role}`")))?;
    let key_here = match secrets {
        Some(s) => s
            .get(&keychain_name(&ws.info().id, &public_key))
            .ok()
            .flatten()
            .is_some(),
        None => false,
    };
    Ok(Person {
        vouched_by: roster.vouched(&name).map(|v| v.vouched_by.clone()),
        fingerprint: fingerprint(&public_key),
        name,
        role,
        public_key,
        added_at: Timestamp::from_microsecond(added_at).unwrap_or(Timestamp::UNIX_EPOCH),
        added_by,
        key_here,
    })
}

/// The signed roster, proven ([`Roster::load`]).
pub fn signed_roster(ws: &Workspace) -> Result<Roster, PayoutError> {
    Roster::load(&ws.conn, &ws.info().id)
}

/// The roster, by name, each with who vouched for them (the signed roster is proven first:
/// a tampered one is an error, not a list). With `secrets`, each person says whether their
/// key is here.
pub fn list(ws: &Workspace, secrets: Option<&dyn SecretStore>) -> Result<Vec<Person>, PayoutError> {
    let roster = signed_roster(ws)?;
    let mut stmt = ws
        .conn
        .prepare("SELECT name, role, public_key, added_at, added_by FROM people ORDER BY name")?;
    let rows = stmt
        .query_map([], read_person)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|r| to_person(ws, secrets, &roster, r))
        .collect()
}

pub fn get(ws: &Workspace, name: &str) -> Result<Option<Person>, PayoutError> {
    get_in(ws, &signed_roster(ws)?, name)
}

fn get_in(ws: &Workspace, roster: &Roster, name: &str) -> Result<Option<Person>, PayoutError> {
    let row = ws
        .conn
        .query_row(
            "SELECT name, role, public_key, added_at, added_by FROM people WHERE name = ?1",
            [name.trim()],
            read_person,
        )
        .optional()?;
    row.map(|r| to_person(ws, None, roster, r)).transpose()
}

/// Acting as `name`: their private key must be in this computer's keychain and match the
/// roster's public key.
pub fn authenticate(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    name: &str,
) -> Result<Signer, PayoutError> {
    let roster = signed_roster(ws)?;
    let person = get_in(ws, &roster, name)?.ok_or_else(|| {
        PayoutError::NotFound(format!(
            "`{}` is not on the roster: add them with `closebook people add`",
            name.trim()
        ))
    })?;
    let stored = secrets
        .get(&keychain_name(&ws.info().id, &person.public_key))?
        .ok_or_else(|| {
            PayoutError::Forbidden(format!(
                "{}'s signing key is not in this computer's keychain: act as {} on their own computer (approvals travel as files: `payouts export-approval`)",
                person.name, person.name
            ))
        })?;
    let seed = hex::decode(stored.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| {
            PayoutError::Forbidden(format!(
                "{}'s signing key in the keychain is damaged",
                person.name
            ))
        })?;
    let key = SigningKey::from_bytes(&seed);
    if hex::encode(key.verifying_key().to_bytes()) != person.public_key {
        return Err(PayoutError::Forbidden(format!(
            "the signing key in the keychain does not match {}'s public key on the roster",
            person.name
        )));
    }
    Ok(Signer {
        person,
        key,
        roster_rooted: roster.is_rooted(),
    })
}

/// Adds a person with a new key pair made from `seed` (32 random bytes, passed in): the
/// private key goes to the keychain, the public key to the roster. Once the roster has an
/// admin, only an admin (`by`) may add people, and signs the record that vouches for them.
/// The first people are added by whoever sets the workspace up; the first admin added so
/// roots the signed roster with their own record and vouches for everyone added before.
pub fn add(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    name: &str,
    role: Role,
    seed: [u8; 32],
    by: Option<&Signer>,
    ctx: &OpContext,
) -> Result<Person, PayoutError> {
    let name = check_name(name)?;
    let actor = admin_actor(ws, by, Action::ManagePeople, ctx)?;
    let roster = signed_roster(ws)?;
    if get_in(ws, &roster, name)?.is_some() {
        return Err(PayoutError::BadInput(format!(
            "{name} is already on the roster"
        )));
    }
    let key = SigningKey::from_bytes(&seed);
    let public_key = hex::encode(key.verifying_key().to_bytes());
    let entry = keychain_name(&ws.info().id, &public_key);
    secrets.set(&entry, &hex::encode(seed))?;
    let ws_id = ws.info().id.clone();
    let write = || -> Result<Option<String>, PayoutError> {
        let tx = ws.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO people (name, role, public_key, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, role.as_str(), public_key, ctx.now.as_microsecond(), actor],
        )?;
        let vouched_by = match (by, role) {
            (Some(admin), _) => {
                if !roster.is_rooted() {
                    // An admin from before signed rosters roots it with their own record.
                    root(&tx, &ws_id, admin, ctx.now)?;
                }
                roster::append(&tx, &ws_id, name, role, &public_key, admin, ctx.now)?;
                Some(admin.person.name.clone())
            }
            (None, Role::Admin) => {
                // Setting up: the first admin signs for themselves, then for everyone added
                // before them (by whoever set the workspace up, as the audit log shows).
                let first = Signer {
                    person: Person {
                        name: name.to_string(),
                        role,
                        public_key: public_key.clone(),
                        added_at: ctx.now,
                        added_by: actor.clone(),
                        key_here: true,
                        vouched_by: None,
                        fingerprint: fingerprint(&public_key),
                    },
                    key: key.clone(),
                    roster_rooted: false,
                };
                root(&tx, &ws_id, &first, ctx.now)?;
                for (n, r, k) in unvouched_rows(&tx, &roster, &[])? {
                    roster::append(&tx, &ws_id, &n, r, &k, &first, ctx.now)?;
                }
                Some(name.to_string())
            }
            (None, _) => None,
        };
        audit::append(
            &tx,
            ctx.now,
            &actor,
            "people.add",
            &format!("added {name} to the roster as {}", role.as_str()),
            &serde_json::json!({"name": name, "role": role.as_str(), "public_key": public_key, "vouched_by": vouched_by}),
        )?;
        tx.commit()?;
        Ok(vouched_by)
    };
    match write() {
        Ok(vouched_by) => Ok(Person {
            name: name.to_string(),
            role,
            fingerprint: fingerprint(&public_key),
            public_key,
            added_at: ctx.now,
            added_by: actor,
            key_here: true,
            vouched_by,
        }),
        Err(e) => {
            // Nothing half-written: the key leaves the keychain again.
            let _ = secrets.delete(&entry);
            Err(e)
        }
    }
}

/// The admin's own record, first in the chain.
fn root(
    tx: &rusqlite::Connection,
    ws_id: &str,
    admin: &Signer,
    at: Timestamp,
) -> Result<(), PayoutError> {
    let p = &admin.person;
    roster::append(tx, ws_id, &p.name, p.role, &p.public_key, admin, at)
}

/// The `people` rows no admin has signed for (all of them, or only those `named`), with
/// role and key.
fn unvouched_rows(
    conn: &rusqlite::Connection,
    roster: &Roster,
    named: &[&str],
) -> Result<Vec<(String, Role, String)>, PayoutError> {
    let mut out = Vec::new();
    for n in roster.unvouched() {
        if !named.is_empty() && !named.contains(&n.as_str()) {
            continue;
        }
        let (role, key): (String, String) = conn.query_row(
            "SELECT role, public_key FROM people WHERE name = ?1",
            [n],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let role = Role::parse(&role)
            .map_err(|_| PayoutError::Integrity(format!("{n} has an unknown role `{role}`")))?;
        out.push((n.clone(), role, key));
    }
    Ok(out)
}

/// An admin vouches for people already listed whom no admin has signed for (people added
/// before signed rosters, or before the admin). Each is named: the admin confirms them one
/// by one, having compared their fingerprints. An admin of a roster without a root yet
/// becomes its root. People already vouched for are left as they are (nothing to do is
/// success); a name not on the roster is an error and nothing is written.
pub fn vouch(
    ws: &Workspace,
    admin: &Signer,
    names: &[String],
    ctx: &OpContext,
) -> Result<Vec<String>, PayoutError> {
    admin.require(Action::ManagePeople)?;
    let roster = signed_roster(ws)?;
    let mut wanted: Vec<&str> = Vec::new();
    for n in names.iter().map(|n| n.trim()) {
        if get_in(ws, &roster, n)?.is_none() {
            return Err(PayoutError::NotFound(format!("`{n}` is not on the roster")));
        }
        if !wanted.contains(&n) {
            wanted.push(n);
        }
    }
    if wanted.is_empty() {
        return Err(PayoutError::BadInput("name the people to vouch for".into()));
    }
    let ws_id = ws.info().id.clone();
    let tx = ws.conn.unchecked_transaction()?;
    let mut done = Vec::new();
    if !roster.is_rooted() {
        root(&tx, &ws_id, admin, ctx.now)?;
        done.push(admin.person.name.clone());
    }
    for (n, r, k) in unvouched_rows(&tx, &roster, &wanted)? {
        if n == admin.person.name {
            continue;
        }
        roster::append(&tx, &ws_id, &n, r, &k, admin, ctx.now)?;
        done.push(n);
    }
    if roster.is_rooted() && done.is_empty() {
        return Ok(done);
    }
    done.sort();
    audit::append(
        &tx,
        ctx.now,
        &admin.actor(),
        "people.vouch",
        &format!(
            "{} vouched for {} in the signed roster",
            admin.person.name,
            done.join(", ")
        ),
        &serde_json::json!({"vouched": done, "by": admin.person.public_key}),
    )?;
    tx.commit()?;
    Ok(done)
}

/// Fresh key material for [`add`] from the OS's random source.
pub fn fresh_seed() -> Result<[u8; 32], PayoutError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| PayoutError::BadInput(format!("no randomness from the OS: {e}")))?;
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_key_and_message() {
        let k = SigningKey::from_bytes(&[7u8; 32]);
        let pk = hex::encode(k.verifying_key().to_bytes());
        let sig = hex::encode(k.sign(b"batch digest").to_bytes());
        assert!(verify(&pk, b"batch digest", &sig));
        assert!(!verify(&pk, b"batch digesT", &sig));
        let other = hex::encode(
            SigningKey::from_bytes(&[8u8; 32])
                .verifying_key()
                .to_bytes(),
        );
        assert!(!verify(&other, b"batch digest", &sig));
        assert!(!verify("zz", b"batch digest", &sig));
        assert!(!verify(&pk, b"batch digest", "00"));
    }

    #[test]
    fn roles_allow_exactly_their_actions() {
        use Action::*;
        assert!(Prepare.allowed(Role::Preparer) && Execute.allowed(Role::Preparer));
        assert!(!Approve.allowed(Role::Preparer) && !Reject.allowed(Role::Preparer));
        assert!(Approve.allowed(Role::Approver) && Reject.allowed(Role::Approver));
        assert!(!Prepare.allowed(Role::Approver) && !Execute.allowed(Role::Approver));
        for a in [
            Prepare,
            Approve,
            Reject,
            Execute,
            ManagePeople,
            ChangeSettings,
            MapAccounts,
        ] {
            assert!(!a.allowed(Role::Auditor), "{a:?}");
            assert!(a.allowed(Role::Admin), "{a:?}");
        }
        for r in [Role::Preparer, Role::Approver] {
            assert!(
                !ManagePeople.allowed(r) && !ChangeSettings.allowed(r),
                "{r:?}"
            );
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("Dana O'Neil").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a:b").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
