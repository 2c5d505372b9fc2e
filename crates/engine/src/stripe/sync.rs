//! A Stripe sync run.
//!
//! Each object type's history is split into `created` windows; up to `concurrency` windows
//! are fetched at once, newest first within each window, 100 objects a page, through the
//! shared rate limiter. Every page is written (rows in id order) in one transaction together
//! with its window's cursor, so a run killed at any moment continues, when started again,
//! from the last committed page of each window: no gaps, no duplicates (rows are keyed by
//! Stripe id). Objects whose state changes (payout and dispute status, account
//! capabilities…) are refreshed because each run re-lists a look-back period per type.
//!
//! Long: one sync run is one protocol — plan the windows, fetch their pages concurrently,
//! parse each, write it with its window's cursor in one transaction, finish the run — and
//! every step shares the run's types (windows, rows, pages); split, each file would import
//! all the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bytes::Bytes;
use jiff::Timestamp;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use stripe_types::{RangeBoundsTs, RangeQueryTs};

use super::api::Api;
use super::coverage::{self, CoverageLine};
use super::{Limits, StripeError, StripeKey};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// What a sync may be told.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// `https://api.stripe.com/`, or the simulator's URL.
    pub api_base: String,
    pub limits: Limits,
    /// Where the first sync starts; default: 31 days before the ledger's first posting,
    /// or 365 days before now for an empty ledger.
    pub since: Option<Timestamp>,
    /// Re-sync this window (inclusive start, exclusive end) of every object type.
    pub resync: Option<(Timestamp, Timestamp)>,
    /// Only these object types (benchmarks, targeted re-syncs); `None` = all.
    pub only: Option<Vec<ObjectType>>,
    /// The earliest event to ask for. `None`: 30 days before now, as far back as Stripe
    /// keeps events. The demo sets it to its first day: its simulator keeps every event.
    pub events_since: Option<Timestamp>,
}

impl SyncOptions {
    pub fn new(api_base: &str, live: bool) -> SyncOptions {
        SyncOptions {
            api_base: api_base.to_string(),
            limits: Limits::for_mode(live),
            since: None,
            resync: None,
            only: None,
            events_since: None,
        }
    }
}

/// Progress, reported after each written page and at each phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncProgress {
    pub phase: String,
    pub pages: u64,
    pub objects: u64,
    pub requests: u64,
    pub retries: u64,
    /// Average since the run started, whole requests per second.
    pub requests_per_second: u64,
    pub windows_done: u64,
    pub windows_total: u64,
    pub recent_errors: Vec<String>,
}

/// What a caller watches and stops. A cancelled run keeps what it committed and continues
/// at the next sync.
pub struct SyncControl<'a> {
    pub progress: &'a mut dyn FnMut(&SyncProgress),
    pub cancel: &'a AtomicBool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeCount {
    pub object_type: String,
    pub added: u64,
    pub changed: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BalanceLine {
    pub currency: String,
    pub available: i64,
    pub pending: i64,
    pub connect_reserved: Option<i64>,
    pub instant_available: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub run_id: i64,
    /// This run continued one that had been interrupted.
    pub resumed: bool,
    pub pages: u64,
    pub requests: u64,
    pub retries: u64,
    pub elapsed_ms: u64,
    pub counts: Vec<TypeCount>,
    pub balance: Vec<BalanceLine>,
    pub coverage: Vec<CoverageLine>,
}

/// The object types mirrored, in the order their windows are queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectType {
    BalanceTransaction,
    Charge,
    Refund,
    Dispute,
    Payout,
    Transfer,
    Account,
    Event,
}

