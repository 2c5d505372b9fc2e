//! Computing a day: match both sides, explain the difference per currency, carry earlier
//! resolutions, and report changes found in days already reconciled.

use super::*;
use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};

use crate::OpContext;
use crate::reconcile::matching::{self, Evidence, Found, Kind};
use crate::reconcile::rules::{self, MatchRules};
use crate::reconcile::{ReconcileError, mirror_checks, net_between};
use crate::workspace::Workspace;

pub(super) fn add(a: i64, b: i64) -> Result<i64, ReconcileError> {
    a.checked_add(b)
        .ok_or(ReconcileError::Overflow("adding amounts"))
}

/// Changes to sealed rows dated up to `end_us`, as exceptions.
pub(super) fn sealed_found(
    ws: &Workspace,
    end_us: i64,
    digest: &mut Sha256,
) -> Result<Vec<Found>, ReconcileError> {
    let mut stmt = ws.conn.prepare_cached(
        "SELECT id, detected_at, side, source, sealed_day, row_id, row_created, currency, change
         FROM recon_sealed_changes WHERE row_created <= ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([end_us])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let detected: i64 = r.get(1)?;
        let side: String = r.get(2)?;
        let source: String = r.get(3)?;
        let sealed_day: String = r.get(4)?;
        let row_id: String = r.get(5)?;
        let row_created: i64 = r.get(6)?;
        let currency: String = r.get(7)?;
        let change: String = r.get(8)?;
        digest.update(b"sealed");
        digest.update(id.to_be_bytes());
        let detected_at = Timestamp::from_microsecond(detected).unwrap_or(Timestamp::UNIX_EPOCH);
        let stripe = side == "stripe";
        let note = if source.starts_with("account map") {
            format!(
                "{change} after the reconciled day {sealed_day} was sealed ({source} at {detected_at}): what earlier snapshots read as Stripe money may differ from what later ones read"
            )
        } else if stripe {
            format!(
                "{row_id}, dated on or before the reconciled day {sealed_day}, {change} (detected by {source} at {detected_at})"
            )
        } else {
            format!(
                "entry {row_id}, dated on or before the reconciled day {sealed_day}, {change} (detected by {source} at {detected_at})"
            )
        };
        out.push(Found {
            kind: Kind::DataChanged,
            currency,
            stripe_object: stripe.then(|| row_id.clone()),
            key: format!("data_changed:{id}"),
            effect: 0,
            stripe_amount: None,
            ledger_amount: None,
            evidence: if stripe {
                Evidence {
                    stripe_ids: vec![row_id],
                    stripe_date: Some(row_created),
                    note,
                    ..Evidence::default()
                }
            } else {
                Evidence {
                    ledger_entries: vec![row_id],
                    ledger_date: Some(row_created),
                    note,
                    ..Evidence::default()
                }
            },
        });
    }
    Ok(out)
}

/// Computes the snapshot of `day` without saving it.
pub fn compute(ws: &Workspace, day: Date, ctx: &OpContext) -> Result<Snapshot, ReconcileError> {
    let rules = rules::rules(ws)?;
    compute_with(ws, day, &rules, ctx)
}

