//! Loading both sides as of the end of a day: Stripe's balance transactions and events from
//! the mirror, the ledger's postings in parts per entry and type, in parallel when large,
//! and the workspace lookups matching needs.

use super::*;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::reconcile::ReconcileError;
use crate::reconcile::matching::{EventSeen, Later, LedgerItem, LedgerPart, Lookup, StripeItem};
use crate::workspace::Workspace;

pub(super) struct WsLookup<'a> {
    pub(super) ws: &'a Workspace,
    /// The reconciled accounts' SQL condition (the workspace's account map).
    pub(super) stripe_sql: &'a str,
    pub(super) end_us: i64,
    pub(super) webhooks_known: bool,
    pub(super) digest: &'a mut Sha256,
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
        let event = crate::reconcile::webhooks::event_about(&self.ws.conn, object)?;
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
pub(super) type StripeSums = BTreeMap<String, (i64, i64)>;
/// Per currency: the Stripe-balance accounts' total.
pub(super) type LedgerSums = BTreeMap<String, i64>;

pub(super) fn load_stripe(
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
pub(super) fn load_ledger(
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
pub(super) const PARALLEL_FROM_POSTINGS: i64 = 200_000;

pub(super) type Loaded = (
    (Vec<StripeItem>, u64, StripeSums),
    (Vec<LedgerItem>, u64, LedgerSums),
);

/// Reads both sides: one after the other on the workspace's connection, or for a large
/// workspace Stripe's side on a second, read-only connection at the same time. The two
/// read the same committed state unless another connection commits meanwhile, which
/// `PRAGMA data_version` reveals: then both are read again, one after the other.
pub(super) fn load_both(
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
