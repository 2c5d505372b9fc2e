//! The Stripe mirror: the key (kept in the keychain, or given by the environment), syncing,
//! what the mirror holds, and coverage of creator obligations with its risk thresholds.

use closebook_engine::OpContext;
use closebook_engine::secrets::SecretStore;
use closebook_engine::stripe::coverage::{self, CoverageLine, Thresholds};
use closebook_engine::stripe::keys::{self, KeySource};
use closebook_engine::stripe::status::{self, MirrorStatus};
use closebook_engine::stripe::{self, StripeKey, SyncControl, SyncOptions, SyncReport};
use closebook_engine::workspace::Workspace;

use super::Result;

/// Where Stripe is: `CLOSEBOOK_STRIPE_API_BASE` (a simulator, a proxy), or Stripe's API.
pub fn api_base_from_env() -> String {
    std::env::var("CLOSEBOOK_STRIPE_API_BASE").unwrap_or_else(|_| stripe::STRIPE_API_BASE.into())
}

/// A key the environment gives (`STRIPE_API_KEY`), which comes before the keychain's.
pub fn key_from_env() -> Option<String> {
    std::env::var("STRIPE_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
}

/// The workspace's key (from `from_env`, else the keychain), of the workspace's mode.
pub fn key(ws: &Workspace, secrets: &dyn SecretStore, from_env: Option<&str>) -> Result<StripeKey> {
    Ok(keys::load(ws, secrets, from_env)?)
}

/// The key, or none when neither the environment nor the keychain holds one.
pub fn key_if_any(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    from_env: Option<&str>,
) -> Result<Option<StripeKey>> {
    match keys::load(ws, secrets, from_env) {
        Ok(k) => Ok(Some(k)),
        Err(stripe::StripeError::NoKey) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub fn sync(
    ws: &mut Workspace,
    key: &StripeKey,
    options: &SyncOptions,
    ctx: &OpContext,
    control: &mut SyncControl<'_>,
) -> Result<SyncReport> {
    Ok(stripe::sync(ws, key, options, ctx, control)?)
}

/// Keeps `text` as the workspace's key in the keychain (refused unless a secret or
/// restricted key of the workspace's mode).
pub fn set_key(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    text: &str,
    ctx: &OpContext,
) -> Result<StripeKey> {
    Ok(keys::store(ws, secrets, text, ctx)?)
}

pub fn forget_key(ws: &Workspace, secrets: &dyn SecretStore, ctx: &OpContext) -> Result<()> {
    Ok(keys::forget(ws, secrets, ctx)?)
}

/// What the mirror holds (with its last `runs` syncs) and where the key would come from.
pub fn status(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    from_env: Option<&str>,
    runs: u32,
) -> Result<(MirrorStatus, KeySource)> {
    let st = status::status(ws, runs)?;
    Ok((st, keys::source(&ws.info().id, secrets, from_env)))
}

/// The risk thresholds (changed first when `set` is given) and the last `history` coverage
/// lines.
pub fn coverage(
    ws: &Workspace,
    set: Option<Thresholds>,
    history: u32,
    ctx: &OpContext,
) -> Result<(Thresholds, Vec<CoverageLine>)> {
    if let Some(t) = set {
        coverage::set_thresholds(ws, t, ctx)?;
    }
    Ok((coverage::thresholds(ws)?, coverage::history(ws, history)?))
}
