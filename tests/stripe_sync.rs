//! The Stripe mirror end to end: the real async-stripe client against the Stripe simulator
//! on loopback, with every fault the simulator can inject, killed syncs, rate limits and a
//! mode mismatch. Each result is compared with a clean run's digest of the mirror.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use closebook_engine::secrets::MemorySecrets;
use closebook_engine::stripe::{self, StripeKey, SyncControl, SyncOptions, SyncReport};
use closebook_engine::workspace::{FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use closebook_engine::{ErrorCode, OpContext, demo};
use closebook_stripe_sim::{Dataset, FaultKind, FaultPlan, SimConfig, SimHandle, Simulator};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

const KEY: &str = closebook_stripe_sim::DEFAULT_TEST_KEY;

/// The simulator and the syncs share the wall clock, as the CLI's syncs (run as child
/// processes) can only use that one; the demo's Stripe activity lies well before it.
fn sim(config: impl FnOnce(SimConfig) -> SimConfig) -> SimHandle {
    let now = Timestamp::now().as_second();
    Simulator::spawn_thread(Dataset::demo(), config(SimConfig::test().with_now(now)))
        .expect("simulator")
}

fn ctx(_sim: &SimHandle) -> OpContext {
    OpContext::new("test", Timestamp::now())
}

fn demo_ws(dir: &std::path::Path) -> Workspace {
    let secrets = MemorySecrets::new();
    demo::open_or_create(
        dir,
        &KeySource::Keychain,
        &secrets,
        &OpContext::new("test", Timestamp::now()),
    )
    .expect("demo workspace")
    .0
}

fn options(sim: &SimHandle) -> SyncOptions {
    let mut o = SyncOptions::new(&sim.url(), false);
    // Fast tests: the simulator has no rate limit unless a test sets one.
    o.limits.requests_per_second = 1_000;
    o.limits.min_backoff = Duration::from_millis(10);
    o.limits.max_backoff = Duration::from_millis(100);
    o.limits.timeout = Duration::from_secs(5);
    o
}

fn run(
    ws: &mut Workspace,
    sim: &SimHandle,
    o: &SyncOptions,
) -> Result<SyncReport, closebook_engine::Error> {
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let key = StripeKey::parse(KEY).unwrap();
    Ok(stripe::sync(ws, &key, o, &ctx(sim), &mut control)?)
}

/// Everything the mirror holds, minus bookkeeping (when rows were seen, by which run).
fn digest(ws: &Workspace) -> String {
    let c = ws.connection();
    let mut h = Sha256::new();
    for sql in [
        "SELECT object_type || ' ' || id || ' ' || created || ' ' || coalesce(status, '') || ' ' || raw_sha256 FROM stripe_objects ORDER BY object_type, id",
        "SELECT id || type || reporting_category || coalesce(source, '') || amount || fee || net || currency || status || created || available_on || fee_details FROM stripe_balance_transactions ORDER BY id",
        "SELECT balance_transaction || payout FROM stripe_payout_links ORDER BY balance_transaction",
    ] {
        let mut stmt = c.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        for r in rows {
            h.update(r.unwrap().as_bytes());
            h.update(b"\n");
        }
    }
    hex::encode(h.finalize())
}

fn count(ws: &Workspace, sql: &str) -> i64 {
    ws.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The digest of a clean sync of the demo, computed once.
fn clean_digest() -> &'static str {
    static CLEAN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CLEAN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let mut ws = demo_ws(&tmp.path().join("ws"));
        let s = sim(|c| c);
        run(&mut ws, &s, &options(&s)).unwrap();
        digest(&ws)
    })
}

