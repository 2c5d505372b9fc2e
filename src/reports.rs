//! `closebook export` and `closebook verify-export`: reports for auditors, the journal for
//! independent recomputation, and the check of an export folder against its manifest.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Subcommand;
use closebook_engine::Error;
use closebook_engine::reports::{ExportControl, ExportProgress};

use crate::{Ctx, Failure, print_json, usage};
use closebook_app::api;

#[derive(Subcommand)]
pub enum ExportCommand {
    /// A report as XLSX or CSV, with a manifest, into a new folder.
    Report {
        /// reconciliation_snapshot, exceptions, payout_batch, monthly_financials,
        /// trial_balance, general_ledger or audit_log.
        kind: String,
        #[arg(long, value_parser = ["xlsx", "csv"], default_value = "xlsx")]
        format: String,
        /// The folder to create (it must not exist).
        #[arg(long)]
        out: PathBuf,
        /// The day of a reconciliation snapshot (YYYY-MM-DD).
        #[arg(long)]
        day: Option<String>,
        /// The payout batch's id.
        #[arg(long)]
        batch: Option<String>,
        /// Trial balance at the end of this day.
        #[arg(long)]
        as_of: Option<String>,
        /// General ledger from this day…
        #[arg(long)]
        from: Option<String>,
        /// …to this day (inclusive).
        #[arg(long)]
        to: Option<String>,
        /// General ledger of this account and those below it.
        #[arg(long)]
        account: Option<String>,
    },
    /// The ledger as an hledger journal (a new file), to recompute balances independently.
    Journal {
        #[arg(long)]
        out: PathBuf,
        /// Postings up to the end of this day only.
        #[arg(long)]
        as_of: Option<String>,
    },
}

pub fn cmd_export(ctx: &Ctx, cmd: ExportCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let cancel = AtomicBool::new(false);
    let mut progress = |p: &ExportProgress| eprintln!("export: {} — {} rows", p.section, p.rows);
    match cmd {
        ExportCommand::Report {
            kind,
            format,
            out,
            day: d,
            batch,
            as_of,
            from,
            to,
            account,
        } => {
            let spec = api::reports::spec(&api::reports::ReportRequest {
                kind: &kind,
                day: d.as_deref(),
                batch: batch.as_deref(),
                as_of: as_of.as_deref(),
                from: from.as_deref(),
                to: to.as_deref(),
                account: account.as_deref(),
            })
            .map_err(usage)?;
            let format = api::reports::format(&format).map_err(usage)?;
            let r = api::reports::export(
                &ws,
                &spec,
                format,
                &out,
                &ctx.op(),
                &mut ExportControl {
                    progress: &mut progress,
                    cancel: &cancel,
                },
            )?;
            if ctx.json {
                print_json(&r);
            } else {
                println!(
                    "Wrote {} ({}) to {}: {} rows in {} file(s); manifest SHA-256 {}.",
                    r.manifest.report.title,
                    r.manifest.report.scope,
                    r.dir.display(),
                    r.rows,
                    r.manifest.files.len(),
                    r.manifest_sha256
                );
                println!(
                    "Check it any time with `closebook verify-export {}`.",
                    r.dir.display()
                );
            }
        }
        ExportCommand::Journal { out, as_of } => {
            let r = api::reports::journal(
                &ws,
                &out,
                as_of.as_deref(),
                &ctx.op(),
                &mut progress,
                &cancel,
            )
            .map_err(usage)?;
            if ctx.json {
                print_json(&r);
            } else {
                println!(
                    "Wrote {} entries ({} postings) to {}; SHA-256 {}. Recompute with `hledger -f {} balance`.",
                    r.entries, r.postings, r.path, r.sha256, r.path
                );
            }
        }
    }
    Ok(())
}

/// Checks a folder against its manifest (and the workspace's audit log, when one is given).
pub fn cmd_verify_export(ctx: &Ctx, dir: PathBuf) -> Result<(), Failure> {
    let ws = match &ctx.workspace {
        Some(_) => Some(ctx.open()?),
        None => None,
    };
    let v = api::reports::verify(&dir, ws.as_ref())?;
    if ctx.json {
        print_json(&v);
    } else if v.ok() {
        println!(
            "{}: every file matches its manifest ({} files; manifest SHA-256 {}){}.",
            dir.display(),
            v.files_checked,
            v.manifest_sha256,
            match v.recorded {
                Some(true) => ", and the workspace's audit log records this export",
                _ => "",
            }
        );
    } else {
        for p in &v.problems {
            eprintln!("  {p}");
        }
        if v.recorded == Some(false) {
            eprintln!("  the workspace's audit log records no export with this manifest");
        }
    }
    if v.ok() {
        Ok(())
    } else {
        Err(Failure::Engine(Error::InvalidInput(format!(
            "{} does not match its manifest ({} problems)",
            dir.display(),
            v.problems.len() + usize::from(v.recorded == Some(false))
        ))))
    }
}
