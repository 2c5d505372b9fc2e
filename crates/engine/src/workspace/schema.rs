//! Versioned, forward-only schema migrations, applied when a workspace is opened.
//!
//! Each migration is a numbered SQL file in `crates/engine/migrations/` (`0001_….sql`),
//! embedded at build time in order (`build.rs`). `PRAGMA user_version` holds the number of
//! migrations applied. Migrations are never edited once released: a change is a new file.
//! Times are `INTEGER` microseconds since the Unix epoch, UTC; amounts `INTEGER` minor units.

/// Migration `i` takes a database from version `i` to version `i + 1`.
pub const MIGRATIONS: &[&str] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;
