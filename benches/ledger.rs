//! The ledger at scale, against its floor and its peers, on the same data in the same run:
//!
//! - **Import**: N ledger postings (a generated platform, `PlatformSpec::scale`) from CSV
//!   into a new encrypted workspace through `closebook_engine::ingest` (parse, validate every
//!   row, balance every entry, write with the mirror's rules), against the floor: plain
//!   rusqlite (no encryption, the same pragmas and schema) reading the same CSV with the csv
//!   crate and inserting the same rows with one prepared statement in one transaction.
//! - **Balances**: the trial balance of those postings, against hledger and ledger-cli
//!   reading Closebook's own journal export of the same ledger; the three must agree.
//!
//! `cargo bench --bench ledger` (environment: BENCH_POSTINGS=1000000, BENCH_RUNS=3). Every
//! run is a fresh process; wall time and peak RSS (the child's `ru_maxrss`) are measured from
//! outside. Prints Markdown table rows.

mod common;

use common::{env, measured, probe, secs};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::{
    FreshIdentity, InitOptions, KeySource, Mode, Workspace, pragmas, schema,
};
use closebook_engine::{OpContext, ledger};
use closebook_generate::{self as generate, PlatformSpec};
use jiff::Timestamp;

fn ctx() -> OpContext {
    OpContext::new("bench", Timestamp::from_second(1_800_000_000).unwrap())
}

/// Child: imports `csv` into a new workspace at `dir`.
fn closebook_import(csv: &Path, dir: &Path) {
    let secrets = MemorySecrets::new();
    let mut ws = Workspace::init(
        dir,
        InitOptions {
            name: "import bench".into(),
            mode: Mode::Test,
            timezone: "UTC".into(),
            demo: false,
        },
        &KeySource::File(dir.with_extension("key")),
        &secrets,
        FreshIdentity::generate().unwrap(),
        &ctx(),
    )
    .unwrap();
    let r = ingest::import_file(&mut ws, Kind::Ledger, csv, Some(Format::Csv), &ctx()).unwrap();
    println!("{}", r.rows_added);
}

/// Child: the floor. Plain rusqlite, the workspace's pragmas and schema, the same rows;
/// with `encrypted`, the same again in an SQLCipher file with a raw key (what encryption
/// alone costs).
fn floor_import(csv: &Path, db: &Path, encrypted: bool) {
    let conn = rusqlite::Connection::open(db).unwrap();
    if encrypted {
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "42".repeat(32)))
            .unwrap();
    }
    for (name, value, _) in pragmas() {
        let _ = conn.query_row(&format!("PRAGMA {name} = {value}"), [], |_| Ok(()));
    }
    for m in schema::MIGRATIONS {
        conn.execute_batch(m).unwrap();
    }
    let tx = conn.unchecked_transaction().unwrap();
    let mut n = 0u64;
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO ledger_postings (posting_key, platform_id, entry_id, account, amount_minor, currency, entry_type, stripe_object_id, event_id, idempotency_key, livemode, created_at, description, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'mirror')",
            )
            .unwrap();
        let mut r = csv::Reader::from_path(csv).unwrap();
        let h = r.headers().unwrap().clone();
        let at = |name: &str| h.iter().position(|x| x == name).unwrap();
        let (id, entry, account, amount, currency, kind, object, event, key, live, created, desc) = (
            at("id"),
            at("entry_id"),
            at("account"),
            at("amount_minor"),
            at("currency"),
            at("entry_type"),
            at("stripe_object_id"),
            at("event_id"),
            at("idempotency_key"),
            at("livemode"),
            at("created_at"),
            at("description"),
        );
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        for rec in r.records() {
            let rec = rec.unwrap();
            let created: Timestamp = rec[created].parse().unwrap();
            insert
                .execute(rusqlite::params![
                    format!("pg:{}", &rec[id]),
                    rec[id].parse::<i64>().unwrap(),
                    &rec[entry],
                    &rec[account],
                    rec[amount].parse::<i64>().unwrap(),
                    &rec[currency],
                    &rec[kind],
                    opt(&rec[object]),
                    opt(&rec[event]),
                    opt(&rec[key]),
                    &rec[live] == "true",
                    created.as_microsecond(),
                    opt(&rec[desc]),
                ])
                .unwrap();
            n += 1;
        }
    }
    tx.commit().unwrap();
    println!("{n}");
}

