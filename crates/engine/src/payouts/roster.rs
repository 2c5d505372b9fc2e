//! The signed roster: every person on it is vouched for by a record an admin signed, and
//! the records form a chain whose first link is an admin who signed their own (the root).
//!
//! The `people` table is what the screens list; it can be written by whoever holds the
//! database key. What counts — who may prepare, approve or execute, with which key — is only
//! what [`Roster::load`] proves from the chain: each record's signature, its link to the one
//! before, its signer an admin vouched for earlier, and the `people` row agreeing with it. A
//! row no admin signed is listed as not vouched for and acts on nothing.
//!
//! Who is the root is trusted on first use: whoever holds the database key can replace the
//! whole chain with one they sign themselves, which then shows another root fingerprint
//! (SECURITY.md). People's own devices checking that fingerprint is the identities' work.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use super::PayoutError;
use super::people::{Role, Signer};

/// One person as the signed roster vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vouched {
    pub role: Role,
    pub public_key: String,
    /// The admin whose signature vouches for this person (themselves, for the root).
    pub vouched_by: String,
    pub vouched_at: Timestamp,
}

/// The roster as its signed records prove it.
#[derive(Debug, Default)]
pub struct Roster {
    people: BTreeMap<String, Vouched>,
    root: Option<String>,
    /// Names in the `people` table that no admin signed for.
    unvouched: Vec<String>,
}