#[test]
fn a_sync_mirrors_stripe_exactly_and_a_second_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ws = demo_ws(&tmp.path().join("ws"));
    let s = sim(|c| c);
    let first = run(&mut ws, &s, &options(&s)).unwrap();
    assert!(!first.resumed);
    let expected = closebook_generate::generate(&closebook_generate::PlatformSpec::demo()).stripe;
    assert_eq!(
        count(&ws, "SELECT count(*) FROM stripe_balance_transactions"),
        expected.len() as i64,
        "every balance transaction, once"
    );
    let net: i64 = expected.iter().map(|a| a.net).sum();
    assert_eq!(
        count(&ws, "SELECT sum(net) FROM stripe_balance_transactions"),
        net
    );
    for t in [
        "charge", "refund", "transfer", "payout", "account", "dispute",
    ] {
        assert!(
            count(
                &ws,
                &format!("SELECT count(*) FROM stripe_objects WHERE object_type = '{t}'")
            ) > 0,
            "{t} mirrored"
        );
    }
    // Fee details, source and payout links arrive with the balance transactions.
    assert_eq!(
        count(
            &ws,
            "SELECT count(*) FROM stripe_balance_transactions WHERE source IS NULL"
        ),
        0
    );
    assert!(count(&ws, "SELECT count(*) FROM stripe_payout_links") > 0);
    assert_eq!(first.balance.len(), 1);
    assert_eq!(first.balance[0].currency, "usd");
    assert_eq!(first.coverage.len(), 1);
    assert!(first.coverage[0].obligations >= 0);
    assert_eq!(digest(&ws), clean_digest());

    let second = run(&mut ws, &s, &options(&s)).unwrap();
    assert!(
        second.counts.iter().all(|c| c.added == 0 && c.changed == 0),
        "{:?}",
        second.counts
    );
    assert_eq!(digest(&ws), clean_digest());
    let status = stripe::status::status(&ws, 10).unwrap();
    assert_eq!(status.runs.len(), 2);
    assert!(status.runs.iter().all(|r| r.outcome == "ok"));
    assert!(status.open_windows.is_empty());
    assert_eq!(stripe::coverage::history(&ws, 10).unwrap().len(), 2);
}

#[test]
fn every_retryable_fault_is_retried_to_the_clean_result() {
    for fault in [
        FaultKind::Status(500),
        FaultKind::Status(502),
        FaultKind::Status(503),
        FaultKind::Status(504),
        FaultKind::RateLimited,
        FaultKind::Timeout,
        FaultKind::TruncatedBody,
        FaultKind::ConnectionReset,
        FaultKind::ConnectionResetAfterProcessing,
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let mut ws = demo_ws(&tmp.path().join("ws"));
        let s = sim(|c| {
            c.with_faults(
                FaultPlan::none()
                    .at(2, fault)
                    .at(5, fault)
                    .between(9..=10, fault),
            )
            .with_timeout_hold(Duration::from_secs(3))
        });
        let mut o = options(&s);
        o.limits.timeout = Duration::from_millis(1_500);
        let report = run(&mut ws, &s, &o).unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert!(report.retries >= 4, "{fault:?}: {} retries", report.retries);
        assert_eq!(digest(&ws), clean_digest(), "{fault:?}");
    }
}

#[test]
fn a_final_error_stops_the_sync_naming_the_request_and_a_rerun_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ws = demo_ws(&tmp.path().join("ws"));
    let s = sim(|c| c.with_faults(FaultPlan::none().at(6, FaultKind::NonRetryable)));
    let err = run(&mut ws, &s, &options(&s)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StripeFailed);
    let msg = err.to_string();
    assert!(msg.contains("GET /v1/"), "{msg}");
    assert!(msg.contains("400"), "{msg}");
    let status = stripe::status::status(&ws, 10).unwrap();
    assert_eq!(status.runs[0].outcome, "failed");
    assert!(!status.open_windows.is_empty());
    // No more faults: the next sync continues the same run to the clean result.
    s.set_faults(FaultPlan::none()).unwrap();
    let report = run(&mut ws, &s, &options(&s)).unwrap();
    assert!(report.resumed);
    assert_eq!(digest(&ws), clean_digest());
}

#[test]
fn a_resumed_sync_reports_the_address_it_was_resumed_against() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ws = demo_ws(&tmp.path().join("ws"));
    let first = sim(|c| c.with_faults(FaultPlan::none().at(6, FaultKind::NonRetryable)));
    run(&mut ws, &first, &options(&first)).unwrap_err();
    let status = stripe::status::status(&ws, 10).unwrap();
    assert_eq!(status.runs[0].api_base, first.url());
    // The same run, continued against another simulator (another address).
    let second = sim(|c| c);
    assert_ne!(second.url(), first.url());
    let report = run(&mut ws, &second, &options(&second)).unwrap();
    assert!(report.resumed);
    let status = stripe::status::status(&ws, 10).unwrap();
    assert_eq!(status.runs[0].id, report.run_id);
    assert_eq!(status.runs[0].api_base, second.url());
}