/// Child: the trial balance; prints `account<TAB>currency<TAB>decimal` per non-zero account.
fn closebook_balances(dir: &Path) {
    let ws = Workspace::open(
        dir,
        &KeySource::File(dir.with_extension("key")),
        &MemorySecrets::new(),
    )
    .unwrap();
    let tb = ledger::trial_balance(&ws, None).unwrap();
    let mut out = String::new();
    for r in tb.rows.iter().filter(|r| r.balance.minor != 0) {
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            r.account,
            r.balance.currency.code(),
            r.balance.money().to_decimal_string()
        ));
    }
    print!("{out}");
}

type Balances = BTreeMap<(String, String), String>;

fn parse_ours(out: &[u8]) -> Balances {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), f[2].to_string())
        })
        .collect()
}

/// Both peers print `account<TAB>amount COMMODITY` lines (one amount per commodity).
fn parse_peer(out: &[u8]) -> Balances {
    let mut map = Balances::new();
    let mut account = String::new();
    for line in String::from_utf8_lossy(out).lines() {
        let (acct, amount) = match line.split_once('\t') {
            Some((a, x)) => (a.to_string(), x),
            None => (account.clone(), line),
        };
        account = acct.clone();
        let amount = amount.trim().trim_matches('"');
        if amount.is_empty() || amount == "0" {
            continue;
        }
        let (num, sym) = amount.rsplit_once(' ').unwrap_or((amount, ""));
        map.insert(
            (acct, sym.trim_matches('"').to_lowercase()),
            num.replace(',', ""),
        );
    }
    map
}

/// hledger's CSV: `"account","1,234.56 USD, 5 JPY"`.
fn parse_hledger(out: &[u8]) -> Balances {
    let mut map = Balances::new();
    let mut r = csv::Reader::from_reader(out);
    for rec in r.records() {
        let rec = rec.unwrap();
        for part in rec[1].split(", ") {
            let line = format!("{}\t{}", &rec[0], part.trim());
            map.extend(parse_peer(line.as_bytes()));
        }
    }
    map
}

