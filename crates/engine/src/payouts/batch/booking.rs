//! The month in balanced entries of Closebook's own, booked at the last approval.

use super::*;
use crate::OpContext;
use crate::ledger::{OwnEntry, book_own};
use crate::payouts::PayoutError;
use crate::payouts::compute::LineKind;
use crate::workspace::Workspace;

/// The month in balanced entries of Closebook's own (`contracts/BOOKING.md`): each
/// subscriber's allocations to each creator, each creator's platform fee, each subscriber's
/// unallocated money swept to revenue.
pub(super) fn book_month(
    conn: &rusqlite::Connection,
    ws: &Workspace,
    batch: &Batch,
    ctx: &OpContext,
) -> Result<(), PayoutError> {
    let live = ws.info().mode.is_live();
    let cur = batch.currency.as_str();
    let map = crate::accounts::load(conn)?;
    let platform_fees = map.get(crate::accounts::Role::PlatformFees);
    let unallocated = map.get(crate::accounts::Role::Unallocated);
    let mut stmt = conn.prepare(
        "SELECT user_id, author_id, sum(amount) FROM payout_locked_allocations
         WHERE batch_id = ?1 GROUP BY user_id, author_id HAVING sum(amount) != 0 ORDER BY user_id, author_id",
    )?;
    let mut rows = stmt.query([&batch.id])?;
    while let Some(r) = rows.next()? {
        let (user, creator, amount): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let (ua, ca) = (map.subscriber(&user), map.creator(&creator));
        book_own(
            conn,
            &OwnEntry {
                entry_id: &format!("cb:{}:allocation:{user}:{creator}", batch.id),
                entry_type: "allocation",
                currency: cur,
                stripe_object_id: None,
                description: &format!(
                    "Allocation {} from {user} to {creator} ({})",
                    batch.month, batch.id
                ),
                postings: &[(&ua, amount), (&ca, -amount)],
            },
            live,
            ctx.now,
        )?;
    }
    for l in batch
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Earnings && l.fee != 0)
    {
        let ca = map.creator(&l.creator);
        book_own(
            conn,
            &OwnEntry {
                entry_id: &format!("cb:{}:platform_fee:{}", batch.id, l.creator),
                entry_type: "platform_fee",
                currency: cur,
                stripe_object_id: None,
                description: &format!(
                    "Platform fee {} on {} ({})",
                    batch.month, l.creator, batch.id
                ),
                postings: &[(&ca, l.fee), (platform_fees, -l.fee)],
            },
            live,
            ctx.now,
        )?;
    }
    for (user, amount) in &batch.unallocated {
        let ua = map.subscriber(user);
        book_own(
            conn,
            &OwnEntry {
                entry_id: &format!("cb:{}:unallocated_sweep:{user}", batch.id),
                entry_type: "unallocated_sweep",
                currency: cur,
                stripe_object_id: None,
                description: &format!("Unallocated {} of {user} ({})", batch.month, batch.id),
                postings: &[(&ua, *amount), (unallocated, -*amount)],
            },
            live,
            ctx.now,
        )?;
    }
    Ok(())
}
