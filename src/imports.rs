//! `import` of the platform's files, `pull postgres` and the PostgreSQL password.

use super::*;
use std::io::{IsTerminal, Read};
use std::sync::atomic::AtomicBool;

use closebook_engine::Error;
use closebook_engine::ingest::postgres::{self};
use closebook_engine::ingest::{self};
use closebook_engine::secrets::SecretStore;

pub(super) fn cmd_import(
    ctx: &Ctx,
    kind: &str,
    file: &std::path::Path,
    format: Option<&str>,
) -> Result<(), Failure> {
    let kind = api::import::kind(kind).map_err(usage)?;
    let format = api::import::format(format).map_err(usage)?;
    let mut ws = ctx.open()?;
    let cancel = AtomicBool::new(false);
    let show = !ctx.json || std::io::stderr().is_terminal();
    let mut progress = |p: ingest::ImportProgress| {
        if show {
            let stage = match p.stage {
                ingest::ImportStage::Reading => "read",
                ingest::ImportStage::Writing => "written",
            };
            match p.total {
                Some(t) => eprintln!("import: {} of {t} rows {stage}", p.rows),
                None => eprintln!("import: {} rows {stage}", p.rows),
            }
        }
    };
    let mut control = ingest::Control {
        progress: &mut progress,
        cancel: &cancel,
    };
    let report = api::import::file(&mut ws, kind, file, format, &ctx.op(), &mut control)?;
    if ctx.json {
        print_json(&report);
    } else if let Some(previous) = report.already_imported_as {
        println!(
            "{} was already imported (import #{previous}); nothing changed.",
            file.display()
        );
    } else {
        println!(
            "Imported {} ({}): {} rows read, {} added, {} updated, {} already present.",
            file.display(),
            kind,
            report.rows_read,
            report.rows_added,
            report.rows_updated,
            report.rows_unchanged
        );
        for gap in &report.role_gaps {
            println!("warning: {}", gap.message);
        }
    }
    Ok(())
}

pub(super) fn cmd_postgres_password(ctx: &Ctx, forget: bool) -> Result<(), Failure> {
    let ws = ctx.open()?;
    if forget {
        api::pull::forget_password(&ws, &ctx.secrets)?;
        println!(
            "Removed the PostgreSQL password from {}.",
            ctx.secrets.describe()
        );
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        eprintln!("Type the PostgreSQL password and press Enter (it is not echoed to any log):");
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        Failure::Engine(Error::InvalidInput(format!(
            "cannot read the password from stdin: {e}"
        )))
    })?;
    let password = text.trim_end_matches(['\n', '\r']);
    api::pull::set_password(&ws, &ctx.secrets, password).map_err(usage)?;
    println!(
        "Stored the PostgreSQL password in {}.",
        ctx.secrets.describe()
    );
    Ok(())
}

pub(super) fn cmd_pull_postgres(
    ctx: &Ctx,
    url: Option<String>,
    page_size: i64,
) -> Result<(), Failure> {
    let mut ws = ctx.open()?;
    let cancel = AtomicBool::new(false);
    let show = !ctx.json || std::io::stderr().is_terminal();
    let mut progress = |p: &postgres::PullProgress| {
        if show {
            eprintln!("pull: {} — page {}, {} rows read", p.table, p.pages, p.rows);
        }
    };
    let report = api::pull::postgres(
        &mut ws,
        &ctx.secrets,
        url,
        page_size,
        &ctx.op(),
        &cancel,
        &mut progress,
    )
    .map_err(usage)?;
    if ctx.json {
        print_json(&report);
    } else {
        println!("Pulled from {}:", report.source);
        for t in &report.tables {
            println!(
                "  {:<26} {:>9} read {:>9} added {:>9} updated {:>9} unchanged",
                t.table, t.rows_read, t.added, t.updated, t.unchanged
            );
        }
        if report.holes_open > 0 {
            println!(
                "  {} wallet_ledger id(s) skipped by the platform are watched in case a late transaction fills them.",
                report.holes_open
            );
        }
    }
    Ok(())
}
