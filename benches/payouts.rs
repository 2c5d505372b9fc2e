//! A month-end payout batch of N allocations across N/10 creators (N/5 subscribers
//! allocating to five creators each; one creator in ten already owed money in the ledger;
//! every creator with a mirrored, eligible connected account): prepare (lock, compute,
//! digest, sign, write, read back and prove) and preview (read back and prove again, with
//! month-on-month changes, coverage and drift).
//!
//! `cargo bench --bench payouts` (environment: BENCH_ALLOCATIONS=1000000, BENCH_RUNS=5).
//! The workspace is built once under `target/bench-data/`; each run copies it and prepares
//! in a fresh process, so every run starts from the same state and its peak RSS is its own.
//! Prints one Markdown table row.

mod common;

use common::{env, secs, vm_hwm_kib};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use closebook_engine::OpContext;
use closebook_engine::payouts::batch;
use closebook_engine::payouts::people::{self, Role};
use closebook_engine::secrets::{MemorySecrets, SecretStore};
use closebook_engine::workspace::{FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use jiff::Timestamp;
use rusqlite::params;

/// 2026-11-02T09:00:00Z: October is over.
const NOW: i64 = 1_793_610_000;
/// 2026-10-20T12:00:00Z, when the allocations were last touched.
const TOUCHED: i64 = 1_792_497_600;
const SEED: [u8; 32] = [9; 32];

fn ctx() -> OpContext {
    OpContext::new("bench", Timestamp::from_second(NOW).unwrap())
}

fn open(dir: &Path) -> Workspace {
    Workspace::open(
        dir,
        &KeySource::File(dir.with_extension("key")),
        &MemorySecrets::new(),
    )
    .expect("open the bench workspace")
}

fn build(dir: &Path, n: u64) {
    let secrets = MemorySecrets::new();
    let ws = Workspace::init(
        dir,
        InitOptions {
            name: "payout bench".into(),
            mode: Mode::Test,
            timezone: "UTC".into(),
            demo: false,
        },
        &KeySource::File(dir.with_extension("key")),
        &secrets,
        FreshIdentity::generate().unwrap(),
        &ctx(),
    )
    .expect("init");
    people::add(
        &ws,
        &secrets,
        "Bench Preparer",
        Role::Preparer,
        SEED,
        None,
        &ctx(),
    )
    .unwrap();
    // The admin roots the signed roster and vouches for the preparer.
    people::add(
        &ws,
        &secrets,
        "Bench Admin",
        Role::Admin,
        [10; 32],
        None,
        &ctx(),
    )
    .unwrap();
    let creators = (n / 10).max(1);
    let subscribers = (n / 5).max(1);
    let conn = ws.connection();
    let tx = conn.unchecked_transaction().unwrap();
    let us = TOUCHED * 1_000_000;
    {
        let mut acct = tx
            .prepare("INSERT INTO platform_connected_accounts (author_id, stripe_account_id, created_at) VALUES (?1, ?2, ?3)")
            .unwrap();
        let mut obj = tx
            .prepare(
                "INSERT INTO stripe_objects (object_type, id, created, livemode, status, raw, raw_sha256, first_seen, last_changed, sync_run)
                 VALUES ('account', ?1, ?2, 0, NULL, ?3, '', ?2, ?2, 1)",
            )
            .unwrap();
        let mut post = tx
            .prepare(
                "INSERT INTO ledger_postings (posting_key, entry_id, account, amount_minor, currency, entry_type, livemode, created_at, origin)
                 VALUES (?1, ?2, ?3, ?4, 'usd', 'allocation', 0, ?5, 'mirror')",
            )
            .unwrap();
        for c in 0..creators {
            let a = format!("acct_bench{c:08}");
            acct.execute(params![format!("cr_{c:07}"), a, us]).unwrap();
            let raw = format!(
                r#"{{"id":"{a}","object":"account","capabilities":{{"transfers":"active"}},"payouts_enabled":true,"default_currency":"usd","external_accounts":{{"data":[]}}}}"#
            );
            obj.execute(params![a, us, raw]).unwrap();
            if c % 10 == 0 {
                let e = format!("old_{c}");
                post.execute(params![
                    format!("{e}:0"),
                    e,
                    "liabilities:subscribers:old",
                    1_234,
                    us - 40 * 86_400_000_000
                ])
                .unwrap();
                post.execute(params![
                    format!("{e}:1"),
                    e,
                    format!("liabilities:creators:cr_{c:07}"),
                    -1_234,
                    us - 40 * 86_400_000_000
                ])
                .unwrap();
            }
        }
        let mut bal = tx
            .prepare(
                "INSERT INTO platform_balances (user_id, month, total_usd_cents, allocated_usd_cents, updated_at) VALUES (?1, '2026-10', ?2, ?3, ?4)",
            )
            .unwrap();
        let mut alloc = tx
            .prepare(
                "INSERT INTO platform_allocations (id, user_id, page_id, author_id, amount_cents, month, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, '2026-10', ?6)",
            )
            .unwrap();
        let mut k = 0u64;
        for u in 0..subscribers {
            let user = format!("u_{u:07}");
            let mut allocated = 0;
            for j in 0..5u64 {
                if k >= n {
                    break;
                }
                let amount = 100 + ((u * 7 + j * 13) % 900) as i64;
                let creator = (u * 5 + j * 7_919) % creators;
                alloc
                    .execute(params![
                        format!("al_{k:09}"),
                        user,
                        format!("pg_{creator}"),
                        format!("cr_{creator:07}"),
                        amount,
                        us
                    ])
                    .unwrap();
                allocated += amount;
                k += 1;
            }
            bal.execute(params![user, allocated + 500, allocated, us])
                .unwrap();
        }
        // Stripe's balance, so that coverage is known.
        tx.execute(
            "INSERT INTO stripe_sync_runs (id, started_at, finished_at, outcome, api_base, actor) VALUES (1, ?1, ?1, 'ok', 'bench', 'bench')",
            [us],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO stripe_balances (run_id, fetched_at, currency, available, pending) VALUES (1, ?1, 'usd', 9000000000000, 0)",
            [us],
        )
        .unwrap();
    }
    common::refresh_ledger_totals(&tx);
    tx.commit().unwrap();
    conn.execute_batch("ANALYZE").unwrap();
}

/// Child process: prepare and preview; prints "prepare_ms preview_ms kib lines paid".
fn measure(dir: &Path) {
    // BENCH_TRACE=1: the phases of preparing and loading on stderr.
    if std::env::var_os("BENCH_TRACE").is_some() {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .init();
    }
    let ws = open(dir);
    let secrets = MemorySecrets::new();
    let p = people::get(&ws, "Bench Preparer").unwrap().unwrap();
    secrets
        .set(
            &people::keychain_name(&ws.info().id, &p.public_key),
            &hex::encode(SEED),
        )
        .unwrap();
    let signer = people::authenticate(&ws, &secrets, "Bench Preparer").unwrap();
    let t = Instant::now();
    let b = batch::prepare(&ws, &signer, "2026-10", None, &ctx()).expect("prepare");
    let prepare_ms = t.elapsed().as_millis();
    let t = Instant::now();
    let p = batch::preview(&ws, &b.id).expect("preview");
    let preview_ms = t.elapsed().as_millis();
    assert!(p.coverage.covered);
    println!(
        "{prepare_ms} {preview_ms} {} {} {}",
        vm_hwm_kib(),
        b.totals.lines,
        b.totals.paid
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    std::fs::copy(from.with_extension("key"), to.with_extension("key")).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        measure(Path::new(&args[i + 1]));
        return;
    }
    let n = env("BENCH_ALLOCATIONS", 1_000_000);
    let runs = env("BENCH_RUNS", 5).max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).unwrap();
    let dir = root.join(format!("payouts-{n}"));
    if !dir.join("ready").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(dir.with_extension("key"));
        eprintln!("building a workspace with {n} allocations …");
        let t = Instant::now();
        build(&dir, n);
        std::fs::write(dir.join("ready"), b"").unwrap();
        eprintln!("built in {:.1} s", t.elapsed().as_secs_f64());
    }
    let exe = std::env::current_exe().unwrap();
    let (mut prep, mut prev, mut total, mut rss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut summary = String::new();
    for run in 0..runs {
        let scratch = root.join(format!("payouts-{n}-run"));
        let _ = std::fs::remove_dir_all(&scratch);
        copy_dir(&dir, &scratch);
        let out = Command::new(&exe)
            .arg("--measure")
            .arg(&scratch)
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
            "run {}: prepare {} s, preview {} s, peak RSS {} MiB",
            run + 1,
            secs(f[0]),
            secs(f[1]),
            f[2] / 1024
        );
        prep.push(f[0]);
        prev.push(f[1]);
        total.push(f[0] + f[1]);
        rss.push(f[2]);
        summary = format!("{} lines, {} paid (minor units)", f[3], f[4]);
        let _ = std::fs::remove_dir_all(&scratch);
        let _ = std::fs::remove_file(scratch.with_extension("key"));
    }
    for v in [&mut prep, &mut prev, &mut total, &mut rss] {
        v.sort_unstable();
    }
    let med = |v: &Vec<u64>| v[v.len() / 2];
    println!(
        "| payout batch, {n} allocations, {} creators ({summary}) | prepare + preview {} s ({}–{}); prepare {} s, preview {} s | peak RSS {} MiB ({}–{}) | {runs} runs |",
        n / 10,
        secs(med(&total)),
        secs(total[0]),
        secs(total[total.len() - 1]),
        secs(med(&prep)),
        secs(med(&prev)),
        med(&rss) / 1024,
        rss[0] / 1024,
        rss[rss.len() - 1] / 1024
    );
}