impl ObjectType {
    pub const ALL: [ObjectType; 8] = [
        ObjectType::BalanceTransaction,
        ObjectType::Charge,
        ObjectType::Refund,
        ObjectType::Dispute,
        ObjectType::Payout,
        ObjectType::Transfer,
        ObjectType::Account,
        ObjectType::Event,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ObjectType::BalanceTransaction => "balance_transaction",
            ObjectType::Charge => "charge",
            ObjectType::Refund => "refund",
            ObjectType::Dispute => "dispute",
            ObjectType::Payout => "payout",
            ObjectType::Transfer => "transfer",
            ObjectType::Account => "account",
            ObjectType::Event => "event",
        }
    }

    pub fn parse(name: &str) -> Option<ObjectType> {
        ObjectType::ALL.into_iter().find(|t| t.name() == name)
    }

    fn path(self) -> &'static str {
        match self {
            ObjectType::BalanceTransaction => "/v1/balance_transactions",
            ObjectType::Charge => "/v1/charges",
            ObjectType::Refund => "/v1/refunds",
            ObjectType::Dispute => "/v1/disputes",
            ObjectType::Payout => "/v1/payouts",
            ObjectType::Transfer => "/v1/transfers",
            ObjectType::Account => "/v1/accounts",
            ObjectType::Event => "/v1/events",
        }
    }

    /// How far before the newest stored object an incremental run starts again, so that
    /// state changes are picked up: a balance transaction becomes available within days, a
    /// refund settles within a week, a payout within two, a transfer may be reversed for a
    /// month, a dispute runs for up to 75 days. Accounts are listed whole every time.
    fn lookback_secs(self) -> i64 {
        const DAY: i64 = 86_400;
        match self {
            ObjectType::BalanceTransaction | ObjectType::Charge | ObjectType::Event => DAY,
            ObjectType::Refund => 7 * DAY,
            ObjectType::Payout => 14 * DAY,
            ObjectType::Transfer => 30 * DAY,
            ObjectType::Dispute => 75 * DAY,
            ObjectType::Account => i64::MAX,
        }
    }
}

/// Stripe keeps events for 30 days.
const EVENT_RETENTION_SECS: i64 = 30 * 86_400;

/// A window shorter than this is not split further: one or two pages.
const MIN_WINDOW_SECS: i64 = 3_600;

#[derive(Debug, Clone)]
struct Window {
    object_type: ObjectType,
    start: i64,
    end: i64,
    cursor: Option<String>,
}

/// One stored object: the JSON Stripe sent for it, and the fields we index.
struct Row {
    object_type: &'static str,
    id: String,
    created: i64,
    livemode: Option<bool>,
    status: Option<String>,
    raw: String,
}

struct BtRow {
    id: String,
    kind: String,
    reporting_category: String,
    source: Option<String>,
    amount: i64,
    fee: i64,
    net: i64,
    currency: String,
    status: String,
    created: i64,
    available_on: i64,
    description: Option<String>,
    fee_details: String,
}

/// One fetched page, on its way to the writer.
struct Page {
    window: Window,
    rows: Vec<Row>,
    balance_transactions: Vec<BtRow>,
    payout_links: Vec<(String, String)>,
    next_cursor: Option<String>,
    done: bool,
}

type Fetched = Result<Page, StripeError>;

/// Runs a sync: resumes an interrupted run if there is one, else plans and runs a new one.
pub fn sync(
    ws: &mut Workspace,
    key: &StripeKey,
    options: &SyncOptions,
    ctx: &OpContext,
    control: &mut SyncControl<'_>,
) -> Result<SyncReport, StripeError> {
    key.check_mode(ws)?;
    let api = Arc::new(Api::new(key, &options.api_base, options.limits.clone())?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StripeError::Runtime(e.to_string()))?;
    runtime.block_on(run(ws, api, options, ctx, control))
}

