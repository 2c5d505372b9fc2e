//! The PostgreSQL pull: mirrors the platform's tables (`contracts/platform.sql`)
//! incrementally, read-only, resumably.
//!
//! - `wallet_ledger` is read by its monotonic `id` in pages. Postings are grouped into
//!   entries; an entry is written only once it balances, and the cursor never passes a
//!   posting that was not written, so an entry cut by a page boundary is simply finished
//!   on the next page (or the next pull).
//! - An id skipped inside a page may be a transaction still in flight on the platform: it
//!   is remembered as a hole and looked up again on later pulls until it expires.
//! - The other tables are read by keyset pagination on their change timestamp and key;
//!   each pull re-reads a lag window before the cursor to catch late commits.
//! - Each page is one SQLite transaction holding its rows and its cursor: killing the
//!   process at any moment and pulling again gives exactly what a clean pull gives.
//!
//! Long: one pull's protocol — connect read-only, page each table with its cursor, watch the
//! wallet ledger's id holes — over the options, progress and error types every step shares.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use postgres::{Client, Config, IsolationLevel, NoTls, Row};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::read::{Cell, Record};
use super::rows::{self, Cells};
use super::store::{self, Col, Counts, TableSpec};
use super::{Kind, Problem, Problems};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// Rows per page: large enough that round trips do not dominate, small enough that one
/// SQLite transaction stays short and a kill loses little work.
pub const DEFAULT_PAGE_SIZE: i64 = 5_000;
/// How long an id hole is re-checked before it is taken for a rolled-back insert.
pub const DEFAULT_HOLE_RETENTION: Duration = Duration::from_secs(60 * 60);
/// How far behind its cursor a timestamp-paged table is re-read on each pull.
pub const DEFAULT_LAG: Duration = Duration::from_secs(10 * 60);
/// At most this many holes are recorded for one gap; a larger jump is a sequence reset,
/// not in-flight transactions.
const MAX_HOLES_PER_GAP: i64 = 1_000;
/// Server-side limit per statement, so a pull never hangs on a stuck platform database.
const STATEMENT_TIMEOUT: &str = "120s";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

const SOURCE: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("cannot use the PostgreSQL connection settings: {0}")]
    BadUrl(String),
    #[error(
        "cannot reach the platform database at {target}: {detail}; check the URL, that the server runs, and the password (PGPASSWORD or the keychain)"
    )]
    Connect { target: String, detail: String },
    #[error("the platform database refused a query on {table}: {detail}")]
    Query { table: String, detail: String },
    #[error("{}: rejected with {} problem(s){}; what was pulled before stays, the rest was not written. Fix the rows on the platform and pull again", input, problems.len(), if *truncated { " (first ones listed)" } else { "" })]
    Rejected {
        input: String,
        problems: Vec<Problem>,
        truncated: bool,
    },
    #[error(
        "wallet_ledger entries that do not balance on the platform: {0}; they were not mirrored"
    )]
    Unbalanced(String),
    #[error(
        "the pull was cancelled; everything pulled so far is kept and the next pull resumes from there"
    )]
    Cancelled,
    #[error("workspace database error: {0}")]
    Database(#[from] rusqlite::Error),
}

impl From<super::ImportError> for PullError {
    fn from(e: super::ImportError) -> PullError {
        match e {
            super::ImportError::Rejected {
                input,
                problems,
                truncated,
            } => PullError::Rejected {
                input,
                problems,
                truncated,
            },
            super::ImportError::Database(d) => PullError::Database(d),
            other => PullError::Query {
                table: "?".into(),
                detail: other.to_string(),
            },
        }
    }
}

/// Where and how to pull from.
#[derive(Clone)]
pub struct PullOptions {
    /// A `postgres://` URL or a libpq key=value string. A password in it is used, never stored.
    pub url: String,
    /// From PGPASSWORD or the keychain; overrides one in the URL.
    pub password: Option<String>,
    pub page_size: i64,
    pub hole_retention: Duration,
    pub lag: Duration,
}

