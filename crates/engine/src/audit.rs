//! The append-only, hash-chained audit log: every action that changes a workspace or
//! produces a report is one record holding the hash of the record before it.
//!
//! Record hash = SHA-256 over the previous hash and the record's fields, each
//! length-prefixed so that no two different records serialize alike.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends one record inside the caller's transaction, so the record commits with the
/// change it describes or not at all. `payload` is hashed, not stored: it may be large.
pub fn append(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    action: &str,
    summary: &str,
    payload: &serde_json::Value,
) -> rusqlite::Result<i64> {
    let prev: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match prev {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let payload_sha256 = hex::encode(Sha256::digest(payload.to_string().as_bytes()));
    let hash = record_hash(
        &prev_hash,
        seq,
        at.as_microsecond(),
        actor,
        action,
        summary,
        &payload_sha256,
    );
    conn.execute(
        "INSERT INTO audit_log (seq, at, actor, action, summary, payload_sha256, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq,
            at.as_microsecond(),
            actor,
            action,
            summary,
            payload_sha256,
            prev_hash,
            hash
        ],
    )?;
    Ok(seq)
}

pub(crate) fn record_hash(
    prev_hash: &str,
    seq: i64,
    at_us: i64,
    actor: &str,
    action: &str,
    summary: &str,
    payload_sha256: &str,
) -> String {
    let mut h = Sha256::new();
    for field in [
        prev_hash,
        &seq.to_string(),
        &at_us.to_string(),
        actor,
        action,
        summary,
        payload_sha256,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// One audit record as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub summary: String,
    pub payload_sha256: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The most recent records, newest first.
pub fn recent(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<AuditRecord>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, summary, payload_sha256, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(AuditRecord {
            seq: r.get(0)?,
            at: Timestamp::from_microsecond(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH),
            actor: r.get(2)?,
            action: r.get(3)?,
            summary: r.get(4)?,
            payload_sha256: r.get(5)?,
            prev_hash: r.get(6)?,
            hash: r.get(7)?,
        })
    })?;
    rows.collect()
}
