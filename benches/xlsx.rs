//! XLSX export of N rows × 8 columns (the audit-log report: integers, instants and text),
//! against rust_xlsxwriter writing the same cells directly from the same query (what our
//! report pipeline costs on top) and Python's XlsxWriter writing the same cells from the
//! CSV export (a peer). Both writers use constant-memory mode.
//!
//! `cargo bench --bench xlsx` (environment: BENCH_ROWS=1000000, BENCH_RUNS=3). Each run is
//! a fresh process measured from outside (wall time, `ru_maxrss`). Python's peer needs
//! `/usr/bin/python3` with XlsxWriter (Debian's `python3-xlsxwriter`). Prints a table row.

mod common;

use common::{env, measured, median, probe, secs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use closebook_engine::OpContext;
use closebook_engine::reports::{self, ExportControl, Format, ReportSpec};
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::workspace::{FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use jiff::Timestamp;
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};

fn ctx() -> OpContext {
    OpContext::new("bench", Timestamp::from_second(1_800_000_000).unwrap())
}

fn open(dir: &Path) -> Workspace {
    Workspace::open(
        dir,
        &KeySource::File(dir.with_extension("key")),
        &MemorySecrets::new(),
    )
    .unwrap()
}

fn build(dir: &Path, n: u64) {
    let ws = Workspace::init(
        dir,
        InitOptions {
            name: "xlsx bench".into(),
            mode: Mode::Test,
            timezone: "UTC".into(),
            demo: false,
        },
        &KeySource::File(dir.with_extension("key")),
        &MemorySecrets::new(),
        FreshIdentity::generate().unwrap(),
        &ctx(),
    )
    .unwrap();
    let conn = ws.connection();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let start: i64 = tx
            .query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut insert = tx
            .prepare("INSERT INTO audit_log (seq, at, actor, action, summary, payload_sha256, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .unwrap();
        let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        for i in 0..n as i64 {
            insert
                .execute(rusqlite::params![
                    start + 1 + i,
                    1_790_000_000_000_000 + i * 1_000_000,
                    format!("person:preparer {}", i % 7),
                    [
                        "import.file",
                        "stripe.sync",
                        "reconcile.snapshot",
                        "payouts.line.paid"
                    ][(i % 4) as usize],
                    format!(
                        "bench record {i}: paid line {} of pb_2026-10_1 as tr_{i:024}",
                        i % 5_000
                    ),
                    hash,
                    hash,
                    hash
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Child: Closebook's export of the audit-log report.
fn closebook(dir: &Path, dest: &Path, format: Format) {
    let ws = open(dir);
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &reports::ExportProgress| {};
    reports::export(
        &ws,
        &ReportSpec::AuditLog,
        format,
        dest,
        &ctx(),
        &mut ExportControl {
            progress: &mut progress,
            cancel: &cancel,
        },
    )
    .unwrap();
}

/// Child: rust_xlsxwriter alone, the same query and the same cells and formats.
fn direct(dir: &Path, dest: &Path) {
    let ws = open(dir);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().unwrap();
    let int = XFormat::new().set_num_format("#,##0");
    let dt = XFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let headers = [
        "Seq",
        "At",
        "Actor",
        "Action",
        "Summary",
        "Payload SHA-256",
        "Previous hash",
        "Hash",
    ];
    for (i, h) in headers.iter().enumerate() {
        sheet.write_string(0, i as u16, *h).unwrap();
    }
    let mut stmt = ws
        .connection()
        .prepare("SELECT seq, at, actor, action, summary, payload_sha256, prev_hash, hash FROM audit_log ORDER BY seq")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut r = 1u32;
    let tz = jiff::tz::TimeZone::UTC;
    while let Some(row) = rows.next().unwrap() {
        sheet
            .write_number_with_format(r, 0, row.get::<_, i64>(0).unwrap() as f64, &int)
            .unwrap();
        let z = Timestamp::from_microsecond(row.get(1).unwrap())
            .unwrap()
            .to_zoned(tz.clone());
        let d = ExcelDateTime::from_ymd(z.year() as u16, z.month() as u8, z.day() as u8)
            .unwrap()
            .and_hms(z.hour() as u16, z.minute() as u8, f64::from(z.second()))
            .unwrap();
        sheet.write_datetime_with_format(r, 1, &d, &dt).unwrap();
        for c in 2..8 {
            sheet
                .write_string(r, c as u16, row.get::<_, String>(c).unwrap())
                .unwrap();
        }
        r += 1;
    }
    book.save(dest).unwrap();
}

const PYTHON_PEER: &str = r###"
import csv, sys, datetime, xlsxwriter
src, dest = sys.argv[1], sys.argv[2]
wb = xlsxwriter.Workbook(dest, {"constant_memory": True})
ws = wb.add_worksheet("Audit log")
num = wb.add_format({"num_format": "#,##0"})
dt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
with open(src, newline="") as f:
    r = csv.reader(f)
    ws.write_row(0, 0, next(r))
    for i, row in enumerate(r, start=1):
        ws.write_number(i, 0, int(row[0]), num)
        ws.write_datetime(i, 1, datetime.datetime.fromisoformat(row[1]).replace(tzinfo=None), dt)
        for c in range(2, 8):
            ws.write_string(i, c, row[c])
wb.close()
"###;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--probe") => return probe(&args[2..]),
        Some("--closebook") => {
            return closebook(Path::new(&args[2]), Path::new(&args[3]), Format::Xlsx);
        }
        Some("--closebook-csv") => {
            return closebook(Path::new(&args[2]), Path::new(&args[3]), Format::Csv);
        }
        Some("--direct") => return direct(Path::new(&args[2]), Path::new(&args[3])),
        _ => {}
    }
    let n = env("BENCH_ROWS", 1_000_000);
    let runs = env("BENCH_RUNS", 3).max(1);
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/xlsx-{n}"));
    std::fs::create_dir_all(&root).unwrap();
    let ws = root.join("ws");
    if !ws.join("ready").exists() {
        let _ = std::fs::remove_dir_all(&ws);
        let _ = std::fs::remove_file(ws.with_extension("key"));
        eprintln!("building a workspace with {n} audit records …");
        build(&ws, n);
        std::fs::write(ws.join("ready"), b"").unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let e = exe.display().to_string();
    let w = ws.display().to_string();
    let csv_dir = root.join("csv");
    if !csv_dir.exists() {
        let (ms, _, _) = measured(
            &exe,
            &[&e, "--closebook-csv", &w, &csv_dir.display().to_string()],
        );
        eprintln!("CSV export: {} s", secs(ms));
    }
    let csv = csv_dir.join("audit-log.csv").display().to_string();
    let python = Command::new("/usr/bin/python3")
        .args(["-c", "import xlsxwriter"])
        .status()
        .is_ok_and(|s| s.success());
    let script = root.join("peer.py");
    std::fs::write(&script, PYTHON_PEER).unwrap();
    let (mut ours, mut ours_kib, mut dir_ms, mut dir_kib, mut py_ms, mut py_kib) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for run in 0..runs {
        let dest = root.join("out");
        let _ = std::fs::remove_dir_all(&dest);
        let (ms, kib, _) = measured(&exe, &[&e, "--closebook", &w, &dest.display().to_string()]);
        ours.push(ms);
        ours_kib.push(kib);
        let file = root.join("direct.xlsx");
        let _ = std::fs::remove_file(&file);
        let (dms, dkib, _) = measured(&exe, &[&e, "--direct", &w, &file.display().to_string()]);
        dir_ms.push(dms);
        dir_kib.push(dkib);
        let mut line = format!(
            "run {}: closebook {} s, rust_xlsxwriter {} s",
            run + 1,
            secs(ms),
            secs(dms)
        );
        if python {
            let pfile = root.join("python.xlsx");
            let (pms, pkib, _) = measured(
                &exe,
                &[
                    "/usr/bin/python3",
                    &script.display().to_string(),
                    &csv,
                    &pfile.display().to_string(),
                ],
            );
            py_ms.push(pms);
            py_kib.push(pkib);
            line.push_str(&format!(", Python XlsxWriter {} s", secs(pms)));
        }
        eprintln!("{line}");
    }
    let (o, d) = (median(&mut ours), median(&mut dir_ms));
    let peer = if python {
        format!(
            "; Python XlsxWriter {} s, {} MiB",
            secs(median(&mut py_ms)),
            median(&mut py_kib) / 1024
        )
    } else {
        "; Python XlsxWriter not installed".into()
    };
    println!(
        "| XLSX export, {n} rows × 8 columns (the audit-log report) | {} s ({}–{}); peak RSS {} MiB | rust_xlsxwriter direct {} s, {} MiB{peer} | {}% of rust_xlsxwriter's speed | ≥ 85%, ≤ 100 MiB |",
        secs(o),
        secs(ours[0]),
        secs(ours[ours.len() - 1]),
        median(&mut ours_kib) / 1024,
        secs(d),
        median(&mut dir_kib) / 1024,
        d * 100 / o.max(1)
    );
}
