//! Shared set-up for the integration tests: throw-away workspaces with fixed time and
//! identity, so results are deterministic.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use closebook_engine::OpContext;
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::{DbKey, FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use jiff::Timestamp;

pub struct TestWorkspace {
    pub ws: Workspace,
    pub dir: tempfile::TempDir,
    pub secrets: MemorySecrets,
}

pub fn ctx() -> OpContext {
    OpContext::new(
        "test:runner",
        Timestamp::from_second(1_793_000_000).unwrap(),
    )
}

pub fn workspace(mode: Mode) -> TestWorkspace {
    workspace_tz(mode, "UTC")
}

pub fn workspace_tz(mode: Mode, tz: &str) -> TestWorkspace {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let ws = Workspace::init(
        &dir.path().join("ws"),
        InitOptions {
            name: "Test Platform".into(),
            mode,
            timezone: tz.into(),
            demo: false,
        },
        &KeySource::Keychain,
        &secrets,
        FreshIdentity {
            workspace_id: "ws_integration".into(),
            key: DbKey::from_bytes([42; 32]),
        },
        &ctx(),
    )
    .unwrap();
    TestWorkspace { ws, dir, secrets }
}

pub fn count(ws: &Workspace, table: &str) -> i64 {
    ws.connection()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Row counts of every table an import may write, to prove nothing was half-written, and
/// the ledger's kept totals proven against its postings (it panics when they disagree):
/// with the postings as they were, totals that agree with them are the totals as they were.
pub fn footprint(ws: &Workspace) -> Vec<(String, i64)> {
    let proof = closebook_engine::ledger::prove_totals(ws)
        .unwrap_or_else(|e| panic!("the kept ledger totals: {e}"));
    let mut rows: Vec<(String, i64)> = [
        "ledger_postings",
        "imports",
        "audit_log",
        "platform_balances",
        "platform_allocations",
        "platform_connected_accounts",
        "platform_webhook_events",
        "platform_withdrawals",
        "sync_cursors",
        "ledger_account_totals",
    ]
    .iter()
    .map(|t| (t.to_string(), count(ws, t)))
    .collect();
    rows.push(("entries (kept)".into(), proof.entries as i64));
    rows
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub mod cli;
pub mod pg;
pub mod seed;

/// A digest of everything mirrored, independent of arrival order and import ids: two
/// workspaces that mirror the same platform rows have the same digest.
pub fn mirror_digest(ws: &Workspace) -> String {
    use sha2::{Digest, Sha256};
    closebook_engine::ledger::prove_totals(ws)
        .unwrap_or_else(|e| panic!("the kept ledger totals: {e}"));
    let queries = [
        "SELECT posting_key, platform_id, entry_id, account, amount_minor, currency, entry_type, stripe_object_id, event_id, idempotency_key, livemode, created_at, description, origin FROM ledger_postings ORDER BY posting_key",
        "SELECT user_id, month, total_usd_cents, allocated_usd_cents, updated_at FROM platform_balances ORDER BY user_id, month",
        "SELECT id, user_id, page_id, author_id, amount_cents, month, updated_at FROM platform_allocations ORDER BY id",
        "SELECT author_id, stripe_account_id, created_at FROM platform_connected_accounts ORDER BY author_id",
        "SELECT event_id, type, status, received_at, processed_at, error FROM platform_webhook_events ORDER BY event_id",
        "SELECT id, user_id, amount_minor, currency, status, requested_at, stripe_transfer_id FROM platform_withdrawals ORDER BY id",
    ];
    let mut h = Sha256::new();
    for q in queries {
        let mut stmt = ws.connection().prepare(q).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i).unwrap();
                h.update(format!("{v:?}|").as_bytes());
            }
            h.update(b"\n");
        }
        h.update(b"--\n");
    }
    hex::encode(h.finalize())
}

/// Every text value of every table, decrypted: for searching a workspace for what must not
/// be in it (secrets).
pub fn dump_text(ws: &Workspace) -> String {
    let c = ws.connection();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = String::new();
    for t in tables {
        let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                if let Ok(rusqlite::types::ValueRef::Text(s)) = r.get_ref(i) {
                    out.push_str(&String::from_utf8_lossy(s));
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Every file below `dir`, recursively (to look for secrets byte for byte).
pub fn files_below(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_below(&p));
        } else {
            out.push(p);
        }
    }
    out
}
