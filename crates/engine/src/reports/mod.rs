//! Reports for auditors: each report is a list of sections (rows of typed cells) produced
//! by streaming from the workspace into a [`Sink`]; the XLSX and CSV writers are sinks.
//! An export writes its files and a manifest (SHA-256, row counts, totals per currency,
//! as-of, who) into a fresh folder, built beside its destination and renamed into place at
//! the end: a failed or cancelled export leaves nothing behind. Every export is recorded in
//! the audit log with the manifest's own SHA-256, and `verify` checks a folder against its
//! manifest (and, given the workspace, the manifest against the audit log).
//!
//! - `kinds`: what each report holds (snapshot, exceptions, payout batch, monthly
//!   financials, trial balance, general ledger, audit log).
//! - `xlsx`: rust_xlsxwriter, constant-memory worksheets, a cover sheet.
//! - `csv_out`: RFC 4180, one file per section, amounts in minor units and as decimals.
//! - `journal`: the ledger as an hledger journal, for independent recomputation.

pub mod csv_out;
pub mod journal;
pub mod kinds;
pub mod xlsx;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::money::{Money, Unit};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

pub use kinds::ReportSpec;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the export was cancelled; nothing was written")]
    Cancelled,
    #[error("cannot write {path}: {detail}")]
    Io { path: String, detail: String },
    #[error("the spreadsheet writer failed: {0}")]
    Xlsx(String),
    #[error("report integrity: {0}")]
    Invariant(String),
    #[error(transparent)]
    Payouts(#[from] crate::payouts::PayoutError),
    #[error(transparent)]
    Reconcile(#[from] crate::reconcile::ReconcileError),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("database error while reporting: {0}")]
    Database(#[from] rusqlite::Error),
}

pub(crate) fn io_err(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Io {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// What a column holds, which decides how each writer lays it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    Integer,
    /// Minor units of the cell's own currency.
    Money,
    Date,
    /// An instant, shown in the workspace's time zone.
    DateTime,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// Width in characters in a spreadsheet.
    pub width: f64,
}

pub const fn col(name: &'static str, kind: ColumnKind, width: f64) -> Column {
    Column { name, kind, width }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Money),
    Date(Date),
    Time(Timestamp),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }
}

/// Where a report's sections go, row by row.
pub trait Sink {
    fn section(&mut self, name: &str, columns: &[Column]) -> Result<(), ReportError>;
    /// One row, handed over: writers move its text instead of copying it.
    fn row(&mut self, cells: Vec<Cell>) -> Result<(), ReportError>;
}

/// What the cover sheet and the manifest say about a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportMeta {
    pub report: String,
    pub title: String,
    /// The instant the report's figures stand at, when it has one.
    pub as_of: Option<String>,
    /// "2026-10-01 to 2026-10-31", a batch id, a day.
    pub scope: String,
}

/// Rows and totals of one section, counted as they pass.
#[derive(Debug, Clone, Default)]
struct Tally {
    name: String,
    columns: Vec<Column>,
    rows: u64,
    /// (column, currency) → total minor units.
    totals: BTreeMap<(String, String), (i64, Unit)>,
}

/// Progress of a long export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportProgress {
    pub section: String,
    pub rows: u64,
}

/// Every this many rows the tracker reports progress and checks for cancellation.
const PROGRESS_EVERY: u64 = 4_096;

/// Counts rows and totals, reports progress and stops when asked, around a writer.
struct Tracker<'a, S: Sink> {
    inner: S,
    tallies: Vec<Tally>,
    rows: u64,
    progress: &'a mut dyn FnMut(&ExportProgress),
    cancel: &'a AtomicBool,
}

