//! `demo`: the demo workspace, synced with the demo's Stripe (the simulator on loopback).

use super::*;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use closebook_engine::workspace::Workspace;
use closebook_engine::{Error, demo, ledger};

/// Syncs the demo workspace with the Stripe simulator serving the demo's Stripe side, its
/// clock at the demo's last activity (as the desktop's demo).
pub(super) fn demo_stripe_sync(
    ws: &mut Workspace,
    ctx: &Ctx,
) -> Result<closebook_engine::stripe::SyncReport, Failure> {
    use closebook_engine::stripe::{self, SyncControl};
    let sim = closebook_app::demo_stripe::start().map_err(|e| {
        Failure::Engine(Error::InvalidInput(format!(
            "cannot start the demo's Stripe simulator: {e}"
        )))
    })?;
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let report = api::demo::sync(ws, &sim.url(), &ctx.op(), &mut control);
    sim.shutdown();
    Ok(report?)
}

/// The demo's folder in Closebook's data folder (`CLOSEBOOK_DATA_DIR`, as the desktop's).
pub(super) fn default_demo_dir() -> Result<PathBuf, Failure> {
    api::demo::data_dir()
        .map(|d| api::demo::dir_in(&d))
        .ok_or_else(|| {
            Failure::Usage("cannot find a data folder for the demo: pass --workspace PATH".into())
        })
}

pub(super) fn cmd_demo(ctx: &Ctx) -> Result<(), Failure> {
    let dir = match &ctx.workspace {
        Some(d) => d.clone(),
        None => default_demo_dir()?,
    };
    if !ctx.json {
        eprintln!("demo: opening {} …", dir.display());
    }
    let (mut ws, outcome) = api::demo::open(&dir, &ctx.key, &ctx.secrets, &ctx.op())?;
    // Stripe's side of the demo comes from the Stripe simulator on a loopback port.
    if !ctx.json {
        eprintln!("demo: syncing with the demo's Stripe (the simulator on loopback) …");
    }
    let sync = demo_stripe_sync(&mut ws, ctx)?;
    let (summary, _) = api::workspace::status(&ws, 0)?;
    let (_, tree) = api::ledger::balances(&ws, None, None)?;
    let anomalies: serde_json::Value = serde_json::from_slice(demo::ANOMALIES).unwrap_or_default();
    if ctx.json {
        print_json(&serde_json::json!({
            "workspace": ws.info(),
            "created": outcome.created,
            "rebuilt": outcome.rebuilt,
            "imports": outcome.imports,
            "mirror": summary,
            "stripe": sync,
            "accounts": tree.iter().filter(|n| n.depth <= 1).collect::<Vec<_>>(),
            "planted_anomalies": anomalies,
        }));
        return Ok(());
    }
    if outcome.rebuilt {
        println!(
            "The demo workspace's key was gone (a fresh keychain?), so it was rebuilt from the fixtures."
        );
    }
    println!(
        "{} the demo workspace.",
        if outcome.created {
            "Created"
        } else {
            "Reopened"
        }
    );
    render::workspace_header(&ws);
    render::summary(&ws, &summary);
    println!();
    println!("Account tree (top two levels), all time:");
    let top: Vec<ledger::TreeNode> = tree.into_iter().filter(|n| n.depth <= 1).collect();
    render::tree(&top);
    let tb = api::ledger::trial_balance(&ws, None)?;
    for t in &tb.totals {
        println!(
            "Trial balance {}: debits {} = credits {} — balanced.",
            t.currency.to_uppercase(),
            t.debits.money(),
            t.credits.money()
        );
    }
    println!();
    println!(
        "Stripe (the demo's simulator): {} pages in {} ms, {} objects new, {} changed.",
        sync.pages,
        sync.elapsed_ms,
        sync.counts.iter().map(|c| c.added).sum::<u64>(),
        sync.counts.iter().map(|c| c.changed).sum::<u64>()
    );
    render::stripe_balance(&ws, &sync.balance);
    render::coverage(&ws, &sync.coverage);
    if let Some(list) = anomalies.as_array() {
        println!();
        println!(
            "The demo hides {} deliberate inconsistencies for reconciliation to find (fixtures/demo/README.md).",
            list.len()
        );
    }
    println!();
    println!(
        "Try:  closebook -w {} ledger balances --account assets",
        dir.display()
    );
    println!(
        "      closebook -w {} ledger entries --account liabilities:creators --limit 20",
        dir.display()
    );
    Ok(())
}
