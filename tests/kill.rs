//! The CLI killed (SIGKILL) at random moments during an import, a reconciliation snapshot and
//! an export, many times each, each kill followed by checks: the workspace opens, its audit
//! chain verifies, and what the operation makes is all there or not there at all. Then a
//! re-run completes, and its result equals a clean run's in a workspace never killed.
//!
//! (PostgreSQL pulls, Stripe syncs and payout execution have their own kill tests in
//! tests/postgres.rs, tests/stripe_sync.rs and tests/payouts_kill.rs.)
//!
//! Kill moments come from a seeded generator (`CLOSEBOOK_KILL_SEED` to replay a run), spread
//! over the operation's measured clean duration, so that on any machine speed most kills
//! land mid-operation; a test fails if none did.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use closebook_stripe_sim::{Dataset, SimConfig, SimHandle, Simulator};
use common::cli::CliWorkspace as Ws;
use rand::{Rng, SeedableRng};

/// Postings in the synthetic platform: enough that each operation takes a good fraction of
/// a second in a debug build, so kills land inside it.
const POSTINGS: u64 = 40_000;
const TRIALS: usize = 6;
/// A catch-up reconciles every day from the first to yesterday, whatever the volume: a
/// smaller platform keeps it short.
const CATCH_UP_POSTINGS: u64 = 5_000;

