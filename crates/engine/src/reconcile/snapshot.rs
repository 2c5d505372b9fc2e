//! Daily snapshots: read both sides as of the end of a day, match, explain the difference,
//! and save the result as immutable history with a digest of every row read.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::matching::{
    self, EventSeen, Evidence, Found, Kind, Later, LedgerItem, LedgerPart, Lookup, StripeItem,
};
use super::rules::{self, MatchRules};
use super::{MirrorCheck, ReconcileError, mirror_checks, net_between};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// A snapshot's status, per currency and overall (the worst of its currencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No difference and no open exception.
    Balanced,
    /// The difference is fully explained by exceptions (the remainder is zero).
    Explained,
    /// Some of the difference is explained by nothing, or the mirror is incomplete.
    Unexplained,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Balanced => "balanced",
            Status::Explained => "explained",
            Status::Unexplained => "unexplained",
        }
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "balanced" => Status::Balanced,
            "explained" => Status::Explained,
            _ => Status::Unexplained,
        }
    }
}

/// One currency of a snapshot: both sides, and the difference explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyLine {
    /// Both sides and their difference (read through `Deref`: `line.difference`).
    #[serde(flatten)]
    pub sides: super::DayBalance,
    /// Σ effect per exception kind, in [`Kind::ALL`] order, kinds with exceptions only.
    pub explained: Vec<(Kind, i64)>,
    /// difference − Σ explained: zero when every cent is explained.
    pub remainder: i64,
    pub matched: u64,
    pub unmatched_stripe: u64,
    pub unmatched_ledger: u64,
    pub open_exceptions: u64,
    pub status: Status,
}

impl std::ops::Deref for CurrencyLine {
    type Target = super::DayBalance;

    fn deref(&self) -> &super::DayBalance {
        &self.sides
    }
}

/// A person's resolution of an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolutionRecord {
    pub resolution: String,
    pub note: String,
    pub actor: String,
    pub at: Timestamp,
    pub adjustment_entry: Option<String>,
}

/// An exception as one snapshot found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotException {
    /// `None` in a dry run for an exception never saved before.
    pub id: Option<i64>,
    pub key: String,
    pub kind: Kind,
    pub currency: String,
    pub stripe_object: Option<String>,
    pub effect: i64,
    pub stripe_amount: Option<i64>,
    pub ledger_amount: Option<i64>,
    pub evidence: Evidence,
    pub first_day: Date,
    pub resolution: Option<ResolutionRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// `None` for a dry run.
    pub id: Option<i64>,
    pub day: Date,
    pub version: i64,
    pub computed_at: Timestamp,
    pub actor: String,
    pub status: Status,
    pub rules: MatchRules,
    pub digest: String,
    pub stripe_rows: u64,
    pub ledger_rows: u64,
    pub matched: u64,
    pub currencies: Vec<CurrencyLine>,
    pub exceptions: Vec<SnapshotException>,
    /// The live balance at the latest sync against the mirror; incomplete ⇒ unexplained.
    pub mirror: Vec<MirrorCheck>,
    /// True when this day was already reconciled from exactly the same rows: the saved
    /// snapshot is returned and nothing new is written.
    pub unchanged: bool,
}

/// Digest of everything a snapshot read. Rows arrive in an order defined by their data (the
/// covering indexes' key order), so each side is one running SHA-256 over its rows' fields,
/// each field length-prefixed.
struct Digester {
    stripe: Sha256,
    ledger: Sha256,
    lookups: Sha256,
}

fn feed(h: &mut Sha256, fields: &[&[u8]]) {
    for f in fields {
        h.update((f.len() as u32).to_be_bytes());
        h.update(f);
    }
}

impl Digester {
    fn finish(
        self,
        day: Date,
        tz: &str,
        rules: &MatchRules,
        map: &crate::accounts::RoleMap,
        rows: (u64, u64),
    ) -> String {
        let mut h = Sha256::new();
        h.update(b"closebook.reconcile.v1\0");
        // Which accounts were read as Stripe money: part of what was proven. The default
        // map adds nothing, so digests from before account maps existed stay comparable.
        if !map.is_default() {
            feed(&mut h, &[b"accounts", map.stripe_sql().as_bytes()]);
        }
        feed(
            &mut h,
            &[
                day.to_string().as_bytes(),
                tz.as_bytes(),
                rules.to_json().as_bytes(),
                &rows.0.to_be_bytes(),
                &self.stripe.finalize(),
                &rows.1.to_be_bytes(),
                &self.ledger.finalize(),
                &self.lookups.finalize(),
            ],
        );
        hex::encode(h.finalize())
    }
}

