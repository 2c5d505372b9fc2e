//! The ledger mirror's way in: import files (CSV / JSON Lines, `contracts/FILES.md`) and the
//! PostgreSQL pull (`contracts/platform.sql`). Both parse, then validate every row, then
//! write everything in one transaction or nothing.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::workspace::Workspace;
use crate::{OpContext, audit};

pub mod postgres;
pub mod read;
pub mod rows;
pub mod store;

pub use read::Format;

/// At most this many problems are collected per file: enough to fix a batch of mistakes
/// in one go, bounded so a wholly wrong file cannot fill memory.
pub const MAX_PROBLEMS: usize = 100;

/// The kinds of import file, one per table of `contracts/platform.sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Ledger,
    Balances,
    Allocations,
    Accounts,
    WebhookEvents,
    Withdrawals,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Ledger,
        Kind::Balances,
        Kind::Allocations,
        Kind::Accounts,
        Kind::WebhookEvents,
        Kind::Withdrawals,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Ledger => "ledger",
            Kind::Balances => "balances",
            Kind::Allocations => "allocations",
            Kind::Accounts => "accounts",
            Kind::WebhookEvents => "webhook_events",
            Kind::Withdrawals => "withdrawals",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The platform table this kind mirrors.
    pub fn platform_table(self) -> &'static str {
        match self {
            Kind::Ledger => "wallet_ledger",
            Kind::Balances => "usd_balances",
            Kind::Allocations => "usd_allocations",
            Kind::Accounts => "stripe_connected_accounts",
            Kind::WebhookEvents => "stripe_webhook_events",
            Kind::Withdrawals => "withdrawal_requests",
        }
    }

    /// Columns a file must have (`contracts/FILES.md`).
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Ledger => &[
                "entry_id",
                "account",
                "amount_minor",
                "currency",
                "entry_type",
                "created_at",
            ],
            Kind::Balances => &[
                "user_id",
                "month",
                "total_usd_cents",
                "allocated_usd_cents",
                "updated_at",
            ],
            Kind::Allocations => &[
                "id",
                "user_id",
                "page_id",
                "author_id",
                "amount_cents",
                "month",
                "updated_at",
            ],
            Kind::Accounts => &["author_id", "stripe_account_id", "created_at"],
            Kind::WebhookEvents => &["event_id", "type", "status", "received_at"],
            Kind::Withdrawals => &[
                "id",
                "user_id",
                "amount_minor",
                "currency",
                "status",
                "requested_at",
            ],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing wrong with an input, located as precisely as we can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(file: &str, line: u64, column: Option<&str>, message: String) -> Problem {
        Problem {
            file: file.to_string(),
            line,
            column: column.map(str::to_string),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, ": column {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Problems collected so far, up to [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
    dropped: bool,
}

impl Problems {
    pub fn push(&mut self, p: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else {
            self.dropped = true;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.list.len() >= MAX_PROBLEMS
    }

    /// Reading stopped at the limit: more problems may follow unlisted.
    pub fn stopped_early(&mut self) {
        self.dropped = true;
    }

    pub fn into_error(mut self, source: &str) -> ImportError {
        self.list.sort_by_key(|p| p.line);
        ImportError::Rejected {
            input: source.to_string(),
            problems: self.list,
            truncated: self.dropped,
        }
    }
}

/// Progress of an import, reported every [`PROGRESS_EVERY`] rows.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ImportProgress {
    pub stage: ImportStage,
    pub rows: u64,
    /// Known once the file is read.
    pub total: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStage {
    Reading,
    Writing,
}

/// How often progress is reported: often enough for a smooth bar, rarely enough to cost nothing.
pub const PROGRESS_EVERY: u64 = 50_000;

/// What a caller can watch and stop: progress reports and a cancel flag checked between
/// chunks. A cancelled import rolls back completely.
pub struct Control<'a> {
    pub progress: &'a mut dyn FnMut(ImportProgress),
    pub cancel: &'a AtomicBool,
}

impl Control<'_> {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub(crate) fn report(&mut self, stage: ImportStage, rows: u64, total: Option<u64>) {
        (self.progress)(ImportProgress { stage, rows, total });
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{input}: rejected with {} problem(s){}; nothing was imported. Fix the file and import it again", problems.len(), if *truncated { " (only the first ones are listed)" } else { "" })]
    Rejected {
        input: String,
        problems: Vec<Problem>,
        truncated: bool,
    },
    #[error("cannot read {path}: {detail}")]
    Io { path: String, detail: String },
    #[error("cannot tell the format of {path}: name it .csv or .jsonl, or pass --format")]
    UnknownFormat { path: String },
    #[error("the import was cancelled; nothing was imported")]
    Cancelled,
    #[error("database error while importing: {0}")]
    Database(#[from] rusqlite::Error),
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub kind: Kind,
    pub source: String,
    pub format: Option<Format>,
    pub sha256: Option<String>,
    pub rows_read: u64,
    pub rows_added: u64,
    pub rows_updated: u64,
    pub rows_unchanged: u64,
    /// Set when this exact file was imported before: nothing was read or written.
    pub already_imported_as: Option<i64>,
    pub import_id: Option<i64>,
    /// After a ledger import: the account-map roles no account of the ledger plays yet
    /// (a platform naming its accounts otherwise maps them; see `crate::accounts`).
    pub role_gaps: Vec<crate::accounts::RoleGap>,
}

/// One row of the import log: a file import or one pulled page.
#[derive(Debug, Clone, Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub kind: String,
    pub source: String,
    pub content_sha256: Option<String>,
    pub rows_read: i64,
    pub rows_added: i64,
    pub rows_updated: i64,
    pub at: jiff::Timestamp,
    pub actor: String,
}

