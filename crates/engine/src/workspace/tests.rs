use std::path::Path;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::*;
use crate::secrets::MemorySecrets;

fn ctx() -> OpContext {
    OpContext::new("test:alice", Timestamp::from_second(1_790_000_000).unwrap())
}

fn options() -> InitOptions {
    InitOptions {
        name: "Acme Creators Inc".into(),
        mode: Mode::Test,
        timezone: "Europe/Paris".into(),
        demo: false,
    }
}

fn fresh(n: u8) -> FreshIdentity {
    FreshIdentity {
        workspace_id: format!("ws_test{n:02}"),
        key: DbKey::from_bytes([n; 32]),
    }
}

fn digest_dir(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                hex::encode(Sha256::digest(&bytes)),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn init_then_open_with_the_keychain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("acme");
    let secrets = MemorySecrets::new();
    let ws = Workspace::init(
        &dir,
        options(),
        &KeySource::Keychain,
        &secrets,
        fresh(1),
        &ctx(),
    )
    .unwrap();
    assert_eq!(ws.info().mode, Mode::Test);
    drop(ws);
    assert_eq!(
        secrets.names(),
        vec!["workspace:ws_test01:database-key".to_string()]
    );
    let ws = Workspace::open(&dir, &KeySource::Keychain, &secrets).unwrap();
    assert_eq!(ws.info().name, "Acme Creators Inc");
    assert_eq!(ws.info().timezone, "Europe/Paris");
    assert_eq!(ws.info().schema_version, schema::LATEST_VERSION);
    assert_eq!(ws.info().created_at, ctx().now);
    let audit = crate::audit::recent(ws.connection(), 10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "workspace.init");
    assert_eq!(audit[0].actor, "test:alice");
}

#[test]
fn pragmas_are_in_force_after_open() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    Workspace::init(
        tmp.path(),
        options(),
        &KeySource::Keychain,
        &secrets,
        fresh(2),
        &ctx(),
    )
    .unwrap();
    let ws = Workspace::open(tmp.path(), &KeySource::Keychain, &secrets).unwrap();
    let get = |p: &str| {
        ws.connection()
            .query_row(&format!("PRAGMA {p}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .unwrap()
    };
    assert_eq!(
        get("journal_mode"),
        rusqlite::types::Value::Text("wal".into())
    );
    assert_eq!(get("synchronous"), rusqlite::types::Value::Integer(2));
    assert_eq!(get("foreign_keys"), rusqlite::types::Value::Integer(1));
    assert_eq!(get("cache_size"), rusqlite::types::Value::Integer(-65536));
    assert_eq!(get("temp_store"), rusqlite::types::Value::Integer(2));
    // SQLCipher is really in use.
    let version: String = ws
        .connection()
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .unwrap();
    assert!(version.starts_with('4'), "{version}");
}

#[test]
fn wrong_key_is_refused_and_the_file_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let ws = Workspace::init(
        tmp.path(),
        options(),
        &KeySource::Keychain,
        &secrets,
        fresh(3),
        &ctx(),
    )
    .unwrap();
    drop(ws);
    let before = digest_dir(tmp.path());
    secrets
        .set("workspace:ws_test03:database-key", &hex::encode([9u8; 32]))
        .unwrap();
    let err = Workspace::open(tmp.path(), &KeySource::Keychain, &secrets).unwrap_err();
    assert!(matches!(err, WorkspaceError::WrongKey { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&tmp.path().display().to_string())
            && text.contains("in-memory test keychain"),
        "{text}"
    );
    assert!(
        !text.contains(&hex::encode([9u8; 32])),
        "the key must never appear in an error"
    );
    assert_eq!(digest_dir(tmp.path()), before);
}

#[test]
fn missing_and_malformed_keys_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    drop(
        Workspace::init(
            tmp.path(),
            options(),
            &KeySource::Keychain,
            &secrets,
            fresh(4),
            &ctx(),
        )
        .unwrap(),
    );
    let other = MemorySecrets::new();
    let err = Workspace::open(tmp.path(), &KeySource::Keychain, &other).unwrap_err();
    assert!(matches!(err, WorkspaceError::KeyMissing { .. }), "{err}");
    other
        .set("workspace:ws_test04:database-key", "not hex")
        .unwrap();
    assert!(matches!(
        Workspace::open(tmp.path(), &KeySource::Keychain, &other).unwrap_err(),
        WorkspaceError::KeyMalformed { .. }
    ));
    let err = Workspace::open(
        tmp.path(),
        &KeySource::File(tmp.path().join("nope.key")),
        &other,
    )
    .unwrap_err();
    assert!(err.to_string().contains("nope.key"), "{err}");
}