struct WsLookup<'a> {
    ws: &'a Workspace,
    /// The reconciled accounts' SQL condition (the workspace's account map).
    stripe_sql: &'a str,
    end_us: i64,
    webhooks_known: bool,
    digest: &'a mut Sha256,
}

impl WsLookup<'_> {
    fn note(&mut self, what: &str, parts: &[&str]) {
        self.digest.update(what.as_bytes());
        for p in parts {
            self.digest.update((p.len() as u32).to_be_bytes());
            self.digest.update(p.as_bytes());
        }
    }

    fn later(
        &mut self,
        sql: &str,
        object: &str,
        currency: &str,
        what: &str,
    ) -> Result<Option<Later>, ReconcileError> {
        let mut stmt = self.ws.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map(params![object, currency, self.end_us], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if rows.is_empty() {
            self.note(what, &[object, currency, "none"]);
            return Ok(None);
        }
        let mut later = Later {
            ids: Vec::new(),
            net: 0,
            created: i64::MAX,
        };
        for (id, net, created) in rows {
            self.note(
                what,
                &[
                    object,
                    currency,
                    &id,
                    &net.to_string(),
                    &created.to_string(),
                ],
            );
            if !later.ids.contains(&id) {
                later.ids.push(id);
            }
            later.net = later
                .net
                .checked_add(net)
                .ok_or(ReconcileError::Overflow("adding amounts"))?;
            later.created = later.created.min(created);
        }
        Ok(Some(later))
    }
}

impl Lookup for WsLookup<'_> {
    fn ledger_after(
        &mut self,
        object: &str,
        currency: &str,
    ) -> Result<Option<Later>, ReconcileError> {
        let sql = format!(
            "SELECT entry_id, amount_minor, created_at FROM ledger_postings
             WHERE stripe_object_id = ?1 AND currency = ?2 AND created_at > ?3 AND {}
             ORDER BY created_at, seq",
            self.stripe_sql
        );
        self.later(&sql, object, currency, "ledger_after")
    }

    fn stripe_after(
        &mut self,
        object: &str,
        currency: &str,
    ) -> Result<Option<Later>, ReconcileError> {
        self.later(
            "SELECT id, net, created FROM stripe_balance_transactions
             WHERE (source = ?1 OR id = ?1) AND currency = ?2 AND created > ?3
             ORDER BY created, id",
            object,
            currency,
            "stripe_after",
        )
    }

    fn event_for(&mut self, object: &str) -> Result<Option<EventSeen>, ReconcileError> {
        if !self.webhooks_known {
            self.note("event", &[object, "webhooks unknown"]);
            return Ok(None);
        }
        let event = super::webhooks::event_about(&self.ws.conn, object)?;
        let Some((event_id, event_type, _)) = event else {
            self.note("event", &[object, "none"]);
            return Ok(None);
        };
        let status: Option<String> = self
            .ws
            .conn
            .prepare_cached("SELECT status FROM platform_webhook_events WHERE event_id = ?1")?
            .query_row([&event_id], |r| r.get(0))
            .optional()?;
        self.note(
            "event",
            &[object, &event_id, status.as_deref().unwrap_or("absent")],
        );
        Ok(Some(EventSeen {
            event_id,
            event_type: event_type.unwrap_or_else(|| "event".into()),
            webhook_status: status,
        }))
    }

    fn group_of(&mut self, item: &StripeItem) -> Result<Option<String>, ReconcileError> {
        let group: Option<String> = if item.object.starts_with("tr_") {
            self.ws
                .conn
                .prepare_cached(
                    "SELECT json_extract(raw, '$.transfer_group') FROM stripe_objects
                     WHERE object_type = 'transfer' AND id = ?1",
                )?
                .query_row([item.object.as_str()], |r| r.get(0))
                .optional()?
                .flatten()
        } else {
            None
        };
        let group = match group {
            Some(g) => Some(g),
            None => match item.bt_ids.first() {
                Some(bt) => self
                    .ws
                    .conn
                    .prepare_cached(
                        "SELECT payout FROM stripe_payout_links WHERE balance_transaction = ?1",
                    )?
                    .query_row([bt.as_str()], |r| r.get(0))
                    .optional()?,
                None => None,
            },
        };
        self.note("group", &[&item.object, group.as_deref().unwrap_or("none")]);
        Ok(group)
    }
}

