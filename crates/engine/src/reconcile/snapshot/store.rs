//! Storing a snapshot as immutable history (with its digest, checked again on read) and
//! reading it back.

use super::*;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};

use crate::reconcile::ReconcileError;
use crate::reconcile::matching::Kind;
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// The instant up to which Stripe's side is known: the end of the last successful sync.
/// A day ending after it cannot be reconciled for good (its Stripe side may be missing
/// rows); a dry run of it is still possible.
pub fn mirrored_until(ws: &Workspace) -> Result<Option<Timestamp>, ReconcileError> {
    let us: Option<i64> = ws.conn.query_row(
        "SELECT max(finished_at) FROM stripe_sync_runs WHERE outcome = 'ok'",
        [],
        |r| r.get(0),
    )?;
    Ok(us.and_then(|us| Timestamp::from_microsecond(us).ok()))
}

/// Computes and saves the snapshot of `day`. A day already reconciled from the same rows
/// returns the saved snapshot unchanged; from different rows, a new version is saved.
/// Refused for a day that no successful Stripe sync has covered yet.
pub fn take(ws: &Workspace, day: Date, ctx: &OpContext) -> Result<Snapshot, ReconcileError> {
    let end = ws
        .end_of_day(day)
        .map_err(|e| ReconcileError::BadDay(day, e.to_string()))?;
    match mirrored_until(ws)? {
        Some(until) if until >= end => {}
        Some(until) => {
            return Err(ReconcileError::Refused(format!(
                "Stripe is mirrored only up to {until} (the last successful sync), before the end of {day}: sync with Stripe, then reconcile (a dry run shows the day as it stands)"
            )));
        }
        None => {
            return Err(ReconcileError::Refused(format!(
                "Stripe has not been synced yet: sync with Stripe before reconciling {day} (a dry run shows the day as it stands)"
            )));
        }
    }
    let computed = compute(ws, day, ctx)?;
    save(ws, computed, ctx)
}

pub(super) fn save(
    ws: &Workspace,
    mut s: Snapshot,
    ctx: &OpContext,
) -> Result<Snapshot, ReconcileError> {
    let tx = ws.conn.unchecked_transaction()?;
    let latest: Option<(i64, i64, String)> = tx
        .query_row(
            "SELECT id, version, digest FROM recon_snapshots WHERE day = ?1 ORDER BY version DESC LIMIT 1",
            [s.day.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((id, _, digest)) = &latest
        && *digest == s.digest
    {
        drop(tx);
        let mut saved = load(ws, *id)?.ok_or(ReconcileError::NoSnapshot(s.day))?;
        saved.unchanged = true;
        return Ok(saved);
    }
    s.version = latest.map(|l| l.1).unwrap_or(0) + 1;
    let mirror_json = serde_json::to_string(&s.mirror).expect("mirror serializes");
    tx.execute(
        "INSERT INTO recon_snapshots (day, version, computed_at, actor, status, rules, digest, stripe_rows, ledger_rows, matched, mirror)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            s.day.to_string(),
            s.version,
            s.computed_at.as_microsecond(),
            s.actor,
            s.status.name(),
            s.rules.to_json(),
            s.digest,
            s.stripe_rows as i64,
            s.ledger_rows as i64,
            s.matched as i64,
            mirror_json
        ],
    )?;
    let id = tx.last_insert_rowid();
    s.id = Some(id);
    for c in &s.currencies {
        tx.execute(
            "INSERT INTO recon_snapshot_currencies (snapshot_id, currency, stripe_available, stripe_pending, stripe_total, ledger, difference, explained, remainder, matched, unmatched_stripe, unmatched_ledger, open_exceptions, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                id,
                c.currency,
                c.stripe_available,
                c.stripe_pending,
                c.stripe_total,
                c.ledger,
                c.difference,
                serde_json::to_string(&c.explained).expect("explained serializes"),
                c.remainder,
                c.matched as i64,
                c.unmatched_stripe as i64,
                c.unmatched_ledger as i64,
                c.open_exceptions as i64,
                c.status.name()
            ],
        )?;
    }
    for e in &mut s.exceptions {
        let eid = match e.id {
            Some(eid) => eid,
            None => {
                tx.execute(
                    "INSERT INTO recon_exceptions (key, kind, currency, stripe_object, first_day, first_seen)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        e.key,
                        e.kind.name(),
                        e.currency,
                        e.stripe_object,
                        s.day.to_string(),
                        id
                    ],
                )?;
                tx.last_insert_rowid()
            }
        };
        e.id = Some(eid);
        tx.execute(
            "INSERT INTO recon_snapshot_exceptions (snapshot_id, exception_id, effect, stripe_amount, ledger_amount, evidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                eid,
                e.effect,
                e.stripe_amount,
                e.ledger_amount,
                serde_json::to_string(&e.evidence).expect("evidence serializes")
            ],
        )?;
    }
    let open: u64 = s.currencies.iter().map(|c| c.open_exceptions).sum();
    audit::append(
        &tx,
        ctx.now,
        &ctx.actor,
        "reconcile.snapshot",
        &format!(
            "snapshot of {} (version {}): {}, {} matched, {} exceptions ({} open)",
            s.day,
            s.version,
            s.status.name(),
            s.matched,
            s.exceptions.len(),
            open
        ),
        &serde_json::json!({
            "day": s.day.to_string(),
            "version": s.version,
            "digest": s.digest,
            "status": s.status.name(),
            "currencies": s.currencies,
        }),
    )?;
    tx.commit()?;
    // Read back what was written and check it against what was computed.
    let back = load(ws, id)?.ok_or(ReconcileError::NoSnapshot(s.day))?;
    if back.digest != s.digest
        || back.currencies != s.currencies
        || back.exceptions.len() != s.exceptions.len()
    {
        return Err(ReconcileError::Invariant(format!(
            "the snapshot of {} read back differs from the one computed",
            s.day
        )));
    }
    Ok(s)
}