impl Roster {
    /// Reads and proves the chain, then checks the `people` table against it.
    pub fn load(conn: &Connection, workspace_id: &str) -> Result<Roster, PayoutError> {
        let broken = |what: String| PayoutError::Integrity(format!("the roster: {what}"));
        let mut stmt = conn.prepare(
            "SELECT seq, kind, name, role, public_key, at, signed_by, prev, signature, hash
             FROM roster_records ORDER BY seq",
        )?;
        let records = stmt
            .query_map([], |r| {
                Ok(Record {
                    seq: r.get(0)?,
                    kind: r.get(1)?,
                    name: r.get(2)?,
                    role: r.get(3)?,
                    public_key: r.get(4)?,
                    at: r.get(5)?,
                    signed_by: r.get(6)?,
                    prev: r.get(7)?,
                    signature: r.get(8)?,
                    hash: r.get(9)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut roster = Roster::default();
        let mut prev = String::new();
        for (i, rec) in records.iter().enumerate() {
            let at = format!("record {}", rec.seq);
            if rec.seq != i as i64 + 1 {
                return Err(broken(format!(
                    "{at} is out of sequence (expected {}): a record was removed or inserted",
                    i + 1
                )));
            }
            if rec.prev != prev {
                return Err(broken(format!("{at} does not follow the record before it")));
            }
            if rec.kind != "add" {
                return Err(broken(format!("{at} is of an unknown kind `{}`", rec.kind)));
            }
            let role = Role::parse(&rec.role)
                .map_err(|_| broken(format!("{at} names an unknown role `{}`", rec.role)))?;
            let message = record_message(workspace_id, rec);
            if !super::people::verify(&rec.signed_by, message.as_bytes(), &rec.signature) {
                return Err(broken(format!(
                    "{at} ({}) is not signed by the key it names",
                    rec.name
                )));
            }
            if record_hash(&message, &rec.signature) != rec.hash {
                return Err(broken(format!("{at} does not match its hash")));
            }
            let vouched_by = if i == 0 {
                // The root: an admin who signed their own record.
                if role != Role::Admin || rec.signed_by != rec.public_key {
                    return Err(broken(format!(
                        "its first record ({}) is not an admin vouching for themselves",
                        rec.name
                    )));
                }
                roster.root = Some(rec.name.clone());
                rec.name.clone()
            } else {
                roster
                    .people
                    .iter()
                    .find(|(_, v)| v.role == Role::Admin && v.public_key == rec.signed_by)
                    .map(|(n, _)| n.clone())
                    .ok_or_else(|| {
                        broken(format!(
                            "{at} ({}) is signed by a key that is no admin's on the roster before it",
                            rec.name
                        ))
                    })?
            };
            if roster.people.contains_key(&rec.name)
                || roster
                    .people
                    .values()
                    .any(|v| v.public_key == rec.public_key)
            {
                return Err(broken(format!(
                    "{at} adds {} again, or their key twice",
                    rec.name
                )));
            }
            roster.people.insert(
                rec.name.clone(),
                Vouched {
                    role,
                    public_key: rec.public_key.clone(),
                    vouched_by,
                    vouched_at: Timestamp::from_microsecond(rec.at)
                        .map_err(|_| broken(format!("{at} has an impossible time")))?,
                },
            );
            prev = rec.hash.clone();
        }
        // The table everyone lists agrees with what was signed.
        let mut stmt = conn.prepare("SELECT name, role, public_key FROM people ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (name, role, key) in &rows {
            match roster.people.get(name) {
                Some(v) if v.role.as_str() == role && &v.public_key == key => {}
                Some(_) => {
                    return Err(broken(format!(
                        "{name}'s role or key differs from the record an admin signed"
                    )));
                }
                None => roster.unvouched.push(name.clone()),
            }
        }
        if let Some(missing) = roster
            .people
            .keys()
            .find(|n| !rows.iter().any(|(name, _, _)| name == *n))
        {
            return Err(broken(format!(
                "{missing} has a signed record but is missing from the roster"
            )));
        }
        Ok(roster)
    }

    /// The person as the signed roster vouches for them; `None` if no admin signed for them.
    pub fn vouched(&self, name: &str) -> Option<&Vouched> {
        self.people.get(name)
    }

    /// The admin whose self-signed record begins the chain.
    pub fn root(&self) -> Option<&str> {
        self.root.as_deref()
    }

    pub fn is_rooted(&self) -> bool {
        self.root.is_some()
    }

    pub fn unvouched(&self) -> &[String] {
        &self.unvouched
    }
}

struct Record {
    seq: i64,
    kind: String,
    name: String,
    role: String,
    public_key: String,
    at: i64,
    signed_by: String,
    prev: String,
    signature: String,
    hash: String,
}

/// What an admin signs: every field, one per line (names hold no line break), bound to the
/// workspace and to the record before it.
fn record_message(workspace_id: &str, r: &Record) -> String {
    format!(
        "closebook roster record 1\nworkspace {workspace_id}\nseq {}\nprev {}\nkind {}\nname {}\nrole {}\nkey {}\nat {}\nby {}",
        r.seq, r.prev, r.kind, r.name, r.role, r.public_key, r.at, r.signed_by
    )
}

fn record_hash(message: &str, signature: &str) -> String {
    hex::encode(Sha256::digest(format!("{message}\nsignature {signature}")))
}

/// Appends the record vouching for `name` (already in `people`), signed by `admin`, inside
/// the caller's transaction. The caller checks that `admin` may vouch.
pub(crate) fn append(
    tx: &Connection,
    workspace_id: &str,
    name: &str,
    role: Role,
    public_key: &str,
    admin: &Signer,
    at: Timestamp,
) -> Result<(), PayoutError> {
    let (seq, prev): (i64, String) = tx.query_row(
        "SELECT COUNT(*) + 1, COALESCE((SELECT hash FROM roster_records ORDER BY seq DESC LIMIT 1), '')
         FROM roster_records",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut rec = Record {
        seq,
        kind: "add".into(),
        name: name.into(),
        role: role.as_str().into(),
        public_key: public_key.into(),
        at: at.as_microsecond(),
        signed_by: admin.person.public_key.clone(),
        prev,
        signature: String::new(),
        hash: String::new(),
    };
    let message = record_message(workspace_id, &rec);
    rec.signature = admin.sign(message.as_bytes());
    rec.hash = record_hash(&message, &rec.signature);
    tx.execute(
        "INSERT INTO roster_records (seq, kind, name, role, public_key, at, signed_by, prev, signature, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            rec.seq,
            rec.kind,
            rec.name,
            rec.role,
            rec.public_key,
            rec.at,
            rec.signed_by,
            rec.prev,
            rec.signature,
            rec.hash
        ],
    )?;
    Ok(())
}
