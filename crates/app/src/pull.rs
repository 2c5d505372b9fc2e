//! Pulling from the platform's PostgreSQL on the desktop (the CLI's `pull postgres`), with
//! progress per page and cancel between pages: commands and transport types.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::views::ProgressEvent;
use crate::{App, Result, api, lock};

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PullArgs {
    /// `postgres://user@host/db` or libpq's `host=… dbname=…`; none or blank: the source
    /// last pulled from, else libpq's environment. A password written here is used once and
    /// never stored: keep it in the keychain (`closebook postgres-password`) or PGPASSWORD.
    pub url: Option<String>,
    pub op_id: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PullTableView {
    pub table: String,
    #[ts(type = "number")]
    pub rows_read: u64,
    #[ts(type = "number")]
    pub added: u64,
    #[ts(type = "number")]
    pub updated: u64,
    #[ts(type = "number")]
    pub unchanged: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PullReportView {
    /// The source, rebuilt from the driver's settings (no password).
    pub source: String,
    pub tables: Vec<PullTableView>,
    /// Ids the platform's wallet ledger skipped, watched in case a late row fills them.
    #[ts(type = "number")]
    pub holes_open: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PullSourceView {
    /// The source last pulled from (no password), if any.
    pub last_source: Option<String>,
    /// This computer's keychain holds the database password for this workspace.
    pub password_stored: bool,
}

impl App {
    /// Where the next pull goes when no URL is given.
    pub fn pull_source(&self) -> Result<PullSourceView> {
        let secrets = self.secrets.clone();
        self.read(|ws| {
            Ok(PullSourceView {
                last_source: api::pull::last_source(ws),
                password_stored: api::pull::password_stored(ws, secrets.as_ref()),
            })
        })
    }

    /// Keeps the database password in this computer's keychain (never in the workspace).
    pub fn set_postgres_password(&self, password: String) -> Result<PullSourceView> {
        let secrets = self.secrets.clone();
        self.read(|ws| Ok(api::pull::set_password(ws, secrets.as_ref(), &password)?))?;
        self.pull_source()
    }

    pub fn forget_postgres_password(&self) -> Result<PullSourceView> {
        let secrets = self.secrets.clone();
        self.read(|ws| Ok(api::pull::forget_password(ws, secrets.as_ref())?))?;
        self.pull_source()
    }

    /// Pulls every table of the platform's database, page by page (each page committed with
    /// its cursor), reporting progress; cancelling stops between pages.
    pub fn pull_postgres(&self, args: PullArgs) -> Result<PullReportView> {
        let session = self.session()?;
        let cancel = self.begin_operation(&args.op_id)?;
        let result = {
            let mut ws = lock(&session.writer);
            let events = self.events.clone();
            let id = args.op_id.clone();
            let mut progress = |p: &closebook_engine::ingest::postgres::PullProgress| {
                events.progress(ProgressEvent {
                    op_id: id.clone(),
                    stage: format!("pulling {}", p.table),
                    done: p.rows,
                    total: None,
                    sync: None,
                })
            };
            api::pull::postgres(
                &mut ws,
                self.secrets.as_ref(),
                args.url.clone(),
                closebook_engine::ingest::postgres::DEFAULT_PAGE_SIZE,
                &self.ctx(),
                &cancel,
                &mut progress,
            )
        };
        session.invalidate();
        self.end_operation(&args.op_id);
        let r = result?;
        Ok(PullReportView {
            source: r.source,
            tables: r
                .tables
                .into_iter()
                .map(|t| PullTableView {
                    table: t.table,
                    rows_read: t.rows_read,
                    added: t.added,
                    updated: t.updated,
                    unchanged: t.unchanged,
                })
                .collect(),
            holes_open: r.holes_open,
        })
    }
}