/// A saved snapshot by id, its invariants checked on the way in.
pub fn load(ws: &Workspace, id: i64) -> Result<Option<Snapshot>, ReconcileError> {
    let head = ws
        .conn
        .query_row(
            "SELECT day, version, computed_at, actor, status, rules, digest, stripe_rows, ledger_rows, matched, mirror
             FROM recon_snapshots WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, String>(10)?,
                ))
            },
        )
        .optional()?;
    let Some((day, version, computed, actor, status, rules, digest, srows, lrows, matched, mirror)) =
        head
    else {
        return Ok(None);
    };
    let day: Date = day
        .parse()
        .map_err(|_| ReconcileError::Invariant(format!("snapshot {id} has a bad day {day}")))?;
    let bad = |what: &str| ReconcileError::Invariant(format!("snapshot {id}: {what}"));
    let mut currencies = Vec::new();
    {
        let mut stmt = ws.conn.prepare_cached(
            "SELECT currency, stripe_available, stripe_pending, stripe_total, ledger, difference, explained, remainder, matched, unmatched_stripe, unmatched_ledger, open_exceptions, status
             FROM recon_snapshot_currencies WHERE snapshot_id = ?1 ORDER BY currency",
        )?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let explained: Vec<(Kind, i64)> = serde_json::from_str(&r.get::<_, String>(6)?)
                .map_err(|_| bad("unreadable explained difference"))?;
            let line = CurrencyLine {
                sides: crate::reconcile::DayBalance {
                    currency: r.get(0)?,
                    stripe_available: r.get(1)?,
                    stripe_pending: r.get(2)?,
                    stripe_total: r.get(3)?,
                    ledger: r.get(4)?,
                    difference: r.get(5)?,
                },
                explained,
                remainder: r.get(7)?,
                matched: r.get::<_, i64>(8)? as u64,
                unmatched_stripe: r.get::<_, i64>(9)? as u64,
                unmatched_ledger: r.get::<_, i64>(10)? as u64,
                open_exceptions: r.get::<_, i64>(11)? as u64,
                status: Status::parse(&r.get::<_, String>(12)?),
            };
            // The identities every saved line must satisfy.
            let sum: i64 = line.explained.iter().map(|(_, v)| *v).sum();
            if line.stripe_available.checked_add(line.stripe_pending) != Some(line.stripe_total)
                || line.stripe_total.checked_sub(line.ledger) != Some(line.difference)
                || sum.checked_add(line.remainder) != Some(line.difference)
            {
                return Err(bad(&format!(
                    "the {} line does not add up (Stripe {} + {} = {}, ledger {}, difference {}, explained {sum}, remainder {})",
                    line.currency,
                    line.stripe_available,
                    line.stripe_pending,
                    line.stripe_total,
                    line.ledger,
                    line.difference,
                    line.remainder
                )));
            }
            currencies.push(line);
        }
    }
    let exceptions = snapshot_exceptions(ws, id)?;
    Ok(Some(Snapshot {
        id: Some(id),
        day,
        version,
        computed_at: Timestamp::from_microsecond(computed).unwrap_or(Timestamp::UNIX_EPOCH),
        actor,
        status: Status::parse(&status),
        rules: serde_json::from_str(&rules).map_err(|_| bad("unreadable rules"))?,
        digest,
        stripe_rows: srows as u64,
        ledger_rows: lrows as u64,
        matched: matched as u64,
        currencies,
        exceptions,
        mirror: serde_json::from_str(&mirror).unwrap_or_default(),
        unchanged: false,
    }))
}

