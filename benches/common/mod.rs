//! What every benchmark shares: knobs from the environment, measuring a child process from
//! outside (wall time and peak RSS), and the way figures are printed.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// A knob: `name` from the environment, or `default`.
pub fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's peak resident set, KiB (Linux `VmHWM`).
pub fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Milliseconds as seconds with two decimals.
pub fn secs(ms: u64) -> String {
    format!("{}.{:02}", ms / 1000, (ms % 1000) / 10)
}

/// The median of `v` (sorted in place).
pub fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// `--probe CMD ARGS…` in a benchmark binary: runs CMD, waits for it and prints
/// "PROBE ms kib" on stderr (its wall time and `ru_maxrss`). One probe process per
/// measurement, so that the children's peak RSS is CMD's alone.
pub fn probe(args: &[String]) {
    let started = Instant::now();
    let status = Command::new(&args[0])
        .args(&args[1..])
        .status()
        .expect("start");
    let ms = started.elapsed().as_millis();
    assert!(status.success(), "{args:?} failed");
    // SAFETY: getrusage only writes into the struct it is given.
    let kib = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss as u64
    };
    eprintln!("PROBE {ms} {kib}");
}

/// Runs `args` through `exe --probe`: (wall ms, peak RSS KiB, stdout).
pub fn measured(exe: &Path, args: &[&str]) -> (u64, u64, Vec<u8>) {
    let out = Command::new(exe)
        .arg("--probe")
        .args(args)
        .output()
        .expect("probe");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("PROBE "))
        .expect("probe line");
    let f: Vec<u64> = line[6..].split(' ').map(|x| x.parse().unwrap()).collect();
    (f[0], f[1], out.stdout)
}

/// Benchmarks that write ledger postings straight into the table (to measure a snapshot or
/// a batch, not an import) bring the ledger's kept totals up to date by running the
/// migration that first fills them again, so that the workspace is one the engine could
/// have written.
pub fn refresh_ledger_totals(conn: &rusqlite::Connection) {
    let migration = closebook_engine::workspace::schema::MIGRATIONS
        .iter()
        .find(|m| m.contains("CREATE TABLE ledger_account_totals"))
        .expect("the migration that adds the kept ledger totals");
    conn.execute_batch(
        "DROP TABLE ledger_account_totals; DROP TABLE ledger_type_totals; DROP TABLE ledger_counts;",
    )
    .unwrap();
    conn.execute_batch(migration).unwrap();
}