impl std::fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("url", &shown_source(&self.url))
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl PullOptions {
    pub fn new(url: impl Into<String>, password: Option<String>) -> PullOptions {
        PullOptions {
            url: url.into(),
            password,
            page_size: DEFAULT_PAGE_SIZE,
            hole_retention: DEFAULT_HOLE_RETENTION,
            lag: DEFAULT_LAG,
        }
    }
}

/// The source as the driver understood it — hosts and ports, user, database, TLS mode — as
/// a `postgres://` URL, safe to show and to store: rebuilt from the parsed settings, so a
/// password has no field here wherever the typed text hid it (`u:12#b@host`, a `?password=`
/// behind a `#`, `password=a\ b`). The driver reads it back to the same source.
pub fn safe_target(config: &Config) -> String {
    use postgres::config::{Host, SslMode};
    // RFC 3986: unreserved characters as they are, every other byte percent-encoded.
    fn pct(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
    let mut out = String::from("postgres://");
    if let Some(u) = config.get_user() {
        out.push_str(&pct(u));
        out.push('@');
    }
    let ports = config.get_ports();
    let mut query: Vec<String> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    for (i, h) in config.get_hosts().iter().enumerate() {
        match h {
            Host::Tcp(name) => {
                let host = if name.contains(':') {
                    format!("[{name}]")
                } else {
                    pct(name)
                };
                hosts.push(match ports.get(i).or(ports.first()) {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                });
            }
            #[cfg(unix)]
            Host::Unix(path) => query.push(format!("host={}", pct(&path.display().to_string()))),
        }
    }
    out.push_str(&hosts.join(","));
    out.push('/');
    if let Some(db) = config.get_dbname() {
        out.push_str(&pct(db));
    }
    match config.get_ssl_mode() {
        SslMode::Disable => query.push("sslmode=disable".into()),
        SslMode::Require => query.push("sslmode=require".into()),
        _ => {}
    }
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

/// The typed source as it may be shown: rebuilt from what the driver reads, or a phrase
/// when it reads nothing (the text itself may hold a password).
pub fn shown_source(url: &str) -> String {
    url.parse::<Config>()
        .map(|c| safe_target(&c))
        .unwrap_or_else(|_| "(an unreadable connection string)".to_string())
}

/// Progress reported after each page.
#[derive(Debug, Clone, Serialize)]
pub struct PullProgress {
    pub table: &'static str,
    pub pages: u64,
    pub rows: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TableReport {
    pub table: String,
    pub rows_read: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub pages: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PullReport {
    pub source: String,
    pub tables: Vec<TableReport>,
    pub holes_open: u64,
}

/// Pulls every table. `cancel` is checked between pages.
pub fn pull(
    ws: &mut Workspace,
    options: &PullOptions,
    ctx: &OpContext,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&PullProgress),
) -> Result<PullReport, PullError> {
    let mut config: Config = options
        .url
        .parse()
        // The driver's words could quote the text, password and all: say what to give.
        .map_err(|_: postgres::Error| {
            PullError::BadUrl(
                "not a connection string the PostgreSQL driver can read: give postgres://user@host:port/database or host=… user=… dbname=…".into(),
            )
        })?;
    if let Some(p) = &options.password {
        config.password(p);
    }
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("closebook");
    let target = safe_target(&config);
    let mut client = config.connect(NoTls).map_err(|e| PullError::Connect {
        target: target.clone(),
        detail: error_text(&e),
    })?;
    client
        .batch_execute(&format!(
            "SET statement_timeout = '{STATEMENT_TIMEOUT}'; SET default_transaction_read_only = on;"
        ))
        .map_err(|e| PullError::Query {
            table: "session".into(),
            detail: error_text(&e),
        })?;

    // Remember the source (never its password) as soon as it answered, so a pull
    // interrupted on its first page can be resumed without repeating the URL.
    ws.conn.execute(
        "INSERT INTO workspace_meta (key, value) VALUES ('postgres_url', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [&target],
    )?;
    let live = ws.info().mode.is_live();
    let mut tables = Vec::new();
    let result = (|| {
        tables.push(pull_ledger(
            ws,
            &mut client,
            options,
            ctx,
            live,
            cancel,
            progress,
        )?);
        for kind in [
            Kind::Balances,
            Kind::Allocations,
            Kind::Accounts,
            Kind::WebhookEvents,
            Kind::Withdrawals,
        ] {
            tables.push(pull_table(
                ws,
                &mut client,
                kind,
                options,
                ctx,
                cancel,
                progress,
            )?);
        }
        Ok::<(), PullError>(())
    })();
    let holes_open: u64 = ws
        .conn
        .query_row("SELECT count(*) FROM pg_id_holes", [], |r| {
            r.get::<_, i64>(0)
        })? as u64;
    let report = PullReport {
        source: target.clone(),
        tables,
        holes_open,
    };
    // The pull is recorded even when it stopped part-way: what it wrote is real.
    let written: u64 = report.tables.iter().map(|t| t.added + t.updated).sum();
    let outcome = match &result {
        Ok(()) => "completed".to_string(),
        Err(e) => format!("stopped: {e}"),
    };
    if written > 0 || result.is_ok() {
        audit::append(
            &ws.conn,
            ctx.now,
            &ctx.actor,
            "pull.postgres",
            &format!("pulled from {target}: {written} row(s) added or updated; {outcome}"),
            &serde_json::to_value(&report).unwrap_or_default(),
        )?;
    }
    result.map(|()| report)
}

fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// A platform row seen as an import record, so it goes through the same validation as
/// a file. `line` is the platform id (ledger) or the row's ordinal in the pull.
struct PgRecord {
    line: u64,
    cells: HashMap<&'static str, Owned>,
}

enum Owned {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
}

impl Record for PgRecord {
    fn line(&self) -> u64 {
        self.line
    }

    fn cell(&self, column: &str) -> Cell<'_> {
        match self.cells.get(column) {
            None => Cell::Missing,
            Some(Owned::Null) => Cell::Null,
            Some(Owned::Text(s)) => Cell::Text(s),
            Some(Owned::Int(i)) => Cell::Int(*i),
            Some(Owned::Bool(b)) => Cell::Bool(*b),
        }
    }
}

/// The SQL that selects a column in the form the pull reads it.
fn select(col: Col) -> String {
    match col {
        Col::Text(n) => format!("{n}::text"),
        Col::Int(n) => format!("{n}::int8"),
        Col::Bool(n) => format!("{n}::bool"),
        // A timestamptz, as epoch microseconds (exact: extract returns numeric).
        Col::Time(n) => format!("(extract(epoch from {n}) * 1000000)::int8"),
    }
}

fn to_record(row: &Row, cols: &[Col], line: u64) -> PgRecord {
    let mut cells = HashMap::with_capacity(cols.len());
    for (i, col) in cols.iter().enumerate() {
        let value = match col {
            Col::Text(_) => row
                .get::<_, Option<String>>(i)
                .map_or(Owned::Null, Owned::Text),
            Col::Int(_) => row.get::<_, Option<i64>>(i).map_or(Owned::Null, Owned::Int),
            Col::Bool(_) => row
                .get::<_, Option<bool>>(i)
                .map_or(Owned::Null, Owned::Bool),
            Col::Time(_) => row.get::<_, Option<i64>>(i).map_or(Owned::Null, |us| {
                jiff::Timestamp::from_microsecond(us)
                    .map_or(Owned::Text(format!("invalid:{us}")), |t| {
                        Owned::Text(t.to_string())
                    })
            }),
        };
        cells.insert(col.name(), value);
    }
    PgRecord { line, cells }
}

const LEDGER_COLS: &[Col] = &[
    Col::Int("id"),
    Col::Text("entry_id"),
    Col::Text("account"),
    Col::Int("amount_minor"),
    Col::Text("currency"),
    Col::Text("entry_type"),
    Col::Text("stripe_object_id"),
    Col::Text("event_id"),
    Col::Text("idempotency_key"),
    Col::Bool("livemode"),
    Col::Time("created_at"),
    Col::Text("description"),
];

fn select_list(cols: &[Col]) -> String {
    cols.iter()
        .map(|c| select(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn get_cursor(conn: &Connection, stream: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT position FROM sync_cursors WHERE source = ?1 AND stream = ?2",
        params![SOURCE, stream],
        |r| r.get(0),
    )
    .optional()
}

fn set_cursor(
    conn: &Connection,
    stream: &str,
    position: &str,
    ctx: &OpContext,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO sync_cursors (source, stream, position, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (source, stream) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
        params![SOURCE, stream, position, ctx.now.as_microsecond()],
    )?;
    Ok(())
}

fn query(
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>, PullError> {
    tx.query(sql, params).map_err(|e| PullError::Query {
        table: table.to_string(),
        detail: error_text(&e),
    })
}

fn pull_ledger(
    ws: &mut Workspace,
    client: &mut Client,
    options: &PullOptions,
    ctx: &OpContext,
    live: bool,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&PullProgress),
) -> Result<TableReport, PullError> {
    let table = "wallet_ledger";
    let source = "postgres:wallet_ledger";
    let sealed = crate::reconcile::sealed_until(ws)?;
    let mut report = TableReport {
        table: table.into(),
        ..TableReport::default()
    };
    let mut pg = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|e| PullError::Query {
            table: table.into(),
            detail: error_text(&e),
        })?;
    let cols = select_list(LEDGER_COLS);
    let units = ws.units().clone();

    // 1. Holes left by earlier pulls: rows that have appeared since, and their entries.
    let retention_us = i64::try_from(options.hole_retention.as_micros()).unwrap_or(i64::MAX);
    ws.conn.execute(
        "DELETE FROM pg_id_holes WHERE first_seen < ?1",
        [ctx.now.as_microsecond().saturating_sub(retention_us)],
    )?;
    let holes: Vec<i64> = {
        let mut stmt = ws
            .conn
            .prepare("SELECT platform_id FROM pg_id_holes ORDER BY platform_id")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    if !holes.is_empty() {
        let found = query(
            &mut pg,
            table,
            &format!("SELECT {cols} FROM wallet_ledger WHERE id = ANY($1) ORDER BY id"),
            &[&holes],
        )?;
        if !found.is_empty() {
            let entry_ids: Vec<String> = found.iter().map(|r| r.get::<_, String>(1)).collect();
            let rows = query(
                &mut pg,
                table,
                &format!("SELECT {cols} FROM wallet_ledger WHERE entry_id = ANY($1) ORDER BY id"),
                &[&entry_ids],
            )?;
            let tx = ws.conn.unchecked_transaction()?;
            let import_id = store::begin_import(&tx, Kind::Ledger, source, None, ctx)?;
            let before = crate::reconcile::last_posting_seq(&tx)?;
            let counts = write_ledger_rows(&tx, &rows, import_id, source, &units, live)?;
            crate::reconcile::record_sealed_postings(
                &tx,
                &sealed,
                before,
                import_id,
                ctx.now.as_microsecond(),
            )?;
            for r in &found {
                tx.execute(
                    "DELETE FROM pg_id_holes WHERE platform_id = ?1",
                    [r.get::<_, i64>(0)],
                )?;
            }
            store::finish_import(&tx, import_id, rows.len() as u64, counts)?;
            tx.commit()?;
            report.rows_read += rows.len() as u64;
            add_counts(&mut report, counts);
        }
    }

    // 2. New rows after the cursor, page by page.
    let mut cursor: i64 = get_cursor(&ws.conn, table)?
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let mut last_fetched = cursor;
    let mut open: Vec<Row> = Vec::new(); // postings of entries not yet balanced, in id order
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(PullError::Cancelled);
        }
        let page = query(
            &mut pg,
            table,
            &format!("SELECT {cols} FROM wallet_ledger WHERE id > $1 ORDER BY id LIMIT $2"),
            &[&last_fetched, &options.page_size],
        )?;
        let full_page = page.len() as i64 == options.page_size;
        report.pages += 1;
        report.rows_read += page.len() as u64;
        let mut holes_found = Vec::new();
        let mut prev = last_fetched;
        for row in &page {
            let id: i64 = row.get(0);
            if id > prev + 1 && prev > 0 {
                let gap_end = (prev + MAX_HOLES_PER_GAP).min(id - 1);
                holes_found.extend(prev + 1..=gap_end);
            }
            prev = id;
        }
        if let Some(last) = page.last() {
            last_fetched = last.get(0);
        }
        open.extend(page);
        // Entries that balance are complete; the entry of the last row of a full page is
        // held back in case it continues on the next page.
        let held_entry: Option<String> = if full_page {
            open.last().map(|r| r.get(1))
        } else {
            None
        };
        let (ready, rest) = split_balanced(open, held_entry.as_deref());
        open = rest;
        let tx = ws.conn.unchecked_transaction()?;
        if !ready.is_empty() {
            let import_id = store::begin_import(&tx, Kind::Ledger, source, None, ctx)?;
            let before = crate::reconcile::last_posting_seq(&tx)?;
            let counts = write_ledger_rows(&tx, &ready, import_id, source, &units, live)?;
            crate::reconcile::record_sealed_postings(
                &tx,
                &sealed,
                before,
                import_id,
                ctx.now.as_microsecond(),
            )?;
            store::finish_import(&tx, import_id, ready.len() as u64, counts)?;
            add_counts(&mut report, counts);
        }
        for h in &holes_found {
            tx.execute(
                "INSERT INTO pg_id_holes (platform_id, first_seen) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![h, ctx.now.as_microsecond()],
            )?;
        }
        cursor = match open.iter().map(|r| r.get::<_, i64>(0)).min() {
            Some(min_open) => min_open - 1,
            None => last_fetched,
        }
        .max(cursor);
        set_cursor(&tx, table, &cursor.to_string(), ctx)?;
        tx.commit()?;
        progress(&PullProgress {
            table: "wallet_ledger",
            pages: report.pages,
            rows: report.rows_read,
        });
        if !full_page {
            break;
        }
    }
    pg.commit().map_err(|e| PullError::Query {
        table: table.into(),
        detail: error_text(&e),
    })?;
    if !open.is_empty() {
        let mut ids: Vec<String> = open.iter().map(|r| r.get::<_, String>(1)).collect();
        ids.dedup();
        return Err(PullError::Unbalanced(ids.join(", ")));
    }
    Ok(report)
}

fn add_counts(report: &mut TableReport, counts: Counts) {
    report.added += counts.added;
    report.updated += counts.updated;
    report.unchanged += counts.unchanged;
}

/// Splits postings into those of entries that balance per currency (and are not held back)
/// and the rest, both in id order.
fn split_balanced(rows: Vec<Row>, held: Option<&str>) -> (Vec<Row>, Vec<Row>) {
    let mut sums: HashMap<(String, String), i128> = HashMap::new();
    for r in &rows {
        *sums.entry((r.get(1), r.get(4))).or_default() += i128::from(r.get::<_, i64>(3));
    }
    let unbalanced: std::collections::HashSet<String> = sums
        .into_iter()
        .filter(|(_, s)| *s != 0)
        .map(|((e, _), _)| e)
        .collect();
    rows.into_iter().partition(|r| {
        let e: String = r.get(1);
        !unbalanced.contains(&e) && held != Some(e.as_str())
    })
}

fn write_ledger_rows(
    conn: &Connection,
    rows: &[Row],
    import_id: i64,
    source: &str,
    units: &crate::money::UnitRegistry,
    live: bool,
) -> Result<Counts, PullError> {
    let mut problems = Problems::default();
    let mut parsed = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.get(0);
        let rec = to_record(row, LEDGER_COLS, id as u64);
        let mut cells = Cells::new(&rec, source, &mut problems);
        if let Some(r) = rows::parse_ledger(&mut cells, units, live) {
            parsed.push(r);
        }
    }
    if !problems.is_empty() {
        return Err(problems.into_error(source).into());
    }
    let entries = store::group_entries(&parsed, source, units, &mut problems);
    let mut counts = Counts::default();
    if problems.is_empty() {
        let mut totals = crate::ledger::TotalsDelta::default();
        for entry in &entries {
            counts.add(store::write_entry(
                conn,
                entry,
                import_id,
                "mirror",
                source,
                &mut problems,
                &mut totals,
            )?);
        }
        totals.apply(conn)?;
    }
    if !problems.is_empty() {
        return Err(problems.into_error(source).into());
    }
    Ok(counts)
}

/// How a mutable platform table is paged: by a change timestamp and its key.
struct TablePaging {
    /// SQL expression of the change time (a timestamptz), or `None` to re-read by key.
    changed: Option<&'static str>,
    key: &'static [&'static str],
}

