//! The PostgreSQL pull against a real PostgreSQL server started by the test itself.
#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use closebook_engine::ingest::postgres::{self as pull_api, PullError, PullOptions};
use closebook_engine::ingest::{self, Format};
use closebook_engine::workspace::Mode;
use closebook_engine::{demo, ledger};
use common::pg::{OWNER, PgServer, READER, READER_PASSWORD};
use common::{count, ctx, mirror_digest, workspace};

fn reader(server: &PgServer) -> PullOptions {
    PullOptions::new(server.url(READER), Some(READER_PASSWORD.to_string()))
}

fn pull(
    t: &mut common::TestWorkspace,
    options: &PullOptions,
) -> Result<pull_api::PullReport, PullError> {
    pull_api::pull(
        &mut t.ws,
        options,
        &ctx(),
        &AtomicBool::new(false),
        &mut |_| {},
    )
}

fn demo_dir() -> std::path::PathBuf {
    common::repo_root().join("fixtures/demo")
}

/// The demo files imported directly: what a pull of the same rows must equal.
fn imported_demo() -> common::TestWorkspace {
    let mut t = workspace(Mode::Test);
    for (kind, name, bytes) in demo::FILES {
        ingest::import_bytes(&mut t.ws, *kind, name, bytes, Format::Csv, &ctx()).unwrap();
    }
    t
}