/// Stripe's items up to `end_us`: balance transactions grouped by source and currency, in
/// the order of the covering index (created, id). Returns the items and the rows read.
/// Per currency: (available by the end of the day, pending).
type StripeSums = BTreeMap<String, (i64, i64)>;
/// Per currency: the Stripe-balance accounts' total.
type LedgerSums = BTreeMap<String, i64>;

fn load_stripe(
    conn: &rusqlite::Connection,
    end_us: i64,
    digest: &mut Sha256,
) -> Result<(Vec<StripeItem>, u64, StripeSums), ReconcileError> {
    let mut stmt = conn.prepare(
        "SELECT id, type, source, amount, fee, net, currency, created, available_on
         FROM stripe_balance_transactions INDEXED BY stripe_bt_reconcile
         WHERE created <= ?1 ORDER BY created, id",
    )?;
    let mut rows = stmt.query([end_us])?;
    // Object → its first item; an object seen in a second currency goes to `other`.
    let mut first: FxHashMap<SmolStr, u32> = FxHashMap::default();
    let mut other: FxHashMap<(SmolStr, SmolStr), u32> = FxHashMap::default();
    let mut items: Vec<StripeItem> = Vec::new();
    let mut sums = StripeSums::new();
    let mut n = 0u64;
    let text = |r: &rusqlite::Row<'_>, i: usize| -> Result<SmolStr, ReconcileError> {
        Ok(SmolStr::new(
            r.get_ref(i)?.as_str().map_err(rusqlite::Error::from)?,
        ))
    };
    while let Some(r) = rows.next()? {
        n += 1;
        let id = text(r, 0)?;
        let kind = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let source = r
            .get_ref(2)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?;
        let (amount, fee, net): (i64, i64, i64) = (r.get(3)?, r.get(4)?, r.get(5)?);
        let currency = r.get_ref(6)?.as_str().map_err(rusqlite::Error::from)?;
        let created: i64 = r.get(7)?;
        let available_on: i64 = r.get(8)?;
        feed(
            digest,
            &[
                id.as_bytes(),
                kind.as_bytes(),
                source.unwrap_or("").as_bytes(),
                &amount.to_be_bytes(),
                &fee.to_be_bytes(),
                &net.to_be_bytes(),
                currency.as_bytes(),
                &created.to_be_bytes(),
                &available_on.to_be_bytes(),
            ],
        );
        if !sums.contains_key(currency) {
            sums.insert(currency.to_string(), (0, 0));
        }
        let side = sums.get_mut(currency).expect("inserted");
        if available_on <= end_us {
            side.0 = add(side.0, net)?;
        } else {
            side.1 = add(side.1, net)?;
        }
        let object: &str = source.unwrap_or(id.as_str());
        let found = match first.get(object) {
            Some(&i) if items[i as usize].currency == currency => Some(i),
            Some(_) => other
                .get(&(SmolStr::new(object), SmolStr::new(currency)))
                .copied(),
            None => None,
        };
        match found {
            Some(i) => {
                let it = &mut items[i as usize];
                it.bt_ids.push(id);
                it.amount = add(it.amount, amount)?;
                it.fee = add(it.fee, fee)?;
                it.net = add(it.net, net)?;
                it.created = it.created.min(created);
            }
            None => {
                let i = items.len() as u32;
                let object = SmolStr::new(object);
                if first.contains_key(object.as_str()) {
                    other.insert((object.clone(), SmolStr::new(currency)), i);
                } else {
                    first.insert(object.clone(), i);
                }
                items.push(StripeItem {
                    object,
                    currency: currency.into(),
                    bt_ids: vec![id],
                    kind: kind.into(),
                    amount,
                    fee,
                    net,
                    created,
                });
            }
        }
    }
    Ok((items, n, sums))
}

