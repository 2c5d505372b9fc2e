//! Reports for auditors, checked with tools that are not Closebook: every report exported
//! as XLSX and CSV from seed 004's month (reconciled, paid), read back by openpyxl with the
//! right types and totals, opened by LibreOffice, checked against its manifest (and
//! tampering caught); the ledger exported as a journal and recomputed by hledger, on the
//! fixtures and on generated platforms; cancelled or failed exports leave nothing behind.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use closebook_engine::ingest::{self, Format as InFormat, Kind};
use closebook_engine::payouts::batch;
use closebook_engine::reconcile::snapshot;
use closebook_engine::reports::{self, ExportControl, ExportProgress, Format, ReportSpec, journal};
use closebook_engine::workspace::{Mode, Workspace};
use closebook_engine::{ErrorCode, ledger};
use closebook_generate::{self as generate, PlatformSpec};
use common::seed::{Seed, now, op};
use jiff::civil::date;

/// Whether an external tool is installed; under CI (`scripts/test.sh` installs them) a
/// missing one fails the test instead of skipping it.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "{tool} is needed: scripts/setup.sh installs it"
    );
    if !found {
        eprintln!("{tool} is not installed here: that part is not run");
    }
    found
}

fn export(ws: &Workspace, spec: &ReportSpec, format: Format, dest: &Path) -> reports::ExportReport {
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &ExportProgress| {};
    reports::export(
        ws,
        spec,
        format,
        dest,
        &op(now()),
        &mut ExportControl {
            progress: &mut progress,
            cancel: &cancel,
        },
    )
    .unwrap_or_else(|e| panic!("{spec:?}: {e}"))
}

/// Seed 004's month: prepared, approved, paid, synced again and the payout day reconciled.
fn paid_seed() -> (Seed, String) {
    let mut s = Seed::new();
    let b = s.prepare();
    batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    s.execute(&b.id).unwrap();
    let later: jiff::Timestamp = "2025-01-03T09:00:00Z".parse().unwrap();
    s.sim.set_now(later.as_second());
    common::seed::sync_at(&mut s.t, &s.sim, later);
    snapshot::take(&s.t.ws, date(2025, 1, 2), &op(later)).unwrap();
    (s, b.id)
}

fn specs(batch: &str) -> Vec<ReportSpec> {
    vec![
        ReportSpec::Snapshot {
            day: date(2025, 1, 2),
        },
        ReportSpec::Exceptions,
        ReportSpec::PayoutBatch {
            batch: batch.into(),
        },
        ReportSpec::MonthlyFinancials,
        ReportSpec::TrialBalance { as_of: None },
        ReportSpec::GeneralLedger {
            from: Some(date(2024, 12, 1)),
            to: Some(date(2025, 1, 31)),
            account: None,
        },
        ReportSpec::AuditLog,
    ]
}

fn read_xlsx(path: &Path) -> serde_json::Value {
    let out = Command::new("/usr/bin/python3")
        .arg(common::repo_root().join("tests/tools/read_xlsx.py"))
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sheet<'a>(book: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    book.as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
}