pub(super) fn snapshot_exceptions(
    ws: &Workspace,
    id: i64,
) -> Result<Vec<SnapshotException>, ReconcileError> {
    let mut stmt = ws.conn.prepare_cached(
        "SELECT e.id, e.key, e.kind, e.currency, e.stripe_object, x.effect, x.stripe_amount, x.ledger_amount, x.evidence, e.first_day,
                r.resolution, r.note, r.actor, r.at, r.adjustment_entry
         FROM recon_snapshot_exceptions x JOIN recon_exceptions e ON e.id = x.exception_id
         LEFT JOIN recon_resolutions r ON r.exception_id = e.id
         WHERE x.snapshot_id = ?1",
    )?;
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(exception_from_row(r)?);
    }
    out.sort_by(|a, b| (a.kind, &a.currency, &a.key).cmp(&(b.kind, &b.currency, &b.key)));
    Ok(out)
}

/// Reads the 15 columns of the exception queries (see [`snapshot_exceptions`]).
pub(crate) fn exception_from_row(
    r: &rusqlite::Row<'_>,
) -> Result<SnapshotException, ReconcileError> {
    let kind: String = r.get(2)?;
    let evidence: String = r.get(8)?;
    let first_day: String = r.get(9)?;
    Ok(SnapshotException {
        id: Some(r.get(0)?),
        key: r.get(1)?,
        kind: Kind::parse(&kind)
            .ok_or_else(|| ReconcileError::Invariant(format!("unknown exception kind {kind}")))?,
        currency: r.get(3)?,
        stripe_object: r.get(4)?,
        effect: r.get(5)?,
        stripe_amount: r.get(6)?,
        ledger_amount: r.get(7)?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|_| ReconcileError::Invariant("unreadable exception evidence".into()))?,
        first_day: first_day
            .parse()
            .map_err(|_| ReconcileError::Invariant(format!("bad day {first_day}")))?,
        resolution: match r.get::<_, Option<String>>(10)? {
            Some(resolution) => Some(ResolutionRecord {
                resolution,
                note: r.get(11)?,
                actor: r.get(12)?,
                at: Timestamp::from_microsecond(r.get(13)?).unwrap_or(Timestamp::UNIX_EPOCH),
                adjustment_entry: r.get(14)?,
            }),
            None => None,
        },
    })
}

/// The latest saved snapshot of `day`.
pub fn latest_of(ws: &Workspace, day: Date) -> Result<Option<Snapshot>, ReconcileError> {
    let id: Option<i64> = ws
        .conn
        .query_row(
            "SELECT id FROM recon_snapshots WHERE day = ?1 ORDER BY version DESC LIMIT 1",
            [day.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => load(ws, id),
        None => Ok(None),
    }
}