/// The ledger's items up to `end_us`: postings to the Stripe-balance accounts grouped by
/// Stripe object and currency (or by entry, for entries naming no object), in the order of
/// the covering index. Returns the items and the rows read.
fn load_ledger(
    ws: &Workspace,
    stripe_sql: &str,
    end_us: i64,
    digest: &mut Sha256,
) -> Result<(Vec<LedgerItem>, u64, LedgerSums), ReconcileError> {
    let mut stmt = ws.conn.prepare(&format!(
        "SELECT seq, entry_id, account, amount_minor, currency, entry_type, stripe_object_id, created_at, origin
         FROM ledger_postings INDEXED BY ledger_postings_reconcile
         WHERE {stripe_sql} AND created_at <= ?1
         ORDER BY created_at, stripe_object_id, entry_id, entry_type, amount_minor, currency, origin, account, seq"
    ))?;
    let mut rows = stmt.query([end_us])?;
    // (object or entry) → item, for the item's first currency; more currencies in `other`.
    let mut by_object: FxHashMap<SmolStr, u32> = FxHashMap::default();
    let mut by_entry: FxHashMap<SmolStr, u32> = FxHashMap::default();
    let mut other: FxHashMap<(SmolStr, SmolStr, bool), u32> = FxHashMap::default();
    let mut items: Vec<LedgerItem> = Vec::new();
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        n += 1;
        let seq: i64 = r.get(0)?;
        let entry_id = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
        let account = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
        let amount: i64 = r.get(3)?;
        let currency = r.get_ref(4)?.as_str().map_err(rusqlite::Error::from)?;
        let entry_type = r.get_ref(5)?.as_str().map_err(rusqlite::Error::from)?;
        let object = r
            .get_ref(6)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?;
        let created: i64 = r.get(7)?;
        let origin = r.get_ref(8)?.as_str().map_err(rusqlite::Error::from)?;
        feed(
            digest,
            &[
                &seq.to_be_bytes(),
                entry_id.as_bytes(),
                account.as_bytes(),
                &amount.to_be_bytes(),
                currency.as_bytes(),
                entry_type.as_bytes(),
                object.unwrap_or("").as_bytes(),
                &created.to_be_bytes(),
                origin.as_bytes(),
            ],
        );
        match sums.get_mut(currency) {
            Some(v) => *v = add(*v, amount)?,
            None => {
                sums.insert(currency.to_string(), amount);
            }
        }
        let (map, name) = match object {
            Some(o) => (&mut by_object, o),
            None => (&mut by_entry, entry_id),
        };
        let found = match map.get(name) {
            Some(&i) if items[i as usize].currency == currency => Some(i),
            Some(_) => other
                .get(&(SmolStr::new(name), SmolStr::new(currency), object.is_some()))
                .copied(),
            None => None,
        };
        let i = match found {
            Some(i) => i as usize,
            None => {
                let i = items.len() as u32;
                if map.contains_key(name) {
                    other.insert(
                        (SmolStr::new(name), SmolStr::new(currency), object.is_some()),
                        i,
                    );
                } else {
                    map.insert(SmolStr::new(name), i);
                }
                items.push(LedgerItem {
                    object: object.map(SmolStr::from),
                    currency: currency.into(),
                    parts: Vec::with_capacity(2),
                });
                i as usize
            }
        };
        // One part per entry and entry type: `entry_type` belongs to each posting, and a
        // platform may book a charge's fee inside the charge's entry (BOOKING.md).
        let parts = &mut items[i].parts;
        match parts
            .iter_mut()
            .find(|p| p.entry_id == entry_id && p.entry_type == entry_type)
        {
            Some(p) => {
                p.net = add(p.net, amount)?;
                p.created = p.created.min(created);
            }
            None => parts.push(LedgerPart {
                entry_id: entry_id.into(),
                entry_type: entry_type.into(),
                own: origin == "closebook",
                net: amount,
                created,
            }),
        }
    }
    for it in &mut items {
        if it.parts.len() > 1 {
            it.parts.sort_by(|a, b| {
                (a.created, &a.entry_id, &a.entry_type).cmp(&(
                    b.created,
                    &b.entry_id,
                    &b.entry_type,
                ))
            });
        }
    }
    Ok((items, n, sums))
}

/// Postings beyond which the two sides are read in parallel, on two connections.
const PARALLEL_FROM_POSTINGS: i64 = 200_000;

type Loaded = (
    (Vec<StripeItem>, u64, StripeSums),
    (Vec<LedgerItem>, u64, LedgerSums),
);