#[test]
fn every_report_exports_as_xlsx_and_csv_and_verifies_against_its_manifest() {
    let (s, id) = paid_seed();
    let ws = &s.t.ws;
    let tmp = tempfile::tempdir().unwrap();
    for spec in specs(&id) {
        for format in [Format::Xlsx, Format::Csv] {
            let dest = tmp.path().join(format!("{}-{:?}", spec.name(), format));
            let r = export(ws, &spec, format, &dest);
            assert_eq!(r.manifest.report.report, spec.name());
            assert!(dest.join(reports::MANIFEST).exists());
            let v = reports::verify(&dest, Some(ws)).unwrap();
            assert!(v.ok(), "{spec:?} {format:?}: {:?}", v.problems);
            assert_eq!(v.recorded, Some(true));
        }
    }
    // Nothing but the exports is left in the parent folder (no staging folders).
    let stray: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    // Every export is in the audit log.
    let exports = closebook_engine::audit::list(
        ws.connection(),
        &closebook_engine::audit::AuditFilter {
            action_prefix: Some("export.".into()),
            limit: 100,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(exports.len(), 14);
}

#[test]
fn the_payout_batch_workbook_reads_back_with_types_and_totals() {
    if !have("/usr/bin/python3") {
        return;
    }
    let (s, id) = paid_seed();
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("batch");
    let r = export(
        &s.t.ws,
        &ReportSpec::PayoutBatch { batch: id.clone() },
        Format::Xlsx,
        &dest,
    );
    let book = read_xlsx(&dest.join(&r.manifest.files[0].path));
    let names: Vec<&str> = book
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Cover", "Totals", "Lines", "Approvals", "Execution"]
    );
    let cover = sheet(&book, "Cover");
    let cover_text = cover["cells"].to_string();
    for want in ["Payout batch", "Test Platform", "Generated by", "Closebook"] {
        assert!(
            cover_text.contains(want),
            "cover lacks {want}: {cover_text}"
        );
    }
    let lines = sheet(&book, "Lines");
    assert_eq!(lines["freeze_panes"], "A2", "header row frozen");
    assert_eq!(lines["auto_filter"], "A1:P6");
    assert_eq!(lines["rows"], 5);
    assert!(
        lines["types"]["Payable"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t == "float" || t == "int")
    );
    assert_eq!(lines["types"]["Creator"], serde_json::json!(["str"]));
    assert_eq!(
        lines["formats"]["Payable"],
        serde_json::json!(["#,##0.00;-#,##0.00"])
    );
    // The independent reader's sums are the batch's totals, to the cent.
    let sum = |sheet: &serde_json::Value, col: &str| -> String {
        let v = sheet["sums"][col].as_str().unwrap().to_string();
        v.strip_suffix(".0").map(str::to_string).unwrap_or(v)
    };
    assert_eq!(sum(lines, "Payable"), "6510");
    assert_eq!(sum(lines, "Fee"), "490");
    assert_eq!(sum(lines, "Gross"), "7000");
    assert!(lines["widths"]["A"].as_f64().unwrap() > 0.0);
    let exec = sheet(&book, "Execution");
    assert_eq!(exec["rows"], 5);
    assert_eq!(exec["types"]["First sent"], serde_json::json!(["datetime"]));
    let approvals = sheet(&book, "Approvals");
    assert_eq!(
        approvals["rows"], 2,
        "the preparer's signature and the approval"
    );
    // The manifest's totals agree with what the reader summed.
    let paid = r
        .manifest
        .totals
        .iter()
        .find(|t| t.section == "Lines" && t.column == "Payable")
        .unwrap();
    assert_eq!((paid.minor, paid.decimal.as_str()), (651_000, "6510.00"));
}

#[test]
fn monthly_financials_give_seed_004s_admin_page() {
    let (s, _) = paid_seed();
    let f = closebook_engine::reports::kinds::monthly_figures(&s.t.ws).unwrap();
    let dec = f.iter().find(|m| m.month == "2024-12").unwrap();
    assert_eq!(
        (
            dec.subscriptions,
            dec.allocated,
            dec.platform_fees,
            dec.creator_payouts,
            dec.unallocated,
            dec.platform_revenue
        ),
        (1_000_000, 700_000, 49_000, 651_000, 300_000, 349_000)
    );
    assert_eq!(dec.transferred, Some(651_000));
    assert_eq!(dec.basis, "batch");
}

#[test]
fn workbooks_open_in_libreoffice() {
    if !have("soffice") {
        return;
    }
    let (s, id) = paid_seed();
    let tmp = tempfile::tempdir().unwrap();
    for spec in [
        ReportSpec::PayoutBatch { batch: id },
        ReportSpec::TrialBalance { as_of: None },
    ] {
        let dest = tmp.path().join(spec.name());
        let r = export(&s.t.ws, &spec, Format::Xlsx, &dest);
        let xlsx = dest.join(&r.manifest.files[0].path);
        let out_dir = tmp.path().join(format!("{}-ods", spec.name()));
        let profile = tmp.path().join("lo-profile");
        let status = Command::new("soffice")
            .arg(format!(
                "-env:UserInstallation=file://{}",
                profile.display()
            ))
            .args([
                "--headless",
                "--norestore",
                "--convert-to",
                "ods",
                "--outdir",
            ])
            .arg(&out_dir)
            .arg(&xlsx)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let converted: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(
            converted.len(),
            1,
            "LibreOffice converted {}",
            xlsx.display()
        );
        assert!(std::fs::metadata(&converted[0]).unwrap().len() > 1_000);
    }
}

#[test]
fn a_tampered_export_is_caught() {
    let (s, id) = paid_seed();
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("batch-csv");
    export(
        &s.t.ws,
        &ReportSpec::PayoutBatch { batch: id },
        Format::Csv,
        &dest,
    );
    let lines = dest.join("lines.csv");
    let text = std::fs::read_to_string(&lines).unwrap();
    // One cent more to one creator.
    let changed = text.replacen("186000", "186001", 1);
    assert_ne!(text, changed);
    std::fs::write(&lines, changed).unwrap();
    let v = reports::verify(&dest, None).unwrap();
    assert!(!v.ok());
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains("lines.csv") && p.contains("SHA-256")),
        "{:?}",
        v.problems
    );
    assert!(
        v.problems.iter().any(|p| p.contains("totals")),
        "{:?}",
        v.problems
    );
    std::fs::write(&lines, text).unwrap();
    assert!(reports::verify(&dest, None).unwrap().ok());
    // An extra file, a missing file.
    std::fs::write(dest.join("extra.csv"), "x\n").unwrap();
    let v = reports::verify(&dest, None).unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains("extra.csv") && p.contains("not listed")),
        "{:?}",
        v.problems
    );
    std::fs::remove_file(dest.join("extra.csv")).unwrap();
    std::fs::remove_file(dest.join("approvals.csv")).unwrap();
    let v = reports::verify(&dest, None).unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains("approvals.csv") && p.contains("missing")),
        "{:?}",
        v.problems
    );
    // A manifest rewritten to match tampered files is no longer the one the audit log holds.
    let dest2 = tmp.path().join("tb");
    export(
        &s.t.ws,
        &ReportSpec::TrialBalance { as_of: None },
        Format::Csv,
        &dest2,
    );
    let mpath = dest2.join(reports::MANIFEST);
    let mut m: reports::Manifest = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    m.generated_by = "someone else".into();
    std::fs::write(&mpath, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    let v = reports::verify(&dest2, Some(&s.t.ws)).unwrap();
    assert_eq!(v.recorded, Some(false));
    assert!(!v.ok());
    // A manifest that is not one, and a folder without one: clear errors, not verdicts.
    std::fs::write(&mpath, b"{ not json").unwrap();
    let e = reports::verify(&dest2, None).unwrap_err();
    assert_eq!(
        closebook_engine::Error::from(e).code(),
        ErrorCode::InvalidInput
    );
    std::fs::remove_file(&mpath).unwrap();
    let e = reports::verify(&dest2, None).unwrap_err();
    assert_eq!(closebook_engine::Error::from(e).code(), ErrorCode::Io);
}

