//! The audit log's chain, checked by `closebook audit verify` on a real encrypted workspace
//! after someone with the key edits, deletes or reorders records in the decrypted file.

mod common;

use std::path::Path;

use common::cli::CliWorkspace;

/// A workspace with a few audited actions, its key in a key file.
fn workspace(dir: &Path) -> CliWorkspace {
    let ws = CliWorkspace::init(dir, "ws");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example");
    for kind in ["accounts", "ledger", "balances", "allocations"] {
        ws.ok(&[
            "import",
            kind,
            fixtures.join(format!("{kind}.csv")).to_str().unwrap(),
        ]);
    }
    ws
}

fn verify(ws: &CliWorkspace) -> (bool, serde_json::Value, String) {
    let out = ws.run(&["--json", "audit", "verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // One JSON document on stdout: the verification, or `{"error": …}` on failure.
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (
        out.status.success(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Opens the decrypted database as an attacker holding the key would, with the
/// append-only triggers dropped.
fn tamper(ws: &CliWorkspace, sql: &str) {
    let hex = std::fs::read_to_string(&ws.key).unwrap();
    let conn = rusqlite::Connection::open(ws.dir.join("closebook.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex.trim()))
        .unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn an_untouched_log_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    let (ok, doc, _) = verify(&ws);
    assert!(ok);
    assert_eq!(doc["records"], 5, "init and four imports: {doc}");
    assert_eq!(doc["head"].as_str().unwrap().len(), 64);
}

#[test]
fn edits_deletions_and_reordering_are_each_caught_and_named() {
    for (sql, seq) in [
        (
            "UPDATE audit_log SET summary = 'nothing to see' WHERE seq = 3;",
            3,
        ),
        (
            "UPDATE audit_log SET actor = 'os:mallory' WHERE seq = 2;",
            2,
        ),
        ("DELETE FROM audit_log WHERE seq = 4;", 4),
        (
            "UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 100;",
            2,
        ),
        (
            "DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = seq - 1 WHERE seq > 2;",
            2,
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let ws = workspace(tmp.path());
        tamper(&ws, sql);
        let (ok, doc, stderr) = verify(&ws);
        assert!(!ok, "{sql}: tampering went unnoticed");
        assert_eq!(doc["error"]["code"], "audit_broken", "{sql}: {doc}");
        assert!(
            stderr.contains(&format!("broken at record {seq}")),
            "{sql}: {stderr}"
        );
    }
}