/// Reads both sides: one after the other on the workspace's connection, or for a large
/// workspace Stripe's side on a second, read-only connection at the same time. The two
/// read the same committed state unless another connection commits meanwhile, which
/// `PRAGMA data_version` reveals: then both are read again, one after the other.
fn load_both(
    ws: &Workspace,
    stripe_sql: &str,
    end_us: i64,
    dig: &mut Digester,
) -> Result<Loaded, ReconcileError> {
    let serial = |dig: &mut Digester| -> Result<Loaded, ReconcileError> {
        dig.stripe = Sha256::new();
        dig.ledger = Sha256::new();
        let stripe = load_stripe(&ws.conn, end_us, &mut dig.stripe)?;
        let ledger = load_ledger(ws, stripe_sql, end_us, &mut dig.ledger)?;
        Ok((stripe, ledger))
    };
    let postings: i64 = ws.conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM ledger_postings",
        [],
        |r| r.get(0),
    )?;
    if postings < PARALLEL_FROM_POSTINGS {
        return serial(dig);
    }
    let Ok(reader) = ws.open_reader() else {
        return serial(dig);
    };
    let version = |c: &rusqlite::Connection| -> rusqlite::Result<i64> {
        c.query_row("PRAGMA data_version", [], |r| r.get(0))
    };
    let before = version(&ws.conn)?;
    let (stripe, ledger) = std::thread::scope(|scope| {
        let stripe = scope.spawn(move || {
            let mut digest = Sha256::new();
            load_stripe(&reader, end_us, &mut digest).map(|r| (r, digest))
        });
        dig.ledger = Sha256::new();
        let ledger = load_ledger(ws, stripe_sql, end_us, &mut dig.ledger);
        let stripe = match stripe.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (stripe, ledger)
    });
    // Any failure on the second connection, or a commit in between: read again, serially
    // (a real error then surfaces from the workspace's own connection).
    let (Ok((stripe, digest)), Ok(ledger)) = (stripe, ledger) else {
        return serial(dig);
    };
    if version(&ws.conn)? != before {
        return serial(dig);
    }
    dig.stripe = digest;
    Ok((stripe, ledger))
}

fn add(a: i64, b: i64) -> Result<i64, ReconcileError> {
    a.checked_add(b)
        .ok_or(ReconcileError::Overflow("adding amounts"))
}

