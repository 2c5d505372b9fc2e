//! Webhooks: every event Stripe sent, compared with the platform's webhook table
//! (`stripe_webhook_events`, seed 002).
//!
//! An event the table lacks, or marks failed, is a missed webhook whether or not its money
//! reached the ledger by another path: the handler that should have run did not. The
//! platform's endpoint receives only the types it subscribes to, which Closebook reads from
//! the table itself: a type the table has never recorded is taken as not subscribed (its
//! events are counted in the health view, not reported). Events are mirrored for as far
//! back as Stripe keeps them (30 days before the first sync, then every one).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ReconcileError;
use super::matching::MissedEvent;
use crate::workspace::Workspace;

/// The event types the platform's webhook table has ever recorded: those its endpoint
/// subscribes to.
fn subscribed(conn: &Connection) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT type FROM platform_webhook_events")?;
    let types = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(types)
}

/// A charge's `charge.refunded` events paired with its refunds: Stripe sends one such event
/// per refund, so the events in time order announce the refunds in time order. They are
/// paired from the latest back, because the oldest events may be past Stripe's 30 days of
/// retention while every refund is mirrored. One pairing serves both directions (an event's
/// refund, a refund's event), so an event and its refund are always reported together.
fn refund_pairs(conn: &Connection, charge: &str) -> Result<Vec<(String, String)>, rusqlite::Error> {
    let events: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM stripe_objects
             WHERE event_object = ?1 AND object_type = 'event' AND event_type = 'charge.refunded'
             ORDER BY created, id",
        )?
        .query_map([charge], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let refunds: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM stripe_objects
             WHERE object_type = 'refund' AND json_extract(raw, '$.charge') = ?1
             ORDER BY created, id",
        )?
        .query_map([charge], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(events
        .into_iter()
        .rev()
        .zip(refunds.into_iter().rev())
        .collect())
}

/// The refund a `charge.refunded` event announced, if the mirror has it.
fn refund_of(
    conn: &Connection,
    charge: &str,
    event: &str,
) -> Result<Option<String>, rusqlite::Error> {
    Ok(refund_pairs(conn, charge)?
        .into_iter()
        .find(|(e, _)| e == event)
        .map(|(_, r)| r))
}

