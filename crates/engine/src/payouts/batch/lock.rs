//! The month's lock: one reading of the locked rows that digests them and aggregates what
//! the computation needs, the SQL of what the ledger owed, and the batch's digest.

#[allow(unused_imports)]
use super::*;
use std::collections::BTreeMap;

use rusqlite::types::ValueRef;
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use smol_str::SmolStr;

use crate::payouts::PayoutError;
use crate::payouts::compute::{
    CreatorInput, Eligibility, Inputs, Line, Params, SubscriberInput, Totals, WithdrawalInput,
};

/// One reading of the locked month: the digest of its raw rows (each row in key order,
/// each field tagged by type and length-prefixed) and the aggregates the computation needs
/// (gross per creator, allocated per subscriber), from the same pass. A million
/// allocations are read once and allocate only per distinct creator and subscriber.
pub(super) fn scan_locked(
    conn: &rusqlite::Connection,
    batch_id: &str,
) -> Result<(String, Inputs), PayoutError> {
    let bad = |what: String| PayoutError::Integrity(format!("batch {batch_id}: {what}"));
    let mut h = Sha256::new();
    let field = |h: &mut Sha256, v: ValueRef<'_>| -> Result<(), PayoutError> {
        match v {
            ValueRef::Integer(n) => {
                h.update(b"i");
                h.update(n.to_be_bytes());
            }
            ValueRef::Text(t) => {
                h.update(b"t");
                h.update((t.len() as u64).to_be_bytes());
                h.update(t);
            }
            ValueRef::Null => h.update(b"n"),
            ValueRef::Real(_) | ValueRef::Blob(_) => {
                return Err(PayoutError::Integrity(format!(
                    "batch {batch_id}: a locked value of the wrong type"
                )));
            }
        }
        Ok(())
    };
    fn text<'a>(v: ValueRef<'a>, batch_id: &str) -> Result<&'a str, PayoutError> {
        v.as_str().map_err(|_| {
            PayoutError::Integrity(format!("batch {batch_id}: a locked id is not text"))
        })
    }
    let int = |v: ValueRef<'_>| -> Result<i64, PayoutError> {
        v.as_i64().map_err(|_| {
            PayoutError::Integrity(format!(
                "batch {batch_id}: a locked amount is not an integer"
            ))
        })
    };

    // Allocations: gross and count per creator, allocated per subscriber.
    let mut gross: FxHashMap<SmolStr, (i64, u32)> = FxHashMap::default();
    let mut allocated: FxHashMap<SmolStr, i64> = FxHashMap::default();
    {
        let mut stmt = conn.prepare(
            "SELECT id, user_id, page_id, author_id, amount, updated_at FROM payout_locked_allocations WHERE batch_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"allocation");
            for i in 0..6 {
                field(&mut h, r.get_ref(i)?)?;
            }
            let amount = int(r.get_ref(4)?)?;
            let user = text(r.get_ref(1)?, batch_id)?;
            let author = text(r.get_ref(3)?, batch_id)?;
            let g = gross.entry(SmolStr::new(author)).or_insert((0, 0));
            g.0 = g.0.checked_add(amount).ok_or(PayoutError::Overflow)?;
            g.1 = g.1.saturating_add(1);
            let a = allocated.entry(SmolStr::new(user)).or_insert(0);
            *a = a.checked_add(amount).ok_or(PayoutError::Overflow)?;
        }
    }
    // Balances: every subscriber's total.
    let mut totals: BTreeMap<SmolStr, i64> = BTreeMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT user_id, total, allocated, updated_at FROM payout_locked_balances WHERE batch_id = ?1 ORDER BY user_id",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"balance");
            for i in 0..4 {
                field(&mut h, r.get_ref(i)?)?;
            }
            totals.insert(
                SmolStr::new(text(r.get_ref(0)?, batch_id)?),
                int(r.get_ref(1)?)?,
            );
        }
    }
    let mut inputs = Inputs {
        currency: BATCH_CURRENCY.into(),
        ..Inputs::default()
    };
    {
        let mut stmt = conn.prepare(
            "SELECT creator, carried_in, destination, eligibility FROM payout_locked_creators WHERE batch_id = ?1 ORDER BY creator",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"creator");
            for i in 0..4 {
                field(&mut h, r.get_ref(i)?)?;
            }
            let creator = text(r.get_ref(0)?, batch_id)?;
            let e = text(r.get_ref(3)?, batch_id)?;
            let eligibility = Eligibility::parse(e)
                .ok_or_else(|| bad(format!("creator {creator} has eligibility `{e}`")))?;
            let (g, n) = gross.remove(creator).unwrap_or((0, 0));
            inputs.creators.insert(
                creator.to_string(),
                CreatorInput {
                    gross: g,
                    allocations: n,
                    carried_in: int(r.get_ref(1)?)?,
                    destination: r
                        .get_ref(2)?
                        .as_str_or_null()
                        .map_err(|_| bad("a destination is not text".into()))?
                        .map(str::to_string),
                    eligibility,
                },
            );
        }
    }
    if let Some(author) = gross.keys().next() {
        return Err(bad(format!(
            "allocations to {author}, who is not among the locked creators"
        )));
    }
    {
        let mut stmt = conn.prepare(
            "SELECT ordinal, id, creator, amount, currency, requested_at FROM payout_locked_withdrawals WHERE batch_id = ?1 ORDER BY ordinal",
        )?;
        let mut rows = stmt.query([batch_id])?;
        while let Some(r) = rows.next()? {
            h.update(b"withdrawal");
            for i in 0..6 {
                field(&mut h, r.get_ref(i)?)?;
            }
            inputs.withdrawals.push(WithdrawalInput {
                id: text(r.get_ref(1)?, batch_id)?.to_string(),
                creator: text(r.get_ref(2)?, batch_id)?.to_string(),
                amount: int(r.get_ref(3)?)?,
                currency: text(r.get_ref(4)?, batch_id)?.to_string(),
            });
        }
    }
    // Every subscriber with a balance or an allocation, in order.
    let mut users: Vec<SmolStr> = totals
        .keys()
        .cloned()
        .chain(allocated.keys().cloned())
        .collect();
    users.sort_unstable();
    users.dedup();
    inputs.subscribers = users
        .into_iter()
        .map(|u| SubscriberInput {
            total: totals.get(&u).copied(),
            allocated: allocated.get(&u).copied().unwrap_or(0),
            user: u.to_string(),
        })
        .collect();
    Ok((hex::encode(h.finalize()), inputs))
}