/// The import log's record `id`, if there is one.
pub fn import_record(ws: &Workspace, id: i64) -> Result<Option<ImportRecord>, ImportError> {
    use rusqlite::OptionalExtension;
    let row = ws
        .conn
        .query_row(
            "SELECT id, kind, source, content_sha256, rows_read, rows_added, rows_updated, at, actor
             FROM imports WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    ImportRecord {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        source: r.get(2)?,
                        content_sha256: r.get(3)?,
                        rows_read: r.get(4)?,
                        rows_added: r.get(5)?,
                        rows_updated: r.get(6)?,
                        at: jiff::Timestamp::UNIX_EPOCH,
                        actor: r.get(8)?,
                    },
                    r.get::<_, i64>(7)?,
                ))
            },
        )
        .optional()?;
    Ok(row.map(|(mut rec, at_us)| {
        rec.at = jiff::Timestamp::from_microsecond(at_us).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        rec
    }))
}

/// Imports one file, all or nothing. Importing the same file again changes nothing.
pub fn import_file(
    ws: &mut Workspace,
    kind: Kind,
    path: &Path,
    format: Option<Format>,
    ctx: &OpContext,
) -> Result<ImportReport, ImportError> {
    let cancel = AtomicBool::new(false);
    let mut control = Control {
        progress: &mut |_| {},
        cancel: &cancel,
    };
    import_file_with(ws, kind, path, format, ctx, &mut control)
}

/// [`import_file`] with progress reports and cancellation.
pub fn import_file_with(
    ws: &mut Workspace,
    kind: Kind,
    path: &Path,
    format: Option<Format>,
    ctx: &OpContext,
    control: &mut Control<'_>,
) -> Result<ImportReport, ImportError> {
    let display = path.display().to_string();
    let format =
        format
            .or_else(|| Format::from_path(path))
            .ok_or_else(|| ImportError::UnknownFormat {
                path: display.clone(),
            })?;
    let bytes =
        crate::files::read_regular(path, MAX_IMPORT_BYTES).map_err(|e| ImportError::Io {
            path: display.clone(),
            detail: e.to_string(),
        })?;
    let file_name = path
        .file_name()
        .map_or(display.clone(), |n| n.to_string_lossy().into_owned());
    import_bytes_with(ws, kind, &file_name, &bytes, format, ctx, control)
}

