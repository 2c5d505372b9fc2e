//! Reports for auditors (XLSX or CSV with a manifest), the ledger as a journal, and checking
//! an export against its manifest; and reading which report a person asks for.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use closebook_engine::reports::journal::{self, JournalReport};
use closebook_engine::reports::{
    self, ExportControl, ExportProgress, ExportReport, Format, ReportSpec, Verification,
};
use closebook_engine::workspace::Workspace;
use closebook_engine::{Error, OpContext};
use jiff::civil::Date;

use super::Result;

/// Which report, as a person names it and its scope.
#[derive(Debug, Default, Clone)]
pub struct ReportRequest<'a> {
    pub kind: &'a str,
    /// A reconciliation snapshot's day.
    pub day: Option<&'a str>,
    /// A payout batch's id.
    pub batch: Option<&'a str>,
    /// A trial balance at the end of this day.
    pub as_of: Option<&'a str>,
    /// A general ledger's days and account.
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub account: Option<&'a str>,
}

fn given(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn day(s: Option<&str>, what: &str) -> Result<Option<Date>> {
    given(s)
        .map(|d| {
            d.parse().map_err(|_| {
                Error::InvalidInput(format!("{what} `{d}` is not a day: use YYYY-MM-DD"))
            })
        })
        .transpose()
}

/// The report asked for, with everything its kind needs.
pub fn spec(r: &ReportRequest<'_>) -> Result<ReportSpec> {
    Ok(match r.kind.trim() {
        "reconciliation_snapshot" | "snapshot" => ReportSpec::Snapshot {
            day: day(r.day, "the day")?.ok_or_else(|| {
                Error::InvalidInput("a reconciliation snapshot report needs its day".into())
            })?,
        },
        "exceptions" => ReportSpec::Exceptions,
        "payout_batch" => ReportSpec::PayoutBatch {
            batch: given(r.batch)
                .ok_or_else(|| Error::InvalidInput("a payout batch report needs its batch".into()))?
                .to_string(),
        },
        "monthly_financials" => ReportSpec::MonthlyFinancials,
        "trial_balance" => ReportSpec::TrialBalance {
            as_of: day(r.as_of, "as of")?,
        },
        "general_ledger" => ReportSpec::GeneralLedger {
            from: day(r.from, "from")?,
            to: day(r.to, "to")?,
            account: given(r.account).map(String::from),
        },
        "audit_log" => ReportSpec::AuditLog,
        other => {
            return Err(Error::InvalidInput(format!(
                "no report `{other}`: use one of {}",
                ReportSpec::NAMES.join(", ")
            )));
        }
    })
}

/// A report format: `xlsx` or `csv`.
pub fn format(text: &str) -> Result<Format> {
    Format::parse(text.trim()).ok_or_else(|| {
        Error::InvalidInput(format!("the format is xlsx or csv, not `{}`", text.trim()))
    })
}

/// Writes the report into a new folder `dest` with its manifest, whole or not at all.
pub fn export(
    ws: &Workspace,
    spec: &ReportSpec,
    format: Format,
    dest: &Path,
    ctx: &OpContext,
    control: &mut ExportControl<'_>,
) -> Result<ExportReport> {
    if dest.as_os_str().is_empty() {
        return Err(Error::InvalidInput(
            "choose where to save the export".into(),
        ));
    }
    Ok(reports::export(ws, spec, format, dest, ctx, control)?)
}

/// The ledger as an hledger journal (a new file), up to the end of `as_of` when given.
pub fn journal(
    ws: &Workspace,
    dest: &Path,
    as_of: Option<&str>,
    ctx: &OpContext,
    progress: &mut dyn FnMut(&ExportProgress),
    cancel: &AtomicBool,
) -> Result<JournalReport> {
    if dest.as_os_str().is_empty() {
        return Err(Error::InvalidInput(
            "choose where to save the journal".into(),
        ));
    }
    let as_of = match day(as_of, "as of")? {
        Some(d) => Some(
            ws.end_of_day(d)
                .map_err(|e| Error::InvalidInput(e.to_string()))?,
        ),
        None => None,
    };
    Ok(journal::export(ws, dest, as_of, ctx, progress, cancel)?)
}

/// Checks a folder against its manifest, and (given the workspace) that its audit log
/// records that very manifest.
pub fn verify(dir: &Path, ws: Option<&Workspace>) -> Result<Verification> {
    Ok(reports::verify(dir, ws)?)
}