/// Changes to sealed rows dated up to `end_us`, as exceptions.
fn sealed_found(
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
    super::check_stripe_role(ws, &map)?;
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
        let missed = super::webhooks::missed(&ws.conn, end_us, &mut dig.lookups)?;
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
    let mut sides: BTreeMap<String, super::DayBalance> = BTreeMap::new();
    for c in stripe_sums.keys().chain(ledger_sums.keys()) {
        let (available, pending) = stripe_sums.get(c).copied().unwrap_or_default();
        let total = add(available, pending)?;
        let ledger = ledger_sums.get(c).copied().unwrap_or_default();
        sides.insert(
            c.clone(),
            super::DayBalance {
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
        let b = sides.get(&c).cloned().unwrap_or(super::DayBalance {
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

fn save(ws: &Workspace, mut s: Snapshot, ctx: &OpContext) -> Result<Snapshot, ReconcileError> {
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
                sides: super::DayBalance {
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

fn snapshot_exceptions(ws: &Workspace, id: i64) -> Result<Vec<SnapshotException>, ReconcileError> {
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

/// One reconciled day in the history list: the latest version's figures.
#[derive(Debug, Clone, Serialize)]
pub struct DaySummary {
    pub id: i64,
    pub day: Date,
    pub version: i64,
    pub status: Status,
    pub computed_at: Timestamp,
    pub currencies: Vec<DayCurrency>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayCurrency {
    pub currency: String,
    pub difference: i64,
    pub remainder: i64,
    pub open_exceptions: u64,
}

/// Every reconciled day, oldest first (latest version of each).
pub fn history(ws: &Workspace) -> Result<Vec<DaySummary>, ReconcileError> {
    let mut stmt = ws.conn.prepare(
        "SELECT s.id, s.day, s.version, s.status, s.computed_at, c.currency, c.difference, c.remainder, c.open_exceptions
         FROM recon_snapshots s LEFT JOIN recon_snapshot_currencies c ON c.snapshot_id = s.id
         WHERE s.version = (SELECT max(version) FROM recon_snapshots t WHERE t.day = s.day)
         ORDER BY s.day, c.currency",
    )?;
    let mut rows = stmt.query([])?;
    let mut out: Vec<DaySummary> = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if out.last().is_none_or(|d| d.id != id) {
            let day: String = r.get(1)?;
            out.push(DaySummary {
                id,
                day: day
                    .parse()
                    .map_err(|_| ReconcileError::Invariant(format!("bad day {day}")))?,
                version: r.get(2)?,
                status: Status::parse(&r.get::<_, String>(3)?),
                computed_at: Timestamp::from_microsecond(r.get(4)?)
                    .unwrap_or(Timestamp::UNIX_EPOCH),
                currencies: Vec::new(),
            });
        }
        if let Some(currency) = r.get::<_, Option<String>>(5)? {
            out.last_mut()
                .expect("pushed")
                .currencies
                .push(DayCurrency {
                    currency,
                    difference: r.get(6)?,
                    remainder: r.get(7)?,
                    open_exceptions: r.get::<_, i64>(8)? as u64,
                });
        }
    }
    Ok(out)
}

/// The last reconciled day.
pub fn last_day(ws: &Workspace) -> Result<Option<Date>, ReconcileError> {
    let d: Option<String> = ws
        .conn
        .query_row("SELECT max(day) FROM recon_snapshots", [], |r| r.get(0))?;
    Ok(d.and_then(|d| d.parse().ok()))
}

/// The first day with anything to reconcile: the earliest balance transaction or posting
/// to a Stripe-balance account, in the workspace's time zone.
pub fn first_day(ws: &Workspace) -> Result<Option<Date>, ReconcileError> {
    let stripe_sql = crate::accounts::load(&ws.conn)?.stripe_sql();
    let first: Option<i64> = ws.conn.query_row(
        &format!(
            "SELECT min(t) FROM (SELECT min(created) AS t FROM stripe_balance_transactions
             UNION ALL SELECT min(created_at) FROM ledger_postings WHERE {stripe_sql})"
        ),
        [],
        |r| r.get(0),
    )?;
    Ok(first
        .and_then(|us| Timestamp::from_microsecond(us).ok())
        .map(|t| t.to_zoned(ws.time_zone().clone()).date()))
}

/// Progress of a catch-up.
#[derive(Debug, Clone, Serialize)]
pub struct CatchUpProgress {
    pub day: Date,
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatchUpReport {
    pub days: Vec<DaySummary>,
    pub last_day: Option<Date>,
    pub cancelled: bool,
}

/// The days a catch-up would reconcile: from the day after the last reconciled one (or the
/// first day with data) to yesterday in the workspace's time zone (today is not over), and
/// only days a successful Stripe sync has covered ([`mirrored_until`]): before the first
/// sync, none.
pub fn missing_days(ws: &Workspace, now: Timestamp) -> Result<Vec<Date>, ReconcileError> {
    let today = now.to_zoned(ws.time_zone().clone()).date();
    let Some(until) = mirrored_until(ws)? else {
        return Ok(Vec::new());
    };
    let start = match last_day(ws)? {
        Some(d) => d
            .tomorrow()
            .map_err(|e| ReconcileError::BadDay(d, e.to_string()))?,
        None => match first_day(ws)? {
            Some(d) => d,
            None => return Ok(Vec::new()),
        },
    };
    let mut days = Vec::new();
    let mut d = start;
    while d < today
        && ws
            .end_of_day(d)
            .map_err(|e| ReconcileError::BadDay(d, e.to_string()))?
            <= until
    {
        days.push(d);
        d = d
            .tomorrow()
            .map_err(|e| ReconcileError::BadDay(d, e.to_string()))?;
    }
    Ok(days)
}

/// Reconciles every missing day (see [`missing_days`]), oldest first, each saved on its
/// own: a cancelled catch-up keeps the days it finished.
pub fn catch_up(
    ws: &Workspace,
    ctx: &OpContext,
    progress: &mut dyn FnMut(&CatchUpProgress),
    cancel: &AtomicBool,
) -> Result<CatchUpReport, ReconcileError> {
    let days = missing_days(ws, ctx.now)?;
    let total = days.len() as u64;
    let mut report = CatchUpReport {
        days: Vec::new(),
        last_day: last_day(ws)?,
        cancelled: false,
    };
    for (i, day) in days.into_iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            report.cancelled = true;
            break;
        }
        progress(&CatchUpProgress {
            day,
            done: i as u64,
            total,
        });
        let s = take(ws, day, ctx)?;
        report.last_day = Some(day);
        report.days.push(DaySummary {
            id: s.id.unwrap_or_default(),
            day,
            version: s.version,
            status: s.status,
            computed_at: s.computed_at,
            currencies: s
                .currencies
                .iter()
                .map(|c| DayCurrency {
                    currency: c.currency.clone(),
                    difference: c.difference,
                    remainder: c.remainder,
                    open_exceptions: c.open_exceptions,
                })
                .collect(),
        });
    }
    Ok(report)
}
