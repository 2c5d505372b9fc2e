//! Golden tests of the CLI's `--json` output: every read command (and the writes a month-end
//! takes) on the demo workspace, at a fixed clock (`CLOSEBOOK_NOW`), compared with the files
//! in `tests/golden/cli/`. They pin what a script depends on, so that moving the CLI onto
//! the product API shows it changed nothing.
//!
//! What differs from run to run is replaced before comparing: the workspace's id and folder,
//! the people's random keys (and what they sign), the OS user, and durations. Everything else
//! — amounts, counts, digests of data, days, states, error codes — is compared exactly.
//! `UPDATE_GOLDEN=1 cargo test --test cli_golden` rewrites the files (review the diff).

mod common;

use std::path::PathBuf;

use common::cli::CliWorkspace;
use common::repo_root;
use serde_json::Value;

/// After the demo's last activity (October 2026 and the first days of November).
const NOW: &str = "2026-11-06T15:00:00Z";

/// Keys whose values are random or timing: replaced by `<key>`.
const UNSTABLE_KEYS: &[&str] = &[
    "elapsed_ms",
    "duration_ms",
    "public_key",
    "fingerprint",
    "signature",
    "preparer_signature",
    "signed_by",
    "hash",
    "prev_hash",
    "payload_sha256",
    "head",
    "head_hash",
    // The loopback address of the demo's simulator: a new port each run.
    "api_base",
];

struct Golden {
    cli: CliWorkspace,
    root: PathBuf,
    replacements: Vec<(String, String)>,
    mismatches: Vec<String>,
}

impl Golden {
    fn json(&mut self, name: &str, args: &[&str]) -> Value {
        let value = self.run(args);
        self.compare(name, &value);
        value
    }

    fn run(&mut self, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let out = self.cli.run(&full);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "closebook {args:?} failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("closebook {args:?}: not JSON ({e}): {stdout}"))
    }

    fn compare(&mut self, name: &str, value: &Value) {
        let stable = self.normalize(value.clone());
        let path = repo_root()
            .join("tests/golden/cli")
            .join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&stable).unwrap() + "\n";
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            return;
        }
        let want: Value = match std::fs::read_to_string(&path) {
            Ok(s) => serde_json::from_str(&s).unwrap(),
            Err(_) => {
                self.mismatches.push(format!(
                    "{name}: no golden file {} (UPDATE_GOLDEN=1 writes it)",
                    path.display()
                ));
                return;
            }
        };
        if want != stable {
            self.mismatches
                .push(format!("{name}: {}", first_difference("", &want, &stable)));
        }
    }

    fn normalize(&self, v: Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = if UNSTABLE_KEYS.contains(&k.as_str()) && !v.is_null() {
                            Value::String(format!("<{k}>"))
                        } else {
                            self.normalize(v)
                        };
                        (k, v)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.normalize(v)).collect())
            }
            Value::String(s) => Value::String(hide_signatures(
                &self
                    .replacements
                    .iter()
                    .fold(s, |s, (from, to)| s.replace(from, to)),
            )),
            other => other,
        }
    }
}