#[cfg(unix)]
#[test]
fn key_file_is_owner_only_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let key_path = tmp.path().join("acme.key");
    let secrets = MemorySecrets::new();
    let dir = tmp.path().join("ws");
    drop(
        Workspace::init(
            &dir,
            options(),
            &KeySource::File(key_path.clone()),
            &secrets,
            fresh(5),
            &ctx(),
        )
        .unwrap(),
    );
    assert!(
        secrets.names().is_empty(),
        "a key-file workspace touches no keychain"
    );
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    Workspace::open(&dir, &KeySource::File(key_path.clone()), &secrets).unwrap();
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = Workspace::open(&dir, &KeySource::File(key_path.clone()), &secrets).unwrap_err();
    assert!(
        matches!(err, WorkspaceError::KeyFilePermissions { mode: 0o640, .. }),
        "{err}"
    );
    // A second workspace may not reuse (overwrite) the key file.
    let err = Workspace::init(
        &tmp.path().join("ws2"),
        options(),
        &KeySource::File(key_path.clone()),
        &secrets,
        fresh(6),
        &ctx(),
    )
    .unwrap_err();
    assert!(matches!(err, WorkspaceError::KeyExists { .. }), "{err}");
    assert!(
        !tmp.path().join("ws2").exists(),
        "a failed init leaves no folder behind"
    );
}

#[test]
fn the_file_holds_no_plaintext() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let mut ws = Workspace::init(
        tmp.path(),
        options(),
        &KeySource::Keychain,
        &secrets,
        fresh(7),
        &ctx(),
    )
    .unwrap();
    ws.declare_unit("ai_credit", 0, "Seed 003 AI credits", &ctx())
        .unwrap();
    ws.connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(ws);
    let mut all = Vec::new();
    for name in [DATABASE_FILE, "closebook.db-wal"] {
        if let Ok(b) = std::fs::read(tmp.path().join(name)) {
            all.extend(b);
        }
    }
    assert!(all.len() > 4096);
    for needle in [
        "Acme Creators Inc",
        "Europe/Paris",
        "ai_credit",
        "SQLite format 3",
        "workspace_meta",
        "ledger_postings",
        "test:alice",
    ] {
        assert!(
            !all.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "plaintext `{needle}` found in the database file"
        );
    }
}

