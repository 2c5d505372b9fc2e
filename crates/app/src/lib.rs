//! The desktop app's API: the state of one running app (which workspace is open, which
//! long operations run) and one method per UI command, each calling the engine and
//! converting its results to transport types (`views`). No window toolkit here: the Tauri
//! shell (`src-tauri/`) only forwards IPC calls to these methods off the UI thread, and the
//! tests call them directly.
//!
//! Long: the running app's state (sessions, operations, recent workspaces) and the commands
//! of the workspace, ledger, Stripe, audit and import screens, which share it; the other
//! screens' commands are files of their own (`accounts`, `reconcile`, `payouts`, `reports`).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use closebook_engine::ingest::{self, Kind};
use closebook_engine::ledger::{self, PostingFilter};
use closebook_engine::secrets::SecretStore;
use closebook_engine::workspace::{self, KeySource, Workspace, WorkspaceError};
use closebook_engine::{Error, ErrorCode, OpContext, audit, demo, stripe};
use jiff::Timestamp;

pub mod accounts;
pub mod api;
pub mod bindings;
pub mod demo_stripe;
pub mod ledger_reports;
pub mod payouts;
pub mod pull;
pub mod reconcile;
pub mod reports;
pub mod views;

use views::*;

/// Where progress of long operations goes (the Tauri shell emits it as an event).
pub trait EventSink: Send + Sync {
    fn progress(&self, event: ProgressEvent);
}

/// Drops every event (tests, headless use).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn progress(&self, _event: ProgressEvent) {}
}

/// The clock, passed in so tests are deterministic.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Default rows per page of the entries table: a screenful several times over, small
/// enough that a page arrives in a few milliseconds even on a million postings.
pub const DEFAULT_PAGE: u32 = 200;

/// At most this many recent workspaces are remembered.
const MAX_RECENT: usize = 12;

const RECENT_FILE: &str = "recent.json";

type Result<T> = std::result::Result<T, CommandError>;

/// An open workspace: one connection for reads (the UI's queries), one for writes
/// (imports), so that WAL lets the UI keep browsing while an import runs.
struct Session {
    reader: Mutex<Workspace>,
    writer: Mutex<Workspace>,
    key: KeySource,
    demo: bool,
    /// The mirror's counts, computed once and again after each write through this app:
    /// counting the platform's tables still reads them (the ledger's counts are kept
    /// totals), and the UI asks for the overview often.
    summary: Mutex<Option<ledger::MirrorSummary>>,
}

impl Session {
    fn invalidate(&self) {
        *lock(&self.summary) = None;
    }
}