impl<S: Sink> Sink for Tracker<'_, S> {
    fn section(&mut self, name: &str, columns: &[Column]) -> Result<(), ReportError> {
        if self.tallies.iter().any(|t| t.name == name) {
            return Err(ReportError::Invariant(format!("two sections named {name}")));
        }
        self.tallies.push(Tally {
            name: name.to_string(),
            columns: columns.to_vec(),
            ..Tally::default()
        });
        self.inner.section(name, columns)?;
        (self.progress)(&ExportProgress {
            section: name.to_string(),
            rows: self.rows,
        });
        Ok(())
    }

    fn row(&mut self, cells: Vec<Cell>) -> Result<(), ReportError> {
        let t = self
            .tallies
            .last_mut()
            .ok_or_else(|| ReportError::Invariant("a row before any section".into()))?;
        if cells.len() != t.columns.len() {
            return Err(ReportError::Invariant(format!(
                "section {} has {} columns but a row of {}",
                t.name,
                t.columns.len(),
                cells.len()
            )));
        }
        for (c, cell) in t.columns.iter().zip(&cells) {
            if let Cell::Money(m) = cell {
                let e = t
                    .totals
                    .entry((c.name.to_string(), m.unit().code().to_string()))
                    .or_insert((0, m.unit()));
                e.0 = e.0.checked_add(m.minor()).ok_or_else(|| {
                    ReportError::Invariant(format!("the total of {} overflows", c.name))
                })?;
            }
        }
        t.rows += 1;
        self.rows += 1;
        self.inner.row(cells)?;
        if self.rows.is_multiple_of(PROGRESS_EVERY) {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(ReportError::Cancelled);
            }
            (self.progress)(&ExportProgress {
                section: t.name.clone(),
                rows: self.rows,
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "xlsx" => Some(Format::Xlsx),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// One file of an export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// The sections it holds and their data rows (headers excluded).
    pub sections: Vec<ManifestSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestSection {
    pub name: String,
    pub rows: u64,
}

/// The sum of one money column in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestTotal {
    pub section: String,
    pub column: String,
    pub currency: String,
    pub minor: i64,
    pub decimal: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub report: ReportMeta,
    pub file_format: Format,
    pub workspace_id: String,
    pub workspace_name: String,
    pub mode: String,
    pub time_zone: String,
    pub generated_at: String,
    pub generated_by: String,
    pub generator: String,
    pub files: Vec<ManifestFile>,
    pub totals: Vec<ManifestTotal>,
}

pub const MANIFEST: &str = "manifest.json";
/// The largest manifest read: one lists files and totals, a few kilobytes even for a
/// million-row export.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
pub const MANIFEST_FORMAT: &str = "closebook-export-v1";

/// The generator named in covers and manifests.
pub fn generator() -> String {
    format!("Closebook {}", env!("CARGO_PKG_VERSION"))
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub manifest_sha256: String,
    pub rows: u64,
}

pub struct ExportControl<'a> {
    pub progress: &'a mut dyn FnMut(&ExportProgress),
    pub cancel: &'a AtomicBool,
}

pub(crate) fn sha256_file(path: &Path) -> Result<(String, u64), ReportError> {
    let mut f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| io_err(path, e))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// A folder beside `dest` that only this export uses.
fn staging_dir(dest: &Path) -> Result<PathBuf, ReportError> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(ReportError::BadInput(format!(
            "{} does not exist: choose a destination in an existing folder",
            parent.display()
        )));
    }
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).map_err(|e| io_err(parent, e))?;
    let dir = parent.join(format!(".closebook-export-{}.partial", hex::encode(n)));
    crate::files::create_private_dir(&dir).map_err(|e| io_err(&dir, e))?;
    Ok(dir)
}