#[test]
fn a_cancelled_or_failed_export_leaves_nothing_behind() {
    let (s, id) = paid_seed();
    let tmp = tempfile::tempdir().unwrap();
    let before = closebook_engine::audit::verify(s.t.ws.connection())
        .unwrap()
        .records;
    for format in [Format::Xlsx, Format::Csv] {
        let dest = tmp.path().join(format!("cancelled-{format:?}"));
        let cancel = AtomicBool::new(true);
        let mut progress = |_: &ExportProgress| {};
        let e = reports::export(
            &s.t.ws,
            &ReportSpec::AuditLog,
            format,
            &dest,
            &op(now()),
            &mut ExportControl {
                progress: &mut progress,
                cancel: &cancel,
            },
        )
        .unwrap_err();
        assert_eq!(
            closebook_engine::Error::from(e).code(),
            ErrorCode::Cancelled
        );
        assert!(!dest.exists());
    }
    // An existing destination, a missing parent, an unknown batch: refused, nothing written.
    std::fs::create_dir(tmp.path().join("taken")).unwrap();
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &ExportProgress| {};
    for (dest, spec) in [
        (tmp.path().join("taken"), ReportSpec::AuditLog),
        (tmp.path().join("no/such/parent"), ReportSpec::AuditLog),
        (
            tmp.path().join("nobatch"),
            ReportSpec::PayoutBatch {
                batch: "pb_nope".into(),
            },
        ),
        (
            tmp.path().join("noday"),
            ReportSpec::Snapshot {
                day: date(2020, 1, 1),
            },
        ),
    ] {
        let r = reports::export(
            &s.t.ws,
            &spec,
            Format::Csv,
            &dest,
            &op(now()),
            &mut ExportControl {
                progress: &mut progress,
                cancel: &cancel,
            },
        );
        assert!(r.is_err(), "{dest:?}");
    }
    let _ = id;
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["taken"], "only what was there before");
    let after = closebook_engine::audit::verify(s.t.ws.connection())
        .unwrap()
        .records;
    assert_eq!(after, before, "no export was recorded");
}

/// hledger's balances of the journal, per account and commodity.
fn hledger_balances(journal: &Path) -> BTreeMap<(String, String), String> {
    let out = Command::new("hledger")
        .arg("-f")
        .arg(journal)
        .args(["balance", "--flat", "--empty", "-N", "-O", "csv"])
        .output()
        .expect("hledger");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let mut map = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let account = rec[0].to_string();
        // "1,234.56 USD, -3 JPY" — one amount per commodity.
        for part in rec[1].split(", ") {
            let part = part.trim();
            if part.is_empty() || part == "0" {
                continue;
            }
            let (num, sym) = part.rsplit_once(' ').unwrap_or_else(|| panic!("{part}"));
            map.insert(
                (account.clone(), sym.trim_matches('"').to_lowercase()),
                num.replace(',', ""),
            );
        }
    }
    map
}

