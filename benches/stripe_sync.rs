//! Stripe sync against the rate-limit floor: N balance transactions served by the Stripe
//! simulator at Stripe's test-mode limit (25 requests/s) with 300 ms per answer, synced by
//! the real engine (async-stripe, windows fetched concurrently, the client-side limiter set
//! to the same 25/s). The floor is what no client can beat: pages ÷ requests per second.
//!
//! `cargo bench --bench stripe_sync` (environment: BENCH_BTS=100000, BENCH_RUNS=3,
//! BENCH_LATENCY_MS=300, BENCH_RATE=25). Prints one Markdown table row per setting.

mod common;

use common::{env, secs};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use closebook_engine::OpContext;
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::stripe::sync::ObjectType;
use closebook_engine::stripe::{self, StripeKey, SyncControl, SyncOptions};
use closebook_engine::workspace::{FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use closebook_generate::StripeActivity;
use closebook_stripe_sim::{Dataset, SimConfig, Simulator};
use jiff::Timestamp;

/// `n` charges spread over 90 days before `end`, one balance transaction each.
fn dataset(n: u64, end: i64) -> Dataset {
    let span = 90 * 86_400;
    let activity = (0..n)
        .map(|i| {
            let created = end - span + (i as i64 * span) / n as i64;
            StripeActivity {
                id: format!("txn_bench{i:010}"),
                kind: "charge".into(),
                reporting_category: "charge".into(),
                source: format!("ch_bench{i:010}"),
                amount: 1_000 + (i % 97) as i64 * 10,
                fee: 59,
                net: 1_000 + (i % 97) as i64 * 10 - 59,
                currency: "usd".into(),
                created,
                available_on: created + 2 * 86_400,
                destination: None,
                event_id: format!("evt_bench{i:010}"),
                event_type: "charge.succeeded".into(),
                charge: None,
                payout: None,
            }
        })
        .collect();
    Dataset {
        activity,
        accounts: Vec::new(),
    }
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn main() {
    let n = env("BENCH_BTS", 100_000);
    let runs = env("BENCH_RUNS", 3).max(1);
    let latency = Duration::from_millis(env("BENCH_LATENCY_MS", 300));
    let rate = env("BENCH_RATE", 25) as u32;
    let now = Timestamp::now();
    let pages = n.div_ceil(100);
    let floor_ms = pages * 1000 / u64::from(rate);
    let mut times = Vec::new();
    let mut requests = 0;
    let mut retries = 0;
    for run in 0..runs {
        let sim = Simulator::spawn_thread(
            dataset(n, now.as_second() - 3_600),
            SimConfig::test()
                .with_now(now.as_second())
                .with_latency(latency)
                .with_rate_limit(rate),
        )
        .expect("simulator");
        let tmp = tempfile::tempdir().unwrap();
        let secrets = MemorySecrets::new();
        let ctx = OpContext::new("bench", now);
        let mut ws = Workspace::init(
            &tmp.path().join("ws"),
            InitOptions {
                name: "Bench".into(),
                mode: Mode::Test,
                timezone: "UTC".into(),
                demo: false,
            },
            &KeySource::Keychain,
            &secrets,
            FreshIdentity::generate().unwrap(),
            &ctx,
        )
        .unwrap();
        let mut options = SyncOptions::new(&sim.url(), false);
        options.limits.requests_per_second = rate;
        options.since = Some(now - jiff::SignedDuration::from_hours(24 * 91));
        options.only = Some(vec![ObjectType::BalanceTransaction]);
        let key = StripeKey::parse(closebook_stripe_sim::DEFAULT_TEST_KEY).unwrap();
        let cancel = AtomicBool::new(false);
        let mut progress = |_: &stripe::SyncProgress| {};
        let mut control = SyncControl {
            progress: &mut progress,
            cancel: &cancel,
        };
        let started = Instant::now();
        let report = stripe::sync(&mut ws, &key, &options, &ctx, &mut control).expect("sync");
        let ms = started.elapsed().as_millis() as u64;
        let stored: i64 = ws
            .connection()
            .query_row(
                "SELECT count(*) FROM stripe_balance_transactions",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored as u64, n, "every balance transaction, once");
        eprintln!(
            "run {}: {} ms, {} requests, {} retries, {} pages",
            run + 1,
            ms,
            report.requests,
            report.retries,
            report.pages
        );
        times.push(ms);
        requests = report.requests;
        retries += report.retries;
        sim.shutdown();
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    // Ratio to the floor in hundredths, integer arithmetic.
    let ratio = median * 100 / floor_ms.max(1);
    println!(
        "| Stripe sync, {n} balance transactions, {rate} req/s, {} ms latency | {} s (min {}, max {}) | floor {} s ({pages} pages ÷ {rate}/s) | {}.{:02}× | ≤ 1.15× | {} | requests {requests}, retries over all runs {retries}, peak RSS {} MiB |",
        latency.as_millis(),
        secs(median),
        secs(times[0]),
        secs(times[times.len() - 1]),
        secs(floor_ms),
        ratio / 100,
        ratio % 100,
        if ratio <= 115 { "yes" } else { "no" },
        peak_rss_mib()
    );
}
