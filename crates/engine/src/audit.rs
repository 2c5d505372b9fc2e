//! The append-only, hash-chained audit log: every action that changes a workspace or
//! produces a report is one record holding the hash of the record before it.
//!
//! Record hash = SHA-256 over the previous hash and the record's fields, each
//! length-prefixed so that no two different records serialize alike.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// What reading the audit log can fail with: a broken chain (named by its first broken
/// record), or the database.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit log is broken at record {seq}: {reason}")]
    Broken { seq: i64, reason: String },
    #[error("database error in the audit log: {0}")]
    Database(#[from] rusqlite::Error),
}

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

fn read_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
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
}

const COLUMNS: &str = "seq, at, actor, action, summary, payload_sha256, prev_hash, hash";

/// The most recent records, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditRecord>, AuditError> {
    list(
        conn,
        &AuditFilter {
            limit,
            ..AuditFilter::default()
        },
    )
}

/// Which records to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Actions starting with this (`stripe.`, `import.file`).
    pub action_prefix: Option<String>,
    pub actor: Option<String>,
    /// Case-insensitive words of the summary.
    pub text: Option<String>,
    /// Keyset paging: records before this sequence number.
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// Largest page of audit records one query returns.
pub const MAX_AUDIT_PAGE: u32 = 1_000;