fn paging(kind: Kind) -> TablePaging {
    let (changed, key): (Option<&'static str>, &'static [&'static str]) = match kind {
        Kind::Balances => (Some("updated_at"), &["user_id", "month"]),
        Kind::Allocations => (Some("updated_at"), &["id"]),
        Kind::Accounts => (Some("created_at"), &["author_id"]),
        Kind::WebhookEvents => (Some("coalesce(processed_at, received_at)"), &["event_id"]),
        // No change timestamp: read in full by key on every pull (status changes in place).
        Kind::Withdrawals => (None, &["id"]),
        Kind::Ledger => unreachable!("the ledger is pulled by id"),
    };
    TablePaging { changed, key }
}

/// The keyset cursor of a table: change time in µs (or 0) and the key of the last row.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct KeysetCursor {
    changed_us: i64,
    key: Vec<String>,
    /// True while a pass is under way; false once a pass reached the end.
    in_pass: bool,
}

fn pull_table(
    ws: &mut Workspace,
    client: &mut Client,
    kind: Kind,
    options: &PullOptions,
    ctx: &OpContext,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&PullProgress),
) -> Result<TableReport, PullError> {
    let table = kind.platform_table();
    let source = format!("postgres:{table}");
    let spec = TableSpec::of(kind);
    let paging = paging(kind);
    let units = ws.units().clone();
    let mut report = TableReport {
        table: table.into(),
        ..TableReport::default()
    };
    let stored: Option<KeysetCursor> =
        get_cursor(&ws.conn, table)?.and_then(|p| serde_json::from_str(&p).ok());
    let lag_us = i64::try_from(options.lag.as_micros()).unwrap_or(i64::MAX);
    let mut cursor = match stored {
        Some(c) if c.in_pass => c,
        // A new pass starts a lag window before the last one ended (timestamp tables),
        // or from the beginning (key-only tables).
        Some(c) if paging.changed.is_some() => KeysetCursor {
            changed_us: c.changed_us.saturating_sub(lag_us),
            key: Vec::new(),
            in_pass: true,
        },
        _ => KeysetCursor {
            changed_us: i64::MIN,
            key: Vec::new(),
            in_pass: true,
        },
    };
    let mut pg = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|e| PullError::Query {
            table: table.into(),
            detail: error_text(&e),
        })?;
    let cols = select_list(spec.columns);
    let key_cols = paging
        .key
        .iter()
        .map(|k| format!("{k}::text"))
        .collect::<Vec<_>>()
        .join(", ");
    let changed_us = paging
        .changed
        .map(|c| format!("(extract(epoch from {c}) * 1000000)::int8"));
    let mut max_changed = cursor.changed_us;
    let mut ordinal = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(PullError::Cancelled);
        }
        let key_params: Vec<String> = if cursor.key.is_empty() {
            vec![String::new(); paging.key.len()]
        } else {
            cursor.key.clone()
        };
        let key_placeholders: Vec<String> = (0..paging.key.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let (order, filter) = match &changed_us {
            Some(c) => (
                format!("{c}, {key_cols}"),
                format!(
                    "({c}, {key_cols}) > ($1::int8, {})",
                    key_placeholders.join(", ")
                ),
            ),
            None => (
                key_cols.clone(),
                format!(
                    "$1::int8 IS NOT NULL AND ({key_cols}) > ({})",
                    key_placeholders.join(", ")
                ),
            ),
        };
        let extra = changed_us
            .as_deref()
            .map_or(String::new(), |c| format!(", {c}"));
        let sql =
            format!("SELECT {cols}{extra} FROM {table} WHERE {filter} ORDER BY {order} LIMIT $2");
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> =
            vec![&cursor.changed_us, &options.page_size];
        for k in &key_params {
            params.push(k);
        }
        let page = query(&mut pg, table, &sql, &params)?;
        report.pages += 1;
        report.rows_read += page.len() as u64;
        let full_page = page.len() as i64 == options.page_size;
        let mut problems = Problems::default();
        let mut values = Vec::with_capacity(page.len());
        for row in &page {
            ordinal += 1;
            let rec = to_record(row, spec.columns, ordinal);
            let mut cells = Cells::new(&rec, &source, &mut problems);
            if let Some(v) = rows::parse_table_row(kind, &mut cells, &units) {
                values.push((ordinal, v));
            }
        }
        if !problems.is_empty() {
            return Err(problems.into_error(&source).into());
        }
        let tx = ws.conn.unchecked_transaction()?;
        let mut counts = Counts::default();
        if !values.is_empty() {
            let import_id = store::begin_import(&tx, kind, &source, None, ctx)?;
            for (line, v) in &values {
                counts.add(spec.upsert(&tx, v, import_id, &source, *line, &mut problems)?);
            }
            if !problems.is_empty() {
                return Err(problems.into_error(&source).into());
            }
            store::finish_import(&tx, import_id, values.len() as u64, counts)?;
        }
        add_counts(&mut report, counts);
        if let Some(last) = page.last() {
            let n = spec.columns.len();
            if paging.changed.is_some() {
                cursor.changed_us = last.get(n);
                max_changed = max_changed.max(cursor.changed_us);
            } else {
                cursor.changed_us = 0;
            }
            cursor.key = paging
                .key
                .iter()
                .map(|k| {
                    let i = spec
                        .columns
                        .iter()
                        .position(|c| c.name() == *k)
                        .expect("key column is selected");
                    last.get::<_, String>(i)
                })
                .collect();
        }
        if !full_page {
            cursor = KeysetCursor {
                changed_us: if paging.changed.is_some() {
                    max_changed
                } else {
                    0
                },
                key: Vec::new(),
                in_pass: false,
            };
        }
        set_cursor(
            &tx,
            table,
            &serde_json::to_string(&cursor).expect("cursor serializes"),
            ctx,
        )?;
        tx.commit()?;
        progress(&PullProgress {
            table,
            pages: report.pages,
            rows: report.rows_read,
        });
        if !full_page {
            break;
        }
    }
    pg.commit().map_err(|e| PullError::Query {
        table: table.into(),
        detail: error_text(&e),
    })?;
    Ok(report)
}

