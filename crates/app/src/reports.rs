//! The Reports screen's commands: which reports exist and over what, an export with
//! progress and cancel, the journal export, and the check of an export folder.

use std::path::PathBuf;

use closebook_engine::payouts::batch as pbatch;
use closebook_engine::reconcile::snapshot;
use closebook_engine::reports::{ExportControl, ExportProgress, ReportSpec};
use closebook_engine::{Error, ErrorCode, audit};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::views::{ProgressEvent, TimeView};
use crate::{App, CommandError, Result, api, lock};

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReportKindView {
    /// reconciliation_snapshot | exceptions | payout_batch | monthly_financials |
    /// trial_balance | general_ledger | audit_log
    pub name: String,
    pub title: String,
    pub description: String,
    /// What it is over: none | day | batch | as_of | period
    pub needs: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReportBatchView {
    pub id: String,
    pub month: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportRecordView {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: TimeView,
    pub actor: String,
    pub action: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReportsOverview {
    pub kinds: Vec<ReportKindView>,
    /// Reconciled days, newest first.
    pub days: Vec<String>,
    pub batches: Vec<ReportBatchView>,
    /// The latest exports, newest first (from the audit log).
    pub recent: Vec<ExportRecordView>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExportReportArgs {
    pub kind: String,
    /// xlsx | csv
    pub format: String,
    /// The folder to create.
    pub dest: String,
    pub day: Option<String>,
    pub batch: Option<String>,
    pub as_of: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub account: Option<String>,
    pub op_id: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportedFileView {
    pub path: String,
    pub sha256: String,
    #[ts(type = "number")]
    pub bytes: u64,
    #[ts(type = "number")]
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportReportView {
    pub dir: String,
    pub title: String,
    pub scope: String,
    pub files: Vec<ExportedFileView>,
    #[ts(type = "number")]
    pub rows: u64,
    pub manifest_sha256: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExportJournalArgs {
    pub dest: String,
    pub as_of: Option<String>,
    pub op_id: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct JournalView {
    pub path: String,
    #[ts(type = "number")]
    pub entries: u64,
    #[ts(type = "number")]
    pub postings: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct VerifyExportView {
    pub dir: String,
    pub ok: bool,
    pub manifest_sha256: String,
    #[ts(type = "number")]
    pub files_checked: u64,
    pub problems: Vec<String>,
    /// Whether the open workspace's audit log records this export.
    pub recorded: Option<bool>,
}

fn kind_view(name: &str) -> ReportKindView {
    let (title, description, needs) = match name {
        "reconciliation_snapshot" => (
            "Reconciliation snapshot",
            "A reconciled day: both sides, the difference explained, what matched, the exceptions and timing differences.",
            "day",
        ),
        "exceptions" => (
            "Exceptions",
            "Every exception reconciliation found, with its resolution, who and when.",
            "none",
        ),
        "payout_batch" => (
            "Payout batch",
            "A batch's totals and lines, its approvals with their Ed25519 signatures, and each line's execution.",
            "batch",
        ),
        "monthly_financials" => (
            "Monthly financials",
            "Every month: subscriptions, allocated, unallocated, platform fees, creator payouts, platform revenue.",
            "none",
        ),
        "trial_balance" => (
            "Trial balance",
            "Every account's debits, credits and balance, with totals per currency.",
            "as_of",
        ),
        "general_ledger" => (
            "General ledger",
            "Every posting of a period with opening, running and closing balances, account by account.",
            "period",
        ),
        _ => (
            "Audit log",
            "Every recorded action with its hash chain.",
            "none",
        ),
    };
    ReportKindView {
        name: name.into(),
        title: title.into(),
        description: description.into(),
        needs: needs.into(),
    }
}

impl App {
    pub fn reports_overview(&self) -> Result<ReportsOverview> {
        self.read(|ws| {
            let mut days: Vec<String> = snapshot::history(ws)
                .map_err(|e| CommandError::from(Error::from(e)))?
                .iter()
                .map(|d| d.day.to_string())
                .collect();
            days.reverse();
            let batches = pbatch::list(ws)
                .map_err(|e| CommandError::from(Error::from(e)))?
                .into_iter()
                .map(|b| ReportBatchView {
                    id: b.id,
                    month: b.month,
                    state: b.state.as_str().into(),
                })
                .collect();
            let recent = audit::list(
                ws.connection(),
                &audit::AuditFilter {
                    action_prefix: Some("export.".into()),
                    limit: 20,
                    ..Default::default()
                },
            )
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?
            .into_iter()
            .map(|r| ExportRecordView {
                seq: r.seq,
                at: TimeView::new(ws, r.at),
                actor: r.actor,
                action: r.action,
                summary: r.summary,
            })
            .collect();
            Ok(ReportsOverview {
                kinds: ReportSpec::NAMES.iter().map(|n| kind_view(n)).collect(),
                days,
                batches,
                recent,
            })
        })
    }

    /// Exports a report into a new folder, with progress; cancelling leaves nothing.
    pub fn export_report(&self, args: ExportReportArgs) -> Result<ExportReportView> {
        let spec = api::reports::spec(&api::reports::ReportRequest {
            kind: &args.kind,
            day: args.day.as_deref(),
            batch: args.batch.as_deref(),
            as_of: args.as_of.as_deref(),
            from: args.from.as_deref(),
            to: args.to.as_deref(),
            account: args.account.as_deref(),
        })?;
        let format = api::reports::format(&args.format)?;
        let dest = PathBuf::from(args.dest.trim());
        let session = self.session()?;
        let cancel = self.begin_operation(&args.op_id)?;
        let result = {
            let ws = lock(&session.writer);
            let events = self.events.clone();
            let id = args.op_id.clone();
            let mut progress = |p: &ExportProgress| {
                events.progress(ProgressEvent {
                    op_id: id.clone(),
                    stage: format!("writing {}", p.section),
                    done: p.rows,
                    total: None,
                    sync: None,
                })
            };
            api::reports::export(
                &ws,
                &spec,
                format,
                &dest,
                &self.ctx(),
                &mut ExportControl {
                    progress: &mut progress,
                    cancel: &cancel,
                },
            )
        };
        self.end_operation(&args.op_id);
        let r = result?;
        Ok(ExportReportView {
            dir: r.dir.display().to_string(),
            title: r.manifest.report.title.clone(),
            scope: r.manifest.report.scope.clone(),
            files: r
                .manifest
                .files
                .iter()
                .map(|f| ExportedFileView {
                    path: f.path.clone(),
                    sha256: f.sha256.clone(),
                    bytes: f.bytes,
                    rows: f.sections.iter().map(|s| s.rows).sum(),
                })
                .collect(),
            rows: r.rows,
            manifest_sha256: r.manifest_sha256,
        })
    }

    pub fn export_journal(&self, args: ExportJournalArgs) -> Result<JournalView> {
        let session = self.session()?;
        let cancel = self.begin_operation(&args.op_id)?;
        let result = {
            let ws = lock(&session.writer);
            let events = self.events.clone();
            let id = args.op_id.clone();
            let mut progress = |p: &ExportProgress| {
                events.progress(ProgressEvent {
                    op_id: id.clone(),
                    stage: "writing the journal".into(),
                    done: p.rows,
                    total: None,
                    sync: None,
                })
            };
            api::reports::journal(
                &ws,
                std::path::Path::new(args.dest.trim()),
                args.as_of.as_deref(),
                &self.ctx(),
                &mut progress,
                &cancel,
            )
            .map_err(CommandError::from)
        };
        self.end_operation(&args.op_id);
        let r = result?;
        Ok(JournalView {
            path: r.path,
            entries: r.entries,
            postings: r.postings,
            sha256: r.sha256,
        })
    }

    /// Checks a folder against its manifest and the open workspace's audit log.
    pub fn verify_export(&self, dir: String) -> Result<VerifyExportView> {
        let path = PathBuf::from(dir.trim());
        let v = match self.session() {
            Ok(session) => {
                let ws = lock(&session.reader);
                api::reports::verify(&path, Some(&ws))
            }
            Err(_) => api::reports::verify(&path, None),
        }?;
        Ok(VerifyExportView {
            dir: v.dir.display().to_string(),
            ok: v.ok(),
            manifest_sha256: v.manifest_sha256,
            files_checked: v.files_checked,
            problems: v.problems,
            recorded: v.recorded,
        })
    }
}