fn closebook_balances(ws: &Workspace) -> BTreeMap<(String, String), String> {
    ledger::trial_balance(ws, None)
        .unwrap()
        .rows
        .into_iter()
        .filter(|r| r.balance.minor != 0)
        .map(|r| {
            (
                (r.account.clone(), r.balance.currency.code().to_string()),
                r.balance.money().to_decimal_string(),
            )
        })
        .collect()
}

fn cross_check(ws: &Workspace, dir: &Path) {
    let path = dir.join("ledger.journal");
    let cancel = AtomicBool::new(false);
    let r = journal::export(ws, &path, None, &op(now()), &mut |_| {}, &cancel).unwrap();
    assert!(r.postings > 0);
    let theirs: BTreeMap<_, _> = hledger_balances(&path)
        .into_iter()
        .filter(|(_, v)| {
            v.trim_start_matches('-')
                .chars()
                .any(|c| c != '0' && c != '.')
        })
        .collect();
    let ours = closebook_balances(ws);
    assert_eq!(theirs, ours, "hledger and Closebook disagree");
}

#[test]
fn hledger_recomputes_the_trial_balance_of_the_fixtures() {
    if !have("hledger") {
        return;
    }
    let (s, _) = paid_seed();
    let tmp = tempfile::tempdir().unwrap();
    cross_check(&s.t.ws, tmp.path());
    // The demo platform: three months, refunds, a dispute, the planted anomalies.
    let mut t = common::workspace_tz(Mode::Test, "America/New_York");
    for (kind, name) in [
        (Kind::Accounts, "accounts.csv"),
        (Kind::Ledger, "ledger.csv"),
    ] {
        ingest::import_file(
            &mut t.ws,
            kind,
            &common::repo_root().join("fixtures/demo").join(name),
            Some(InFormat::Csv),
            &op(now()),
        )
        .unwrap();
    }
    let demo_dir = tmp.path().join("demo");
    std::fs::create_dir(&demo_dir).unwrap();
    cross_check(&t.ws, &demo_dir);
}

#[test]
fn hledger_recomputes_the_trial_balance_of_generated_platforms() {
    if !have("hledger") {
        return;
    }
    for seed in [1u64, 7, 42] {
        let p = generate::generate(&PlatformSpec::scale(3_000, seed));
        let tmp = tempfile::tempdir().unwrap();
        generate::write_files(&p, tmp.path()).unwrap();
        let mut t = common::workspace(Mode::Test);
        ingest::import_file(
            &mut t.ws,
            Kind::Ledger,
            &tmp.path().join("ledger.csv"),
            Some(InFormat::Csv),
            &op(now()),
        )
        .unwrap();
        cross_check(&t.ws, tmp.path());
    }
}

/// Regression: hledger refused the journal of a workspace holding a currency without
/// decimals (`commodity 1000 JPY` lacks the decimal mark it requires).
#[test]
fn hledger_reads_currencies_of_every_exponent_and_declared_units() {
    if !have("hledger") {
        return;
    }
    let mut t = common::workspace(Mode::Test);
    t.ws.declare_unit("ai_credit", 0, "AI credits", &op(now()))
        .unwrap();
    let file = common::write(
        t.dir.path(),
        "mixed.csv",
        "entry_id,account,amount_minor,currency,entry_type,created_at\n\
         e1,assets:stripe:payments,1500,jpy,subscription_payment,2026-10-01T10:00:00Z\n\
         e1,liabilities:subscribers:u1,-1500,jpy,subscription_payment,2026-10-01T10:00:00Z\n\
         e2,assets:stripe:payments,1234,bhd,subscription_payment,2026-10-01T11:00:00Z\n\
         e2,liabilities:subscribers:u2,-1234,bhd,subscription_payment,2026-10-01T11:00:00Z\n\
         e3,assets:credits,40,ai_credit,adjustment,2026-10-02T11:00:00Z\n\
         e3,income:credits,-40,ai_credit,adjustment,2026-10-02T11:00:00Z\n\
         e4,assets:stripe:payments,1999,usd,subscription_payment,2026-10-03T11:00:00Z\n\
         e4,liabilities:subscribers:u3,-1999,usd,subscription_payment,2026-10-03T11:00:00Z\n",
    );
    ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &file,
        Some(InFormat::Csv),
        &op(now()),
    )
    .unwrap();
    cross_check(&t.ws, t.dir.path());
}