pub fn list(conn: &Connection, f: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
    let mut conds = Vec::new();
    let mut params: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
    if let Some(p) = &f.action_prefix {
        conds.push("substr(action, 1, length(?)) = ?");
        params.push(Box::new(p.clone()));
        params.push(Box::new(p.clone()));
    }
    if let Some(a) = &f.actor {
        conds.push("actor = ?");
        params.push(Box::new(a.clone()));
    }
    if let Some(t) = &f.text {
        conds.push("instr(lower(summary), ?) > 0");
        params.push(Box::new(t.to_lowercase()));
    }
    if let Some(b) = f.before_seq {
        conds.push("seq < ?");
        params.push(Box::new(b));
    }
    let mut sql = format!("SELECT {COLUMNS} FROM audit_log");
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    params.push(Box::new(i64::from(f.limit.clamp(1, MAX_AUDIT_PAGE))));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        rusqlite::params_from_iter(params.iter().map(|b| b.as_ref())),
        read_record,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What `verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub records: u64,
    /// The hash of the last record: anyone who wrote it down can later prove nothing was
    /// appended out of order or cut off after it.
    pub head: Option<String>,
    pub broken: Option<Broken>,
    /// Records dated earlier than the record before them (at most
    /// [`MAX_CLOCK_NOTES`]): the computer's clock was moved back. Not a break — the
    /// chain orders records, never their times — but an auditor reading times should know.
    pub clock_went_back: Vec<i64>,
}

/// How many clock regressions `verify` names (a bound on its answer, not on what it checks).
pub const MAX_CLOCK_NOTES: usize = 100;

impl Verification {
    pub fn intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// The first record whose place in the chain does not hold.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

/// Walks the whole log in order and proves the chain intact, or names the first broken
/// record: a record whose contents no longer give its hash (edited), one that does not
/// point at the record before it (removed, inserted or reordered), or a gap in the
/// sequence. Removing records from the end leaves a shorter intact chain: compare the
/// head with one written down earlier (exports' manifests carry it).
pub fn verify(conn: &Connection) -> Result<Verification, AuditError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS_HASH.to_string();
    let mut records = 0u64;
    let mut broken = None;
    let mut clock_went_back = Vec::new();
    let mut prev_at: Option<Timestamp> = None;
    while let Some(row) = rows.next()? {
        let r = read_record(row)?;
        records += 1;
        if broken.is_some() {
            continue;
        }
        if prev_at.is_some_and(|p| r.at < p) && clock_went_back.len() < MAX_CLOCK_NOTES {
            clock_went_back.push(r.seq);
        }
        prev_at = Some(r.at);
        let reason = if r.seq != expected_seq {
            Some(if r.seq > expected_seq {
                format!(
                    "record {expected_seq} is missing: the log jumps from {} to {}",
                    expected_seq - 1,
                    r.seq
                )
            } else {
                format!("record {} appears twice or out of order", r.seq)
            })
        } else if r.prev_hash != prev {
            Some(format!(
                "record {} does not follow record {}: it was moved, or a record before it was removed or replaced",
                r.seq,
                r.seq - 1
            ))
        } else if record_hash(
            &r.prev_hash,
            r.seq,
            r.at.as_microsecond(),
            &r.actor,
            &r.action,
            &r.summary,
            &r.payload_sha256,
        ) != r.hash
        {
            Some(format!(
                "record {} was changed after it was written: its contents no longer give its hash",
                r.seq
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => {
                broken = Some(Broken {
                    seq: if r.seq > expected_seq {
                        expected_seq
                    } else {
                        r.seq
                    },
                    reason,
                })
            }
            None => {
                prev = r.hash.clone();
                expected_seq += 1;
            }
        }
    }
    Ok(Verification {
        records,
        head: if broken.is_none() && records > 0 {
            Some(prev)
        } else {
            None
        },
        broken,
        clock_went_back,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of `n` records in a migrated database whose append-only triggers have been
    /// dropped, as someone editing the decrypted file would.
    fn log(n: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::workspace::migrate(&conn).unwrap();
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        for i in 0..n {
            append(
                &conn,
                Timestamp::from_second(1_800_000_000 + i as i64).unwrap(),
                "os:alice",
                if i % 2 == 0 {
                    "import.file"
                } else {
                    "stripe.sync"
                },
                &format!("action number {i}"),
                &serde_json::json!({"i": i}),
            )
            .unwrap();
        }
        conn
    }

    #[test]
    fn an_untouched_log_verifies_with_its_head() {
        let conn = log(6);
        let v = verify(&conn).unwrap();
        assert!(v.intact());
        assert_eq!(v.records, 6);
        let last: String = conn
            .query_row("SELECT hash FROM audit_log WHERE seq = 6", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v.head.as_deref(), Some(last.as_str()));
        assert!(verify(&log(0)).unwrap().intact());
    }

    #[test]
    fn every_edit_is_caught_at_its_record() {
        for (column, value) in [
            ("actor", "'os:mallory'"),
            ("action", "'import.undo'"),
            ("summary", "'nothing happened'"),
            ("at", "at + 1"),
            ("payload_sha256", "'00'"),
            ("hash", "'ff'"),
        ] {
            let conn = log(6);
            conn.execute(
                &format!("UPDATE audit_log SET {column} = {value} WHERE seq = 4"),
                [],
            )
            .unwrap();
            let v = verify(&conn).unwrap();
            let b = v.broken.expect(column);
            assert_eq!(b.seq, 4, "{column}: {}", b.reason);
            assert!(b.reason.contains("changed"), "{column}: {}", b.reason);
        }
    }

    #[test]
    fn deleting_and_reordering_are_caught() {
        let conn = log(6);
        conn.execute("DELETE FROM audit_log WHERE seq = 3", [])
            .unwrap();
        let b = verify(&conn).unwrap().broken.unwrap();
        assert_eq!(b.seq, 3);
        assert!(b.reason.contains("missing"), "{}", b.reason);

        // Swap two records' places (renumbering them so the sequence looks whole).
        let conn = log(6);
        conn.execute_batch(
            "UPDATE audit_log SET seq = 100 WHERE seq = 2;
             UPDATE audit_log SET seq = 2 WHERE seq = 3;
             UPDATE audit_log SET seq = 3 WHERE seq = 100;",
        )
        .unwrap();
        let b = verify(&conn).unwrap().broken.unwrap();
        assert_eq!(b.seq, 2, "{}", b.reason);

        // Removing one record and renumbering the rest to close the gap.
        let conn = log(6);
        conn.execute_batch(
            "DELETE FROM audit_log WHERE seq = 2;
             UPDATE audit_log SET seq = seq - 1 WHERE seq > 2;",
        )
        .unwrap();
        let b = verify(&conn).unwrap().broken.unwrap();
        assert_eq!(b.seq, 2, "{}", b.reason);
    }

    #[test]
    fn the_list_filters_and_pages_newest_first() {
        let conn = log(10);
        let all = list(
            &conn,
            &AuditFilter {
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .unwrap();
        assert_eq!(
            all.iter().map(|r| r.seq).collect::<Vec<_>>(),
            (1..=10).rev().collect::<Vec<_>>()
        );
        let syncs = list(
            &conn,
            &AuditFilter {
                action_prefix: Some("stripe.".into()),
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .unwrap();
        assert_eq!(syncs.len(), 5);
        let page = list(
            &conn,
            &AuditFilter {
                before_seq: Some(4),
                limit: 2,
                text: Some("ACTION".into()),
                ..AuditFilter::default()
            },
        )
        .unwrap();
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3, 2]);
    }
}