async fn run(
    ws: &mut Workspace,
    api: Arc<Api>,
    options: &SyncOptions,
    ctx: &OpContext,
    control: &mut SyncControl<'_>,
) -> Result<SyncReport, StripeError> {
    let started = Instant::now();
    let live = ws.info().mode.is_live();
    let (run_id, resumed) = match unfinished_run(ws)? {
        Some(id) if options.resync.is_none() => {
            // A resumed run goes where it is told now: its address is this run's.
            ws.conn.execute(
                "UPDATE stripe_sync_runs SET outcome = 'running', message = NULL, api_base = ?2 WHERE id = ?1",
                params![id, options.api_base],
            )?;
            (id, true)
        }
        _ => (plan_run(ws, options, ctx)?, false),
    };
    let windows = open_windows(ws, run_id)?;
    let total_windows: u64 = ws.conn.query_row(
        "SELECT count(*) FROM stripe_sync_windows WHERE run_id = ?1",
        [run_id],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let mut progress = SyncProgress {
        phase: if resumed {
            "resuming an interrupted sync".into()
        } else {
            "listing objects".into()
        },
        windows_total: total_windows,
        windows_done: total_windows - windows.len() as u64,
        ..SyncProgress::default()
    };
    (control.progress)(&progress);

    let mut counts: HashMap<&'static str, TypeCount> = HashMap::new();
    let outcome = fetch_all(
        ws,
        &api,
        run_id,
        windows,
        live,
        control,
        &mut progress,
        &mut counts,
        started,
        ctx.now.as_microsecond(),
    )
    .await;
    if let Err(e) = outcome {
        let (state, message) = match &e {
            StripeError::Cancelled => ("cancelled", e.to_string()),
            _ => ("failed", e.to_string()),
        };
        finish_run(ws, run_id, &api, state, Some(&message), ctx)?;
        return Err(e);
    }

    progress.phase = "reading the balance".into();
    (control.progress)(&progress);
    let balance = fetch_balance(ws, &api, run_id, ctx).await;
    let balance = match balance {
        Ok(b) => b,
        Err(e) => {
            finish_run(ws, run_id, &api, "failed", Some(&e.to_string()), ctx)?;
            return Err(e);
        }
    };
    let coverage = coverage::record(ws, run_id, ctx.now)?;
    finish_run(ws, run_id, &api, "ok", None, ctx)?;

    let mut counts: Vec<TypeCount> = counts.into_values().collect();
    counts.sort_by(|a, b| a.object_type.cmp(&b.object_type));
    let stats = &api.stats;
    Ok(SyncReport {
        run_id,
        resumed,
        pages: progress.pages,
        requests: stats.requests.load(Ordering::Relaxed),
        retries: stats.retries.load(Ordering::Relaxed),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        counts,
        balance,
        coverage,
    })
}

/// The latest run if it stopped before finishing its windows.
fn unfinished_run(ws: &Workspace) -> Result<Option<i64>, StripeError> {
    Ok(ws
        .conn
        .query_row(
            "SELECT r.id FROM stripe_sync_runs r
             WHERE r.id = (SELECT max(id) FROM stripe_sync_runs)
               AND (r.outcome <> 'ok')
               AND EXISTS (SELECT 1 FROM stripe_sync_windows w WHERE w.run_id = r.id AND w.done = 0)",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

fn plan_run(ws: &Workspace, options: &SyncOptions, ctx: &OpContext) -> Result<i64, StripeError> {
    let now = ctx.now.as_second();
    let end = now + 1; // created < end
    let since = match options.since {
        Some(t) => t.as_second(),
        None => {
            let first: Option<i64> =
                ws.conn
                    .query_row("SELECT min(created_at) FROM ledger_postings", [], |r| {
                        r.get(0)
                    })?;
            match first {
                Some(us) => us / 1_000_000 - 31 * 86_400,
                None => now - 365 * 86_400,
            }
        }
    };
    let tx = ws.conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO stripe_sync_runs (started_at, outcome, api_base, actor) VALUES (?1, 'running', ?2, ?3)",
        params![ctx.now.as_microsecond(), options.api_base, ctx.actor],
    )?;
    let run_id = tx.last_insert_rowid();
    let pieces = options.limits.concurrency.max(1) as i64 * 2;
    for t in ObjectType::ALL {
        if options.only.as_ref().is_some_and(|only| !only.contains(&t)) {
            continue;
        }
        let (start, stop) = match (options.resync, t) {
            (_, ObjectType::Account) => (0, end),
            (Some((from, to)), _) => (from.as_second(), to.as_second()),
            (None, _) => {
                let newest: Option<i64> = tx.query_row(
                    "SELECT max(created) FROM stripe_objects WHERE object_type = ?1",
                    [t.name()],
                    |r| r.get(0),
                )?;
                let start = match newest {
                    Some(n) => n.saturating_sub(t.lookback_secs()),
                    None => since,
                };
                (start, end)
            }
        };
        let start = if t == ObjectType::Event {
            let floor = options
                .events_since
                .map(|t| t.as_second())
                .unwrap_or(now - EVENT_RETENTION_SECS);
            start.max(floor)
        } else {
            start
        };
        for (a, b) in split(
            start,
            stop,
            if t == ObjectType::Account { 1 } else { pieces },
        ) {
            tx.execute(
                "INSERT INTO stripe_sync_windows (run_id, object_type, window_start, window_end) VALUES (?1, ?2, ?3, ?4)",
                params![run_id, t.name(), a, b],
            )?;
        }
    }
    tx.commit()?;
    Ok(run_id)
}

/// `[start, end)` in at most `pieces` windows of equal length, none shorter than an hour.
fn split(start: i64, end: i64, pieces: i64) -> Vec<(i64, i64)> {
    if end <= start {
        return vec![(start, start + 1)];
    }
    let span = end - start;
    let n = pieces.clamp(1, (span / MIN_WINDOW_SECS).max(1));
    let step = (span + n - 1) / n;
    let mut out = Vec::new();
    let mut a = start;
    while a < end {
        let b = (a + step).min(end);
        out.push((a, b));
        a = b;
    }
    out
}

fn open_windows(ws: &Workspace, run_id: i64) -> Result<Vec<Window>, StripeError> {
    let mut stmt = ws.conn.prepare(
        "SELECT object_type, window_start, window_end, cursor FROM stripe_sync_windows
         WHERE run_id = ?1 AND done = 0 ORDER BY window_end DESC, object_type",
    )?;
    let rows = stmt.query_map([run_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (t, start, end, cursor) = row?;
        let object_type = ObjectType::parse(&t).ok_or_else(|| StripeError::BadObject {
            request: "the stored sync plan".into(),
            detail: format!("unknown object type {t}"),
        })?;
        out.push(Window {
            object_type,
            start,
            end,
            cursor,
        });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn fetch_all(
    ws: &mut Workspace,
    api: &Arc<Api>,
    run_id: i64,
    windows: Vec<Window>,
    live: bool,
    control: &mut SyncControl<'_>,
    progress: &mut SyncProgress,
    counts: &mut HashMap<&'static str, TypeCount>,
    started: Instant,
    now_us: i64,
) -> Result<(), StripeError> {
    let concurrency = api.limits().concurrency.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Fetched>(concurrency * 2);
    let queue = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
        windows,
    )));
    let cancel = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (api, queue, tx, cancel) = (api.clone(), queue.clone(), tx.clone(), cancel.clone());
        workers.spawn(async move {
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(mut window) = next else { return };
                loop {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let page = fetch_page(&api, &window).await;
                    let (next_cursor, done) = match &page {
                        Ok(p) => (p.next_cursor.clone(), p.done),
                        Err(_) => (None, true),
                    };
                    let failed = page.is_err();
                    if tx.send(page).await.is_err() || failed {
                        return;
                    }
                    if done {
                        break;
                    }
                    window.cursor = next_cursor;
                }
            }
        });
    }
    drop(tx);
    let mut result = Ok(());
    while let Some(fetched) = rx.recv().await {
        if control.cancel.load(Ordering::Relaxed) {
            result = Err(StripeError::Cancelled);
            break;
        }
        match fetched.and_then(|page| write_page(ws, run_id, page, live, now_us, counts)) {
            Ok(written) => {
                progress.pages += 1;
                progress.objects += written;
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        let stats = &api.stats;
        progress.requests = stats.requests.load(Ordering::Relaxed);
        progress.retries = stats.retries.load(Ordering::Relaxed);
        let ms = u64::try_from(started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        progress.requests_per_second = progress.requests * 1000 / ms;
        progress.recent_errors = stats
            .recent_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        progress.windows_done = ws.conn.query_row(
            "SELECT count(*) FROM stripe_sync_windows WHERE run_id = ?1 AND done = 1",
            [run_id],
            |r| r.get::<_, i64>(0),
        )? as u64;
        (control.progress)(progress);
    }
    if result.is_err() {
        cancel.store(true, Ordering::Relaxed);
        rx.close();
        workers.abort_all();
    }
    while workers.join_next().await.is_some() {}
    result
}

fn range(window: &Window) -> RangeQueryTs {
    RangeQueryTs::Bounds(RangeBoundsTs {
        gte: Some(window.start),
        lt: Some(window.end),
        ..RangeBoundsTs::default()
    })
}

fn describe_request(window: &Window, extra: &str) -> String {
    let mut s = format!(
        "GET {}?created[gte]={}&created[lt]={}&limit=100",
        window.object_type.path(),
        window.start,
        window.end
    );
    if let Some(c) = &window.cursor {
        s.push_str(&format!("&starting_after={c}"));
    }
    s.push_str(extra);
    s
}

async fn fetch_page(api: &Api, window: &Window) -> Fetched {
    use stripe_connect::account::ListAccount;
    use stripe_connect::transfer::ListTransfer;
    use stripe_core::balance_transaction::ListBalanceTransaction;
    use stripe_core::charge::ListCharge;
    use stripe_core::dispute::ListDispute;
    use stripe_core::event::ListEvent;
    use stripe_core::payout::ListPayout;
    use stripe_core::refund::ListRefund;

    let request = describe_request(window, "");
    let limit = i64::from(api.limits().page_size);
    macro_rules! list {
        ($builder:expr) => {{
            let mut req = $builder.limit(limit);
            if let Some(c) = &window.cursor {
                req = req.starting_after(c.clone());
            }
            let (list, body) = api.send(&request, &req, None).await?;
            (list.has_more, list.data, body)
        }};
    }
    let mut page = Page {
        window: window.clone(),
        rows: Vec::new(),
        balance_transactions: Vec::new(),
        payout_links: Vec::new(),
        next_cursor: None,
        done: true,
    };
    let (has_more, raw) = match window.object_type {
        ObjectType::BalanceTransaction => {
            let (more, data, body) = list!(ListBalanceTransaction::new().created(range(window)));
            for bt in &data {
                page.balance_transactions.push(bt_row(bt, &request)?);
            }
            (more, body)
        }
        ObjectType::Charge => {
            let (more, _, body) = list!(ListCharge::new().created(range(window)));
            (more, body)
        }
        ObjectType::Refund => {
            let (more, _, body) = list!(ListRefund::new().created(range(window)));
            (more, body)
        }
        ObjectType::Dispute => {
            let (more, _, body) = list!(ListDispute::new().created(range(window)));
            (more, body)
        }
        ObjectType::Payout => {
            let (more, data, body) = list!(ListPayout::new().created(range(window)));
            for payout in &data {
                let id = payout.id.as_str().to_string();
                if !payout.automatic {
                    // Stripe refuses `?payout=` for a manual payout (the filter is "for
                    // automatic Stripe payouts only"): such a payout settles exactly its own
                    // balance transaction.
                    if let Some(bt) = &payout.balance_transaction {
                        page.payout_links
                            .push((bt.id().as_str().to_string(), id.clone()));
                    }
                    continue;
                }
                let mut cursor: Option<String> = None;
                loop {
                    let mut req = ListBalanceTransaction::new()
                        .payout(id.clone())
                        .limit(limit);
                    if let Some(c) = &cursor {
                        req = req.starting_after(c.clone());
                    }
                    let what = format!(
                        "GET /v1/balance_transactions?payout={id}&limit=100{}",
                        cursor
                            .as_deref()
                            .map(|c| format!("&starting_after={c}"))
                            .unwrap_or_default()
                    );
                    let (list, _) = api.send(&what, &req, None).await?;
                    for bt in &list.data {
                        page.payout_links
                            .push((bt.id.as_str().to_string(), id.clone()));
                    }
                    cursor = list.data.last().map(|b| b.id.as_str().to_string());
                    if !list.has_more || cursor.is_none() {
                        break;
                    }
                }
            }
            (more, body)
        }
        ObjectType::Transfer => {
            let (more, data, body) = list!(ListTransfer::new().created(range(window)));
            for transfer in &data {
                if transfer.reversals.has_more {
                    more_reversals(api, transfer, &mut page.rows).await?;
                }
            }
            (more, body)
        }
        ObjectType::Account => {
            let (more, _, body) = list!(ListAccount::new());
            (more, body)
        }
        ObjectType::Event => {
            let (more, _, body) = list!(ListEvent::new().created(range(window)));
            (more, body)
        }
    };
    let items = raw_items(&raw, &request)?;
    for item in &items {
        page.rows
            .push(row(window.object_type.name(), item, &request)?);
        if window.object_type == ObjectType::Transfer
            && let Some(revs) = item.pointer("/reversals/data").and_then(|d| d.as_array())
        {
            for r in revs {
                page.rows.push(row("transfer_reversal", r, &request)?);
            }
        }
    }
    page.next_cursor = items
        .last()
        .and_then(|i| i.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    page.done = !has_more || page.next_cursor.is_none();
    Ok(page)
}

async fn more_reversals(
    api: &Api,
    transfer: &stripe_connect::Transfer,
    rows: &mut Vec<Row>,
) -> Result<(), StripeError> {
    use stripe_connect::transfer_reversal::ListIdTransferReversal;
    let id = transfer.id.as_str().to_string();
    let mut cursor = transfer
        .reversals
        .data
        .last()
        .map(|r| r.id.as_str().to_string());
    while let Some(c) = cursor.take() {
        let req = ListIdTransferReversal::new(id.clone())
            .limit(100)
            .starting_after(c.clone());
        let what = format!("GET /v1/transfers/{id}/reversals?limit=100&starting_after={c}");
        let (list, body) = api.send(&what, &req, None).await?;
        for item in raw_items(&body, &what)? {
            rows.push(row("transfer_reversal", &item, &what)?);
        }
        if list.has_more {
            cursor = list.data.last().map(|r| r.id.as_str().to_string());
        }
    }
    Ok(())
}

/// One list page parsed exactly as a sync parses what Stripe sends — async-stripe's typed
/// objects (its own deserializer), Closebook's balance-transaction rows, then the raw items
/// kept verbatim — without a network. Returns how many rows the page makes. The fuzz
/// targets call this; a sync reaches the same functions through [`Api::send`].
pub fn parse_page(object_type: ObjectType, body: &[u8]) -> Result<usize, StripeError> {
    let request = format!("a {} page", object_type.name());
    let bad = |detail: String| StripeError::BadObject {
        request: request.clone(),
        detail,
    };
    let text = std::str::from_utf8(body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    macro_rules! typed {
        ($t:ty) => {
            miniserde::json::from_str::<stripe_types::List<$t>>(text)
                .map_err(|_| bad(format!("not a list of {}", object_type.name())))?
        };
    }
    let mut rows = 0usize;
    match object_type {
        ObjectType::BalanceTransaction => {
            for bt in &typed!(stripe_core::BalanceTransaction).data {
                bt_row(bt, &request)?;
                rows += 1;
            }
        }
        ObjectType::Charge => drop(typed!(stripe_core::Charge)),
        ObjectType::Refund => drop(typed!(stripe_core::Refund)),
        ObjectType::Dispute => drop(typed!(stripe_core::Dispute)),
        ObjectType::Payout => drop(typed!(stripe_core::Payout)),
        ObjectType::Transfer => drop(typed!(stripe_connect::Transfer)),
        ObjectType::Account => drop(typed!(stripe_connect::Account)),
        ObjectType::Event => drop(typed!(stripe_core::Event)),
    }
    for item in raw_items(&Bytes::copy_from_slice(body), &request)? {
        row(object_type.name(), &item, &request)?;
        rows += 1;
    }
    Ok(rows)
}

/// The `data` items of a list body, exactly as Stripe sent them.
fn raw_items(body: &Bytes, request: &str) -> Result<Vec<serde_json::Value>, StripeError> {
    let bad = |detail: String| StripeError::BadObject {
        request: request.to_string(),
        detail,
    };
    let mut doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the list is not JSON: {e}")))?;
    match doc.get_mut("data").map(serde_json::Value::take) {
        Some(serde_json::Value::Array(items)) => Ok(items),
        _ => Err(bad("the list has no data array".into())),
    }
}

fn row(
    object_type: &'static str,
    item: &serde_json::Value,
    request: &str,
) -> Result<Row, StripeError> {
    let id = item
        .get("id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| StripeError::BadObject {
            request: request.to_string(),
            detail: format!("a {object_type} without an id"),
        })?;
    Ok(Row {
        object_type,
        id: id.to_string(),
        created: item.get("created").and_then(|v| v.as_i64()).unwrap_or(0),
        livemode: item.get("livemode").and_then(|v| v.as_bool()),
        status: item
            .get("status")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        raw: item.to_string(),
    })
}

/// Stripe writes ISK and UGX amounts with two decimals that are always zero (a historical
/// quirk); ISO 4217, and so Closebook, counts them in whole units.
pub fn stripe_amount_to_minor(currency: &str, amount: i64) -> Option<i64> {
    match currency {
        "isk" | "ugx" => (amount % 100 == 0).then_some(amount / 100),
        _ => Some(amount),
    }
}

fn bt_row(bt: &stripe_core::BalanceTransaction, request: &str) -> Result<BtRow, StripeError> {
    let currency = bt.currency.to_string();
    let convert = |amount: i64| {
        stripe_amount_to_minor(&currency, amount).ok_or_else(|| StripeError::BadObject {
            request: request.to_string(),
            detail: format!(
                "{}: {amount} {currency} is not a whole amount",
                bt.id.as_str()
            ),
        })
    };
    let fee_details: Vec<serde_json::Value> = bt
        .fee_details
        .iter()
        .map(|f| {
            serde_json::json!({
                "amount": f.amount,
                "currency": f.currency.to_string(),
                "type": f.type_,
                "description": f.description,
                "application": f.application,
            })
        })
        .collect();
    Ok(BtRow {
        id: bt.id.as_str().to_string(),
        kind: bt.type_.as_str().to_string(),
        reporting_category: bt.reporting_category.clone(),
        source: bt.source.as_ref().map(|s| s.id().as_str().to_string()),
        amount: convert(bt.amount)?,
        fee: convert(bt.fee)?,
        net: convert(bt.net)?,
        currency,
        status: bt.status.clone(),
        created: bt.created * 1_000_000,
        available_on: bt.available_on * 1_000_000,
        description: bt.description.clone(),
        fee_details: serde_json::Value::Array(fee_details).to_string(),
    })
}

/// Writes one page and its window's cursor in one transaction; returns the rows written.
fn write_page(
    ws: &mut Workspace,
    run_id: i64,
    mut page: Page,
    live: bool,
    now_us: i64,
    counts: &mut HashMap<&'static str, TypeCount>,
) -> Result<u64, StripeError> {
    for r in &page.rows {
        if let Some(l) = r.livemode
            && l != live
        {
            return Err(StripeError::LivemodeMismatch {
                what: format!("{} {} (livemode {l})", r.object_type, r.id),
                workspace: if live { "live" } else { "test" },
            });
        }
    }
    // Rows in id order, each page one batch.
    page.rows
        .sort_by(|a, b| (a.object_type, &a.id).cmp(&(b.object_type, &b.id)));
    page.balance_transactions.sort_by(|a, b| a.id.cmp(&b.id));
    page.payout_links.sort();
    let tx = ws.conn.unchecked_transaction()?;
    let (mut added, mut changed) = (0i64, 0i64);
    {
        let mut find = tx.prepare_cached(
            "SELECT raw_sha256 FROM stripe_objects WHERE object_type = ?1 AND id = ?2",
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO stripe_objects (object_type, id, created, livemode, status, raw, raw_sha256, first_seen, last_changed, sync_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
        )?;
        let mut update = tx.prepare_cached(
            "UPDATE stripe_objects SET created = ?3, livemode = ?4, status = ?5, raw = ?6, raw_sha256 = ?7, last_changed = ?8, sync_run = ?9
             WHERE object_type = ?1 AND id = ?2",
        )?;
        for r in &page.rows {
            let sha = hex::encode(Sha256::digest(r.raw.as_bytes()));
            let existing: Option<String> = find
                .query_row(params![r.object_type, r.id], |x| x.get(0))
                .optional()?;
            let livemode = r.livemode.unwrap_or(live);
            let count = counts.entry(r.object_type).or_insert_with(|| TypeCount {
                object_type: r.object_type.to_string(),
                added: 0,
                changed: 0,
                unchanged: 0,
            });
            match existing {
                None => {
                    insert.execute(params![
                        r.object_type,
                        r.id,
                        r.created,
                        livemode,
                        r.status,
                        r.raw,
                        sha,
                        now_us,
                        run_id
                    ])?;
                    added += 1;
                    count.added += 1;
                }
                Some(old) if old != sha => {
                    update.execute(params![
                        r.object_type,
                        r.id,
                        r.created,
                        livemode,
                        r.status,
                        r.raw,
                        sha,
                        now_us,
                        run_id
                    ])?;
                    changed += 1;
                    count.changed += 1;
                }
                Some(_) => count.unchanged += 1,
            }
        }
        let mut bt = tx.prepare_cached(
            "INSERT INTO stripe_balance_transactions
               (id, type, reporting_category, source, amount, fee, net, currency, status, created, available_on, description, fee_details)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (id) DO UPDATE SET type = excluded.type, reporting_category = excluded.reporting_category,
               source = excluded.source, amount = excluded.amount, fee = excluded.fee, net = excluded.net,
               currency = excluded.currency, status = excluded.status, created = excluded.created,
               available_on = excluded.available_on, description = excluded.description, fee_details = excluded.fee_details",
        )?;
        // Rows dated on or before a reconciled day are sealed: a change is recorded, never
        // silently absorbed (the next snapshot reports it as an exception).
        let sealed = crate::reconcile::sealed_until(ws)?;
        for b in &page.balance_transactions {
            if let Some((sealed_day, until)) = &sealed
                && b.created <= *until
            {
                crate::reconcile::record_sealed_change(
                    &tx,
                    &crate::reconcile::SealedRow {
                        id: &b.id,
                        kind: &b.kind,
                        source: b.source.as_deref(),
                        amount: b.amount,
                        fee: b.fee,
                        net: b.net,
                        currency: &b.currency,
                        status: &b.status,
                        created: b.created,
                        available_on: b.available_on,
                    },
                    sealed_day,
                    run_id,
                    now_us,
                )?;
            }
            bt.execute(params![
                b.id,
                b.kind,
                b.reporting_category,
                b.source,
                b.amount,
                b.fee,
                b.net,
                b.currency,
                b.status,
                b.created,
                b.available_on,
                b.description,
                b.fee_details
            ])?;
        }
        let mut link = tx.prepare_cached(
            "INSERT INTO stripe_payout_links (balance_transaction, payout) VALUES (?1, ?2)
             ON CONFLICT (balance_transaction) DO UPDATE SET payout = excluded.payout",
        )?;
        for (bt_id, payout) in &page.payout_links {
            link.execute(params![bt_id, payout])?;
        }
    }
    tx.execute(
        "UPDATE stripe_sync_windows SET cursor = ?4, done = ?5, pages = pages + 1
         WHERE run_id = ?1 AND object_type = ?2 AND window_start = ?3",
        params![
            run_id,
            page.window.object_type.name(),
            page.window.start,
            page.next_cursor,
            page.done
        ],
    )?;
    tx.execute(
        "UPDATE stripe_sync_runs SET pages = pages + 1, objects_added = objects_added + ?2, objects_changed = objects_changed + ?3
         WHERE id = ?1",
        params![run_id, added, changed],
    )?;
    tx.commit()?;
    Ok(page.rows.len() as u64)
}

async fn fetch_balance(
    ws: &Workspace,
    api: &Api,
    run_id: i64,
    ctx: &OpContext,
) -> Result<Vec<BalanceLine>, StripeError> {
    use stripe_core::balance::RetrieveForMyAccountBalance;
    let (balance, _) = api
        .send("GET /v1/balance", &RetrieveForMyAccountBalance::new(), None)
        .await?;
    let live = ws.info().mode.is_live();
    if balance.livemode != live {
        return Err(StripeError::LivemodeMismatch {
            what: format!("the balance (livemode {})", balance.livemode),
            workspace: if live { "live" } else { "test" },
        });
    }
    #[derive(Clone, Copy)]
    enum Part {
        Available,
        Pending,
        ConnectReserved,
        InstantAvailable,
    }
    let amounts = balance
        .available
        .iter()
        .map(|a| (Part::Available, &a.currency, a.amount))
        .chain(
            balance
                .pending
                .iter()
                .map(|a| (Part::Pending, &a.currency, a.amount)),
        )
        .chain(
            balance
                .connect_reserved
                .iter()
                .flatten()
                .map(|a| (Part::ConnectReserved, &a.currency, a.amount)),
        )
        .chain(
            balance
                .instant_available
                .iter()
                .flatten()
                .map(|a| (Part::InstantAvailable, &a.currency, a.amount)),
        );
    let mut lines: std::collections::BTreeMap<String, BalanceLine> = Default::default();
    for (part, currency, amount) in amounts {
        let c = currency.to_string();
        let v = stripe_amount_to_minor(&c, amount).ok_or_else(|| StripeError::BadObject {
            request: "GET /v1/balance".into(),
            detail: format!("{amount} {c} is not a whole amount"),
        })?;
        let line = lines.entry(c.clone()).or_insert_with(|| BalanceLine {
            currency: c,
            available: 0,
            pending: 0,
            connect_reserved: None,
            instant_available: None,
        });
        let slot = match part {
            Part::Available => &mut line.available,
            Part::Pending => &mut line.pending,
            Part::ConnectReserved => line.connect_reserved.get_or_insert(0),
            Part::InstantAvailable => line.instant_available.get_or_insert(0),
        };
        *slot = slot
            .checked_add(v)
            .ok_or(crate::money::MoneyError::Overflow {
                op: "addition",
                left: (*slot).into(),
                right: v.into(),
            })?;
    }
    let tx = ws.conn.unchecked_transaction()?;
    for l in lines.values() {
        tx.execute(
            "INSERT INTO stripe_balances (run_id, fetched_at, currency, available, pending, connect_reserved, instant_available)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (run_id, currency) DO UPDATE SET fetched_at = excluded.fetched_at, available = excluded.available,
               pending = excluded.pending, connect_reserved = excluded.connect_reserved, instant_available = excluded.instant_available",
            params![run_id, ctx.now.as_microsecond(), l.currency, l.available, l.pending, l.connect_reserved, l.instant_available],
        )?;
    }
    tx.commit()?;
    Ok(lines.into_values().collect())
}

fn finish_run(
    ws: &Workspace,
    run_id: i64,
    api: &Api,
    outcome: &str,
    message: Option<&str>,
    ctx: &OpContext,
) -> Result<(), StripeError> {
    let tx: Transaction<'_> = ws.conn.unchecked_transaction()?;
    let requests = api.stats.requests.load(Ordering::Relaxed) as i64;
    let retries = api.stats.retries.load(Ordering::Relaxed) as i64;
    tx.execute(
        "UPDATE stripe_sync_runs SET finished_at = ?2, outcome = ?3, message = ?4,
           requests = requests + ?5, retries = retries + ?6 WHERE id = ?1",
        params![
            run_id,
            ctx.now.as_microsecond(),
            outcome,
            message,
            requests,
            retries
        ],
    )?;
    let (pages, added, changed): (i64, i64, i64) = tx.query_row(
        "SELECT pages, objects_added, objects_changed FROM stripe_sync_runs WHERE id = ?1",
        [run_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    audit::append(
        &tx,
        ctx.now,
        &ctx.actor,
        "stripe.sync",
        &format!(
            "Stripe sync run {run_id} {outcome}: {pages} pages, {added} objects added, {changed} changed"
        ),
        &serde_json::json!({"run": run_id, "outcome": outcome, "message": message, "pages": pages,
            "added": added, "changed": changed, "requests": requests, "retries": retries}),
    )?;
    tx.commit()?;
    Ok(())
}
