//! The command-line conventions: one JSON document with --json, exit codes 0 / 1 / 2,
//! errors on stderr that say what failed, and the demo as the main job.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Cli {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    key: PathBuf,
}

impl Cli {
    fn new() -> Cli {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws");
        let key = tmp.path().join("ws.key");
        Cli {
            _tmp: tmp,
            dir,
            key,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_closebook"))
            .arg("-w")
            .arg(&self.dir)
            .arg("--key-file")
            .arg(&self.key)
            .args(args)
            .env_remove("CLOSEBOOK_WORKSPACE")
            .env_remove("CLOSEBOOK_KEY_FILE")
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?} printed no single JSON document: {e}\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn init_import_and_query_as_json() {
    let cli = Cli::new();
    let info = cli.json(&[
        "--json",
        "init",
        "--mode",
        "test",
        "--timezone",
        "Europe/Berlin",
        "--name",
        "Acme",
    ]);
    assert_eq!(info["mode"], "test");
    assert_eq!(info["timezone"], "Europe/Berlin");
    let seed = common::repo_root().join("fixtures/seed-example");
    for (kind, file) in [
        ("accounts", "accounts.csv"),
        ("ledger", "ledger.csv"),
        ("balances", "balances.csv"),
        ("allocations", "allocations.csv"),
    ] {
        let report = cli.json(&["--json", "import", kind, seed.join(file).to_str().unwrap()]);
        assert!(report["rows_added"].as_u64().unwrap() > 0, "{report}");
    }
    let again = cli.json(&[
        "--json",
        "import",
        "ledger",
        seed.join("ledger.csv").to_str().unwrap(),
    ]);
    assert_eq!(again["already_imported_as"], 2);

    let balances = cli.json(&["--json", "ledger", "balances", "--account", "assets"]);
    let stripe = balances["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["account"] == "assets:stripe")
        .unwrap();
    assert_eq!(
        stripe["total"][0],
        serde_json::json!({"minor": 1_000_000, "currency": "usd", "exponent": 2})
    );
    // As of a date: the end of that day in the workspace's time zone (Berlin, UTC+1 in December).
    let early = cli.json(&[
        "--json",
        "ledger",
        "balances",
        "--flat",
        "--account",
        "assets:stripe",
        "--as-of",
        "2024-12-03",
    ]);
    assert_eq!(
        early["balances"][0]["balance"]["minor"],
        200_000 + 150_000 + 100_000
    );
    assert_eq!(early["as_of"], "2024-12-03T22:59:59.999999Z");

    let tb = cli.json(&["--json", "ledger", "trial-balance"]);
    assert_eq!(tb["totals"][0]["debits"], tb["totals"][0]["credits"]);
    let page = cli.json(&[
        "--json",
        "ledger",
        "entries",
        "--account",
        "liabilities:subscribers",
        "--limit",
        "3",
    ]);
    assert_eq!(page["postings"].as_array().unwrap().len(), 3);
    let (t, s) = (
        page["next"][0].as_i64().unwrap(),
        page["next"][1].as_i64().unwrap(),
    );
    let rest = cli.json(&[
        "--json",
        "ledger",
        "entries",
        "--account",
        "liabilities:subscribers",
        "--after",
        &format!("{t}/{s}"),
    ]);
    assert_eq!(rest["postings"].as_array().unwrap().len(), 7);
    assert!(rest["next"].is_null());
    let gl = cli.json(&[
        "--json",
        "ledger",
        "general-ledger",
        "--account",
        "assets:stripe:payments",
        "--from",
        "2024-12-05",
        "--to",
        "2024-12-06",
    ]);
    assert_eq!(gl["opening"][0]["minor"], 550_000);
    assert_eq!(gl["lines"].as_array().unwrap().len(), 2);
    assert_eq!(gl["closing"][0]["minor"], 750_000);
    let status = cli.json(&["--json", "status"]);
    assert_eq!(status["mirror"]["postings"], 20);
    assert_eq!(status["recent_activity"][0]["action"], "import.file");

    // Text output aligns amounts with their currency's decimals.
    let out = cli.run(&["ledger", "trial-balance"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("10,000.00 USD"), "{text}");
}

#[test]
fn exit_codes_and_error_messages() {
    let cli = Cli::new();
    // Usage errors: 2.
    assert_eq!(cli.run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        cli.run(&["import", "nonsense", "x.csv"]).status.code(),
        Some(2)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_closebook"))
        .args(["status"])
        .env_remove("CLOSEBOOK_WORKSPACE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: no workspace given"),
        "{}",
        stderr(&out)
    );
    // Failures: 1, first stderr line says what failed.
    let out = cli.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: ")
            && stderr(&out).contains("is not a Closebook workspace"),
        "{}",
        stderr(&out)
    );
    assert_eq!(cli.run(&["init"]).status.code(), Some(0));
    assert_eq!(
        cli.run(&["init"]).status.code(),
        Some(1),
        "a workspace is never initialised twice"
    );

    let bad = write(
        cli.dir.parent().unwrap(),
        "bad.csv",
        "entry_id,account,amount_minor,currency,entry_type,created_at\ne1,a:b,12.50,usd,x,2026-10-01T00:00:00Z\ne1,c:d,-1250,usd,x,2026-10-01T00:00:00Z\n",
    );
    let out = cli.run(&["import", "ledger", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let mut lines = err.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("error: bad.csv: rejected with 1 problem(s); nothing was imported"),
        "{err}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .contains("bad.csv:2: column amount_minor: `12.50`: decimal amount"),
        "{err}"
    );

    let out = cli.run(&["--json", "import", "ledger", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "import_rejected");
    assert_eq!(doc["error"]["problems"][0]["line"], 2);
    assert_eq!(doc["error"]["problems"][0]["column"], "amount_minor");

    // A wrong key: exit 1, code key_wrong, the workspace named, the key never printed.
    let wrong = cli.dir.parent().unwrap().join("wrong.key");
    std::fs::write(&wrong, "11".repeat(32)).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_closebook"))
        .arg("-w")
        .arg(&cli.dir)
        .arg("--key-file")
        .arg(&wrong)
        .args(["--json", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "key_wrong");
    assert!(
        stderr(&out).contains(&cli.dir.display().to_string())
            && !stderr(&out).contains(&"11".repeat(32))
    );
}

#[test]
fn demo_creates_then_reopens_and_reports_what_it_holds() {
    let cli = Cli::new();
    let first = cli.json(&["--json", "demo"]);
    assert_eq!(first["created"], true);
    assert_eq!(first["mirror"]["postings"], 6900);
    assert_eq!(first["planted_anomalies"].as_array().unwrap().len(), 8);
    assert_eq!(first["workspace"]["timezone"], "America/New_York");
    // Stripe's side arrives from the simulator: 969 balance transactions, a USD balance,
    // and coverage recorded.
    let bts = first["stripe"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["object_type"] == "balance_transaction")
        .expect("balance transactions synced")
        .clone();
    assert_eq!(bts["added"], 969);
    assert_eq!(first["stripe"]["balance"][0]["currency"], "usd");
    assert_eq!(first["stripe"]["coverage"][0]["currency"], "usd");
    let second = cli.json(&["--json", "demo"]);
    let again = second["stripe"]["counts"].as_array().unwrap();
    assert!(
        again.iter().all(|c| c["added"] == 0 && c["changed"] == 0),
        "a second demo sync changes nothing: {again:?}"
    );
    assert_eq!(second["created"], false);
    assert!(
        second["imports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| !i["already_imported_as"].is_null()),
        "nothing is imported twice"
    );
    let out = cli.run(&["demo"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Reopened the demo workspace") && text.contains("balanced"),
        "{text}"
    );
    // A demo whose key is lost (a throw-away keychain) is rebuilt from the fixtures.
    std::fs::remove_file(&cli.key).unwrap();
    let rebuilt = cli.json(&["--json", "demo"]);
    assert_eq!(rebuilt["rebuilt"], true);
    assert_eq!(rebuilt["mirror"]["postings"], 6900);
}

#[test]
fn a_workspace_that_is_not_a_demo_is_never_rebuilt() {
    let cli = Cli::new();
    assert!(cli.run(&["init"]).status.success());
    std::fs::remove_file(&cli.key).unwrap();
    let out = cli.run(&["demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no key for workspace"),
        "{}",
        stderr(&out)
    );
    assert!(cli.dir.join("workspace.json").exists());
}

#[test]
fn generate_writes_importable_files() {
    let cli = Cli::new();
    let out_dir = cli.dir.parent().unwrap().join("gen");
    let report = cli.json(&[
        "--json",
        "generate",
        "--out",
        out_dir.to_str().unwrap(),
        "--postings",
        "3000",
        "--seed",
        "9",
    ]);
    assert!(report["postings"].as_u64().unwrap() > 2000);
    assert!(cli.run(&["init"]).status.success());
    let r = cli.json(&[
        "--json",
        "import",
        "ledger",
        out_dir.join("ledger.csv").to_str().unwrap(),
    ]);
    assert_eq!(r["rows_added"], report["postings"]);
}

#[test]
fn snapshot_catch_up_exceptions_and_resolve_from_the_command_line() {
    let cli = Cli::new();
    cli.json(&["--json", "demo"]);
    let report = cli.json(&["--json", "snapshot", "--catch-up"]);
    let days = report["days"].as_array().unwrap();
    assert_eq!(days[0]["day"], "2026-08-01");
    assert!(days.len() >= 92, "{}", days.len());
    // Nothing left to catch up.
    let again = cli.run(&["snapshot", "--catch-up"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing to catch up"));
    // A dry run of a reconciled day: the same digest, nothing saved.
    let dry = cli.json(&["--json", "snapshot", "--date", "2026-10-19", "--dry-run"]);
    assert_eq!(dry["status"], "explained");
    assert!(dry["id"].is_null());
    let saved = cli.json(&["--json", "snapshot", "--date", "2026-10-19"]);
    assert_eq!(saved["unchanged"], true);
    assert_eq!(saved["digest"], dry["digest"]);
    let text = String::from_utf8_lossy(&cli.run(&["snapshot", "--date", "2026-10-19"]).stdout)
        .into_owned();
    assert!(
        text.contains("timing_difference") && text.contains("unexplained remainder"),
        "{text}"
    );
    // The open exceptions, by kind.
    let open = cli.json(&["--json", "exceptions", "list"]);
    // The timing difference cleared the next day but stays open until a person resolves it.
    let open = open.as_array().unwrap();
    assert_eq!(open.len(), 8);
    let timing = open
        .iter()
        .find(|x| x["kind"] == "timing_difference")
        .unwrap();
    assert_eq!(
        (timing["current"].as_bool(), timing["last_day"].as_str()),
        (Some(false), Some("2026-10-19"))
    );
    let webhooks = cli.json(&["--json", "exceptions", "list", "--kind", "missed_webhook"]);
    let ids: Vec<String> = webhooks
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let mut args = vec!["--json", "exceptions", "resolve"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--resolution", "accepted", "--note", NOTE]);
    let resolved = cli.json(&args);
    assert_eq!(resolved.as_array().unwrap().len(), 2);
    let show = cli.json(&["--json", "exceptions", "show", &ids[0]]);
    assert_eq!(show["resolution"]["resolution"], "accepted");
    assert!(show["history"].as_array().unwrap().len() > 30);
    const NOTE: &str = "replayed by the platform";
    // The same resolution again (a re-run) finds its work done: exit 0, nothing new.
    let audit_before = cli.json(&["--json", "audit", "log", "--limit", "1"]);
    let rerun = cli.run(&[
        "exceptions",
        "resolve",
        &ids[0],
        "--resolution",
        "accepted",
        "--note",
        NOTE,
    ]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_eq!(
        cli.json(&["--json", "audit", "log", "--limit", "1"]),
        audit_before
    );
    // Refusals say why and change nothing.
    let out = cli.run(&[
        "exceptions",
        "resolve",
        &ids[0],
        "--resolution",
        "accepted",
        "--note",
        "again",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already resolved"),
        "{}",
        stderr(&out)
    );
    let out = cli.run(&["exceptions", "list", "--kind", "nonsense"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("missing_in_ledger"),
        "{}",
        stderr(&out)
    );
    let out = cli.run(&["snapshot", "--date", "2999-01-01"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("has not happened yet"),
        "{}",
        stderr(&out)
    );
    let out = cli.run(&["match-rules", "--order", "exact_reference,exact_reference"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("listed twice"), "{}", stderr(&out));
    let rules = cli.json(&["--json", "match-rules", "--tolerance", "3"]);
    assert_eq!(rules["amount_tolerance_minor"], 3);
    let audit = cli.json(&[
        "--json",
        "audit",
        "log",
        "--action",
        "reconcile.",
        "--limit",
        "500",
    ]);
    assert!(audit.as_array().unwrap().len() >= 94);
}

/// A platform whose chart says `1010 Stripe Balance`: mapped at init (nothing created when
/// the map is wrong), or later with `accounts map` after the import said which roles no
/// account plays; the map is audited and reconciliation reads it.
#[test]
fn a_platform_with_its_own_chart_maps_its_accounts_at_init_or_later() {
    use closebook_generate::{self as generate, Chart, PlatformSpec, Shape};
    let mut spec = PlatformSpec::scale(2_000, 11);
    spec.shape = Shape {
        chart: Chart::Numbered,
        ..Shape::default()
    };
    let platform = generate::generate(&spec);
    let data = tempfile::tempdir().unwrap();
    generate::write_files(&platform, data.path()).unwrap();
    let ledger = data.path().join("ledger.csv").display().to_string();
    let maps: Vec<String> = Chart::Numbered
        .assignments()
        .into_iter()
        .map(|(r, a)| format!("{}={a}", r.name()))
        .collect();

    // At init.
    let cli = Cli::new();
    let mut args = vec!["init", "--mode", "test"];
    for m in &maps {
        args.extend(["--map", m.as_str()]);
    }
    let out = cli.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli.run(&["import", "ledger", &ledger]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("warning:"), "{text}");
    let shown = cli.json(&["--json", "accounts", "show"]);
    let role = |doc: &serde_json::Value, name: &str| -> String {
        doc["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"] == name)
            .unwrap()["account"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(role(&shown, "stripe_balance"), "1010 Stripe Balance");
    assert_eq!(role(&shown, "stripe_accounts"), "1010 Stripe Balance");
    assert!(
        shown["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["role"] == "disputes" || g["role"] == "bank"),
        "{shown}"
    );

    // A wrong map at init creates nothing.
    let bad = Cli::new();
    let out = bad.run(&[
        "init",
        "--mode",
        "test",
        "--map",
        "stripe_fees=assets:stripe:fees",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("reconciled against Stripe"),
        "{}",
        stderr(&out)
    );
    assert!(!bad.dir.join("workspace.json").exists());
    let out = bad.run(&["init", "--mode", "test", "--map", "nonsense"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("ROLE=ACCOUNT"), "{}", stderr(&out));

    // Later: the import says what is missing and how to map it; the map fixes it.
    let later = Cli::new();
    assert!(later.run(&["init", "--mode", "test"]).status.success());
    let out = later.run(&["import", "ledger", &ledger]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning:") && text.contains("--stripe-balance"),
        "{text}"
    );
    let out = later.run(&["accounts", "map", "--stripe-balance", "1010 Stripe Balance"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("reconciled against Stripe are now `1010 Stripe Balance`"),
        "{text}"
    );
    let out = later.run(&["accounts", "map", "--stripe-balance", "1010 Stripe Balance"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
    let out = later.run(&["accounts", "map"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing to map is a usage error"
    );
    let log = cli_audit_actions(&later);
    assert!(log.iter().any(|a| a == "settings.accounts"), "{log:?}");
}

fn cli_audit_actions(cli: &Cli) -> Vec<String> {
    cli.json(&["--json", "audit", "log", "--limit", "20"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect()
}