/// Security review: a forged export folder cannot pass as recorded by naming a real export's
/// folder after the forged manifest's hash (the whole hash is compared, in a field of its
/// own), and text from outside — a hostile ledger description — never reaches a CSV cell a
/// spreadsheet would run as a formula; a tampered CSV holding one fails verification.
#[test]
fn a_forged_export_named_after_its_hash_is_not_recorded_and_csv_cells_never_run() {
    use closebook_engine::reports::csv_out::is_formula;
    let mut t = common::workspace(Mode::Test);
    let hostile = [
        "=HYPERLINK(\"http://evil.example/\",\"Invoice\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "+1+1",
    ];
    let mut csv = String::from(
        "entry_id,account,amount_minor,currency,entry_type,stripe_object_id,created_at,description\n",
    );
    for (i, d) in hostile.iter().enumerate() {
        let d = d.replace('"', "\"\"");
        csv.push_str(&format!(
            "e{i},assets:stripe:payments,100,usd,subscription_payment,ch_{i},2026-10-0{}T10:00:00Z,\"{d}\"\n\
             e{i},liabilities:subscribers:u{i},-100,usd,subscription_payment,ch_{i},2026-10-0{}T10:00:00Z,\"{d}\"\n",
            i + 1,
            i + 1
        ));
    }
    ingest::import_bytes(
        &mut t.ws,
        Kind::Ledger,
        "hostile.csv",
        csv.as_bytes(),
        InFormat::Csv,
        &common::ctx(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let gl = ReportSpec::GeneralLedger {
        from: None,
        to: None,
        account: None,
    };
    let dest = tmp.path().join("gl");
    export(&t.ws, &gl, Format::Csv, &dest);
    let mut seen = 0;
    for entry in std::fs::read_dir(&dest).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("csv") {
            continue;
        }
        let mut r = csv::Reader::from_path(&path).unwrap();
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                assert!(!is_formula(cell), "{}: {cell:?}", path.display());
                if hostile.iter().any(|h| cell == format!("'{h}")) {
                    seen += 1;
                }
            }
        }
    }
    assert!(
        seen >= hostile.len(),
        "the descriptions are there, as text: {seen}"
    );
    let v = reports::verify(&dest, Some(&t.ws)).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.recorded, Some(true));

    // Forge: alter a file, keep the manifest consistent with it, then have a real export
    // recorded under a folder named after the forged manifest's hash.
    let forged = tmp.path().join("forged");
    std::fs::create_dir(&forged).unwrap();
    for entry in std::fs::read_dir(&dest).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, forged.join(p.file_name().unwrap())).unwrap();
    }
    let mpath = forged.join(reports::MANIFEST);
    let mut m: reports::Manifest = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    let target = m.files[0].path.clone();
    let text = std::fs::read_to_string(forged.join(&target)).unwrap();
    let altered = text.replacen("Invoice", "Invo1ce", 1);
    assert_ne!(altered, text);
    std::fs::write(forged.join(&target), &altered).unwrap();
    m.files[0].sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(altered.as_bytes()));
    m.files[0].bytes = altered.len() as u64;
    let manifest_text = serde_json::to_string_pretty(&m).unwrap();
    std::fs::write(&mpath, &manifest_text).unwrap();
    let forged_hash = reports::verify(&forged, None).unwrap();
    assert!(
        forged_hash.ok(),
        "consistent in itself: {:?}",
        forged_hash.problems
    );
    let named = tmp
        .path()
        .join(format!("exports-{}", &forged_hash.manifest_sha256[..16]));
    export(&t.ws, &gl, Format::Csv, &named);
    let v = reports::verify(&forged, Some(&t.ws)).unwrap();
    assert_eq!(
        v.recorded,
        Some(false),
        "a forged manifest is not on record"
    );
    assert!(!v.ok());
    assert_eq!(
        reports::verify(&named, Some(&t.ws)).unwrap().recorded,
        Some(true)
    );

    // A CSV tampered to hold a formula fails its re-check, with the row named.
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    for entry in std::fs::read_dir(&dest).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, bad.join(p.file_name().unwrap())).unwrap();
    }
    let text = std::fs::read_to_string(bad.join(&target)).unwrap();
    let evil = text.replacen("'=HYPERLINK", "=HYPERLINK", 1);
    assert_ne!(evil, text);
    std::fs::write(bad.join(&target), &evil).unwrap();
    let v = reports::verify(&bad, None).unwrap();
    assert!(
        v.problems.iter().any(|p| p.contains("formula")),
        "{:?}",
        v.problems
    );
}
