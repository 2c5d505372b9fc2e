//! What the Stripe mirror holds: objects per type, the newest of each, the last runs and
//! their outcomes, open windows (an interrupted run's cursors) and the last balance.

use jiff::Timestamp;
use serde::Serialize;

use super::StripeError;
use super::sync::BalanceLine;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Serialize)]
pub struct TypeStatus {
    pub object_type: String,
    pub objects: u64,
    /// The newest `created` stored (unix seconds): where the next incremental run looks back from.
    pub newest_created: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub id: i64,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub outcome: String,
    pub message: Option<String>,
    pub api_base: String,
    pub requests: i64,
    pub retries: i64,
    pub pages: i64,
    pub objects_added: i64,
    pub objects_changed: i64,
    pub actor: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenWindow {
    pub run_id: i64,
    pub object_type: String,
    pub window_start: i64,
    pub window_end: i64,
    pub cursor: Option<String>,
    pub pages: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MirrorStatus {
    pub types: Vec<TypeStatus>,
    pub runs: Vec<RunInfo>,
    pub open_windows: Vec<OpenWindow>,
    /// The balance fetched by the last run that fetched one.
    pub balance: Vec<BalanceLine>,
    pub balance_fetched_at: Option<Timestamp>,
}

fn ts(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The mirror's state; `runs` lists at most `max_runs` runs, newest first.
pub fn status(ws: &Workspace, max_runs: u32) -> Result<MirrorStatus, StripeError> {
    let c = ws.connection();
    let mut types = Vec::new();
    for t in super::sync::ObjectType::ALL
        .iter()
        .map(|t| t.name())
        .chain(["transfer_reversal"])
    {
        let (n, newest): (i64, Option<i64>) = c.query_row(
            "SELECT count(*), max(created) FROM stripe_objects WHERE object_type = ?1",
            [t],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        types.push(TypeStatus {
            object_type: t.to_string(),
            objects: n as u64,
            newest_created: newest,
        });
    }
    let mut stmt = c.prepare(
        "SELECT id, started_at, finished_at, outcome, message, api_base, requests, retries, pages,
                objects_added, objects_changed, actor
         FROM stripe_sync_runs ORDER BY id DESC LIMIT ?1",
    )?;
    let runs = stmt
        .query_map([max_runs], |r| {
            Ok(RunInfo {
                id: r.get(0)?,
                started_at: ts(r.get(1)?),
                finished_at: r.get::<_, Option<i64>>(2)?.map(ts),
                outcome: r.get(3)?,
                message: r.get(4)?,
                api_base: r.get(5)?,
                requests: r.get(6)?,
                retries: r.get(7)?,
                pages: r.get(8)?,
                objects_added: r.get(9)?,
                objects_changed: r.get(10)?,
                actor: r.get(11)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = c.prepare(
        "SELECT run_id, object_type, window_start, window_end, cursor, pages FROM stripe_sync_windows
         WHERE done = 0 ORDER BY run_id, object_type, window_start",
    )?;
    let open_windows = stmt
        .query_map([], |r| {
            Ok(OpenWindow {
                run_id: r.get(0)?,
                object_type: r.get(1)?,
                window_start: r.get(2)?,
                window_end: r.get(3)?,
                cursor: r.get(4)?,
                pages: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let last: Option<(i64, i64)> = c
        .query_row(
            "SELECT run_id, fetched_at FROM stripe_balances ORDER BY run_id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    let mut balance = Vec::new();
    if let Some((run, _)) = last {
        let mut stmt = c.prepare(
            "SELECT currency, available, pending, connect_reserved, instant_available FROM stripe_balances
             WHERE run_id = ?1 ORDER BY currency",
        )?;
        balance = stmt
            .query_map([run], |r| {
                Ok(BalanceLine {
                    currency: r.get(0)?,
                    available: r.get(1)?,
                    pending: r.get(2)?,
                    connect_reserved: r.get(3)?,
                    instant_available: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
    }
    Ok(MirrorStatus {
        types,
        runs,
        open_windows,
        balance,
        balance_fetched_at: last.map(|(_, at)| ts(at)),
    })
}