#[test]
fn a_sync_stays_under_the_rate_limit_and_rides_out_429s() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ws = demo_ws(&tmp.path().join("ws"));
    // The server allows 15 requests a second; the client is told 12 but bursts happen.
    let s = sim(|c| c.with_rate_limit(15));
    let mut o = options(&s);
    o.limits.requests_per_second = 12;
    let report = run(&mut ws, &s, &o).unwrap();
    assert_eq!(digest(&ws), clean_digest());
    let limited = s
        .requests()
        .iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert!(
        (limited as u64) <= report.retries,
        "every 429 was retried ({limited} > {})",
        report.retries
    );
}

#[test]
fn a_key_of_the_other_mode_is_refused_before_any_request() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let s = sim(|c| c);
    let mut live = Workspace::init(
        &tmp.path().join("live"),
        InitOptions {
            name: "Live".into(),
            mode: Mode::Live,
            timezone: "UTC".into(),
            demo: false,
        },
        &KeySource::Keychain,
        &secrets,
        FreshIdentity::generate().unwrap(),
        &ctx(&s),
    )
    .unwrap();
    let err = run(&mut live, &s, &options(&s)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ModeMismatch);
    assert!(err.to_string().contains("test key"), "{err}");
    assert!(s.requests().is_empty(), "nothing was sent");
    // Storing such a key is refused too, and nothing is stored.
    let e = stripe::keys::store(&live, &secrets, KEY, &ctx(&s)).unwrap_err();
    assert!(matches!(e, stripe::StripeError::ModeMismatch { .. }));
    assert!(
        stripe::keys::stored_kind(&live.info().id, &secrets)
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_stored_key_never_reaches_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::new();
    let ws = demo_ws(&tmp.path().join("ws"));
    let s = sim(|c| c);
    stripe::keys::store(&ws, &secrets, KEY, &ctx(&s)).unwrap();
    assert_eq!(
        stripe::keys::stored_kind(&ws.info().id, &secrets)
            .unwrap()
            .as_deref(),
        Some("sk_test_")
    );
    let dump: String = ws
        .connection()
        .query_row(
            "SELECT group_concat(summary, ' ') FROM audit_log",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!dump.contains(KEY));
    let meta: i64 = ws
        .connection()
        .query_row(
            "SELECT count(*) FROM workspace_meta WHERE value LIKE '%' || ?1 || '%'",
            [KEY],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(meta, 0);
}

/// SIGKILL the CLI's sync at several moments, then let one finish: the mirror equals a
/// clean sync's, with no gaps and no duplicates.
#[test]
fn a_killed_cli_sync_resumes_to_the_clean_result() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let key = tmp.path().join("ws.key");
    let bin = env!("CARGO_BIN_EXE_closebook");
    // Slow answers so that kills land mid-sync.
    let s = sim(|c| c.with_latency(Duration::from_millis(40)));
    let cli = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.arg("-w")
            .arg(&dir)
            .arg("--key-file")
            .arg(&key)
            .args(args)
            .env("STRIPE_API_KEY", KEY)
            .env_remove("CLOSEBOOK_WORKSPACE");
        c
    };
    let out = cli(&["init", "--mode", "test"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = s.url();
    let sync_args = [
        "sync",
        "stripe",
        "--api-base",
        &url,
        "--rate",
        "100",
        "--concurrency",
        "4",
    ];
    let mut interrupted = 0;
    let mut left_open = false;
    for delay_ms in [150u64, 400, 700, 1000, 1400] {
        let mut child = cli(&sync_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let ws =
            Workspace::open(&dir, &KeySource::File(key.clone()), &MemorySecrets::new()).unwrap();
        left_open = count(
            &ws,
            "SELECT count(*) FROM stripe_sync_windows WHERE done = 0",
        ) > 0;
        interrupted += i32::from(left_open);
    }
    assert!(interrupted > 0, "no kill landed mid-sync");
    let out = cli(&[
        "--json",
        "sync",
        "stripe",
        "--api-base",
        &url,
        "--rate",
        "100",
    ])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["resumed"], left_open,
        "the last sync continues the killed one"
    );
    let ws = Workspace::open(&dir, &KeySource::File(key.clone()), &MemorySecrets::new()).unwrap();
    assert_eq!(digest(&ws), clean_digest());
    let dupes = count(
        &ws,
        "SELECT count(*) FROM (SELECT id FROM stripe_balance_transactions GROUP BY id HAVING count(*) > 1)",
    );
    assert_eq!(dupes, 0);
}

/// The Stripe key, given through the environment, never appears in the CLI's most verbose
/// log (HTTP client and retry traces included), its output, or the workspace.
#[test]
fn the_key_reaches_no_log_output_or_workspace_at_the_most_verbose_level() {
    let tmp = tempfile::tempdir().unwrap();
    // Faults make the client log its retries too.
    let s = sim(|c| {
        c.with_faults(
            FaultPlan::none()
                .at(2, FaultKind::Status(503))
                .at(5, FaultKind::RateLimited),
        )
    });
    let cli = common::cli::CliWorkspace::at(tmp.path(), "ws")
        .with_env("CLOSEBOOK_LOG", "trace")
        .with_env("STRIPE_API_KEY", KEY);
    let run = |args: &[&str]| cli.run(&[&["-vvv"], args].concat());
    let mut seen = String::new();
    for args in [
        &["init", "--mode", "test"][..],
        &["sync", "stripe", "--api-base", &s.url()][..],
        &["--json", "status"][..],
    ] {
        let out = run(args);
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(seen.contains("TRACE"), "logging ran at its most verbose");
    assert!(!seen.contains(KEY), "the key is in the CLI's output or log");
    assert!(!common::dump_text(&cli.open()).contains(KEY));
}

/// A TLS server on loopback with a self-signed certificate (as an intercepting proxy
/// presents): counts the connections it is offered, for as long as the test runs.
fn untrusted_tls_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let der = rustls::pki_types::CertificateDer::from(cert.cert.der().to_vec());
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = acceptor.accept(tcp).await;
                });
            }
        });
    });
    (port, seen)
}