#[test]
fn a_pull_as_a_select_only_role_mirrors_every_table_exactly_as_the_files_do() {
    let server = PgServer::start();
    server.load_csv_dir(&demo_dir());
    let mut t = workspace(Mode::Test);
    let report = pull(&mut t, &reader(&server)).unwrap();
    let ledger_report = &report.tables[0];
    assert_eq!(ledger_report.table, "wallet_ledger");
    assert_eq!(ledger_report.added, 6900);
    let expected = imported_demo();
    assert_eq!(mirror_digest(&t.ws), mirror_digest(&expected.ws));
    let a = serde_json::to_value(ledger::trial_balance(&t.ws, None).unwrap()).unwrap();
    let b = serde_json::to_value(ledger::trial_balance(&expected.ws, None).unwrap()).unwrap();
    assert_eq!(a, b);
    // The stored source carries no password.
    let url: String =
        t.ws.connection()
            .query_row(
                "SELECT value FROM workspace_meta WHERE key = 'postgres_url'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert!(!url.contains(READER_PASSWORD));
}

#[test]
fn a_second_pull_changes_nothing_and_a_third_takes_only_what_is_new() {
    let server = PgServer::start();
    server.load_csv_dir(&demo_dir());
    let mut t = workspace(Mode::Test);
    pull(&mut t, &reader(&server)).unwrap();
    let digest = mirror_digest(&t.ws);
    let again = pull(&mut t, &reader(&server)).unwrap();
    assert!(
        again.tables.iter().all(|t| t.added == 0 && t.updated == 0),
        "{again:?}"
    );
    assert_eq!(mirror_digest(&t.ws), digest);

    let mut c = server.owner();
    c.batch_execute(
        "INSERT INTO wallet_ledger (entry_id, account, amount_minor, currency, entry_type, stripe_object_id, created_at)
         VALUES ('je_new', 'assets:stripe:payments', 1500, 'usd', 'subscription_payment', 'ch_new', now()),
                ('je_new', 'liabilities:subscribers:u_000001', -1500, 'usd', 'subscription_payment', 'ch_new', now());
         UPDATE usd_allocations SET amount_cents = amount_cents + 1, updated_at = now() WHERE id = 'al_000000001';
         UPDATE withdrawal_requests SET status = 'rejected' WHERE id = 'wd_00001';
         INSERT INTO stripe_webhook_events (event_id, type, status, received_at) VALUES ('evt_new', 'charge.succeeded', 'received', now());",
    )
    .unwrap();
    let third = pull(&mut t, &reader(&server)).unwrap();
    let by = |name: &str| {
        third
            .tables
            .iter()
            .find(|t| t.table == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by("wallet_ledger").added, 2);
    assert_eq!(by("usd_allocations").updated, 1);
    assert_eq!(by("withdrawal_requests").updated, 1);
    assert_eq!(by("stripe_webhook_events").added, 1);
    let status: String =
        t.ws.connection()
            .query_row(
                "SELECT status FROM platform_withdrawals WHERE id = 'wd_00001'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(status, "rejected");
}

#[test]
fn an_interrupted_pull_resumes_to_exactly_the_clean_result() {
    let server = PgServer::start();
    server.load_csv_dir(&demo_dir());
    let clean = imported_demo();
    let target = mirror_digest(&clean.ws);
    for stop_after in [1u64, 3, 7, 20] {
        let mut t = workspace(Mode::Test);
        let mut options = reader(&server);
        options.page_size = 97; // odd, so entries straddle page boundaries
        let cancel = AtomicBool::new(false);
        let mut pages = 0;
        let err = pull_api::pull(&mut t.ws, &options, &ctx(), &cancel, &mut |_| {
            pages += 1;
            if pages == stop_after {
                cancel.store(true, Ordering::Relaxed);
            }
        })
        .unwrap_err();
        assert!(matches!(err, PullError::Cancelled), "{err}");
        assert!(count(&t.ws, "ledger_postings") < 6900);
        pull(&mut t, &options).unwrap();
        assert_eq!(
            mirror_digest(&t.ws),
            target,
            "stopped after {stop_after} pages"
        );
    }
}

#[test]
fn a_killed_cli_pull_resumes_without_gaps_or_duplicates() {
    let server = PgServer::start();
    server.load_csv_dir(&demo_dir());
    let target = mirror_digest(&imported_demo().ws);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let key = tmp.path().join("ws.key");
    let bin = env!("CARGO_BIN_EXE_closebook");
    let cli = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.arg("-w")
            .arg(&dir)
            .arg("--key-file")
            .arg(&key)
            .args(args)
            .env("PGPASSWORD", READER_PASSWORD)
            .env_remove("CLOSEBOOK_WORKSPACE");
        c
    };
    assert!(
        cli(&["init", "--mode", "test"])
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    let url = server.url(READER);
    // Kill the pull at a few different moments, then let one run to the end.
    for delay_ms in [15u64, 40, 90, 160] {
        let mut child = cli(&["pull", "postgres", "--url", &url, "--page-size", "50"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
    }
    // The killed runs may all have died before their first page on a loaded machine, so
    // the finishing run names the source; the run after it relies on the remembered one.
    for args in [
        &["pull", "postgres", "--url", &url, "--page-size", "50"][..],
        &["pull", "postgres", "--page-size", "50"][..],
    ] {
        let out = cli(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let secrets = closebook_engine::secrets::MemorySecrets::new();
    let ws = closebook_engine::Workspace::open(
        &dir,
        &closebook_engine::workspace::KeySource::File(key.clone()),
        &secrets,
    )
    .unwrap();
    assert_eq!(mirror_digest(&ws), target);
    let url_stored: String = ws
        .connection()
        .query_row(
            "SELECT value FROM workspace_meta WHERE key = 'postgres_url'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        url_stored, url,
        "the last source is remembered (without any password)"
    );
}

#[test]
fn ids_skipped_by_an_in_flight_transaction_are_picked_up_later() {
    let server = PgServer::start();
    let mut c = server.owner();
    let insert = |c: &mut postgres::Client, id: i64, entry: &str, account: &str, amount: i64| {
        c.execute(
            "INSERT INTO wallet_ledger (id, entry_id, account, amount_minor, currency, entry_type, created_at) VALUES ($1, $2, $3, $4, 'usd', 'adjustment', now())",
            &[&id, &entry, &account, &amount],
        )
        .unwrap();
    };
    insert(&mut c, 1, "e1", "assets:stripe:payments", 100);
    insert(&mut c, 2, "e1", "income:other", -100);
    // Ids 3 and 4 belong to a transaction that commits after the first pull.
    insert(&mut c, 5, "e3", "assets:stripe:payments", 300);
    insert(&mut c, 6, "e3", "income:other", -300);
    let mut t = workspace(Mode::Test);
    let r = pull(&mut t, &reader(&server)).unwrap();
    assert_eq!(r.holes_open, 2);
    insert(&mut c, 3, "e2", "assets:stripe:payments", 200);
    insert(&mut c, 4, "e2", "income:other", -200);
    let r = pull(&mut t, &reader(&server)).unwrap();
    assert_eq!(r.tables[0].added, 2);
    assert_eq!(r.holes_open, 0);
    assert_eq!(count(&t.ws, "ledger_postings"), 6);
    // Holes nobody fills (rolled-back inserts) expire.
    insert(&mut c, 9, "e4", "assets:stripe:payments", 1);
    insert(&mut c, 10, "e4", "income:other", -1);
    assert_eq!(pull(&mut t, &reader(&server)).unwrap().holes_open, 2);
    let mut later = ctx();
    later.now += Duration::from_secs(2 * 3600);
    let r = pull_api::pull(
        &mut t.ws,
        &reader(&server),
        &later,
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.holes_open, 0);
}

#[test]
fn bad_platform_rows_are_refused_with_their_ids_and_good_pages_stay() {
    let server = PgServer::start();
    let mut c = server.owner();
    c.batch_execute(
        "INSERT INTO wallet_ledger (id, entry_id, account, amount_minor, currency, entry_type, created_at) VALUES
           (1, 'e1', 'assets:stripe:payments', 100, 'usd', 'adjustment', now()),
           (2, 'e1', 'income:other', -100, 'usd', 'adjustment', now()),
           (3, 'e2', 'assets:stripe:payments', 100, 'usd', 'adjustment', now()),
           (4, 'e2', 'income:other', -90, 'usd', 'adjustment', now());",
    )
    .unwrap();
    let mut t = workspace(Mode::Test);
    let err = pull(&mut t, &reader(&server)).unwrap_err();
    assert!(
        matches!(&err, PullError::Unbalanced(ids) if ids == "e2"),
        "{err}"
    );
    assert_eq!(
        count(&t.ws, "ledger_postings"),
        2,
        "the balanced entry before it is kept"
    );
    c.batch_execute(
        "DELETE FROM wallet_ledger WHERE entry_id = 'e2';
         INSERT INTO wallet_ledger (id, entry_id, account, amount_minor, currency, entry_type, livemode, created_at) VALUES
           (5, 'e5', 'assets:stripe:payments', 100, 'zzz', 'adjustment', false, now()),
           (6, 'e5', 'income:other', -100, 'zzz', 'adjustment', false, now()),
           (7, 'e6', 'assets:stripe:payments', 100, 'usd', 'adjustment', true, now()),
           (8, 'e6', 'income:other', -100, 'usd', 'adjustment', true, now());",
    )
    .unwrap();
    match pull(&mut t, &reader(&server)).unwrap_err() {
        PullError::Rejected {
            input, problems, ..
        } => {
            assert_eq!(input, "postgres:wallet_ledger");
            let located: Vec<(u64, Option<&str>)> = problems
                .iter()
                .map(|p| (p.line, p.column.as_deref()))
                .collect();
            assert_eq!(
                located,
                vec![
                    (5, Some("currency")),
                    (6, Some("currency")),
                    (7, Some("livemode")),
                    (8, Some("livemode"))
                ]
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(count(&t.ws, "ledger_postings"), 2);
}

#[test]
fn connection_failures_are_clear_and_secret_free() {
    let server = PgServer::start();
    let mut t = workspace(Mode::Test);
    let wrong = PullOptions::new(server.url(READER), Some("not-the-password".into()));
    let err = pull(&mut t, &wrong).unwrap_err();
    assert!(matches!(err, PullError::Connect { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("password authentication failed") && !text.contains("not-the-password"),
        "{text}"
    );
    // A password written into the URL is used but never stored or shown.
    let inline = PullOptions::new(server.url_with_password(READER, READER_PASSWORD), None);
    pull(&mut t, &inline).unwrap();
    let url: String =
        t.ws.connection()
            .query_row(
                "SELECT value FROM workspace_meta WHERE key = 'postgres_url'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(url, server.url(READER));
    assert!(!format!("{inline:?}").contains(READER_PASSWORD));
    // Nothing listens here.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = pull(
        &mut t,
        &PullOptions::new(
            format!("postgres://{OWNER}@127.0.0.1:{closed}/platform"),
            None,
        ),
    )
    .unwrap_err();
    assert!(matches!(err, PullError::Connect { .. }), "{err}");
    assert!(matches!(
        pull(&mut t, &PullOptions::new("postgres://[bad", None)).unwrap_err(),
        PullError::BadUrl(_)
    ));
}

/// The PostgreSQL password, given every way the CLI takes it (PGPASSWORD, inside the URL as
/// userinfo or as a `password=` parameter, wrong), never appears in the most verbose log,
/// the output, an error, or the decrypted workspace.
#[test]
fn the_password_reaches_no_log_output_error_or_workspace_at_the_most_verbose_level() {
    let server = PgServer::start();
    server.load_csv_dir(&demo_dir());
    let tmp = tempfile::tempdir().unwrap();
    let cli = common::cli::CliWorkspace::init(tmp.path(), "ws").with_env("CLOSEBOOK_LOG", "trace");
    let run = |args: &[&str], pgpassword: Option<&str>| {
        let mut c = cli.cmd(&[&["-vvv"], args].concat());
        c.env_remove("PGPASSWORD");
        if let Some(p) = pgpassword {
            c.env("PGPASSWORD", p);
        }
        c.output().unwrap()
    };
    let mut seen = String::new();
    let mut record = |out: std::process::Output| {
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
        out.status.success()
    };
    let plain = server.url(READER);
    let wrong = "Wrong-Secret-5150";
    assert!(!record(run(
        &["pull", "postgres", "--url", &plain],
        Some(wrong)
    )));
    assert!(record(run(
        &["pull", "postgres", "--url", &plain],
        Some(READER_PASSWORD)
    )));
    let userinfo = server.url_with_password(READER, READER_PASSWORD);
    assert!(record(run(
        &["--json", "pull", "postgres", "--url", &userinfo],
        None
    )));
    let param = format!("{plain}?password={READER_PASSWORD}");
    let param = if plain.contains('?') {
        format!("{plain}&password={READER_PASSWORD}")
    } else {
        param
    };
    assert!(record(run(&["pull", "postgres", "--url", &param], None)));
    assert!(
        seen.contains("TRACE") || seen.contains("DEBUG"),
        "logging ran at its most verbose"
    );
    let stored = common::dump_text(&cli.open());
    for secret in [READER_PASSWORD, wrong] {
        if let Some(i) = seen.find(secret) {
            let from = seen.floor_char_boundary(i.saturating_sub(300));
            let to = seen.floor_char_boundary((i + 100).min(seen.len()));
            panic!("{secret} in the CLI's output or log: …{}…", &seen[from..to]);
        }
        assert!(!stored.contains(secret), "{secret} in the workspace");
    }
}