/// Every mirrored event created up to `end_us` of a subscribed type that the platform's
/// table lacks or marks failed, oldest first, each with the object it concerns (a refund
/// through its charge) and the object's currency. Everything read is fed to `digest`.
pub(crate) fn missed(
    conn: &Connection,
    end_us: i64,
    digest: &mut Sha256,
) -> Result<Vec<MissedEvent>, ReconcileError> {
    let types = subscribed(conn)?;
    digest.update(b"webhooks");
    for t in &types {
        digest.update((t.len() as u32).to_be_bytes());
        digest.update(t.as_bytes());
    }
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let end_s = end_us.div_euclid(1_000_000);
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.event_type, e.created, e.event_object, w.status
         FROM stripe_objects e INDEXED BY stripe_events_by_time
         LEFT JOIN platform_webhook_events w ON w.event_id = e.id
         WHERE e.object_type = 'event' AND e.created <= ?1
           AND (w.event_id IS NULL OR w.status = 'failed')
         ORDER BY e.created, e.id",
    )?;
    let rows = stmt
        .query_map([end_s], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (id, event_type, created, object, status) in rows {
        let event_type = event_type.unwrap_or_default();
        if !types.contains(&event_type) {
            continue;
        }
        let object = object.unwrap_or_default();
        let concerned = if event_type == "charge.refunded" {
            refund_of(conn, &object, &id)?.unwrap_or_else(|| object.clone())
        } else {
            object.clone()
        };
        let currency: Option<String> = conn
            .prepare_cached(
                "SELECT currency FROM stripe_balance_transactions WHERE source = ?1 OR id = ?1 LIMIT 1",
            )?
            .query_row([&concerned], |r| r.get(0))
            .optional()?;
        let entries: Vec<String> = conn
            .prepare_cached(
                "SELECT DISTINCT entry_id FROM ledger_postings WHERE stripe_object_id = ?1 AND created_at <= ?2
                 ORDER BY entry_id LIMIT 10",
            )?
            .query_map(params![&concerned, end_us], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for f in [
            id.as_str(),
            event_type.as_str(),
            &created.to_string(),
            &concerned,
            status.as_deref().unwrap_or("absent"),
            &entries.join(","),
        ] {
            digest.update((f.len() as u32).to_be_bytes());
            digest.update(f.as_bytes());
        }
        out.push(MissedEvent {
            event_id: id,
            event_type,
            created: created.saturating_mul(1_000_000),
            object: concerned,
            currency,
            webhook_status: status,
            ledger_entries: entries,
        });
    }
    Ok(out)
}

/// The first event about `object` (by time): one naming it as its object, or for a refund
/// the `charge.refunded` event of its charge paired with it ([`refund_pairs`]).
pub(crate) fn event_about(
    conn: &Connection,
    object: &str,
) -> Result<Option<(String, Option<String>, i64)>, rusqlite::Error> {
    let direct: Option<(String, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT id, event_type, created FROM stripe_objects
             WHERE event_object = ?1 AND object_type = 'event' ORDER BY created, id LIMIT 1",
        )?
        .query_row([object], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if direct.is_some() || !object.starts_with("re_") {
        return Ok(direct);
    }
    let charge: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT json_extract(raw, '$.charge') FROM stripe_objects
             WHERE object_type = 'refund' AND id = ?1",
        )?
        .query_row([object], |r| r.get(0))
        .optional()?;
    let Some(Some(charge)) = charge else {
        return Ok(None);
    };
    let Some((event, _)) = refund_pairs(conn, &charge)?
        .into_iter()
        .find(|(_, r)| r == object)
    else {
        return Ok(None);
    };
    conn.prepare_cached(
        "SELECT id, event_type, created FROM stripe_objects WHERE object_type = 'event' AND id = ?1",
    )?
    .query_row([event], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}

/// One day and event type of the health view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDay {
    pub day: Date,
    pub event_type: String,
    /// Events Stripe created that day (as mirrored).
    pub sent: u64,
    /// Of those, rows in the platform's table.
    pub recorded: u64,
    pub processed: u64,
    pub failed: u64,
    /// Recorded, neither processed nor failed (still `received`).
    pub pending: u64,
    /// Sent and not in the table.
    pub missing: u64,
    /// The platform's table has recorded this type at least once.
    pub subscribed: bool,
}

/// The health view over the days `from..=to` (workspace time zone): per day and event
/// type, what Stripe sent and what the platform's table says of it. Days before the mirror
/// holds events show nothing: Stripe keeps events for 30 days.
pub fn health(ws: &Workspace, from: Date, to: Date) -> Result<Vec<WebhookDay>, ReconcileError> {
    if to < from {
        return Err(ReconcileError::Refused(format!(
            "the period ends ({to}) before it starts ({from})"
        )));
    }
    if from.until(to).map(|s| s.get_days()).unwrap_or(i32::MAX) > MAX_HEALTH_DAYS {
        return Err(ReconcileError::Refused(format!(
            "at most {MAX_HEALTH_DAYS} days at a time"
        )));
    }
    let start = ws
        .start_of_day(from)
        .map_err(|e| ReconcileError::BadDay(from, e.to_string()))?;
    let end = ws
        .end_of_day(to)
        .map_err(|e| ReconcileError::BadDay(to, e.to_string()))?;
    let types = subscribed(&ws.conn)?;
    let mut stmt = ws.conn.prepare_cached(
        "SELECT e.created, e.event_type, w.status
         FROM stripe_objects e INDEXED BY stripe_events_by_time
         LEFT JOIN platform_webhook_events w ON w.event_id = e.id
         WHERE e.object_type = 'event' AND e.created >= ?1 AND e.created <= ?2",
    )?;
    let mut rows = stmt.query(params![
        start.as_second(),
        end.as_microsecond().div_euclid(1_000_000)
    ])?;
    let tz = ws.time_zone().clone();
    let mut days: BTreeMap<(Date, String), WebhookDay> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let created: i64 = r.get(0)?;
        let event_type: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
        let status: Option<String> = r.get(2)?;
        let day = Timestamp::from_second(created)
            .map(|t| t.to_zoned(tz.clone()).date())
            .unwrap_or(from);
        let d = days
            .entry((day, event_type.clone()))
            .or_insert_with(|| WebhookDay {
                day,
                subscribed: types.contains(&event_type),
                event_type,
                sent: 0,
                recorded: 0,
                processed: 0,
                failed: 0,
                pending: 0,
                missing: 0,
            });
        d.sent += 1;
        match status.as_deref() {
            None => d.missing += 1,
            Some(s) => {
                d.recorded += 1;
                match s {
                    "processed" => d.processed += 1,
                    "failed" => d.failed += 1,
                    _ => d.pending += 1,
                }
            }
        }
    }
    Ok(days.into_values().collect())
}

/// The longest period the health view shows at once: a year of days.
pub const MAX_HEALTH_DAYS: i32 = 366;
