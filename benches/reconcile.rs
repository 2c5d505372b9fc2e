//! A reconciliation snapshot with N items on each side: N Stripe balance transactions
//! (charges with a fee) and their bookings (payment and fee entries, four postings per
//! item, two of them on the Stripe balance), with a few discrepancies of every kind.
//!
//! `cargo bench --bench reconcile` (environment: BENCH_ITEMS=1000000, BENCH_RUNS=5). The
//! workspace is built once per size under `target/bench-data/` (rows written straight into
//! the workspace's tables: this measures the snapshot, not the import). Each run is a
//! fresh process computing the snapshot (a dry run: what `closebook snapshot --dry-run`
//! does), so that its peak RSS is the snapshot's own. Prints one Markdown table row.

mod common;

use common::{env, secs, vm_hwm_kib};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use closebook_engine::OpContext;
use closebook_engine::reconcile::snapshot;
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::{FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use jiff::Timestamp;
use jiff::civil::date;
use rusqlite::params;

/// The end of the reconciled day (2026-10-31 in America/New_York) and the data's span.
const END: i64 = 1_793_505_599;
const SPAN_SECS: i64 = 90 * 86_400;

fn open(dir: &Path) -> Workspace {
    Workspace::open(
        dir,
        &KeySource::File(dir.with_extension("key")),
        &MemorySecrets::new(),
    )
    .expect("open the bench workspace")
}

fn build(dir: &Path, n: u64) {
    let ctx = OpContext::new("bench", Timestamp::from_second(END + 86_400).unwrap());
    let ws = Workspace::init(
        dir,
        InitOptions {
            name: "reconcile bench".into(),
            mode: Mode::Test,
            timezone: "America/New_York".into(),
            demo: false,
        },
        &KeySource::File(dir.with_extension("key")),
        &MemorySecrets::new(),
        FreshIdentity::generate().unwrap(),
        &ctx,
    )
    .expect("init");
    let conn = ws.connection();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut bt = tx
            .prepare(
                "INSERT INTO stripe_balance_transactions (id, type, reporting_category, source, amount, fee, net, currency, status, created, available_on, fee_details)
                 VALUES (?1, 'charge', 'charge', ?2, ?3, ?4, ?5, 'usd', 'available', ?6, ?7, '[]')",
            )
            .unwrap();
        let mut post = tx
            .prepare(
                "INSERT INTO ledger_postings (posting_key, entry_id, account, amount_minor, currency, entry_type, stripe_object_id, livemode, created_at, origin)
                 VALUES (?1, ?2, ?3, ?4, 'usd', ?5, ?6, 0, ?7, 'mirror')",
            )
            .unwrap();
        for i in 0..n {
            let created = END - SPAN_SECS + (i as i64 * SPAN_SECS) / n as i64;
            let us = created * 1_000_000;
            let amount = 1_000 + (i % 97) as i64 * 10;
            let fee = 30 + amount * 29 / 1_000;
            let object = format!("ch_bench{i:010}");
            // Every 100,000th item carries a discrepancy, in turn of each kind.
            let (mut booked, mut booked_fee, mut in_ledger, mut in_stripe, mut twice) =
                (amount, fee, true, true, false);
            if i % 100_000 == 99_999 {
                match (i / 100_000) % 5 {
                    0 => in_ledger = false,
                    1 => booked += 100,
                    2 => booked_fee -= 5,
                    3 => twice = true,
                    _ => in_stripe = false,
                }
            }
            if in_stripe {
                bt.execute(params![
                    format!("txn_bench{i:010}"),
                    object,
                    amount,
                    fee,
                    amount - fee,
                    us,
                    us + 2 * 86_400_000_000
                ])
                .unwrap();
            }
            if !in_ledger {
                continue;
            }
            let mut entry = |suffix: &str, kind: &str, stripe: i64, other: &str| {
                let id = format!("je_{i:010}{suffix}");
                post.execute(params![
                    format!("{id}:0"),
                    id,
                    "assets:stripe:payments",
                    stripe,
                    kind,
                    object,
                    us
                ])
                .unwrap();
                post.execute(params![
                    format!("{id}:1"),
                    id,
                    other,
                    -stripe,
                    kind,
                    object,
                    us
                ])
                .unwrap();
            };
            entry(
                "p",
                "subscription_payment",
                booked,
                "liabilities:subscribers:u",
            );
            entry("f", "stripe_fee", -booked_fee, "expenses:stripe_fees");
            if twice {
                entry(
                    "d",
                    "subscription_payment",
                    booked,
                    "liabilities:subscribers:u",
                );
            }
        }
    }
    common::refresh_ledger_totals(&tx);
    tx.commit().unwrap();
    conn.execute_batch("ANALYZE").unwrap();
}

/// Child process: one dry-run snapshot; prints "ms kib matched exceptions".
fn measure(dir: &Path) {
    // BENCH_TRACE=1: the snapshot's phases (load, match, total) on stderr.
    if std::env::var_os("BENCH_TRACE").is_some() {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .init();
    }
    let ws = open(dir);
    let ctx = OpContext::new("bench", Timestamp::from_second(END + 86_400).unwrap());
    let started = Instant::now();
    let s = snapshot::compute(&ws, date(2026, 10, 31), &ctx).expect("snapshot");
    let ms = started.elapsed().as_millis();
    assert_eq!(s.currencies[0].remainder, 0, "every cent explained");
    println!("{ms} {} {} {}", vm_hwm_kib(), s.matched, s.exceptions.len());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        measure(Path::new(&args[i + 1]));
        return;
    }
    let n = env("BENCH_ITEMS", 1_000_000);
    let runs = env("BENCH_RUNS", 5).max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).unwrap();
    let dir = root.join(format!("reconcile-{n}"));
    if !dir.join("ready").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(dir.with_extension("key"));
        eprintln!("building a workspace with {n} items on each side …");
        let t = Instant::now();
        build(&dir, n);
        std::fs::write(dir.join("ready"), b"").unwrap();
        eprintln!("built in {:.1} s", t.elapsed().as_secs_f64());
    }
    let exe = std::env::current_exe().unwrap();
    let mut times = Vec::new();
    let mut rss = Vec::new();
    let mut summary = String::new();
    for run in 0..runs {
        let out = Command::new(&exe)
            .arg("--measure")
            .arg(&dir)
            .output()
            .expect("run the measuring child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let f: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        eprintln!(
            "run {}: {} s, peak RSS {} MiB",
            run + 1,
            secs(f[0]),
            f[1] / 1024
        );
        times.push(f[0]);
        rss.push(f[1]);
        summary = format!("{} matched, {} exceptions", f[2], f[3]);
    }
    times.sort_unstable();
    rss.sort_unstable();
    println!(
        "| snapshot, {n} items each side ({summary}) | {} s ({}–{}) | peak RSS {} MiB ({}–{}) | {runs} runs |",
        secs(times[times.len() / 2]),
        secs(times[0]),
        secs(times[times.len() - 1]),
        rss[rss.len() / 2] / 1024,
        rss[0] / 1024,
        rss[rss.len() - 1] / 1024
    );
}
