//! Pulling from the platform's PostgreSQL: where from (the URL given, else the one last
//! pulled from, else libpq's environment), the password (PGPASSWORD, else this computer's
//! keychain; never stored from a URL), and keeping that password in the keychain.

use std::sync::atomic::AtomicBool;

use closebook_engine::ingest::postgres::{self, PullOptions, PullProgress, PullReport};
use closebook_engine::secrets::{SecretStore, entries};
use closebook_engine::workspace::Workspace;
use closebook_engine::{Error, OpContext};

use super::Result;

/// Most rows per page a pull may ask for (the engine's default is `DEFAULT_PAGE_SIZE`).
pub const MAX_PAGE_SIZE: i64 = 100_000;

/// A libpq-style URL from the usual PG environment variables.
pub fn url_from_pg_env() -> Option<String> {
    let host = std::env::var("PGHOST").ok()?;
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "postgres".into());
    let db = std::env::var("PGDATABASE").unwrap_or_else(|_| user.clone());
    Some(format!("host={host} port={port} user={user} dbname={db}"))
}

/// The source last pulled from, as stored (rebuilt from the driver's settings: no password).
pub fn last_source(ws: &Workspace) -> Option<String> {
    ws.connection()
        .query_row(
            "SELECT value FROM workspace_meta WHERE key = 'postgres_url'",
            [],
            |r| r.get(0),
        )
        .ok()
}

/// Pulls every table of the platform's database incrementally, page by page.
pub fn postgres(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    url: Option<String>,
    page_size: i64,
    ctx: &OpContext,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&PullProgress),
) -> Result<PullReport> {
    let url = url
        .filter(|u| !u.trim().is_empty())
        .or_else(|| last_source(ws))
        .or_else(url_from_pg_env)
        .ok_or_else(|| {
            Error::InvalidInput("no PostgreSQL source: give its URL, postgres://user@host/db (or set PGHOST, PGUSER, PGDATABASE)".into())
        })?;
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Error::InvalidInput(format!(
            "the page size must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let password = match std::env::var("PGPASSWORD") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => secrets
            .get(&entries::postgres_password(&ws.info().id))
            .unwrap_or(None),
    };
    let mut options = PullOptions::new(url, password);
    options.page_size = page_size;
    Ok(postgres::pull(ws, &options, ctx, cancel, progress)?)
}

/// Keeps the PostgreSQL password in this computer's keychain (never in the workspace).
pub fn set_password(ws: &Workspace, secrets: &dyn SecretStore, password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::InvalidInput("no password given".into()));
    }
    Ok(secrets.set(&entries::postgres_password(&ws.info().id), password)?)
}

/// Whether this computer's keychain holds the password (a keychain that cannot be asked
/// holds none here).
pub fn password_stored(ws: &Workspace, secrets: &dyn SecretStore) -> bool {
    secrets
        .get(&entries::postgres_password(&ws.info().id))
        .ok()
        .flatten()
        .is_some()
}

pub fn forget_password(ws: &Workspace, secrets: &dyn SecretStore) -> Result<()> {
    Ok(secrets.delete(&entries::postgres_password(&ws.info().id))?)
}