#[cfg(test)]
mod redact_tests {
    use super::shown_source;

    /// Every way a password can sit in what is typed (the review's cases among them: a `#`
    /// or a `/` in the userinfo, a `?password=` after a `#`, an escaped space) is absent from
    /// the stored source, which still names the same server, user and database.
    #[test]
    fn every_password_form_is_removed_and_the_rest_still_connects() {
        let cases = [
            ("postgres://u:s3cret@h:5432/db", "postgres://u@h:5432/db"),
            (
                "postgresql://u@h/db?password=s3cret",
                "postgres://u@h:5432/db",
            ),
            (
                "postgres://u:s3cret@h/db?sslmode=require&password=s3cret&application_name=x",
                "postgres://u@h:5432/db?sslmode=require",
            ),
            (
                "host=h user=u password=s3cret dbname=db",
                "postgres://u@h/db",
            ),
            ("host=h password = 's3 cret' dbname=db", "postgres://h/db"),
            ("host=h password='it\\'s s3cret' port=5", "postgres://h:5/"),
            (
                "postgres://u:12#bs3cret@host/db",
                "postgres://u@host:5432/db",
            ),
            (
                "postgres://u:5432/s3cret@host/db",
                "postgres://u@host:5432/db",
            ),
            ("host=h password=a\\ s3cret dbname=db", "postgres://h/db"),
            (
                "host=h,g port=5,6 user=reader dbname=p",
                "postgres://reader@h:5,g:6/p",
            ),
            (
                "postgres://u:s3cret@[not a url",
                "(an unreadable connection string)",
            ),
        ];
        for (given, shown) in cases {
            let r = shown_source(given);
            assert!(!r.contains("s3"), "{given} → {r}");
            assert_eq!(r, shown, "{given}");
            // The stored source reads back to itself (the URL form adds the default port).
            if !r.starts_with('(') {
                let again = shown_source(&r);
                assert_eq!(shown_source(&again), again, "{given}");
                assert!(
                    again.starts_with(r.trim_end_matches(|c| c != '@')),
                    "{given}"
                );
            }
        }
    }
}