fn rng() -> rand_chacha::ChaCha8Rng {
    let seed = std::env::var("CLOSEBOOK_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_205);
    eprintln!("kill moments from seed {seed} (CLOSEBOOK_KILL_SEED)");
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

/// The checks and kills every test here makes on a CLI workspace.
trait KillChecks {
    fn count(&self, sql: &str) -> i64;
    fn check_intact(&self);
    fn kill_after(&self, args: &[&str], delay: Duration) -> bool;
    fn timed(&self, args: &[&str]) -> Duration;
}

impl KillChecks for Ws {
    fn count(&self, sql: &str) -> i64 {
        self.open()
            .connection()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }

    /// After every kill: the workspace opens and `audit verify` passes.
    fn check_intact(&self) {
        let out = self.run(&["--json", "audit", "verify"]);
        assert!(
            out.status.success(),
            "audit verify after a kill: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts `args`, kills it after `delay`; true when it was still running (the kill
    /// landed mid-operation).
    fn kill_after(&self, args: &[&str], delay: Duration) -> bool {
        let mut child = self.spawn(args);
        std::thread::sleep(delay);
        let running = child.try_wait().unwrap().is_none();
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        running
    }

    /// How long a clean run of `args` takes.
    fn timed(&self, args: &[&str]) -> Duration {
        let start = Instant::now();
        self.ok(args);
        start.elapsed()
    }
}

struct Platform {
    tmp: tempfile::TempDir,
    data: PathBuf,
}

impl Platform {
    fn generate(postings: u64) -> Platform {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        common::cli::generate(&data, postings);
        Platform { tmp, data }
    }

    fn file(&self, name: &str) -> String {
        self.data.join(name).display().to_string()
    }

    /// Everything but the ledger, imported.
    fn workspace(&self, name: &str) -> Ws {
        let ws = Ws::init(self.tmp.path(), name)
            .with_env("STRIPE_API_KEY", closebook_stripe_sim::DEFAULT_TEST_KEY);
        for kind in ["accounts", "balances", "allocations", "withdrawals"] {
            ws.ok(&["import", kind, &self.file(&format!("{kind}.csv"))]);
        }
        ws
    }
}

fn simulator(postings: u64) -> SimHandle {
    let ds = Dataset::scale(postings, 1);
    let now = ds.suggested_now();
    Simulator::spawn_thread(ds, SimConfig::test().with_now(now)).expect("simulator")
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Moments spread over `clean` (from 5% to 95% of it), in random order.
fn moments(rng: &mut impl Rng, clean: Duration) -> Vec<Duration> {
    (0..TRIALS)
        .map(|_| clean.mul_f64(rng.random_range(0.05..0.95)))
        .collect()
}

#[test]
fn a_killed_import_leaves_all_or_nothing_and_the_rerun_equals_a_clean_import() {
    let platform = Platform::generate(POSTINGS);
    let ledger = platform.file("ledger.csv");
    let clean = platform.workspace("clean");
    let took = clean.timed(&["import", "ledger", &ledger]);
    let clean_total = clean.count("SELECT count(*) FROM ledger_postings");
    assert!(clean_total > 30_000);

    let ws = platform.workspace("killed");
    let mut rng = rng();
    let mut mid = 0;
    for delay in moments(&mut rng, took) {
        mid += usize::from(ws.kill_after(&["import", "ledger", &ledger], delay));
        ws.check_intact();
        let n = ws.count("SELECT count(*) FROM ledger_postings");
        assert!(
            n == 0 || n == clean_total,
            "half an import: {n} of {clean_total} postings"
        );
        let imports = ws.count("SELECT count(*) FROM imports WHERE kind = 'ledger'");
        assert_eq!(
            imports,
            i64::from(n > 0),
            "the import record and its rows go together"
        );
        if n > 0 {
            break; // Done before the kill: later kills would only re-find it imported.
        }
    }
    assert!(mid > 0, "no kill landed mid-import");
    ws.ok(&["import", "ledger", &ledger]);
    ws.check_intact();
    assert_eq!(
        ws.ok(&["--json", "ledger", "balances"]),
        clean.ok(&["--json", "ledger", "balances"]),
        "balances after a killed import equal a clean import's"
    );
    assert_eq!(
        ws.count("SELECT count(*) FROM ledger_postings"),
        clean_total
    );
}

/// Reconciliation of every day of the platform's life (`snapshot --catch-up`), killed again
/// and again: each snapshot is whole or absent, and the days reconciled in the end equal a
/// clean catch-up's, snapshot by snapshot.
#[test]
fn a_killed_catch_up_keeps_whole_snapshots_and_ends_equal_to_a_clean_one() {
    let platform = Platform::generate(CATCH_UP_POSTINGS);
    let sim = simulator(CATCH_UP_POSTINGS);
    let url = sim.url();
    let setup = |name: &str| {
        let ws = platform.workspace(name);
        ws.ok(&["import", "ledger", &platform.file("ledger.csv")]);
        ws.ok(&["sync", "stripe", "--api-base", &url]);
        ws
    };
    let clean = setup("clean");
    let catch_up = ["snapshot", "--catch-up"];
    let took = clean.timed(&catch_up);
    let summary = |ws: &Ws| {
        ws.open()
            .connection()
            .prepare(
                "SELECT s.day, s.status, s.digest, (SELECT count(*) FROM recon_snapshot_exceptions e WHERE e.snapshot_id = s.id)
                 FROM recon_snapshots s ORDER BY s.day",
            )
            .unwrap()
            .query_map([], |r| {
                Ok(format!(
                    "{} {} {} {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?
                ))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    };
    let want = summary(&clean);
    eprintln!("clean catch-up: {} days in {took:?}", want.len());
    assert!(want.len() > 20, "many days to reconcile: {}", want.len());

    let ws = setup("killed");
    let mut rng = rng();
    let mut mid = 0;
    for delay in moments(&mut rng, took) {
        mid += usize::from(ws.kill_after(&catch_up, delay));
        ws.check_intact();
        // Every snapshot saved so far is one of the clean run's, whole.
        let have = summary(&ws);
        assert!(have.len() <= want.len());
        assert_eq!(have[..], want[..have.len()], "a saved snapshot differs");
    }
    assert!(mid > 0, "no kill landed mid-catch-up");
    ws.ok(&catch_up);
    ws.check_intact();
    assert_eq!(
        summary(&ws),
        want,
        "the resumed catch-up equals a clean one"
    );
    sim.shutdown();
}

/// An export killed mid-write never leaves a folder at its destination that is not the
/// whole, verifiable export; a re-run writes the same bytes as a clean export.
#[test]
fn a_killed_export_leaves_no_partial_folder_and_the_rerun_equals_a_clean_export() {
    let platform = Platform::generate(POSTINGS);
    let ws = platform.workspace("ws");
    ws.ok(&["import", "ledger", &platform.file("ledger.csv")]);
    let out = platform.tmp.path().join("exports");
    std::fs::create_dir(&out).unwrap();
    let dest = |name: &str| out.join(name).display().to_string();
    let export = |format: &str, to: &str| {
        [
            "export",
            "report",
            "general_ledger",
            "--format",
            format,
            "--out",
            to,
        ]
        .map(str::to_string)
    };
    let clean_dir = dest("clean");
    let took = ws.timed(&as_strs(&export("xlsx", &dest("clean-xlsx"))));
    ws.ok(&as_strs(&export("csv", &clean_dir)));

    let mut rng = rng();
    let mut mid = 0;
    for (i, delay) in moments(&mut rng, took).into_iter().enumerate() {
        let format = if i % 2 == 0 { "xlsx" } else { "csv" };
        let to = dest(&format!("killed-{i}"));
        mid += usize::from(ws.kill_after(&as_strs(&export(format, &to)), delay));
        ws.check_intact();
        if Path::new(&to).exists() {
            // Renamed into place: then it is whole.
            let v = ws.run(&["verify-export", &to]);
            assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
        }
        // The destination is never half there; only a hidden staging folder may remain.
        for entry in std::fs::read_dir(&out).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                !name.starts_with("killed-")
                    || Path::new(&dest(&name)).join("manifest.json").exists(),
                "{name} is a partial export"
            );
        }
    }
    assert!(mid > 0, "no kill landed mid-export");
    let again = dest("again");
    ws.ok(&as_strs(&export("csv", &again)));
    // Checked against the files and, through `-w`, the workspace's audit log.
    let v = ws.run(&["verify-export", &again]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    for file in ["general-ledger.csv", "accounts.csv"] {
        assert_eq!(
            std::fs::read(Path::new(&again).join(file)).unwrap(),
            std::fs::read(Path::new(&clean_dir).join(file)).unwrap(),
            "{file} after kills equals a clean export's"
        );
    }
}