#[test]
fn migrations_apply_from_every_earlier_version() {
    // Every version a workspace can have been saved at (init always applies at least v1).
    for start in 1..schema::LATEST_VERSION {
        let tmp = tempfile::tempdir().unwrap();
        let secrets = MemorySecrets::new();
        drop(
            Workspace::init(
                tmp.path(),
                options(),
                &KeySource::Keychain,
                &secrets,
                fresh(8),
                &ctx(),
            )
            .unwrap(),
        );
        // Rebuild the database as it was at `start`: a fresh file migrated only that far,
        // holding the rows that version could hold.
        let db = tmp.path().join(DATABASE_FILE);
        for f in [DATABASE_FILE, "closebook.db-wal", "closebook.db-shm"] {
            let _ = std::fs::remove_file(tmp.path().join(f));
        }
        let conn = create_database(&db, &DbKey::from_bytes([8; 32])).unwrap();
        migrate_to(&conn, start).unwrap();
        {
            for (k, v) in [
                ("id", "ws_test08"),
                ("name", "Old"),
                ("mode", "test"),
                ("timezone", "UTC"),
                ("created_at", "1"),
            ] {
                conn.execute(
                    "INSERT INTO workspace_meta (key, value) VALUES (?1, ?2)",
                    [k, v],
                )
                .unwrap();
            }
            conn.execute("INSERT INTO imports (kind, source, rows_read, rows_added, rows_updated, at, actor) VALUES ('ledger', 'old.csv', 2, 2, 0, 1, 'x')", []).unwrap();
            conn.execute_batch(
                "INSERT INTO ledger_postings (posting_key, entry_id, account, amount_minor, currency, entry_type, livemode, created_at, origin, import_id)
                 VALUES ('line:e1:1', 'e1', 'assets:stripe:payments', 100, 'usd', 'subscription_payment', 0, 1, 'mirror', 1),
                        ('line:e1:2', 'e1', 'liabilities:subscribers:u1', -100, 'usd', 'subscription_payment', 0, 1, 'mirror', 1);",
            )
            .unwrap();
            if start >= 7 {
                // From version 7 every write keeps the ledger's totals with its postings.
                conn.execute_batch(
                    "INSERT INTO ledger_account_totals (account, currency, balance_minor, postings)
                     VALUES ('assets:stripe:payments', 'usd', 100, 1), ('liabilities:subscribers:u1', 'usd', -100, 1);
                     INSERT INTO ledger_type_totals (entry_type, postings) VALUES ('subscription_payment', 2);
                     UPDATE ledger_counts SET entries = 1;",
                )
                .unwrap();
            }
        }
        drop(conn);
        let ws = Workspace::open(tmp.path(), &KeySource::Keychain, &secrets)
            .unwrap_or_else(|e| panic!("from v{start}: {e}"));
        assert_eq!(
            ws.info().schema_version,
            schema::LATEST_VERSION,
            "from v{start}"
        );
        let n: i64 = ws
            .connection()
            .query_row("SELECT count(*) FROM ledger_postings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "rows survive migration from v{start}");
        // The kept ledger totals start from the postings already there.
        let proof =
            crate::ledger::prove_totals(&ws).unwrap_or_else(|e| panic!("from v{start}: {e}"));
        assert_eq!(
            (
                proof.postings,
                proof.entries,
                proof.account_balances,
                proof.entry_types
            ),
            (2, 1, 2, 1),
            "from v{start}"
        );
        let summary = crate::ledger::summary(&ws).unwrap();
        assert_eq!(
            (summary.postings, summary.entries, summary.accounts),
            (2, 1, 2)
        );
        // The latest tables exist and work.
        ws.connection()
            .execute_batch(
                "SELECT count(*) FROM audit_log; SELECT count(*) FROM platform_allocations;",
            )
            .unwrap();
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let ws = Workspace::init(
        tmp.path(),
        options(),
        &KeySource::Keychain,
        &secrets,
        fresh(9),
        &ctx(),
    )
    .unwrap();
    ws.connection()
        .execute_batch(&format!(
            "PRAGMA user_version = {};",
            schema::LATEST_VERSION + 1
        ))
        .unwrap();
    drop(ws);
    let err = Workspace::open(tmp.path(), &KeySource::Keychain, &secrets).unwrap_err();
    assert!(matches!(err, WorkspaceError::NewerSchema { .. }), "{err}");
}

#[test]
fn bad_init_settings_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let dir = tmp.path().join("x");
    let bad_tz = InitOptions {
        timezone: "Mars/Olympus".into(),
        ..options()
    };
    assert!(matches!(
        Workspace::init(
            &dir,
            bad_tz,
            &KeySource::Keychain,
            &secrets,
            fresh(10),
            &ctx()
        ),
        Err(WorkspaceError::BadTimeZone(_))
    ));
    let no_name = InitOptions {
        name: "  ".into(),
        ..options()
    };
    assert!(
        Workspace::init(
            &dir,
            no_name,
            &KeySource::Keychain,
            &secrets,
            fresh(10),
            &ctx()
        )
        .is_err()
    );
    assert!(!dir.exists());
    assert!(secrets.names().is_empty());
    // An occupied folder is refused and left as it was.
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    assert!(matches!(
        Workspace::init(
            &dir,
            options(),
            &KeySource::Keychain,
            &secrets,
            fresh(10),
            &ctx()
        ),
        Err(WorkspaceError::AlreadyExists { .. })
    ));
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(secrets.names().is_empty());
}

#[test]
fn several_workspaces_side_by_side_and_destroy_removes_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let a = Workspace::init(
        &tmp.path().join("a"),
        options(),
        &KeySource::Keychain,
        &secrets,
        fresh(11),
        &ctx(),
    )
    .unwrap();
    let live = InitOptions {
        mode: Mode::Live,
        name: "Beta".into(),
        ..options()
    };
    let b = Workspace::init(
        &tmp.path().join("b"),
        live,
        &KeySource::Keychain,
        &secrets,
        fresh(12),
        &ctx(),
    )
    .unwrap();
    assert_ne!(a.info().id, b.info().id);
    assert_eq!(secrets.names().len(), 2);
    drop(a);
    b.destroy(&KeySource::Keychain, &secrets).unwrap();
    assert!(!tmp.path().join("b").exists());
    assert_eq!(
        secrets.names(),
        vec!["workspace:ws_test11:database-key".to_string()]
    );
    assert_eq!(
        Workspace::open(&tmp.path().join("a"), &KeySource::Keychain, &secrets)
            .unwrap()
            .info()
            .mode,
        Mode::Test
    );
}

#[test]
fn declared_units_cannot_shadow_currencies() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let mut ws = Workspace::init(
        tmp.path(),
        options(),
        &KeySource::Keychain,
        &secrets,
        fresh(13),
        &ctx(),
    )
    .unwrap();
    assert!(ws.declare_unit("usd", 2, "", &ctx()).is_err());
    let sms = ws.declare_unit("sms_credit", 0, "SMS", &ctx()).unwrap();
    assert_eq!(
        ws.declare_unit("SMS_CREDIT", 0, "again", &ctx()).unwrap(),
        sms
    );
    assert!(ws.declare_unit("sms_credit", 2, "", &ctx()).is_err());
    drop(ws);
    let ws = Workspace::open(tmp.path(), &KeySource::Keychain, &secrets).unwrap();
    assert_eq!(ws.units().lookup("sms_credit").unwrap(), sms);
}

#[test]
fn not_a_workspace_and_damaged_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    assert!(matches!(
        Workspace::open(tmp.path(), &KeySource::Keychain, &secrets),
        Err(WorkspaceError::NotAWorkspace { .. })
    ));
    std::fs::write(tmp.path().join(MANIFEST_FILE), "{ not json").unwrap();
    assert!(matches!(
        Workspace::open(tmp.path(), &KeySource::Keychain, &secrets),
        Err(WorkspaceError::BadManifest { .. })
    ));
}