pub struct App {
    data_dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
    events: Arc<dyn EventSink>,
    clock: Clock,
    session: Mutex<Option<Arc<Session>>>,
    operations: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// The demo's Stripe simulator, started at its first sync.
    demo_sim: Mutex<Option<demo_stripe::Simulator>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data behind (no half-done invariant lives
    // only in memory: the database is transactional), so recover the guard.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl App {
    pub fn new(
        data_dir: PathBuf,
        secrets: Arc<dyn SecretStore>,
        events: Arc<dyn EventSink>,
        clock: Clock,
    ) -> App {
        App {
            data_dir,
            secrets,
            events,
            clock,
            session: Mutex::new(None),
            operations: Mutex::new(HashMap::new()),
            demo_sim: Mutex::new(None),
        }
    }

    /// The app's data folder for this OS user (`CLOSEBOOK_DATA_DIR` overrides it, for tests
    /// and portable installs): [`api::demo::data_dir`], the CLI's too.
    pub fn default_data_dir() -> Option<PathBuf> {
        api::demo::data_dir()
    }

    fn ctx(&self) -> OpContext {
        OpContext::os_user((self.clock)())
    }

    fn session(&self) -> Result<Arc<Session>> {
        lock(&self.session).clone().ok_or_else(|| {
            CommandError::new(
                ErrorCode::WorkspaceNotFound,
                "no workspace is open: open the demo, or open or create a workspace",
            )
        })
    }

    fn read<T>(&self, f: impl FnOnce(&Workspace) -> Result<T>) -> Result<T> {
        let session = self.session()?;
        let ws = lock(&session.reader);
        f(&ws)
    }

    fn demo_path(&self) -> PathBuf {
        api::demo::dir_in(&self.data_dir)
    }

    // ---- operations (progress and cancel) ----

    fn begin_operation(&self, op_id: &str) -> Result<Arc<AtomicBool>> {
        if op_id.is_empty() || op_id.len() > 64 {
            return Err(CommandError::new(
                ErrorCode::InvalidInput,
                "an operation id has 1 to 64 characters",
            ));
        }
        let flag = Arc::new(AtomicBool::new(false));
        let mut ops = lock(&self.operations);
        if ops.contains_key(op_id) {
            return Err(CommandError::new(
                ErrorCode::InvalidInput,
                format!("operation {op_id} is already running"),
            ));
        }
        ops.insert(op_id.to_string(), flag.clone());
        Ok(flag)
    }

    fn end_operation(&self, op_id: &str) {
        lock(&self.operations).remove(op_id);
    }

    /// Asks a running operation to stop; it rolls back what it had not committed. Returns
    /// whether such an operation was running.
    pub fn cancel_operation(&self, op_id: String) -> Result<bool> {
        match lock(&self.operations).get(&op_id) {
            Some(flag) => {
                flag.store(true, Ordering::Relaxed);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    // ---- workspaces ----

    pub fn app_overview(&self) -> Result<AppOverview> {
        let open = match lock(&self.session).clone() {
            Some(s) => Some(self.workspace_view(&s)?),
            None => None,
        };
        Ok(AppOverview {
            version: env!("CARGO_PKG_VERSION").to_string(),
            open,
            recent: self.recent(),
            demo_path: self.demo_path().display().to_string(),
            keychain: self.keychain_status()?,
        })
    }

    fn workspace_view(&self, s: &Session) -> Result<WorkspaceView> {
        let ws = lock(&s.reader);
        let cached = lock(&s.summary).clone();
        let summary = match cached {
            Some(summary) => summary,
            None => {
                let summary = ledger::summary(&ws)?;
                *lock(&s.summary) = Some(summary.clone());
                summary
            }
        };
        Ok(WorkspaceView::new(
            &ws,
            s.demo,
            s.key.describe(self.secrets.as_ref()),
            summary,
        ))
    }

    pub fn keychain_status(&self) -> Result<KeychainStatus> {
        let backend = if cfg!(target_os = "macos") {
            "macOS Keychain"
        } else if cfg!(windows) {
            "Windows Credential Manager"
        } else {
            "Secret Service"
        };
        // Reading an entry that does not exist proves the keychain answers without
        // creating anything in it.
        let (available, detail) = match self.secrets.get("status-probe") {
            Ok(_) => (
                true,
                format!(
                    "{} answers; workspace keys are kept there",
                    self.secrets.describe()
                ),
            ),
            Err(e) => (false, e.to_string()),
        };
        Ok(KeychainStatus {
            backend: backend.to_string(),
            available,
            detail,
        })
    }

    /// Creates (the first time) or reopens the demo workspace, and makes it the open one.
    pub fn open_demo(&self, op_id: String) -> Result<WorkspaceView> {
        let cancel = self.begin_operation(&op_id)?;
        let result = (|| {
            let dir = self.demo_path();
            fs::create_dir_all(&self.data_dir).map_err(|e| io_error(&self.data_dir, e))?;
            self.events.progress(ProgressEvent {
                op_id: op_id.clone(),
                stage: "opening the demo workspace".into(),
                done: 0,
                total: Some(demo::FILES.len() as u64),
                sync: None,
            });
            let (ws, _outcome) = api::demo::open(
                &dir,
                &KeySource::Keychain,
                self.secrets.as_ref(),
                &self.ctx(),
            )?;
            drop(ws);
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::from(ingest::ImportError::Cancelled).into());
            }
            self.events.progress(ProgressEvent {
                op_id: op_id.clone(),
                stage: "opened".into(),
                done: demo::FILES.len() as u64,
                total: Some(demo::FILES.len() as u64),
                sync: None,
            });
            self.attach(&dir, KeySource::Keychain)
        })();
        self.end_operation(&op_id);
        result
    }

    pub fn open_workspace(&self, args: OpenArgs) -> Result<WorkspaceView> {
        let (path, key) = open_target(&args)?;
        self.attach(&path, key)
    }

    pub fn create_workspace(&self, args: CreateArgs) -> Result<WorkspaceView> {
        let path = non_empty_path(&args.path, "workspace folder")?;
        let key = key_source(args.key_file.as_deref());
        let new = api::workspace::NewWorkspace {
            name: args.name,
            mode: &args.mode,
            timezone: &args.timezone,
            map: &[],
        };
        let ws = api::workspace::create(&path, new, &key, self.secrets.as_ref(), &self.ctx())?;
        drop(ws);
        self.attach(&path, key)
    }

    /// Opens the workspace the desktop was started with, without waiting for its summary:
    /// the counts (the platform's tables are counted by reading them) are computed on a
    /// thread of their own while the window and its webview start, and the UI's first
    /// overview finds them ready (or waits only for what is left).
    pub fn open_workspace_at_start(&self, args: OpenArgs) -> Result<()> {
        let (path, key) = open_target(&args)?;
        let session = self.attach_session(&path, key)?;
        let reader = lock(&session.reader);
        self.remember(
            &reader.info().path.display().to_string(),
            &reader.info().name,
            reader.info().mode.as_str(),
            &session.key,
        );
        drop(reader);
        std::thread::Builder::new()
            .name("summary".into())
            .spawn(move || {
                let ws = lock(&session.reader);
                // A failure is not lost: the first overview computes the summary itself and
                // reports what went wrong.
                if lock(&session.summary).is_none()
                    && let Ok(summary) = ledger::summary(&ws)
                {
                    *lock(&session.summary) = Some(summary);
                }
            })
            .map_err(|e| {
                CommandError::new(ErrorCode::Internal, format!("cannot start a thread: {e}"))
            })?;
        Ok(())
    }

    /// Opens `dir` twice (reader and writer), makes it the open workspace and remembers it.
    fn attach(&self, dir: &Path, key: KeySource) -> Result<WorkspaceView> {
        let session = self.attach_session(dir, key)?;
        let view = self.workspace_view(&session)?;
        self.remember(&view.path, &view.name, &view.mode, &session.key);
        Ok(view)
    }

    /// Opens `dir` twice (reader and writer) and makes it the open workspace. Whether it is
    /// the demo is what its encrypted database says, never its plaintext manifest.
    fn attach_session(&self, dir: &Path, key: KeySource) -> Result<Arc<Session>> {
        let reader = api::workspace::open(dir, &key, self.secrets.as_ref())?;
        let writer = api::workspace::open(dir, &key, self.secrets.as_ref())?;
        let demo = reader.info().demo;
        let session = Arc::new(Session {
            reader: Mutex::new(reader),
            writer: Mutex::new(writer),
            key,
            demo,
            summary: Mutex::new(None),
        });
        *lock(&self.session) = Some(session.clone());
        Ok(session)
    }

    pub fn close_workspace(&self) -> Result<AppOverview> {
        *lock(&self.session) = None;
        self.app_overview()
    }

    pub fn forget_recent(&self, path: String) -> Result<AppOverview> {
        let mut list = self.recent();
        list.retain(|r| r.path != path);
        self.save_recent(&list);
        self.app_overview()
    }

    fn recent(&self) -> Vec<RecentWorkspace> {
        fs::read(self.data_dir.join(RECENT_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save_recent(&self, list: &[RecentWorkspace]) {
        // The list is a convenience: failing to save it must not fail the command.
        let write = || -> std::io::Result<()> {
            fs::create_dir_all(&self.data_dir)?;
            let tmp = self.data_dir.join(format!("{RECENT_FILE}.tmp"));
            fs::write(&tmp, serde_json::to_vec_pretty(list).unwrap_or_default())?;
            fs::rename(&tmp, self.data_dir.join(RECENT_FILE))
        };
        if let Err(e) = write() {
            tracing::warn!("cannot save the recent workspaces list: {e}");
        }
    }

    fn remember(&self, path: &str, name: &str, mode: &str, key: &KeySource) {
        let mut list = self.recent();
        list.retain(|r| r.path != path);
        list.insert(
            0,
            RecentWorkspace {
                path: path.to_string(),
                name: name.to_string(),
                mode: mode.to_string(),
                key_file: match key {
                    KeySource::File(p) => Some(p.display().to_string()),
                    KeySource::Keychain => None,
                },
                last_opened: (self.clock)().to_string(),
            },
        );
        list.truncate(MAX_RECENT);
        self.save_recent(&list);
    }

    pub fn settings(&self) -> Result<SettingsView> {
        let session = self.session()?;
        Ok(SettingsView {
            workspace: self.workspace_view(&session)?,
            keychain: self.keychain_status()?,
            pragmas: workspace::pragmas()
                .iter()
                .map(|(name, value, reason)| PragmaView {
                    name: name.to_string(),
                    value: value.to_string(),
                    reason: reason.to_string(),
                })
                .collect(),
            data_dir: self.data_dir.display().to_string(),
            units: {
                let ws = lock(&session.reader);
                ws.units()
                    .declared()
                    .iter()
                    .map(|u| UnitView {
                        code: u.code().to_uppercase(),
                        exponent: u.exponent(),
                    })
                    .collect()
            },
        })
    }

    /// Declares a non-money unit (credits) with its exponent; the reader learns it too.
    pub fn declare_unit(&self, args: DeclareUnitArgs) -> Result<SettingsView> {
        let session = self.session()?;
        {
            let mut ws = lock(&session.writer);
            api::workspace::declare_unit(
                &mut ws,
                args.code.trim(),
                args.exponent,
                args.description.trim(),
                &self.ctx(),
            )?;
        }
        lock(&session.reader).reload_units()?;
        self.settings()
    }

    /// Deletes the open workspace — its files and every keychain entry it owns — once
    /// `confirm` is its id, typed out; the app is left with no workspace open.
    pub fn delete_workspace(&self, confirm: String) -> Result<DeletedView> {
        let session = self.session()?;
        let (path, key) = {
            let ws = lock(&session.reader);
            if confirm.trim() != ws.info().id {
                return Err(CommandError::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "to delete it, type this workspace's id ({}): nothing was deleted",
                        ws.info().id
                    ),
                ));
            }
            (ws.info().path.clone(), session.key.clone())
        };
        if !lock(&self.operations).is_empty() {
            return Err(CommandError::new(
                ErrorCode::InvalidState,
                "an import, sync or export is running in this workspace: wait for it (or cancel it), then delete",
            ));
        }
        // Close the session (both connections), then open the workspace once more, alone,
        // and delete it with everything it owns.
        *lock(&self.session) = None;
        drop(session);
        let ws = api::workspace::open(&path, &key, self.secrets.as_ref())?;
        let info = api::workspace::delete(ws, &confirm, &key, self.secrets.as_ref())?;
        self.forget_recent(info.path.display().to_string())?;
        Ok(DeletedView {
            id: info.id,
            name: info.name,
            path: info.path.display().to_string(),
        })
    }

    // ---- ledger ----

    pub fn ledger_tree(&self, as_of: Option<String>) -> Result<LedgerTreeView> {
        self.read(|ws| {
            let as_of = as_of.filter(|s| !s.trim().is_empty());
            let at = match &as_of {
                Some(d) => Some(api::ledger::instant(ws, &day_text(d)?, true)?),
                None => None,
            };
            let (_, nodes) = api::ledger::balances(ws, at, None)?;
            Ok(LedgerTreeView {
                as_of_label: match &as_of {
                    Some(d) => format!("End of {d}, {}", ws.info().timezone),
                    None => "All postings".to_string(),
                },
                as_of,
                nodes: nodes.into_iter().map(TreeNodeView::from).collect(),
            })
        })
    }

    pub fn ledger_postings(&self, query: PostingQuery) -> Result<PostingPageView> {
        self.read(|ws| {
            let filter = PostingFilter {
                account: non_blank(query.account),
                from: match non_blank(query.from) {
                    Some(d) => Some(api::ledger::instant(ws, &day_text(&d)?, false)?),
                    None => None,
                },
                to: match non_blank(query.to) {
                    Some(d) => Some(api::ledger::instant(ws, &day_text(&d)?, true)?),
                    None => None,
                },
                entry_type: non_blank(query.entry_type),
                entry_id: None,
                stripe_object_id: non_blank(query.stripe_id),
                text: non_blank(query.text),
                after: match non_blank(query.after) {
                    Some(c) => Some(api::ledger::cursor(&c)?),
                    None => None,
                },
                limit: query.limit.unwrap_or(DEFAULT_PAGE),
            };
            let page = api::ledger::postings(ws, &filter)?;
            Ok(PostingPageView {
                rows: page
                    .postings
                    .into_iter()
                    .map(|p| PostingView::new(ws, p))
                    .collect(),
                next: page.next.map(|(t, s)| format!("{t}.{s}")),
            })
        })
    }

    pub fn ledger_entry(&self, entry_id: String) -> Result<EntryView> {
        self.read(|ws| {
            let entry = ledger::entry(ws, &entry_id)?.ok_or_else(|| {
                CommandError::new(
                    ErrorCode::InvalidInput,
                    format!("no entry {entry_id} in this workspace"),
                )
            })?;
            let mut sources = Vec::new();
            for id in &entry.import_ids {
                if let Some(r) = ingest::import_record(ws, *id)? {
                    sources.push(SourceView {
                        import_id: r.id,
                        kind: r.kind,
                        source: r.source,
                        sha256: r.content_sha256,
                        rows_read: r.rows_read,
                        rows_added: r.rows_added,
                        at: TimeView::new(ws, r.at),
                        actor: r.actor,
                    });
                }
            }
            Ok(EntryView {
                entry_id: entry.entry_id,
                entry_types: entry.entry_types,
                balanced: entry.totals.iter().all(|t| t.minor == 0),
                totals: amounts(&entry.totals),
                postings: entry
                    .postings
                    .into_iter()
                    .map(|p| PostingView::new(ws, p))
                    .collect(),
                sources,
            })
        })
    }

    pub fn entry_types(&self) -> Result<Vec<String>> {
        self.read(|ws| Ok(ledger::entry_types(ws)?))
    }

    // ---- Stripe ----

    /// Where a sync of the open workspace goes, and with which key: the demo workspace
    /// syncs against a Stripe simulator the app starts on loopback with the demo's Stripe
    /// side; any other workspace against Stripe (or `CLOSEBOOK_STRIPE_API_BASE`) with the
    /// key from the keychain.
    fn stripe_target(
        &self,
        session: &Session,
        ws: &Workspace,
    ) -> Result<(String, Option<stripe::StripeKey>)> {
        if session.demo {
            let url = self.demo_simulator()?;
            let key = stripe::StripeKey::parse(demo_stripe::KEY)?;
            return Ok((url, Some(key)));
        }
        let key = api::stripe::key_if_any(ws, self.secrets.as_ref(), None)?;
        Ok((api::stripe::api_base_from_env(), key))
    }

    fn demo_simulator(&self) -> Result<String> {
        let mut sim = lock(&self.demo_sim);
        if let Some(s) = sim.as_ref() {
            return Ok(s.url());
        }
        let handle = demo_stripe::start().map_err(|e| {
            CommandError::new(
                ErrorCode::StripeUnavailable,
                format!("cannot start the demo's Stripe simulator: {e}"),
            )
        })?;
        let url = handle.url();
        *sim = Some(handle);
        Ok(url)
    }

    pub fn stripe_overview(&self) -> Result<StripeOverview> {
        let session = self.session()?;
        // The keychain is asked before the database is held: a keychain that stalls (a
        // permission prompt, a locked collection) must not hold up every other read.
        let (api_base, key) = if session.demo {
            (
                "the demo's Stripe simulator (loopback)".to_string(),
                Some(demo_stripe::KEY[..8].to_string()),
            )
        } else {
            let id = lock(&session.reader).info().id.clone();
            // A keychain that cannot be asked means no stored key here; the screen's
            // other parts still show.
            let kind = stripe::keys::source(&id, self.secrets.as_ref(), None)
                .kind()
                .map(str::to_string);
            (api::stripe::api_base_from_env(), kind)
        };
        let ws = lock(&session.reader);
        let status = stripe::status::status(&ws, 1)?;
        let (thresholds, history) = api::stripe::coverage(&ws, None, 60, &self.ctx())?;
        let money = |minor: i64, currency: &str| -> Result<AmountView> {
            let unit = ws.units().lookup(currency)?;
            Ok(closebook_engine::money::Money::new(minor, unit).into())
        };
        let mut coverage_history = Vec::with_capacity(history.len());
        for l in &history {
            coverage_history.push(CoverageView {
                currency: l.currency.to_uppercase(),
                at: TimeView::new(&ws, l.at),
                available: money(l.available, &l.currency)?,
                obligations: money(l.obligations, &l.currency)?,
                ledger_owed: money(l.ledger_owed, &l.currency)?,
                open_month: money(l.open_month, &l.currency)?,
                ratio_bps: l.ratio_bps,
                ratio: l
                    .ratio_bps
                    .map(stripe::coverage::format_bps)
                    .unwrap_or_else(|| "—".into()),
                risk: l.risk.as_str().to_string(),
            });
        }
        let latest_at = coverage_history.last().map(|c| c.at.utc.clone());
        let coverage = coverage_history
            .iter()
            .filter(|c| Some(&c.at.utc) == latest_at.as_ref())
            .cloned()
            .collect();
        let mut balance = Vec::new();
        for b in &status.balance {
            balance.push(BalanceView {
                currency: b.currency.to_uppercase(),
                available: money(b.available, &b.currency)?,
                pending: money(b.pending, &b.currency)?,
            });
        }
        Ok(StripeOverview {
            key_kind: key,
            api_base,
            balance,
            balance_fetched_at: status.balance_fetched_at.map(|t| TimeView::new(&ws, t)),
            coverage,
            coverage_history,
            low_min_bps: thresholds.low_min_bps,
            medium_min_bps: thresholds.medium_min_bps,
            last_sync: status.runs.first().map(|r| SyncRunView {
                id: r.id,
                started_at: TimeView::new(&ws, r.started_at),
                finished_at: r.finished_at.map(|t| TimeView::new(&ws, t)),
                outcome: r.outcome.clone(),
                message: r.message.clone(),
                api_base: r.api_base.clone(),
                requests: r.requests,
                retries: r.retries,
                pages: r.pages,
                objects_added: r.objects_added,
                objects_changed: r.objects_changed,
            }),
            objects: status
                .types
                .iter()
                .map(|t| ObjectCountView {
                    object_type: t.object_type.clone(),
                    objects: t.objects,
                })
                .collect(),
            open_windows: status.open_windows.len() as u64,
        })
    }

    /// Syncs the open workspace with Stripe (or the demo's simulator), streaming progress;
    /// cancelling keeps what was committed and the next sync continues from there.
    pub fn sync_stripe(&self, op_id: String) -> Result<SyncReportView> {
        let session = self.session()?;
        let (api_base, key) = {
            let ws = lock(&session.reader);
            self.stripe_target(&session, &ws)?
        };
        let key = key.ok_or_else(|| CommandError::from(Error::from(stripe::StripeError::NoKey)))?;
        let cancel = self.begin_operation(&op_id)?;
        let result = {
            let mut ws = lock(&session.writer);
            let options = if session.demo {
                demo::sync_options(&api_base)
            } else {
                stripe::SyncOptions::new(&api_base, ws.info().mode.is_live())
            };
            let events = self.events.clone();
            let id = op_id.clone();
            let mut progress = |p: &stripe::SyncProgress| {
                events.progress(ProgressEvent {
                    op_id: id.clone(),
                    stage: p.phase.clone(),
                    done: p.windows_done,
                    total: Some(p.windows_total),
                    sync: Some(p.into()),
                })
            };
            let mut control = stripe::SyncControl {
                progress: &mut progress,
                cancel: &cancel,
            };
            api::stripe::sync(&mut ws, &key, &options, &self.ctx(), &mut control)
        };
        session.invalidate();
        self.end_operation(&op_id);
        let r = result?;
        Ok(SyncReportView {
            run_id: r.run_id,
            resumed: r.resumed,
            pages: r.pages,
            requests: r.requests,
            retries: r.retries,
            elapsed_ms: r.elapsed_ms,
            added: r.counts.iter().map(|c| c.added).sum(),
            changed: r.counts.iter().map(|c| c.changed).sum(),
        })
    }

    /// Keeps the workspace's Stripe key in the keychain (checked for form and mode).
    pub fn set_stripe_key(&self, key: String) -> Result<StripeOverview> {
        let session = self.session()?;
        {
            let ws = lock(&session.writer);
            api::stripe::set_key(&ws, self.secrets.as_ref(), &key, &self.ctx())?;
        }
        self.stripe_overview()
    }

    pub fn forget_stripe_key(&self) -> Result<StripeOverview> {
        let session = self.session()?;
        {
            let ws = lock(&session.writer);
            api::stripe::forget_key(&ws, self.secrets.as_ref(), &self.ctx())?;
        }
        self.stripe_overview()
    }

    /// Basis points travel as 32-bit integers: exact as JavaScript numbers, and far above any
    /// sensible ratio (the engine caps thresholds at 1,000,000 bps).
    pub fn set_coverage_thresholds(
        &self,
        low_min_bps: i32,
        medium_min_bps: i32,
    ) -> Result<StripeOverview> {
        let session = self.session()?;
        {
            let ws = lock(&session.writer);
            let t = stripe::coverage::Thresholds {
                low_min_bps: i64::from(low_min_bps),
                medium_min_bps: i64::from(medium_min_bps),
            };
            api::stripe::coverage(&ws, Some(t), 0, &self.ctx())?;
        }
        self.stripe_overview()
    }

    // ---- audit ----

    pub fn audit_log(&self, query: AuditQuery) -> Result<AuditPageView> {
        self.read(|ws| {
            let limit = query
                .limit
                .unwrap_or(DEFAULT_PAGE)
                .clamp(1, audit::MAX_AUDIT_PAGE);
            let rows = api::audit::log(
                ws,
                &audit::AuditFilter {
                    action_prefix: non_blank(query.action_prefix),
                    actor: non_blank(query.actor),
                    text: non_blank(query.text),
                    before_seq: query.before_seq,
                    limit,
                },
            )?;
            let next = (rows.len() == limit as usize)
                .then(|| rows.last().map(|r| r.seq))
                .flatten()
                .filter(|seq| *seq > 1);
            Ok(AuditPageView {
                rows: rows
                    .into_iter()
                    .map(|r| AuditRecordView {
                        seq: r.seq,
                        at: TimeView::new(ws, r.at),
                        actor: r.actor,
                        action: r.action,
                        summary: r.summary,
                        payload_sha256: r.payload_sha256,
                        hash: r.hash,
                    })
                    .collect(),
                next,
            })
        })
    }

    /// Walks the whole chain; a broken one is a result to show, not a failed command.
    pub fn audit_verify(&self) -> Result<AuditVerifyView> {
        self.read(|ws| {
            let checked = api::audit::verify(ws)?;
            let v = checked.chain;
            let (ledger_postings, ledger_problem) = match checked.totals {
                Ok(p) => (p.postings, None),
                Err(problem) => (0, Some(problem)),
            };
            Ok(AuditVerifyView {
                intact: v.intact(),
                records: v.records,
                head: v.head,
                broken_seq: v.broken.as_ref().map(|b| b.seq),
                broken_reason: v.broken.map(|b| b.reason),
                ledger_postings,
                ledger_problem,
                checked_at: TimeView::new(ws, (self.clock)()),
            })
        })
    }

    // ---- import ----

    pub fn import_kinds(&self) -> Result<Vec<ImportKindView>> {
        Ok(Kind::ALL.into_iter().map(ImportKindView::from).collect())
    }

    pub fn import_file(&self, args: ImportArgs) -> Result<ImportReportView> {
        let kind = api::import::kind(&args.kind)?;
        let format = api::import::format(args.format.as_deref())?;
        let path = non_empty_path(&args.path, "file")?;
        let session = self.session()?;
        let cancel = self.begin_operation(&args.op_id)?;
        self.events.progress(ProgressEvent {
            op_id: args.op_id.clone(),
            stage: "reading".into(),
            done: 0,
            total: None,
            sync: None,
        });
        let result = {
            let mut ws = lock(&session.writer);
            let op_id = args.op_id.clone();
            let events = self.events.clone();
            let mut progress = |p: ingest::ImportProgress| {
                events.progress(ProgressEvent {
                    op_id: op_id.clone(),
                    stage: match p.stage {
                        ingest::ImportStage::Reading => "reading".into(),
                        ingest::ImportStage::Writing => "writing".into(),
                    },
                    done: p.rows,
                    total: p.total,
                    sync: None,
                })
            };
            let mut control = ingest::Control {
                progress: &mut progress,
                cancel: &cancel,
            };
            api::import::file(&mut ws, kind, &path, format, &self.ctx(), &mut control)
        };
        session.invalidate();
        self.end_operation(&args.op_id);
        Ok(result?.into())
    }
}

fn io_error(path: &Path, e: std::io::Error) -> CommandError {
    Error::from(WorkspaceError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
    .into()
}

fn key_source(key_file: Option<&str>) -> KeySource {
    match key_file.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => KeySource::File(PathBuf::from(k)),
        None => KeySource::Keychain,
    }
}

/// What opening `args` means: the folder and where its key is.
fn open_target(args: &OpenArgs) -> Result<(PathBuf, KeySource)> {
    let path = non_empty_path(&args.path, "workspace folder")?;
    let key = key_source(args.key_file.as_deref());
    Ok((path, key))
}

fn non_empty_path(text: &str, what: &str) -> Result<PathBuf> {
    let t = text.trim();
    if t.is_empty() {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            format!("no {what} given"),
        ));
    }
    Ok(PathBuf::from(t))
}

fn non_blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The desktop's date fields hold days only: an instant typed there is refused.
pub(crate) fn day_text(text: &str) -> Result<String> {
    let t = text.trim();
    t.parse::<jiff::civil::Date>()
        .map(|_| t.to_string())
        .map_err(|_| {
            CommandError::new(
                ErrorCode::InvalidInput,
                format!("`{text}` is not a date; write it as YYYY-MM-DD"),
            )
        })
}

#[cfg(test)]
mod tests;