struct Stats {
    ms: Vec<u64>,
    kib: Vec<u64>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            ms: Vec::new(),
            kib: Vec::new(),
        }
    }
    fn push(&mut self, ms: u64, kib: u64) {
        self.ms.push(ms);
        self.kib.push(kib);
    }
    fn median(&self) -> u64 {
        let mut v = self.ms.clone();
        v.sort_unstable();
        v[v.len() / 2]
    }
    fn show(&self) -> String {
        let (mut m, mut k) = (self.ms.clone(), self.kib.clone());
        m.sort_unstable();
        k.sort_unstable();
        format!(
            "{} s ({}–{}); peak RSS {} MiB",
            secs(m[m.len() / 2]),
            secs(m[0]),
            secs(m[m.len() - 1]),
            k[k.len() / 2] / 1024
        )
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--probe") => return probe(&args[2..]),
        Some("--closebook-import") => {
            return closebook_import(Path::new(&args[2]), Path::new(&args[3]));
        }
        Some("--floor-import") => {
            return floor_import(Path::new(&args[2]), Path::new(&args[3]), false);
        }
        Some("--floor-encrypted") => {
            return floor_import(Path::new(&args[2]), Path::new(&args[3]), true);
        }
        Some("--closebook-balances") => return closebook_balances(Path::new(&args[2])),
        _ => {}
    }
    let n = env("BENCH_POSTINGS", 1_000_000);
    let runs = env("BENCH_RUNS", 3).max(1);
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/ledger-{n}"));
    std::fs::create_dir_all(&root).unwrap();
    let csv = root.join("ledger.csv");
    if !csv.exists() {
        eprintln!("generating a platform of about {n} postings …");
        let p = generate::generate(&PlatformSpec::scale(n, 1));
        generate::write_files(&p, &root).unwrap();
    }
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count() as u64 - 1;
    let exe = std::env::current_exe().unwrap();
    let exe_s = exe.display().to_string();

    // Import.
    let (mut ours, mut floor, mut sealed) = (Stats::new(), Stats::new(), Stats::new());
    for run in 0..runs {
        let ws = root.join(format!("ws-{run}"));
        let db = root.join(format!("floor-{run}.db"));
        let _ = std::fs::remove_dir_all(&ws);
        let _ = std::fs::remove_file(ws.with_extension("key"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let (ms, kib, out) = measured(
            &exe,
            &[
                &exe_s,
                "--closebook-import",
                &csv.display().to_string(),
                &ws.display().to_string(),
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&out).trim(),
            rows.to_string(),
            "every posting imported"
        );
        ours.push(ms, kib);
        let (fms, fkib, fout) = measured(
            &exe,
            &[
                &exe_s,
                "--floor-import",
                &csv.display().to_string(),
                &db.display().to_string(),
            ],
        );
        assert_eq!(String::from_utf8_lossy(&fout).trim(), rows.to_string());
        floor.push(fms, fkib);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let (ems, ekib, eout) = measured(
            &exe,
            &[
                &exe_s,
                "--floor-encrypted",
                &csv.display().to_string(),
                &db.display().to_string(),
            ],
        );
        assert_eq!(String::from_utf8_lossy(&eout).trim(), rows.to_string());
        sealed.push(ems, ekib);
        eprintln!(
            "import run {}: closebook {} s, floor {} s",
            run + 1,
            secs(ms),
            secs(fms)
        );
        if run > 0 {
            let _ = std::fs::remove_dir_all(&ws);
            let _ = std::fs::remove_file(ws.with_extension("key"));
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    let rate = |ms: u64| rows * 1000 / ms.max(1);
    println!(
        "| Import {rows} ledger postings from CSV into the encrypted workspace | {} ({} rows/s) | plain rusqlite, same schema and rows: {} ({} rows/s); the same encrypted (SQLCipher, raw key): {} ({} rows/s) | {}% of the floor's rows/s ({}% of the encrypted floor's) | ≥ 60% |",
        ours.show(),
        rate(ours.median()),
        floor.show(),
        rate(floor.median()),
        sealed.show(),
        rate(sealed.median()),
        floor.median() * 100 / ours.median().max(1),
        sealed.median() * 100 / ours.median().max(1)
    );

    // Balances, on the workspace of the first run and its journal.
    let ws = root.join("ws-0");
    let journal = root.join("ledger.journal");
    if !journal.exists() {
        let w = Workspace::open(
            &ws,
            &KeySource::File(ws.with_extension("key")),
            &MemorySecrets::new(),
        )
        .unwrap();
        closebook_engine::reports::journal::export(
            &w,
            &journal,
            None,
            &ctx(),
            &mut |_| {},
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap();
    }
    let j = journal.display().to_string();
    let (mut cb, mut hl, mut lc) = (Stats::new(), Stats::new(), Stats::new());
    let mut results: Vec<(&str, Balances)> = Vec::new();
    for run in 0..runs {
        let (ms, kib, out) = measured(
            &exe,
            &[&exe_s, "--closebook-balances", &ws.display().to_string()],
        );
        cb.push(ms, kib);
        let ours = parse_ours(&out);
        let (hms, hkib, hout) = measured(
            &exe,
            &["hledger", "-f", &j, "balance", "--flat", "-N", "-O", "csv"],
        );
        hl.push(hms, hkib);
        let (lms, lkib, lout) = measured(
            &exe,
            &[
                "ledger",
                "-f",
                &j,
                "balance",
                "--flat",
                "--no-total",
                "--balance-format",
                "%(account)\t%(display_total)\n",
            ],
        );
        lc.push(lms, lkib);
        eprintln!(
            "balances run {}: closebook {} s, hledger {} s, ledger-cli {} s",
            run + 1,
            secs(ms),
            secs(hms),
            secs(lms)
        );
        if run == 0 {
            results = vec![
                ("closebook", ours),
                ("hledger", parse_hledger(&hout)),
                ("ledger-cli", parse_peer(&lout)),
            ];
        }
    }
    for (name, r) in &results[1..] {
        assert_eq!(
            r, &results[0].1,
            "{name} disagrees with Closebook's trial balance"
        );
    }
    println!(
        "| Trial balance of {rows} postings ({} accounts with a balance; the three agree to the cent) | {} | hledger {}; ledger-cli {} | {:.1}× faster than ledger-cli, {:.1}× than hledger | ≥ 20× ledger-cli |",
        results[0].1.len(),
        cb.show(),
        hl.show(),
        lc.show(),
        lc.median() as f64 / cb.median().max(1) as f64,
        hl.median() as f64 / cb.median().max(1) as f64
    );
}