/// Writes `spec` as `format` into the new folder `dest` with its manifest, records the
/// export in the audit log, and returns what was written. `dest` must not exist yet.
pub fn export(
    ws: &Workspace,
    spec: &ReportSpec,
    format: Format,
    dest: &Path,
    ctx: &OpContext,
    control: &mut ExportControl<'_>,
) -> Result<ExportReport, ReportError> {
    if dest.exists() {
        return Err(ReportError::BadInput(format!(
            "{} already exists: exports go to a new folder, so that nothing is overwritten",
            dest.display()
        )));
    }
    let meta = kinds::meta(ws, spec)?;
    let staging = staging_dir(dest)?;
    let result = (|| {
        let (tallies, files) = match format {
            Format::Xlsx => {
                let path = staging.join(format!("{}.xlsx", slug(&meta.report)));
                let mut tracker = Tracker {
                    inner: xlsx::XlsxSink::new(ws)?,
                    tallies: Vec::new(),
                    rows: 0,
                    progress: control.progress,
                    cancel: control.cancel,
                };
                kinds::generate(ws, spec, &mut tracker)?;
                let sections: Vec<(String, u64)> = tracker
                    .tallies
                    .iter()
                    .map(|t| (t.name.clone(), t.rows))
                    .collect();
                tracker.inner.finish(&path, &meta, ctx, &sections)?;
                let file = vec![(path, sections)];
                (tracker.tallies, file)
            }
            Format::Csv => {
                let mut tracker = Tracker {
                    inner: csv_out::CsvSink::new(&staging, ws),
                    tallies: Vec::new(),
                    rows: 0,
                    progress: control.progress,
                    cancel: control.cancel,
                };
                kinds::generate(ws, spec, &mut tracker)?;
                let files = tracker.inner.finish()?;
                let files = files
                    .into_iter()
                    .zip(tracker.tallies.iter())
                    .map(|(p, t)| (p, vec![(t.name.clone(), t.rows)]))
                    .collect();
                (tracker.tallies, files)
            }
        };
        if control.cancel.load(Ordering::Relaxed) {
            return Err(ReportError::Cancelled);
        }
        let mut manifest_files = Vec::new();
        for (path, sections) in files {
            let (sha256, bytes) = sha256_file(&path)?;
            manifest_files.push(ManifestFile {
                path: path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string(),
                sha256,
                bytes,
                sections: sections
                    .into_iter()
                    .map(|(name, rows)| ManifestSection { name, rows })
                    .collect(),
            });
        }
        let mut totals = Vec::new();
        for t in &tallies {
            for ((column, currency), (minor, unit)) in &t.totals {
                totals.push(ManifestTotal {
                    section: t.name.clone(),
                    column: column.clone(),
                    currency: currency.clone(),
                    minor: *minor,
                    decimal: Money::new(*minor, *unit).to_decimal_string(),
                });
            }
        }
        let info = ws.info();
        let manifest = Manifest {
            format: MANIFEST_FORMAT.into(),
            report: meta.clone(),
            file_format: format,
            workspace_id: info.id.clone(),
            workspace_name: info.name.clone(),
            mode: info.mode.as_str().into(),
            time_zone: info.timezone.clone(),
            generated_at: ctx.now.to_string(),
            generated_by: ctx.actor.clone(),
            generator: generator(),
            files: manifest_files,
            totals,
        };
        let text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
        let mpath = staging.join(MANIFEST);
        std::fs::write(&mpath, &text).map_err(|e| io_err(&mpath, e))?;
        let manifest_sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let rows = tallies.iter().map(|t| t.rows).sum();
        Ok((manifest, manifest_sha256, rows))
    })();
    let (manifest, manifest_sha256, rows) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    // Recorded before the folder appears: an export nobody can account for never exists.
    publish(
        ws,
        &staging,
        dest,
        ctx,
        &format!("export.{}", meta.report),
        &format!(
            "exported {} ({}) as {} to {}: {} rows, manifest {}",
            meta.title,
            meta.scope,
            match format {
                Format::Xlsx => "XLSX",
                Format::Csv => "CSV",
            },
            dest.display(),
            rows,
            manifest_sha256
        ),
        &serde_json::json!({"manifest_sha256": manifest_sha256, "dest": dest.display().to_string(), "report": meta, "files": manifest.files}),
        Some(&manifest_sha256),
    )?;
    Ok(ExportReport {
        dir: dest.to_path_buf(),
        manifest,
        manifest_sha256,
        rows,
    })
}

/// Records the export in the audit log and moves what was staged into place, in that
/// order and together: the record commits only once the rename succeeded, and on any
/// failure the staged file or folder is removed. An export nobody can account for never
/// appears, and a recorded export always exists.
#[allow(clippy::too_many_arguments)]
pub(crate) fn publish(
    ws: &Workspace,
    staged: &Path,
    dest: &Path,
    ctx: &OpContext,
    action: &str,
    summary: &str,
    payload: &serde_json::Value,
    manifest_sha256: Option<&str>,
) -> Result<(), ReportError> {
    let record = || -> Result<(), ReportError> {
        let tx = ws.conn.unchecked_transaction()?;
        let seq = audit::append(&tx, ctx.now, &ctx.actor, action, summary, payload)?;
        // The manifest's whole hash, in a field of its own: `verify-export` compares it
        // exactly (never a prefix found in text a person typed, such as a folder's name).
        if let Some(h) = manifest_sha256 {
            tx.execute(
                "INSERT INTO recorded_exports (manifest_sha256, audit_seq) VALUES (?1, ?2)",
                rusqlite::params![h, seq],
            )?;
        }
        crate::files::rename_no_replace(staged, dest).map_err(|e| io_err(dest, e))?;
        tx.commit()?;
        Ok(())
    };
    let result = record();
    if result.is_err() {
        let _ = if staged.is_dir() {
            std::fs::remove_dir_all(staged)
        } else {
            std::fs::remove_file(staged)
        };
    }
    result
}