/// Each creator's obligation in the ledger at the lock (`?2` the currency, `?3` the
/// instant): the sum of their `<creator obligations>:<c>` account (the workspace's account
/// map; `liabilities:creators:<c>` by default), when not zero. The bounds are literals so
/// that the account index serves the range.
pub(super) fn owed_sql(map: &crate::accounts::RoleMap) -> String {
    let (lo, hi) = map.below_range(crate::accounts::Role::CreatorObligations);
    let from = lo.chars().count() + 1;
    format!(
        "SELECT substr(account, {from}) AS creator, sum(amount_minor) AS owed
    FROM ledger_postings
    WHERE account >= {lo} AND account < {hi}
      AND instr(substr(account, {from}), ':') = 0 AND currency = ?2 AND created_at <= ?3
    GROUP BY account HAVING sum(amount_minor) != 0",
        lo = crate::accounts::literal(&lo),
        hi = crate::accounts::literal(&hi),
    )
}

/// A creator's eligibility from their connected account as mirrored from Stripe (`a`: the
/// platform's mapping, `s`: the mirrored account, `?2`: the currency): transfers capability
/// active, payouts enabled, the currency supported by default or by an external account.
pub(crate) const ELIGIBILITY_SQL: &str = "CASE
    WHEN a.author_id IS NULL THEN 'no_connected_account'
    WHEN s.id IS NULL OR NOT json_valid(s.raw) THEN 'account_not_synced'
    WHEN coalesce(json_extract(s.raw, '$.capabilities.transfers'), '') != 'active' THEN 'transfers_inactive'
    WHEN coalesce(json_extract(s.raw, '$.payouts_enabled'), 0) != 1 THEN 'payouts_disabled'
    WHEN lower(coalesce(json_extract(s.raw, '$.default_currency'), '')) = ?2
      OR EXISTS (SELECT 1 FROM json_each(s.raw, '$.external_accounts.data') e
                 WHERE lower(json_extract(e.value, '$.currency')) = ?2) THEN 'eligible'
    ELSE 'currency_unsupported' END";

/// What the batch's digest covers, in a fixed order.
#[derive(Serialize)]
pub(super) struct Digested<'a> {
    format: &'static str,
    id: &'a str,
    month: &'a str,
    currency: &'a str,
    params: &'a Params,
    inputs_digest: &'a str,
    totals: &'a Totals,
    lines: &'a [Line],
}

pub(super) fn batch_digest(
    id: &str,
    month: &str,
    currency: &str,
    params: &Params,
    inputs_digest: &str,
    totals: &Totals,
    lines: &[Line],
) -> String {
    let doc = Digested {
        format: "closebook-payout-batch-v1",
        id,
        month,
        currency,
        params,
        inputs_digest,
        totals,
        lines,
    };
    let mut h = Sha256::new();
    serde_json::to_writer(HashWriter(&mut h), &doc).expect("a batch serializes");
    hex::encode(h.finalize())
}

pub(super) struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