/// The largest file an import reads: ten million postings take about 1.2 GB as CSV; a file
/// beyond this is not one export of a platform's table.
pub const MAX_IMPORT_BYTES: u64 = 8 << 30;

/// Imports file contents already in memory (the desktop app's dialog, tests).
pub fn import_bytes(
    ws: &mut Workspace,
    kind: Kind,
    file: &str,
    bytes: &[u8],
    format: Format,
    ctx: &OpContext,
) -> Result<ImportReport, ImportError> {
    let cancel = AtomicBool::new(false);
    let mut control = Control {
        progress: &mut |_| {},
        cancel: &cancel,
    };
    import_bytes_with(ws, kind, file, bytes, format, ctx, &mut control)
}

/// [`import_bytes`] with progress reports and cancellation.
pub fn import_bytes_with(
    ws: &mut Workspace,
    kind: Kind,
    file: &str,
    bytes: &[u8],
    format: Format,
    ctx: &OpContext,
    control: &mut Control<'_>,
) -> Result<ImportReport, ImportError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let mut report = ImportReport {
        kind,
        source: file.to_string(),
        format: Some(format),
        sha256: Some(sha256.clone()),
        rows_read: 0,
        rows_added: 0,
        rows_updated: 0,
        rows_unchanged: 0,
        already_imported_as: None,
        import_id: None,
        role_gaps: Vec::new(),
    };
    if let Some(previous) = store::find_import(&ws.conn, kind, &sha256)? {
        report.already_imported_as = Some(previous);
        return Ok(report);
    }
    let mut problems = Problems::default();
    let parsed = store::parse(ws, kind, file, format, bytes, &mut problems, control);
    if control.cancelled() {
        return Err(ImportError::Cancelled);
    }
    if !problems.is_empty() {
        return Err(problems.into_error(file));
    }
    report.rows_read = parsed.len() as u64;
    let sealed = crate::reconcile::sealed_until(ws)?;
    let tx = ws.conn.unchecked_transaction()?;
    let import_id = store::begin_import(&tx, kind, file, Some(&sha256), ctx)?;
    let before = crate::reconcile::last_posting_seq(&tx)?;
    let counts = store::write(
        &tx,
        &parsed,
        import_id,
        file,
        ws.units(),
        &mut problems,
        control,
    )?;
    crate::reconcile::record_sealed_postings(
        &tx,
        &sealed,
        before,
        import_id,
        ctx.now.as_microsecond(),
    )?;
    if control.cancelled() {
        drop(tx); // rolls back
        return Err(ImportError::Cancelled);
    }
    if !problems.is_empty() {
        drop(tx); // rolls back
        return Err(problems.into_error(file));
    }
    report.rows_added = counts.added;
    report.rows_updated = counts.updated;
    report.rows_unchanged = counts.unchanged;
    if counts.added + counts.updated == 0 {
        drop(tx); // nothing new: leave no trace, as promised
        return Ok(report);
    }
    store::finish_import(&tx, import_id, report.rows_read, counts)?;
    audit::append(
        &tx,
        ctx.now,
        &ctx.actor,
        "import.file",
        &format!(
            "imported {kind} file {file}: {} added, {} updated, {} unchanged",
            counts.added, counts.updated, counts.unchanged
        ),
        &serde_json::json!({"kind": kind, "file": file, "sha256": sha256, "rows": report.rows_read, "added": counts.added, "updated": counts.updated}),
    )?;
    tx.commit()?;
    report.import_id = Some(import_id);
    if kind == Kind::Ledger {
        report.role_gaps = crate::accounts::gaps(&ws.conn)?;
    }
    crate::free_soon(parsed, report.rows_read as usize);
    Ok(report)
}
