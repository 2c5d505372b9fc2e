//! A hostile environment: no keychain, a full disk, a read-only workspace, a second process
//! on the same workspace, a clock moved backwards. Each gets a clear error (or, where the
//! work can go on safely, goes on), never a damaged workspace or a half-written result.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use closebook_engine::audit;
use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::workspace::Mode;
use common::cli::CliWorkspace as Ws;

const POSTINGS: u64 = 20_000;

/// The checks the tests here make on a CLI workspace.
trait Checks {
    fn postings(&self) -> i64;
    fn intact(&self);
}

impl Checks for Ws {
    fn postings(&self) -> i64 {
        let out = self.ok(&["--json", "status"]);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        find_count(&doc, "ledger_postings")
            .or_else(|| find_count(&doc, "postings"))
            .unwrap_or_else(|| panic!("no posting count in {doc}"))
    }

    fn intact(&self) {
        self.ok(&["audit", "verify"]);
    }
}

/// The first integer under a key named `name` anywhere in `doc`.
fn find_count(doc: &serde_json::Value, name: &str) -> Option<i64> {
    match doc {
        serde_json::Value::Object(m) => m
            .get(name)
            .and_then(serde_json::Value::as_i64)
            .or_else(|| m.values().find_map(|v| find_count(v, name))),
        serde_json::Value::Array(a) => a.iter().find_map(|v| find_count(v, name)),
        _ => None,
    }
}

fn generated(root: &Path) -> PathBuf {
    let data = root.join("data");
    common::cli::generate(&data, POSTINGS);
    data
}

/// A generated platform's files and a workspace holding its connected accounts.
fn with_accounts(root: &Path) -> (PathBuf, Ws) {
    let data = generated(root);
    let ws = Ws::init(root, "ws");
    ws.ok(&[
        "import",
        "accounts",
        &data.join("accounts.csv").display().to_string(),
    ]);
    (data, ws)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn no_keychain_is_a_clear_error_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let out = Command::new(env!("CARGO_BIN_EXE_closebook"))
        .arg("-w")
        .arg(&dir)
        .args(["init", "--mode", "test"])
        .env_remove("CLOSEBOOK_KEY_FILE")
        // No Secret Service to reach: as on a server, or a desktop whose keychain is off.
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/closebook-bus",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("keychain"), "{err}");
    assert!(err.contains("--key-file"), "says what to do instead: {err}");
    assert!(
        !dir.join("closebook.db").exists() && !dir.join("workspace.json").exists(),
        "nothing half-created"
    );
}

/// A server without a keychain, the Stripe key in `STRIPE_API_KEY` as the README says:
/// `stripe status` reports where the key comes from instead of failing, and without the
/// variable says the keychain cannot be asked and what to do.
#[test]
fn stripe_status_works_without_a_keychain() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = Ws::init(tmp.path(), "ws").with_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/closebook-bus",
    );
    let with_env = |args: &[&str]| {
        let out = ws
            .cmd(args)
            .env("STRIPE_API_KEY", "sk_test_fromtheenvironment")
            .output()
            .unwrap();
        assert!(out.status.success(), "closebook {args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let text = with_env(&["stripe", "status"]);
    assert!(text.contains("sk_test_… from STRIPE_API_KEY"), "{text}");
    let doc: serde_json::Value =
        serde_json::from_str(&with_env(&["--json", "stripe", "status"])).unwrap();
    assert_eq!(doc["key"], "sk_test_");
    assert_eq!(doc["key_source"]["source"], "environment");
    // Without the variable: still a report, naming the keychain and the way round it.
    let out = ws
        .cmd(&["stripe", "status"])
        .env_remove("STRIPE_API_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("keychain cannot be asked") && text.contains("STRIPE_API_KEY"),
        "{text}"
    );
}

/// Writes fail part-way as on a full disk (the process may write no file beyond a size:
/// RLIMIT_FSIZE, so no privileges are needed): the import is refused with a clear error,
/// the workspace is as before, and the same import succeeds once there is room.
#[test]
fn a_full_disk_refuses_the_import_and_leaves_the_workspace_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, ws) = with_accounts(tmp.path());
    let before = ws.postings();
    let db_size = std::fs::metadata(ws.dir.join("closebook.db"))
        .unwrap()
        .len();
    let limit = db_size + 256 * 1024;
    let ledger = data.join("ledger.csv").display().to_string();
    let mut cmd = ws.cmd(&["import", "ledger", &ledger]);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("disk") && err.contains("space"),
        "names the cause and the cure: {err}"
    );
    ws.intact();
    assert_eq!(ws.postings(), before, "nothing half-imported");
    ws.ok(&["import", "ledger", &ledger]);
    ws.intact();
    assert!(ws.postings() > before);
}