/// `Trial balance` → `trial-balance`.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// What `verify` found in an export folder.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub dir: PathBuf,
    pub manifest_sha256: String,
    pub files_checked: u64,
    pub problems: Vec<String>,
    /// Whether the workspace's audit log records this manifest (when a workspace was given).
    pub recorded: Option<bool>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.recorded != Some(false)
    }
}

/// Checks a folder against its manifest: every file present with its SHA-256 and size, no
/// file the manifest does not list, and for CSV files their rows and money totals
/// recomputed. With `ws`, also that the audit log recorded this very manifest.
pub fn verify(dir: &Path, ws: Option<&Workspace>) -> Result<Verification, ReportError> {
    let mpath = dir.join(MANIFEST);
    let text = crate::files::read_regular(&mpath, MAX_MANIFEST_BYTES).map_err(|e| match e {
        crate::files::ReadError::Io(e) => io_err(&mpath, e),
        other => ReportError::BadInput(format!("{}: {other}", mpath.display())),
    })?;
    let manifest_sha256 = hex::encode(Sha256::digest(&text));
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
        ReportError::BadInput(format!(
            "{} is not a Closebook manifest ({e})",
            mpath.display()
        ))
    })?;
    let mut problems = Vec::new();
    if manifest.format != MANIFEST_FORMAT {
        problems.push(format!("unknown manifest format `{}`", manifest.format));
    }
    let mut listed: Vec<&str> = vec![MANIFEST];
    for f in &manifest.files {
        listed.push(&f.path);
        if f.path.contains('/') || f.path.contains('\\') || f.path.starts_with('.') {
            problems.push(format!("{}: not a plain file name", f.path));
            continue;
        }
        let p = dir.join(&f.path);
        match sha256_file(&p) {
            Err(_) => problems.push(format!("{}: missing", f.path)),
            Ok((sha, bytes)) => {
                if bytes != f.bytes {
                    problems.push(format!(
                        "{}: {} bytes, the manifest says {}",
                        f.path, bytes, f.bytes
                    ));
                }
                if sha != f.sha256 {
                    problems.push(format!(
                        "{}: SHA-256 {} differs from the manifest's {}",
                        f.path, sha, f.sha256
                    ));
                }
            }
        }
        if manifest.file_format == Format::Csv && p.exists() {
            problems.extend(csv_out::recheck(&p, f, &manifest.totals));
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !listed.contains(&name.as_str()) {
                problems.push(format!("{name}: not listed in the manifest"));
            }
        }
    }
    let recorded = match ws {
        None => None,
        // This very manifest: its whole hash in the field an export records, with the audit
        // record (chained) that names it; an export recorded before that field existed named
        // a prefix as the last word of its record.
        Some(ws) => Some(ws.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM recorded_exports r JOIN audit_log a ON a.seq = r.audit_seq
                            WHERE r.manifest_sha256 = ?1 AND a.action LIKE 'export.%'
                              AND substr(a.summary, -length(?1)) = ?1)
                 OR EXISTS (SELECT 1 FROM audit_log a
                            WHERE a.action LIKE 'export.%' AND a.seq < coalesce((SELECT min(audit_seq) FROM recorded_exports), 9223372036854775807)
                              AND substr(a.summary, -25) = 'manifest ' || substr(?1, 1, 16))",
            [&manifest_sha256],
            |r| r.get::<_, bool>(0),
        )?),
    };
    Ok(Verification {
        dir: dir.to_path_buf(),
        manifest_sha256,
        files_checked: manifest.files.len() as u64,
        problems,
        recorded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("Trial balance"), "trial-balance");
        assert_eq!(slug("payout_batch"), "payout-batch");
        assert_eq!(
            slug("  Exceptions & resolutions "),
            "exceptions-resolutions"
        );
    }
}
