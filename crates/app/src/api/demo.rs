//! The demo: one workspace built from the embedded fixtures, with its roster and payout
//! settings, synced with the demo's Stripe (the simulator on loopback). The CLI's `demo`
//! and the desktop's "Open the demo" are this one flow.

use std::path::{Path, PathBuf};

use closebook_engine::OpContext;
use closebook_engine::demo::{self, DemoOutcome};
use closebook_engine::payouts::Params;
use closebook_engine::payouts::batch;
use closebook_engine::payouts::people::{self, Role};
use closebook_engine::secrets::SecretStore;
use closebook_engine::stripe::{self, StripeKey, SyncControl, SyncReport};
use closebook_engine::workspace::{KeySource, Workspace};

use super::Result;

/// People the demo workspace comes with, so that its payouts can be signed off on one
/// computer (their private keys go to this computer's keychain). The admin comes last: their
/// own record roots the signed roster and vouches for the others.
pub const DEMO_PEOPLE: [(&str, Role); 5] = [
    ("Dana Reyes", Role::Preparer),
    ("Ari Chen", Role::Approver),
    ("Sam Okafor", Role::Approver),
    ("Lee Park", Role::Auditor),
    ("Morgan Blake", Role::Admin),
];

/// The demo asks for two approvers from $1,000.00, so that its batch shows both signatures.
pub const DEMO_DUAL_APPROVAL_AT: i64 = 100_000;

/// Closebook's data folder for this OS user (`CLOSEBOOK_DATA_DIR` overrides it, for tests
/// and portable installs): where the desktop keeps its recent workspaces and the demo.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLOSEBOOK_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("app", "Closebook", "Closebook")
        .map(|d| d.data_dir().to_path_buf())
}

/// The demo workspace's folder inside a data folder.
pub fn dir_in(data_dir: &Path) -> PathBuf {
    data_dir.join("demo")
}

/// Creates (or reopens) the demo workspace at `dir` and gives a new one its roster and
/// payout settings.
pub fn open(
    dir: &Path,
    key: &KeySource,
    secrets: &dyn SecretStore,
    ctx: &OpContext,
) -> Result<(Workspace, DemoOutcome)> {
    let (ws, outcome) = demo::open_or_create(dir, key, secrets, ctx)?;
    ensure_roster(&ws, secrets, ctx)?;
    Ok((ws, outcome))
}

/// Gives a demo workspace without a roster its people and payout settings (once).
fn ensure_roster(ws: &Workspace, secrets: &dyn SecretStore, ctx: &OpContext) -> Result<()> {
    if !people::list(ws, None)?.is_empty() {
        return Ok(());
    }
    // Settings first: once the admin is on the roster, only the admin changes them.
    let p = Params {
        dual_approval_at_minor: DEMO_DUAL_APPROVAL_AT,
        ..Params::default()
    };
    batch::set_settings(ws, None, p, ctx)?;
    for (name, role) in DEMO_PEOPLE {
        let seed = people::fresh_seed()?;
        people::add(ws, secrets, name, role, seed, None, ctx)?;
    }
    Ok(())
}

/// Syncs the demo workspace with the demo's Stripe at `api_base` (the simulator), with its
/// fixed test key.
pub fn sync(
    ws: &mut Workspace,
    api_base: &str,
    ctx: &OpContext,
    control: &mut SyncControl<'_>,
) -> Result<SyncReport> {
    let key = StripeKey::parse(crate::demo_stripe::KEY)?;
    let options = demo::sync_options(api_base);
    Ok(stripe::sync(ws, &key, &options, ctx, control)?)
}