/// A workspace whose files may not be written (a read-only share, a locked-down folder) is
/// refused at once with a clear error — SQLite writes its journal even to read — and nothing
/// changes; the earlier behaviour blamed the key.
#[test]
fn a_read_only_workspace_is_refused_clearly_and_stays_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, ws) = with_accounts(tmp.path());
    let snapshot = |dir: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (p.display().to_string(), std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let set_mode = |mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        for e in std::fs::read_dir(&ws.dir).unwrap() {
            let p = e.unwrap().path();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode & 0o666)).unwrap();
        }
        std::fs::set_permissions(&ws.dir, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let before = snapshot(&ws.dir);
    set_mode(0o555);
    // Root ignores file modes: drop the capabilities that let it, as an ordinary user has none.
    let run = |args: &[&str]| {
        let mut c = if is_root() {
            let mut c = Command::new("setpriv");
            c.args(["--bounding-set=-all", "--inh-caps=-all", "--"]);
            c.arg(ws.cmd(args).get_program());
            c.args(ws.cmd(args).get_args());
            c
        } else {
            ws.cmd(args)
        };
        c.env_remove("CLOSEBOOK_WORKSPACE").output().unwrap()
    };
    let write = run(&[
        "import",
        "ledger",
        &data.join("ledger.csv").display().to_string(),
    ]);
    let read = run(&["--json", "ledger", "balances"]);
    set_mode(0o755);
    assert_eq!(write.status.code(), Some(1), "{}", stderr(&write));
    let err = stderr(&write);
    assert!(err.contains("read-only"), "names the cause: {err}");
    assert!(err.contains("write access"), "says what to do: {err}");
    assert_eq!(read.status.code(), Some(1));
    assert!(stderr(&read).contains("read-only"), "{}", stderr(&read));
    assert_eq!(snapshot(&ws.dir), before, "not a byte changed");
    ws.intact();
}

/// Two processes on one workspace at once (the desktop app and a scheduled CLI run, say):
/// SQLite's lock serialises their writes; both finish, and the result is as if they had run
/// one after the other.
#[test]
fn a_second_process_on_the_same_workspace_waits_its_turn() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generated(tmp.path());
    let ws = Ws::init(tmp.path(), "ws");
    let file = |k: &str| data.join(format!("{k}.csv")).display().to_string();
    ws.ok(&["import", "accounts", &file("accounts")]);
    let children: Vec<_> = [
        vec!["import".to_string(), "ledger".into(), file("ledger")],
        vec!["import".into(), "allocations".into(), file("allocations")],
        vec!["import".into(), "balances".into(), file("balances")],
        vec!["--json".into(), "ledger".into(), "balances".into()],
    ]
    .into_iter()
    .map(|args| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ws.cmd(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    })
    .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    ws.intact();
    // Each import happened exactly once, whole: importing again changes nothing.
    for k in ["ledger", "allocations", "balances"] {
        let out = ws.ok(&["--json", "import", k, &file(k)]);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["rows_added"], 0, "{k}: {doc}");
    }
}

/// The computer's clock moved back a day between two operations: the work is done and
/// recorded with the time the clock gave, the chain stays intact (it orders records by
/// sequence, not time), and `audit verify` names the record dated before its predecessor.
#[test]
fn a_clock_moved_backwards_is_recorded_and_named_not_a_break() {
    let mut t = common::workspace(Mode::Test);
    let root = common::repo_root().join("fixtures/seed-example");
    let at = common::ctx().now;
    let op = |now| closebook_engine::OpContext::new("test:clock", now);
    ingest::import_file(
        &mut t.ws,
        Kind::Accounts,
        &root.join("accounts.csv"),
        Some(Format::Csv),
        &op(at),
    )
    .unwrap();
    let earlier = at - jiff::SignedDuration::from_hours(24);
    let report = ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &root.join("ledger.csv"),
        Some(Format::Csv),
        &op(earlier),
    )
    .unwrap();
    assert!(report.rows_added > 0);
    let v = audit::verify(t.ws.connection()).unwrap();
    assert!(v.intact(), "{:?}", v.broken);
    let last: i64 =
        t.ws.connection()
            .query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
            .unwrap();
    assert_eq!(v.clock_went_back, vec![last]);
    // And the same clock going forward again is no note.
    ingest::import_file(
        &mut t.ws,
        Kind::Balances,
        &root.join("balances.csv"),
        Some(Format::Csv),
        &op(at),
    )
    .unwrap();
    assert_eq!(
        audit::verify(t.ws.connection()).unwrap().clock_went_back,
        vec![last]
    );
}