/// Audit summaries quote a signature's first hex digits (`signature 50735e2c…`): random keys.
fn hide_signatures(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("signature ") {
        let (head, tail) = rest.split_at(i + "signature ".len());
        out.push_str(head);
        let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if hex >= 8 {
            out.push_str("<signature>");
            rest = &tail[hex..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Where two values first differ, as a JSON path with both sides.
fn first_difference(path: &str, want: &Value, got: &Value) -> String {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, av) in a {
                match b.get(k) {
                    Some(bv) if av != bv => {
                        return first_difference(&format!("{path}.{k}"), av, bv);
                    }
                    None => return format!("{path}.{k} is gone"),
                    _ => {}
                }
            }
            let extra: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
            format!("{path}: new fields {extra:?}")
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                if av != bv {
                    return first_difference(&format!("{path}[{i}]"), av, bv);
                }
            }
            format!("{path}: equal")
        }
        _ => format!(
            "{path}: want {}, got {}",
            truncate(&want.to_string()),
            truncate(&got.to_string())
        ),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

fn keychain_available() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

fn os_user() -> String {
    closebook_engine::OpContext::os_user(jiff::Timestamp::UNIX_EPOCH).actor
}

#[test]
fn every_read_command_prints_the_json_it_printed_before() {
    if !keychain_available() {
        // People's keys live in the OS keychain: run under scripts/with-keyring.sh.
        eprintln!("skipped: no Secret Service (run under scripts/with-keyring.sh)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cli = CliWorkspace::at(tmp.path(), "demo").with_env("CLOSEBOOK_NOW", NOW);
    let mut g = Golden {
        root: tmp.path().to_path_buf(),
        cli,
        replacements: Vec::new(),
        mismatches: Vec::new(),
    };
    let root = g.root.display().to_string();
    g.replacements.push((root, "<tmp>".into()));
    g.replacements.push((os_user(), "os:<user>".into()));

    let demo = g.run(&["demo"]);
    let id = demo["workspace"]["id"].as_str().unwrap().to_string();
    g.replacements.insert(0, (id, "<workspace-id>".into()));
    g.compare("demo", &demo);

    g.json("status", &["status"]);
    g.json("accounts_show", &["accounts", "show"]);
    g.json(
        "ledger_balances",
        &["ledger", "balances", "--account", "assets"],
    );
    g.json("ledger_trial_balance", &["ledger", "trial-balance"]);
    g.json(
        "ledger_entries",
        &[
            "ledger",
            "entries",
            "--account",
            "liabilities:creators",
            "--limit",
            "5",
        ],
    );
    g.json("stripe_status", &["stripe", "status"]);
    g.json("coverage", &["coverage"]);
    g.json("match_rules", &["match-rules"]);

    g.json("snapshot_catch_up", &["snapshot", "--catch-up"]);
    g.json("snapshot_list", &["snapshot", "--list"]);
    g.json(
        "snapshot_dry_run",
        &["snapshot", "--date", "2026-10-15", "--dry-run"],
    );
    g.json(
        "webhooks",
        &["webhooks", "--from", "2026-10-08", "--to", "2026-11-05"],
    );
    let open = g.json("exceptions_list", &["exceptions", "list"]);
    g.json("exceptions_all", &["exceptions", "list", "--state", "all"]);
    let first = open[0]["id"].as_i64().expect("the demo has exceptions");
    g.json(
        "exceptions_show",
        &["exceptions", "show", &first.to_string()],
    );

    // The demo comes with its roster (as the desktop's): each person's random key is named.
    let roster = g.run(&["people", "list"]);
    for p in roster.as_array().expect("a roster") {
        let (name, key) = (
            p["name"].as_str().unwrap(),
            p["public_key"].as_str().unwrap(),
        );
        g.replacements
            .push((key.to_string(), format!("<key of {name}>")));
    }
    let added = g.run(&[
        "people",
        "add",
        "Quinn Lee",
        "--role",
        "approver",
        "--as",
        "Morgan Blake",
    ]);
    let key = added["public_key"].as_str().unwrap().to_string();
    g.replacements.push((key, "<key of Quinn Lee>".into()));
    g.compare("people_add", &added);
    g.json("people_list", &["people", "list"]);

    let prepared = g.json(
        "payouts_prepare",
        &[
            "payouts",
            "prepare",
            "--month",
            "2026-10",
            "--as",
            "Dana Reyes",
        ],
    );
    let batch = prepared["batch"]["id"].as_str().unwrap().to_string();
    g.json("payouts_list", &["payouts", "list"]);
    g.json("payouts_show", &["payouts", "show", &batch]);
    g.json(
        "payouts_what_if",
        &[
            "payouts",
            "what-if",
            &batch,
            "--fee-bps",
            "500",
            "--minimum",
            "1000",
        ],
    );
    g.json(
        "payouts_approve",
        &["payouts", "approve", &batch, "--as", "Ari Chen"],
    );
    g.json("payouts_status", &["payouts", "status", &batch]);

    let out = g.root.join("tb");
    // The manifest carries the audit log's head, which the people's random keys reach.
    let export = g.run(&[
        "export",
        "report",
        "trial_balance",
        "--format",
        "csv",
        "--out",
        &out.display().to_string(),
    ]);
    let manifest = export["manifest_sha256"].as_str().unwrap().to_string();
    g.replacements.push((manifest, "<manifest_sha256>".into()));
    g.compare("export_trial_balance", &export);
    g.json(
        "verify_export",
        &["verify-export", &out.display().to_string()],
    );
    g.json("audit_verify", &["audit", "verify"]);
    g.json("audit_log", &["audit", "log", "--limit", "12"]);

    assert!(
        g.mismatches.is_empty(),
        "the CLI's --json output changed:\n{}",
        g.mismatches.join("\n")
    );
}