/// A certificate Closebook does not trust is no network fault: the sync stops at once,
/// names the host and what is wrong and what to do, and retries nothing (the engine and
/// the CLI at -vv alike).
#[test]
fn an_untrusted_certificate_stops_at_once_and_says_so() {
    use std::sync::atomic::Ordering;
    let (port, seen) = untrusted_tls_server();
    let tmp = tempfile::tempdir().unwrap();
    let mut ws = demo_ws(&tmp.path().join("ws"));
    let mut o = SyncOptions::new(&format!("https://127.0.0.1:{port}"), false);
    o.limits.min_backoff = Duration::from_millis(10);
    o.limits.max_backoff = Duration::from_millis(100);
    o.limits.timeout = Duration::from_secs(5);
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let key = StripeKey::parse(KEY).unwrap();
    let err = stripe::sync(
        &mut ws,
        &key,
        &o,
        &OpContext::new("test", Timestamp::now()),
        &mut control,
    )
    .map_err(closebook_engine::Error::from)
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::StripeFailed);
    let msg = err.to_string();
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(
        msg.contains("certificate") && msg.contains("not trusted"),
        "{msg}"
    );
    assert!(msg.contains("self-signed"), "{msg}");
    assert!(msg.contains("--api-base"), "says what to do: {msg}");
    assert!(!msg.contains(KEY), "{msg}");
    // The first request of each concurrent window and the one diagnosis: no retries.
    let first = seen.load(Ordering::SeqCst);
    assert!(first <= o.limits.concurrency + 1, "{first} connections");
    assert_eq!(
        stripe::status::status(&ws, 1).unwrap().runs[0].outcome,
        "failed"
    );

    // The CLI says the same, at -vv, and exits 1.
    let cli = common::cli::CliWorkspace::init(tmp.path(), "cli");
    let out = cli
        .cmd(&[
            "-vv",
            "sync",
            "stripe",
            "--api-base",
            &format!("https://127.0.0.1:{port}"),
        ])
        .env("STRIPE_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not trusted") && err.contains("self-signed"),
        "{err}"
    );
    let cli_connections = seen.load(Ordering::SeqCst) - first;
    assert!(cli_connections <= 13, "{cli_connections} connections");
}