pub fn compute_with(
    ws: &Workspace,
    day: Date,
    rules: &MatchRules,
    ctx: &OpContext,
) -> Result<Snapshot, ReconcileError> {
    let end = ws
        .end_of_day(day)
        .map_err(|e| ReconcileError::BadDay(day, e.to_string()))?;
    let end_us = end.as_microsecond();
    let map = crate::accounts::load(&ws.conn)?;
    crate::reconcile::check_stripe_role(ws, &map)?;
    let stripe_sql = map.stripe_sql();
    let mut dig = Digester {
        stripe: Sha256::new(),
        ledger: Sha256::new(),
        lookups: Sha256::new(),
    };
    let started = std::time::Instant::now();
    let ((stripe, stripe_rows, stripe_sums), (ledger, ledger_rows, ledger_sums)) =
        load_both(ws, &stripe_sql, end_us, &mut dig)?;
    let loaded = started.elapsed();
    let webhooks_known: bool = ws.conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM platform_webhook_events)",
        [],
        |r| r.get(0),
    )?;
    let mut outcome = {
        let mut look = WsLookup {
            ws,
            stripe_sql: &stripe_sql,
            end_us,
            webhooks_known,
            digest: &mut dig.lookups,
        };
        matching::match_items(&stripe, &ledger, rules, &mut look)?
    };
    // Every event the platform's table lacks or marks failed is a missed webhook, once.
    if webhooks_known {
        let missed = crate::reconcile::webhooks::missed(&ws.conn, end_us, &mut dig.lookups)?;
        let currency = stripe_sums
            .keys()
            .chain(ledger_sums.keys())
            .next()
            .cloned()
            .unwrap_or_else(|| "usd".to_string());
        let more = matching::event_exceptions(&outcome.found, &missed, &currency);
        outcome.found.extend(more);
    }
    let items = stripe.len() + ledger.len();
    crate::free_soon((stripe, ledger), items);
    let matched_at = started.elapsed();
    outcome
        .found
        .extend(sealed_found(ws, end_us, &mut dig.lookups)?);
    let digest = dig.finish(
        day,
        ws.info().timezone.as_str(),
        rules,
        &map,
        (stripe_rows, ledger_rows),
    );

    // Earlier identities and resolutions of the exceptions found.
    let mut exceptions = Vec::with_capacity(outcome.found.len());
    {
        let mut known = ws.conn.prepare_cached(
            "SELECT e.id, e.first_day, r.resolution, r.note, r.actor, r.at, r.adjustment_entry
             FROM recon_exceptions e LEFT JOIN recon_resolutions r ON r.exception_id = e.id
             WHERE e.key = ?1",
        )?;
        for f in outcome.found {
            let prior = known
                .query_row([&f.key], |r| {
                    let resolution = match r.get::<_, Option<String>>(2)? {
                        Some(resolution) => Some(ResolutionRecord {
                            resolution,
                            note: r.get(3)?,
                            actor: r.get(4)?,
                            at: Timestamp::from_microsecond(r.get(5)?)
                                .unwrap_or(Timestamp::UNIX_EPOCH),
                            adjustment_entry: r.get(6)?,
                        }),
                        None => None,
                    };
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, resolution))
                })
                .optional()?;
            let (id, first_day, resolution) = match prior {
                Some((id, first, res)) => (Some(id), first.parse().unwrap_or(day), res),
                None => (None, day, None),
            };
            exceptions.push(SnapshotException {
                id,
                key: f.key,
                kind: f.kind,
                currency: f.currency,
                stripe_object: f.stripe_object,
                effect: f.effect,
                stripe_amount: f.stripe_amount,
                ledger_amount: f.ledger_amount,
                evidence: f.evidence,
                first_day,
                resolution,
            });
        }
    }
    exceptions.sort_by(|a, b| (a.kind, &a.currency, &a.key).cmp(&(b.kind, &b.currency, &b.key)));

    // Both sides' balances, summed row by row while loading: independent of the matching,
    // so the remainder below checks that matching accounted for every row.
    let mut sides: BTreeMap<String, crate::reconcile::DayBalance> = BTreeMap::new();
    for c in stripe_sums.keys().chain(ledger_sums.keys()) {
        let (available, pending) = stripe_sums.get(c).copied().unwrap_or_default();
        let total = add(available, pending)?;
        let ledger = ledger_sums.get(c).copied().unwrap_or_default();
        sides.insert(
            c.clone(),
            crate::reconcile::DayBalance {
                currency: c.clone(),
                stripe_available: available,
                stripe_pending: pending,
                stripe_total: total,
                ledger,
                difference: total
                    .checked_sub(ledger)
                    .ok_or(ReconcileError::Overflow("subtracting amounts"))?,
            },
        );
    }
    // The mirror check: the day's Stripe totals moved to the sync's instant by the rows
    // in between, rather than a second scan of every row.
    let mirror = mirror_checks(ws, |at| {
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for (c, (a, p)) in &stripe_sums {
            totals.insert(c.clone(), add(*a, *p)?);
        }
        for (c, v) in net_between(ws, end_us, at.as_microsecond())? {
            let t = totals.entry(c).or_default();
            *t = add(*t, v)?;
        }
        Ok(totals)
    })?;
    let mut all: Vec<String> = sides.keys().cloned().collect();
    for e in &exceptions {
        if !all.contains(&e.currency) {
            all.push(e.currency.clone());
        }
    }
    all.sort();
    let mut currencies = Vec::new();
    for c in all {
        let b = sides
            .get(&c)
            .cloned()
            .unwrap_or(crate::reconcile::DayBalance {
                currency: c.clone(),
                stripe_available: 0,
                stripe_pending: 0,
                stripe_total: 0,
                ledger: 0,
                difference: 0,
            });
        let mut per_kind: BTreeMap<Kind, i64> = BTreeMap::new();
        let mut open = 0u64;
        let mut explained = 0i64;
        for e in exceptions.iter().filter(|e| e.currency == c) {
            let v = per_kind.entry(e.kind).or_default();
            *v = add(*v, e.effect)?;
            explained = add(explained, e.effect)?;
            if e.resolution.is_none() {
                open += 1;
            }
        }
        let remainder = b
            .difference
            .checked_sub(explained)
            .ok_or(ReconcileError::Overflow("subtracting amounts"))?;
        let mirror_incomplete = mirror.iter().any(|m| m.currency == c && !m.complete());
        let status = if remainder != 0 || mirror_incomplete {
            Status::Unexplained
        } else if b.difference == 0 && open == 0 {
            Status::Balanced
        } else {
            Status::Explained
        };
        let counts = outcome.counts.get(&c).cloned().unwrap_or_default();
        currencies.push(CurrencyLine {
            sides: b,
            explained: Kind::ALL
                .into_iter()
                .filter_map(|k| per_kind.get(&k).map(|v| (k, *v)))
                .collect(),
            remainder,
            matched: counts.matched,
            unmatched_stripe: counts.unmatched_stripe,
            unmatched_ledger: counts.unmatched_ledger,
            open_exceptions: open,
            status,
        });
    }
    tracing::debug!(
        %day,
        stripe_rows,
        ledger_rows,
        loaded_ms = loaded.as_millis() as u64,
        matched_ms = matched_at.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "snapshot computed"
    );
    let status = currencies
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(Status::Balanced);
    let matched = currencies.iter().map(|c| c.matched).sum();
    Ok(Snapshot {
        id: None,
        day,
        version: 0,
        computed_at: ctx.now,
        actor: ctx.actor.clone(),
        status,
        rules: rules.clone(),
        digest,
        stripe_rows,
        ledger_rows,
        matched,
        currencies,
        exceptions,
        mirror,
        unchanged: false,
    })
}
