//! The demo workspace: `fixtures/demo` embedded in the engine, so the CLI and the desktop
//! app can create (or reopen) a realistic workspace anywhere with no files to find.

use std::path::Path;

use serde::Serialize;

use crate::ingest::{self, Format, ImportReport, Kind};
use crate::secrets::SecretStore;
use crate::workspace::{
    self, FreshIdentity, InitOptions, KeySource, Mode, Workspace, WorkspaceError,
};
use crate::{Error, OpContext};

/// The demo's import files, in import order, embedded at build time.
pub const FILES: &[(Kind, &str, &[u8])] = &[
    (
        Kind::Accounts,
        "accounts.csv",
        include_bytes!("../../../fixtures/demo/accounts.csv"),
    ),
    (
        Kind::Ledger,
        "ledger.csv",
        include_bytes!("../../../fixtures/demo/ledger.csv"),
    ),
    (
        Kind::Balances,
        "balances.csv",
        include_bytes!("../../../fixtures/demo/balances.csv"),
    ),
    (
        Kind::Allocations,
        "allocations.csv",
        include_bytes!("../../../fixtures/demo/allocations.csv"),
    ),
    (
        Kind::WebhookEvents,
        "webhook_events.csv",
        include_bytes!("../../../fixtures/demo/webhook_events.csv"),
    ),
    (
        Kind::Withdrawals,
        "withdrawals.csv",
        include_bytes!("../../../fixtures/demo/withdrawals.csv"),
    ),
];

/// Stripe's side of the demo (served by the Stripe simulator) and the planted anomalies.
pub const STRIPE_ACTIVITY: &[u8] = include_bytes!("../../../fixtures/demo/stripe_activity.jsonl");
pub const ANOMALIES: &[u8] = include_bytes!("../../../fixtures/demo/anomalies.json");

pub const NAME: &str = "Demo Platform";
pub const TIMEZONE: &str = "America/New_York";

#[derive(Debug, Serialize)]
pub struct DemoOutcome {
    /// True when the workspace was created (or rebuilt) by this call.
    pub created: bool,
    /// True when an earlier demo workspace had lost its key and was rebuilt.
    pub rebuilt: bool,
    pub imports: Vec<ImportReport>,
}

/// Opens the demo workspace at `dir`, creating it if needed, and makes sure every demo file
/// is imported (importing again changes nothing). A demo workspace whose key is gone (a
/// throw-away keychain) is rebuilt from the fixtures: it holds nothing else.
pub fn open_or_create(
    dir: &Path,
    source: &KeySource,
    secrets: &dyn SecretStore,
    ctx: &OpContext,
) -> Result<(Workspace, DemoOutcome), Error> {
    let mut outcome = DemoOutcome {
        created: false,
        rebuilt: false,
        imports: Vec::new(),
    };
    let mut ws = match Workspace::open(dir, source, secrets) {
        Ok(ws) => ws,
        Err(WorkspaceError::NotAWorkspace { .. }) if !dir.exists() || is_empty_dir(dir) => {
            create(dir, source, secrets, ctx, &mut outcome)?
        }
        Err(WorkspaceError::KeyMissing { .. })
            if workspace::read_manifest(dir).is_ok_and(|m| m.demo) =>
        {
            workspace::destroy_unopened(dir, source, secrets)?;
            outcome.rebuilt = true;
            create(dir, source, secrets, ctx, &mut outcome)?
        }
        Err(e) => return Err(e.into()),
    };
    if !ws.info().demo && workspace::read_manifest(dir).is_ok_and(|m| m.demo) {
        // A demo made before the flag lived in the encrypted database.
        ws.mark_demo()?;
    }
    for (kind, name, bytes) in FILES {
        outcome.imports.push(ingest::import_bytes(
            &mut ws,
            *kind,
            name,
            bytes,
            Format::Csv,
            ctx,
        )?);
    }
    Ok((ws, outcome))
}

fn create(
    dir: &Path,
    source: &KeySource,
    secrets: &dyn SecretStore,
    ctx: &OpContext,
    outcome: &mut DemoOutcome,
) -> Result<Workspace, Error> {
    let options = InitOptions {
        name: NAME.into(),
        mode: Mode::Test,
        timezone: TIMEZONE.into(),
        demo: true,
    };
    let ws = Workspace::init(
        dir,
        options,
        source,
        secrets,
        FreshIdentity::generate()?,
        ctx,
    )?;
    outcome.created = true;
    Ok(ws)
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// The first instant of the demo's activity: 2026-08-01 in America/New_York.
pub const FIRST_ACTIVITY: i64 = 1_785_556_800;

/// How the demo syncs with its simulator: as fast as the machine allows (the simulator has
/// no rate limit), and every event from the demo's first day — the simulator keeps them
/// all, where Stripe keeps 30 days — so reconciliation can tell a missed webhook from a
/// missing booking however long after the demo's months it runs.
pub fn sync_options(api_base: &str) -> crate::stripe::SyncOptions {
    let mut options = crate::stripe::SyncOptions::new(api_base, false);
    options.limits.requests_per_second = 1_000;
    options.events_since = jiff::Timestamp::from_second(FIRST_ACTIVITY).ok();
    options
}
