//! End-to-end tests of the real desktop app: the release-embedded UI in the real WebKitGTK
//! webview, driven through WebDriver (tauri-driver → WebKitWebDriver), against a real
//! encrypted workspace and the real (throw-away) Secret Service keychain.
//!
//! They need the built app, `tauri-driver`, `WebKitWebDriver` and an X display, so they are
//! `#[ignore]`d in a plain `cargo test`; `scripts/e2e.sh` builds the app and runs them under
//! Xvfb inside a private D-Bus session with a throw-away keychain. Every screen visited is
//! saved as a PNG under `target/e2e-screenshots/` (CI keeps them as artifacts).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
/// How often a wait for an element asks again: fantoccini's default (250 ms) would add up to
/// a quarter of a second to every step, and to the desktop benchmark's times.
const POLL: Duration = Duration::from_millis(10);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn app_binary() -> PathBuf {
    std::env::var_os("CLOSEBOOK_E2E_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/debug/closebook-desktop"))
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("CLOSEBOOK_E2E_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/e2e-screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// tauri-driver with its own app data folder. Stopped with SIGTERM (after SIGKILL its
/// WebKitWebDriver child would survive and keep our stdout open).
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(data_dir: &Path) -> Driver {
        let port = free_port();
        let native = free_port();
        let child = Command::new(std::env::var("TAURI_DRIVER").unwrap_or("tauri-driver".into()))
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("CLOSEBOOK_DATA_DIR", data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver starts (cargo install tauri-driver)");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

struct Session {
    client: Client,
    name: &'static str,
    shots: std::cell::Cell<u32>,
    _driver: Driver,
}

impl Session {
    async fn start(name: &'static str, data_dir: &Path, args: &[&str]) -> Session {
        let driver = Driver::start(data_dir);
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({"application": app_binary(), "args": args}),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a WebDriver session with the app");
        Session {
            client,
            name,
            shots: std::cell::Cell::new(0),
            _driver: driver,
        }
    }

    /// Runs one WebDriver call with a deadline, so a stuck call fails the test instead of
    /// hanging it.
    async fn bounded<T, E: std::fmt::Display>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = Result<T, E>>,
    ) -> T {
        eprintln!("e2e {}: {what}", self.name);
        match tokio::time::timeout(WAIT + Duration::from_secs(5), call).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => panic!("{}: {what}: {e}", self.name),
            Err(_) => panic!("{}: {what}: no answer within {WAIT:?}", self.name),
        }
    }

    async fn find(&self, test_id: &str) -> Element {
        self.css(&format!("[data-testid=\"{test_id}\"]")).await
    }

    async fn css(&self, selector: &str) -> Element {
        self.bounded(
            &format!("wait for {selector}"),
            self.client
                .wait()
                .at_most(WAIT)
                .every(POLL)
                .for_element(Locator::Css(selector)),
        )
        .await
    }

    /// The value of `attr` on the first element with `test_id`.
    async fn first_attr(&self, test_id: &str, attr: &str) -> String {
        let call = self.client.execute(
            "const e = document.querySelector(`[data-testid=\"${arguments[0]}\"]`);\
             return e ? e.getAttribute(arguments[1]) : null;",
            vec![json!(test_id), json!(attr)],
        );
        let value = self
            .bounded(&format!("read {attr} of {test_id}"), call)
            .await;
        value
            .as_str()
            .unwrap_or_else(|| panic!("{}: no {test_id} with {attr}", self.name))
            .to_string()
    }

    /// The text content of every element with `test_id`, cells separated by spaces.
    /// (WebDriver's "visible text" skips ellipsised cells; the DOM's text does not.)
    async fn texts(&self, test_id: &str) -> Vec<String> {
        let call = self.client.execute(
            "return Array.from(document.querySelectorAll(`[data-testid=\"${arguments[0]}\"]`))\
               .map(e => Array.from(e.querySelectorAll('*')).length === 0 ? e.textContent\
                 : Array.from(e.childNodes).map(c => c.textContent).join(' '));",
            vec![json!(test_id)],
        );
        let value = match tokio::time::timeout(WAIT, call).await {
            Ok(v) => v.expect("read texts"),
            Err(_) => panic!("{}: read {test_id}: no answer", self.name),
        };
        serde_json::from_value(value).expect("a list of strings")
    }

    async fn click(&self, test_id: &str) {
        let el = self.find(test_id).await;
        self.bounded(&format!("click {test_id}"), el.click()).await;
    }

    /// Waits until `check` holds for the elements with `test_id`, or fails with `what`.
    async fn until<F>(&self, test_id: &str, what: &str, check: F) -> Vec<String>
    where
        F: Fn(&[String]) -> bool,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let texts = self.texts(test_id).await;
            if check(&texts) {
                return texts;
            }
            if Instant::now() >= deadline {
                // What the window showed when the wait gave up.
                self.shot("failed").await;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {what} (saw {} × {test_id}: {:?})",
                self.name,
                texts.len(),
                texts.iter().take(5).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until every element matching `all` also matches `wanted` (and there is one),
    /// then clicks the first in the page (through the DOM, as a re-rendered table may
    /// replace the element WebDriver found a moment before).
    async fn click_when(&self, all: &str, wanted: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let call = self.client.execute(
                "const all = document.querySelectorAll(arguments[0]);\
                 const wanted = document.querySelectorAll(arguments[1]);\
                 if (wanted.length === 0 || wanted.length !== all.length) return false;\
                 wanted[0].scrollIntoView({block: 'center'}); wanted[0].click(); return true;",
                vec![json!(all), json!(wanted)],
            );
            if self.bounded(&format!("click {what}"), call).await == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {what}: not there",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets an input's value the way a person's typing would, and fires input and change.
    async fn set_value(&self, test_id: &str, value: &str) {
        let el = self.find(test_id).await;
        let call = self.client.execute(
            "const el = arguments[0]; const proto = Object.getPrototypeOf(el);\
                 const setter = Object.getOwnPropertyDescriptor(proto, 'value').set;\
                 setter.call(el, arguments[1]);\
                 el.dispatchEvent(new Event('input', {bubbles: true}));\
                 el.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![serde_json::to_value(&el).unwrap(), json!(value)],
        );
        self.bounded(&format!("set {test_id}"), call).await;
    }

    /// Saves the window as `NN-label.png` after two animation frames (a screenshot right
    /// after a click can show the previous frame).
    async fn shot(&self, label: &str) {
        // Two frames to settle, then a pixel that changes for a moment: without compositing
        // (a machine with no GPU, where the app paints on the CPU) WebKitWebDriver's
        // screenshot waits for the page's next paint, which an idle page never makes.
        let frames = self.client.execute_async(
            "const done = arguments[arguments.length - 1];\
             requestAnimationFrame(() => requestAnimationFrame(() => {\
               const dot = document.createElement('div');\
               dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;opacity:0.01;background:#000';\
               document.body.appendChild(dot);\
               let n = 0;\
               const tick = () => { dot.style.opacity = n % 2 ? '0.01' : '0.02'; n += 1;\
                 if (n < 120) requestAnimationFrame(tick); else dot.remove(); };\
               requestAnimationFrame(tick);\
               done(true);\
             }));",
            vec![],
        );
        self.bounded("wait two frames", frames).await;
        let png = self
            .bounded(&format!("screenshot {label}"), self.client.screenshot())
            .await;
        self.shots.set(self.shots.get() + 1);
        let path =
            screenshot_dir().join(format!("{}-{:02}-{label}.png", self.name, self.shots.get()));
        std::fs::write(&path, png).expect("write screenshot");
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn bad_ledger_file(dir: &Path) -> PathBuf {
    let path = dir.join("bad-ledger.csv");
    std::fs::write(
        &path,
        "entry_id,account,amount_minor,currency,entry_type,created_at\n\
         bad-1,assets:stripe:payments,12.50,usd,adjustment,2026-10-01T00:00:00Z\n\
         bad-1,income:other,-1250,usd,adjustment,2026-10-01T00:00:00Z\n\
         bad-2,assets:stripe:payments,100,xyz,adjustment,2026-10-01T00:00:00Z\n\
         bad-2,income:other,-100,usd,adjustment,yesterday\n",
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "drives the built desktop app: run by scripts/e2e.sh (needs tauri-driver and a display)"]
async fn demo_ledger_explorer_and_import_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let s = Session::start("ledger", &data, &[]).await;

    // First run: nothing open, the start screen offers the demo.
    s.find("welcome").await;
    s.shot("welcome").await;
    s.click("open-demo").await;
    s.find("screen-dashboard").await;
    s.shot("dashboard").await;

    // Sync with the demo's Stripe (the simulator on loopback): progress, then balances,
    // coverage with its risk, and the last sync's outcome.
    s.click("sync-start").await;
    s.find("sync-progress").await;
    s.shot("dashboard-syncing").await;
    s.until("sync-result", "the sync finishes", |t| {
        t.iter().any(|x| x.contains("Synced"))
    })
    .await;
    s.until("stripe-balance", "the Stripe balance", |t| {
        t.iter().any(|x| x.contains("USD"))
    })
    .await;
    s.until("coverage-risk", "a coverage risk level", |t| {
        t.iter().any(|x| {
            ["low", "medium", "high"]
                .iter()
                .any(|r| x.to_lowercase().contains(r))
        })
    })
    .await;
    s.find("coverage-chart").await;
    s.until("last-sync", "the last sync's outcome", |t| {
        t.iter().any(|x| {
            x.to_lowercase().contains("ok") || x.contains("Succeeded") || x.contains("succeeded")
        })
    })
    .await;
    s.shot("dashboard-synced").await;

    // The ledger: account tree with balances.
    s.click("nav-ledger").await;
    s.find("screen-ledger").await;
    for top in ["assets", "expenses", "income", "liabilities"] {
        s.css(&format!(
            "[data-testid=\"tree-node\"][data-account=\"{top}\"]"
        ))
        .await;
    }
    s.until("entry-row", "entries appear", |t| !t.is_empty())
        .await;
    s.shot("ledger").await;

    // Select the creators' obligations: only their postings are listed.
    s.css("[data-testid=\"tree-node\"][data-account=\"liabilities:creators\"]")
        .await
        .click()
        .await
        .unwrap();
    s.until("entry-row", "only creator postings", |t| {
        !t.is_empty() && t.iter().all(|x| x.contains("liabilities:creators:"))
    })
    .await;
    s.shot("ledger-creators").await;

    // Filter by entry type, then by text.
    s.find("filter-type")
        .await
        .select_by_value("transfer")
        .await
        .expect("transfer is an entry type of the demo");
    s.until("entry-row", "only transfers", |t| {
        !t.is_empty() && t.iter().all(|x| x.contains("transfer"))
    })
    .await;
    let entry_id = s.first_attr("entry-row", "data-entry-id").await;
    s.set_value("filter-text", &entry_id).await;
    s.until("entry-row", "the text filter finds the entry", |t| {
        !t.is_empty() && t.iter().all(|x| x.contains(&entry_id))
    })
    .await;
    s.shot("ledger-filtered").await;

    // Drill into the entry: its postings balance and name their source file.
    s.click("entry-row").await;
    s.find("entry-detail").await;
    s.until("entry-posting", "the entry's postings", |t| t.len() >= 2)
        .await;
    s.until("entry-source", "the source file", |t| {
        t.iter().any(|x| x.contains("ledger.csv"))
    })
    .await;
    s.shot("entry-detail").await;
    s.click("entry-detail-close").await;
    s.click("filter-clear").await;

    // A bad file: every problem listed with its line, nothing imported.
    let bad = bad_ledger_file(tmp.path());
    s.click("import-open").await;
    s.find("import-dialog").await;
    s.find("import-kind")
        .await
        .select_by_value("ledger")
        .await
        .unwrap();
    s.set_value("import-path", bad.to_str().unwrap()).await;
    s.click("import-submit").await;
    let texts = s
        .until("import-error", "the import's problems", |t| t.len() >= 3)
        .await;
    for line in ["2", "4", "5"] {
        assert!(
            texts
                .iter()
                .any(|t| t.contains("bad-ledger.csv") && t.contains(line)),
            "line {line} is reported: {texts:?}"
        );
    }
    s.shot("import-errors").await;
    s.click("import-close").await;

    // Reconciliation: the sync's end started a catch-up of every day it covers; the
    // demo's planted inconsistencies are there, and one is resolved through the UI.
    s.click("nav-reconciliation").await;
    s.find("screen-reconciliation").await;
    s.until(
        "recon-last-day",
        "the catch-up reconciles up to yesterday",
        |t| t.iter().any(|x| x.contains("2026-")),
    )
    .await;
    s.until("recon-catch-up", "nothing left to catch up", |t| {
        t.iter().any(|x| x.contains("Up to date"))
    })
    .await;
    s.click("recon-day-2026-10-19").await;
    s.until(
        "recon-snapshot-status",
        "the day of the late booking",
        |t| t.iter().any(|x| x.to_lowercase().contains("explained")),
    )
    .await;
    s.find("recon-waterfall").await;
    let steps = s.texts("recon-waterfall-step").await.join(" | ");
    assert!(
        steps.contains("Timing"),
        "the waterfall shows the timing difference: {steps}"
    );
    s.shot("reconciliation-day").await;
    s.set_value("recon-filter-kind", "duplicate").await;
    // The table reloads with the filter: click the row once only duplicates are listed.
    s.click_when(
        "[data-testid^=\"recon-exception-row-\"]",
        "[data-testid^=\"recon-exception-row-\"][data-kind=\"duplicate\"]",
        "the duplicate, alone in the filtered table",
    )
    .await;
    s.find("recon-exception-detail").await;
    s.until(
        "recon-evidence-ledger",
        "both duplicate entries as evidence",
        |t| {
            t.iter()
                .any(|x| x.contains("je_00001546") && x.contains("je_00001548"))
        },
    )
    .await;
    s.set_value("recon-resolution-select", "duplicate_confirmed")
        .await;
    s.set_value(
        "recon-note",
        "The platform reverses the redelivered booking.",
    )
    .await;
    s.shot("reconciliation-resolving").await;
    s.click("recon-resolve-submit").await;
    s.find("recon-exception-resolution").await;
    assert_eq!(
        s.first_attr("recon-exception-resolution", "data-resolution")
            .await,
        "duplicate_confirmed"
    );
    s.shot("reconciliation-resolved").await;

    // Payouts: October is prepared by Dana, approved by two approvers (the demo asks two
    // from $1,000), and executed against the demo's Stripe simulator.
    s.click("nav-payouts").await;
    s.find("screen-payouts").await;
    s.set_value("payouts-acting-as", "Dana Reyes").await;
    s.click("payouts-month-2026-10").await;
    s.click("payouts-prepare").await;
    s.until("payouts-batch-state", "the prepared draft", |t| {
        t.iter().any(|x| x.to_lowercase().contains("draft"))
    })
    .await;
    let batch_id = s.texts("payouts-batch-id").await.join("");
    assert!(batch_id.contains("pb_2026-10_"), "{batch_id}");
    assert_eq!(
        s.first_attr("payouts-coverage", "data-covered").await,
        "true"
    );
    // cr_00050 has no connected account: its line is held with that reason.
    s.until("payouts-held-reason", "the held line's reason", |t| {
        t.iter()
            .any(|x| x.to_lowercase().contains("connected account"))
    })
    .await;
    s.shot("payouts-prepared").await;
    s.set_value("payouts-whatif-fee", "500").await;
    s.set_value("payouts-whatif-minimum", "10.00").await;
    s.click("payouts-whatif-run").await;
    s.until("payouts-whatif-result", "the what-if totals", |t| {
        t.iter().any(|x| !x.trim().is_empty())
    })
    .await;
    for (who, approvals) in [("Ari Chen", "1 of 2"), ("Sam Okafor", "2 of 2")] {
        s.set_value("payouts-acting-as", who).await;
        s.click("payouts-approve").await;
        s.until("payouts-approvals", "the approval is recorded", |t| {
            t.iter().any(|x| x.contains(approvals))
        })
        .await;
    }
    s.until("payouts-batch-state", "approved by two", |t| {
        t.iter().any(|x| x.to_lowercase().contains("approved"))
    })
    .await;
    let signers = s.texts("payouts-decision").await.join(" | ");
    assert!(
        signers.contains("Ari Chen") && signers.contains("Sam Okafor"),
        "{signers}"
    );
    s.shot("payouts-approved").await;
    s.set_value("payouts-acting-as", "Dana Reyes").await;
    s.click("payouts-execute").await;
    s.until("payouts-batch-state", "every payable line paid", |t| {
        t.iter().any(|x| x.to_lowercase().contains("done"))
    })
    .await;
    s.shot("payouts-done").await;

    // Reports: the paid batch exported as a workbook with its manifest, then verified.
    s.click("nav-reports").await;
    s.find("screen-reports").await;
    s.click("reports-kind-payout_batch").await;
    s.set_value("reports-format", "xlsx").await;
    let export_dir = tmp.path().join("october-batch");
    s.set_value("reports-dest", &export_dir.display().to_string())
        .await;
    s.click("reports-export").await;
    s.find("reports-result").await;
    let rows: u64 = s
        .first_attr("reports-result", "data-rows")
        .await
        .parse()
        .unwrap();
    assert!(
        rows > 40,
        "the batch's lines, approvals and execution: {rows} rows"
    );
    assert!(export_dir.join("manifest.json").exists());
    let verified = closebook_engine::reports::verify(&export_dir, None).unwrap();
    assert!(verified.ok(), "{:?}", verified.problems);
    s.shot("reports-exported").await;
    s.set_value("reports-verify-dir", &export_dir.display().to_string())
        .await;
    s.click("reports-verify").await;
    s.find("reports-verify-result").await;
    assert_eq!(
        s.first_attr("reports-verify-result", "data-ok").await,
        "true"
    );
    s.shot("reports-verified").await;

    // Every other screen renders.
    for screen in [
        "reconciliation",
        "payouts",
        "reports",
        "audit",
        "settings",
        "dashboard",
    ] {
        s.click(&format!("nav-{screen}")).await;
        s.find(&format!("screen-{screen}")).await;
        s.shot(screen).await;
    }
    s.find("keychain-status").await;
    let keychain = s.texts("keychain-status").await.join(" ");
    assert!(!keychain.trim().is_empty());

    // The audit log lists what happened (opening the demo, its imports, the sync) and its
    // chain verifies.
    s.click("nav-audit").await;
    s.until("audit-row", "audit records", |t| {
        t.iter().any(|x| x.contains("stripe.sync"))
            && t.iter().any(|x| x.contains("workspace.init"))
    })
    .await;
    s.click("audit-verify").await;
    s.until("audit-verify-result", "the chain verifies", |t| {
        t.iter().any(|x| x.contains("Intact"))
    })
    .await;
    s.shot("audit-verified").await;
    s.close().await;
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "drives the built desktop app: run by scripts/e2e.sh (needs tauri-driver and a display)"]
async fn a_wrong_key_shows_the_key_screen() {
    use closebook_engine::OpContext;
    use closebook_engine::secrets::MemorySecrets;
    use closebook_engine::workspace::{FreshIdentity, InitOptions, KeySource, Mode, Workspace};

    let tmp = tempfile::tempdir().unwrap();
    let ws_dir = tmp.path().join("acme");
    let key = tmp.path().join("acme.key");
    let ws = Workspace::init(
        &ws_dir,
        InitOptions {
            name: "Acme".into(),
            mode: Mode::Live,
            timezone: "Europe/Paris".into(),
            demo: false,
        },
        &KeySource::File(key.clone()),
        &MemorySecrets::new(),
        FreshIdentity::generate().unwrap(),
        &OpContext::new("e2e", jiff::Timestamp::now()),
    )
    .unwrap();
    drop(ws);
    // Another well-formed key in its place: the file exists but does not open the workspace.
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();

    let s = Session::start("wrong-key", &tmp.path().join("data"), &[]).await;
    s.find("welcome").await;
    s.click("open-existing").await;
    s.set_value("open-path", ws_dir.to_str().unwrap()).await;
    s.set_value("open-key-file", key.to_str().unwrap()).await;
    s.click("open-submit").await;
    let screen = s.find("key-problem").await;
    s.find("key-problem-message").await;
    let message = s.texts("key-problem-message").await.join(" ");
    assert!(message.contains("does not open"), "{message}");
    assert!(
        screen
            .text()
            .await
            .unwrap()
            .contains(ws_dir.to_str().unwrap())
    );
    s.shot("wrong-key").await;
    s.click("key-problem-back").await;
    s.find("welcome").await;
    s.close().await;
}

/// Frame times from the page (the first, which starts the count, left out), sorted.
fn sorted_frames(deltas: &serde_json::Value) -> Vec<f64> {
    let mut v: Vec<f64> = deltas
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|d| d.as_f64().unwrap())
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The `p`-th percentile (0 to 1) of sorted frame times.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Milliseconds since boot (the clock /proc's process start times count in).
fn since_boot_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write to.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut t) };
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

/// When the newest process whose name starts with `name` started, in ms since boot (Linux:
/// its start in clock ticks, from /proc; /proc's boot time itself is only whole seconds).
fn process_started_boot_ms(name: &str) -> Option<f64> {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            // "pid (comm) state ppid … starttime" — comm may hold spaces: split after ')'.
            let (head, rest) = stat.rsplit_once(") ")?;
            let comm = head.split_once(" (")?.1;
            let start: f64 = rest.split_whitespace().nth(19)?.parse().ok()?;
            comm.starts_with(name).then_some(start)
        })
        .max_by(f64::total_cmp)
        .map(|start| start / ticks * 1000.0)
}

/// Desktop performance, measured through the same harness (not a test: it asserts no
/// timing and does nothing unless `CLOSEBOOK_BENCH_WORKSPACE` names a workspace, as
/// `scripts/bench-desktop.sh` does): the app started on a large workspace until its first
/// ledger rows are painted, and frame times while scrolling the entries of a large account.
#[tokio::test(flavor = "current_thread")]
#[ignore = "a benchmark: run by scripts/bench-desktop.sh"]
async fn desktop_start_and_scroll_benchmark() {
    let Some(ws) = std::env::var_os("CLOSEBOOK_BENCH_WORKSPACE") else {
        return;
    };
    let ws = PathBuf::from(ws);
    let key = ws.with_extension("key");
    let account = std::env::var("CLOSEBOOK_BENCH_ACCOUNT").unwrap_or("liabilities".into());
    let tmp = tempfile::tempdir().unwrap();
    let ws_arg = ws.display().to_string();
    let key_arg = key.display().to_string();
    let started = Instant::now();
    let started_boot_ms = since_boot_ms();
    let started_epoch_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
    let s = Session::start(
        "bench",
        &tmp.path().join("data"),
        &["--workspace", &ws_arg, "--key-file", &key_arg],
    )
    .await;
    s.find("screen-dashboard").await;
    let window_ms = started.elapsed().as_millis();
    s.click("nav-ledger").await;
    s.find("entry-row").await;
    let frames = s.client.execute_async(
        "const done = arguments[arguments.length - 1];\
         requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
        vec![],
    );
    s.bounded("wait two frames", frames).await;
    let ledger_ms = started.elapsed().as_millis();
    // Where the start went: the page's own clock (its origin against ours: the driver's,
    // the process's and the webview's start), its script ready, and each engine command
    // the UI called (the measures `ui/src/lib/api.ts` leaves), in the order they started.
    let profile = s
        .client
        .execute(
            "const nav = performance.getEntriesByType('navigation')[0] || null;\
             return { origin: performance.timeOrigin, dcl: nav ? nav.domContentLoadedEventEnd : null,\
               paint: performance.getEntriesByType('paint').map(e => [e.name, e.startTime]),\
               ipc: performance.getEntriesByType('measure').filter(m => m.name.startsWith('ipc ') || m.name === 'frame')\
                 .map(m => [m.name === 'frame' ? 'long frame (the page busy)' : m.name.slice(4), m.startTime, m.duration]) };",
            vec![],
        )
        .await
        .unwrap();
    let origin = profile["origin"].as_f64().unwrap_or(started_epoch_ms) - started_epoch_ms;
    let mut phases = Vec::new();
    let process_ms = process_started_boot_ms("closebook-deskt").map(|at| at - started_boot_ms);
    if let Some(p) = process_ms {
        phases.push(format!(
            "the app's process started at {p:.0} ms (before it: tauri-driver and WebKitWebDriver)"
        ));
    }
    phases.push(format!(
        "page origin at {origin:.0} ms (the app's start: its runtime, the workspace, the window and webview)"
    ));
    if let Some(dcl) = profile["dcl"].as_f64() {
        phases.push(format!("page script ready at {:.0} ms", origin + dcl));
    }
    for p in profile["paint"].as_array().into_iter().flatten() {
        phases.push(format!(
            "{} at {:.0} ms",
            p[0].as_str().unwrap_or("paint"),
            origin + p[1].as_f64().unwrap_or(0.0)
        ));
    }
    for c in profile["ipc"].as_array().into_iter().flatten() {
        let at = origin + c[1].as_f64().unwrap_or(0.0);
        let took = c[2].as_f64().unwrap_or(0.0);
        phases.push(format!(
            "{} from {at:.0} to {:.0} ms ({took:.0} ms)",
            c[0].as_str().unwrap_or("?"),
            at + took
        ));
    }
    phases.push(format!(
        "dashboard found at {window_ms} ms, ledger rows painted at {ledger_ms} ms"
    ));
    let profile_text = phases.join("\n  ");
    println!("desktop start profile:\n  {profile_text}");
    s.shot("ledger").await;
    // The entries of a large account, scrolled a few rows per frame for 600 frames (or 15 s,
    // whichever ends first) while pages of 200 load behind: the time between frames, as the
    // browser painted them.
    s.css(&format!(
        "[data-testid=\"tree-node\"][data-account=\"{account}\"]"
    ))
    .await
    .click()
    .await
    .unwrap();
    s.until("entries-table", "the account's entries", |_| true)
        .await;
    s.find("entry-row").await;
    let scroll = s.client.execute_async(
        "const done = arguments[arguments.length - 1];\
         const el = document.querySelector('[data-testid=\"entries-table\"]');\
         const deltas = []; let last = performance.now(); let n = 0;\
         function step(t) { deltas.push(t - last); last = t; el.scrollTop += 96;\
           const spent = t - first;\
           if (++n < 600 && spent < 15000) requestAnimationFrame(step); else done({deltas, rows: Number(el.dataset.rows), ms: spent}); }\
         let first = performance.now(); requestAnimationFrame(step);",
        vec![],
    );
    let result = s.bounded("scroll for 600 frames", scroll).await;
    // The display's own floor: the same measurement with nothing scrolled or loaded.
    let idle = s.client.execute_async(
        "const done = arguments[arguments.length - 1];\
         const deltas = []; let last = performance.now(); let n = 0;\
         function step(t) { deltas.push(t - last); last = t; if (++n < 120) requestAnimationFrame(step); else done(deltas); }\
         requestAnimationFrame(step);",
        vec![],
    );
    let idle = sorted_frames(&s.bounded("120 idle frames", idle).await);
    let (idle_p50, idle_p95) = (percentile(&idle, 0.5), percentile(&idle, 0.95));
    s.shot("ledger-scrolled").await;
    let deltas = sorted_frames(&result["deltas"]);
    let pct = |p: f64| percentile(&deltas, p);
    // The app's start is its process's: what comes before is the WebDriver tooling
    // (tauri-driver starting WebKitWebDriver, which starts the app).
    let from_process = process_ms.map_or_else(
        || "? s from the app's process start".to_string(),
        |p| {
            format!(
                "{:.2} s from the app's process start",
                (ledger_ms as f64 - p) / 1000.0
            )
        },
    );
    let line = format!(
        "| Desktop: start on the workspace to first painted ledger rows | {from_process}; {:.2} s from asking tauri-driver for a session (the dashboard at {:.2} s) | — | — | ≤ 1.5 s |\n\
         | Desktop: scrolling {} entries of `{account}` ({} frames in {:.1} s, 96 px per frame) | frame time p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; {} rows loaded | idle frames on the same display: p50 {:.1} ms, p95 {:.1} ms | — | p95 ≤ 16 ms |",
        ledger_ms as f64 / 1000.0,
        window_ms as f64 / 1000.0,
        std::env::var("CLOSEBOOK_BENCH_POSTINGS").unwrap_or_default(),
        deltas.len() + 1,
        result["ms"].as_f64().unwrap_or(0.0) / 1000.0,
        pct(0.5),
        pct(0.95),
        pct(1.0),
        result["rows"],
        idle_p50,
        idle_p95
    );
    println!("{line}");
    std::fs::write(
        repo().join("target/bench-desktop.md"),
        format!("{line}\n\nStart profile:\n  {profile_text}\n"),
    )
    .unwrap();
    s.close().await;
}
