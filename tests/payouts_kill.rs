//! `closebook payouts execute` killed (SIGKILL) at random moments, again and again, against
//! the Stripe simulator: when a run finally completes, every payable line of the demo's
//! October batch was transferred exactly once (checked against the simulator's own record
//! of the transfers it made), the batch is done, and the audit chain verifies.
//!
//! The people's signing keys live in the OS keychain, so this runs where the keychain tests
//! run (`scripts/test.sh`: a throw-away Secret Service).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use closebook_engine::payouts::batch;
use closebook_stripe_sim::{Dataset, SimConfig, Simulator};
use common::cli::CliWorkspace;
use rand::{Rng, SeedableRng};

fn keychain_available() -> bool {
    if std::env::var_os("CLOSEBOOK_TEST_SECRET_SERVICE").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the keychain tests: run the suite through scripts/test.sh"
    );
    eprintln!("payout kill tests need a Secret Service: run through scripts/test.sh; not run here");
    false
}

fn demo_file(name: &str) -> String {
    common::repo_root()
        .join("fixtures/demo")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn a_killed_execution_pays_every_line_exactly_once() {
    if !keychain_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dataset = Dataset::demo();
    let now = dataset.suggested_now();
    // Slow answers so that kills land while transfers are in flight.
    let sim = Simulator::spawn_thread(
        dataset,
        SimConfig::test()
            .with_now(now)
            .with_latency(Duration::from_millis(25)),
    )
    .unwrap();
    let cli = CliWorkspace::at(tmp.path(), "ws")
        .with_env("STRIPE_API_KEY", closebook_stripe_sim::DEFAULT_TEST_KEY)
        .with_env("CLOSEBOOK_STRIPE_API_BASE", sim.url());
    cli.ok(&["init", "--mode", "test", "--timezone", "America/New_York"]);
    for (kind, file) in [
        ("accounts", "accounts.csv"),
        ("ledger", "ledger.csv"),
        ("balances", "balances.csv"),
        ("allocations", "allocations.csv"),
        ("webhook_events", "webhook_events.csv"),
        ("withdrawals", "withdrawals.csv"),
    ] {
        cli.ok(&["import", kind, &demo_file(file)]);
    }
    cli.ok(&["sync", "stripe", "--rate", "100"]);
    cli.ok(&["people", "add", "Pat Kill", "--role", "preparer"]);
    cli.ok(&["people", "add", "Avery Kill", "--role", "approver"]);
    cli.ok(&["people", "add", "Kim Kill", "--role", "admin"]);
    let prepared: serde_json::Value = serde_json::from_str(&cli.ok(&[
        "--json", "payouts", "prepare", "--month", "2026-10", "--as", "Pat Kill",
    ]))
    .unwrap();
    let id = prepared["batch"]["id"].as_str().unwrap().to_string();
    let paid_lines = prepared["batch"]["totals"]["paid_lines"].as_u64().unwrap();
    assert!(
        paid_lines > 20,
        "enough lines for kills to land mid-batch: {paid_lines}"
    );
    cli.ok(&["payouts", "approve", &id, "--as", "Avery Kill"]);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut mid_batch = 0;
    for _ in 0..8 {
        let mut child = cli.spawn(&[
            "payouts", "execute", &id, "--as", "Pat Kill", "--rate", "100",
        ]);
        std::thread::sleep(Duration::from_millis(rng.random_range(80..900)));
        let _ = child.kill();
        child.wait().unwrap();
        let ws = cli.open();
        let b = batch::load(&ws, &id).unwrap();
        let paid = b.executions.iter().filter(|e| e.state == "paid").count() as u64;
        if paid > 0 && paid < paid_lines {
            mid_batch += 1;
        }
        if paid == paid_lines {
            break;
        }
    }
    assert!(mid_batch > 0, "no kill landed mid-batch");
    // The last run finishes the batch (or finds it already done).
    let last = cli
        .cmd(&[
            "--json", "payouts", "execute", &id, "--as", "Pat Kill", "--rate", "100",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&last.stdout).unwrap();
    assert!(last.status.success(), "{report}");
    assert_eq!(report["state"], "done", "{report}");
    // Once more, as a scheduled job would: the work is done, so exit 0, nothing sent.
    let sent = sim.transfers_created().len();
    let again = cli
        .cmd(&["payouts", "execute", &id, "--as", "Pat Kill"])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("nothing was left to pay"), "{text}");
    assert_eq!(sim.transfers_created().len(), sent);
    let ws = cli.open();
    let b = batch::load(&ws, &id).unwrap();
    assert_eq!(b.state, batch::BatchState::Done);

    // The simulator's record: one transfer per paid line, each for the line's amount to
    // the line's account; none twice.
    let mut per_line: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for t in sim.transfers_created() {
        assert_eq!(t.transfer_group.as_deref(), Some(id.as_str()));
        per_line
            .entry(t.metadata["closebook_line"].clone())
            .or_default()
            .push((t.amount, t.destination.clone()));
    }
    assert_eq!(per_line.len() as u64, paid_lines, "every payable line paid");
    for l in b.lines.iter().filter(|l| l.is_paid()) {
        let made = &per_line[&l.line_no.to_string()];
        assert_eq!(
            made.len(),
            1,
            "line {} paid {} times",
            l.line_no,
            made.len()
        );
        assert_eq!(made[0], (l.payable, l.destination.clone().unwrap()));
        let e = b.execution(l.line_no).unwrap();
        assert_eq!(e.state, "paid");
    }
    // One transfer entry per paid line in the ledger, and the chain verifies.
    let entries: i64 = ws
        .connection()
        .query_row(
            "SELECT count(DISTINCT entry_id) FROM ledger_postings WHERE origin = 'closebook' AND entry_type = 'transfer'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(entries as u64, paid_lines);
    let out = cli.ok(&["audit", "verify"]);
    assert!(out.to_lowercase().contains("intact"), "{out}");
}
