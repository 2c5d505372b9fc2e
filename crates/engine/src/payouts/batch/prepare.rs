//! Preparing a month: copy its rows into the lock (one transaction), compute the lines,
//! digest it all, have the preparer sign, and read it back once to prove it.

#[allow(unused_imports)]
use super::*;

use jiff::Timestamp;
use rusqlite::params;

use crate::payouts::compute::{self, Held, Line, Params};
use crate::payouts::people::{Action, Signer};
use crate::payouts::{PayoutError, parse_month};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// Locks `month` into a new draft batch prepared and signed by `signer`. A draft of the
/// same month is superseded (its approvals die with it); an approved, executing or done
/// batch of the month means the month is closed.
pub fn prepare(
    ws: &Workspace,
    signer: &Signer,
    month: &str,
    params: Option<Params>,
    ctx: &OpContext,
) -> Result<Batch, PayoutError> {
    signer.require(Action::Prepare)?;
    let first = parse_month(month)?;
    let month = format!("{:04}-{:02}", first.year(), first.month());
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| PayoutError::BadInput(format!("{month} is out of range")))?;
    let month_end = ws
        .start_of_day(next)
        .map_err(|e| PayoutError::BadInput(e.to_string()))?;
    if ctx.now < month_end {
        return Err(PayoutError::InvalidState(format!(
            "{month} is not over yet (it ends at {month_end} in the workspace's time zone): allocations can still change"
        )));
    }
    // A month the platform closed itself (its month-end allocation entries, booked in the
    // month after, are in the mirror) must not be booked and paid a second time here.
    let after = next
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| PayoutError::BadInput(format!("{month} is out of range")))?;
    let after_end = ws
        .start_of_day(after)
        .map_err(|e| PayoutError::BadInput(e.to_string()))?;
    let (booked, first): (i64, Option<i64>) = ws.conn.query_row(
        "SELECT count(DISTINCT entry_id), min(created_at) FROM ledger_postings
         WHERE origin = 'mirror' AND entry_type = 'allocation' AND created_at >= ?1 AND created_at < ?2",
        params![month_end.as_microsecond(), after_end.as_microsecond()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if booked > 0 {
        let when = first
            .and_then(|us| Timestamp::from_microsecond(us).ok())
            .map_or_else(String::new, |t| {
                format!(" on {}", t.to_zoned(ws.time_zone().clone()).date())
            });
        return Err(PayoutError::InvalidState(format!(
            "the platform already closed {month} itself: its ledger holds {booked} month-end allocation entries booked{when}; preparing it here would book and pay the month twice"
        )));
    }
    let params = match params {
        Some(p) => p,
        None => settings(ws)?,
    };
    params.validate()?;

    let mut phases = Phases::start();
    let tx = ws.conn.unchecked_transaction()?;
    let mut closed: Option<(String, String)> = None;
    let mut drafts = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT id, state FROM payout_batches WHERE month = ?1")?;
        let rows = stmt.query_map([&month], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, state) = row?;
            match state.as_str() {
                "approved" | "executing" | "done" => closed = Some((id, state)),
                "draft" => drafts.push(id),
                _ => {}
            }
        }
    }
    if let Some((id, state)) = closed {
        return Err(PayoutError::InvalidState(format!(
            "{month} already has batch {id}, {state}: a month is paid once"
        )));
    }
    for id in &drafts {
        tx.execute(
            "UPDATE payout_batches SET state = 'superseded', state_changed_at = ?2 WHERE id = ?1",
            params![id, ctx.now.as_microsecond()],
        )?;
        audit::append(
            &tx,
            ctx.now,
            &signer.actor(),
            "payouts.supersede",
            &format!(
                "batch {id} superseded by a new preparation of {month}; its approvals are void"
            ),
            &serde_json::json!({"batch": id}),
        )?;
    }
    let version: u32 = tx.query_row(
        "SELECT coalesce(max(version), 0) + 1 FROM payout_batches WHERE month = ?1",
        [&month],
        |r| r.get(0),
    )?;
    let id = format!("pb_{month}_{version}");

    // The batch row first (the locked rows refer to it); its digest fields are filled
    // below, once, in this same transaction.
    tx.execute(
        "INSERT INTO payout_batches (id, month, version, currency, state, params, inputs_digest, digest, totals, prepared_by, prepared_at, preparer_signature, state_changed_at, lock_import)
         VALUES (?1, ?2, ?3, ?4, 'draft', '', '', '', '', ?5, ?6, '', ?6, (SELECT coalesce(max(id), 0) FROM imports))",
        params![id, month, version, BATCH_CURRENCY, signer.person.name, ctx.now.as_microsecond()],
    )?;
    tx.execute(
        "INSERT INTO payout_locked_allocations (batch_id, id, user_id, page_id, author_id, amount, updated_at)
         SELECT ?1, id, user_id, page_id, author_id, amount_cents, updated_at
         FROM platform_allocations WHERE month = ?2",
        params![id, month],
    )?;
    tx.execute(
        "INSERT INTO payout_locked_balances (batch_id, user_id, total, allocated, updated_at)
         SELECT ?1, user_id, total_usd_cents, allocated_usd_cents, updated_at
         FROM platform_balances WHERE month = ?2",
        params![id, month],
    )?;
    // Pending withdrawal requests not already in a batch that pays them.
    tx.execute(
        "INSERT INTO payout_locked_withdrawals (batch_id, ordinal, id, creator, amount, currency, requested_at)
         SELECT ?1, row_number() OVER (ORDER BY w.requested_at, w.id), w.id, w.user_id, w.amount_minor, w.currency, w.requested_at
         FROM platform_withdrawals w
         WHERE w.status = 'pending' AND w.requested_at < ?2
           AND NOT EXISTS (
             SELECT 1 FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id
             WHERE l.reference = w.id AND l.kind = 'withdrawal' AND l.held IS NULL
               AND b.state IN ('approved', 'executing', 'done'))",
        params![id, month_end.as_microsecond()],
    )?;
    phases.mark("month copied");
    let owed = owed_sql(&crate::accounts::load(&tx)?);
    // Creators: those allocated to, those the ledger owes, those asking to withdraw; each
    // with what the ledger owed at this instant and their account's eligibility, in one
    // set-based statement (a hundred thousand creators are one pass, not a query each).
    let n = tx.execute(
        &format!(
            "WITH owed AS MATERIALIZED ({owed})
             INSERT INTO payout_locked_creators (batch_id, creator, carried_in, destination, eligibility)
             SELECT ?1, c.creator, coalesce(-o.owed, 0), a.stripe_account_id, {ELIGIBILITY_SQL}
             FROM (SELECT DISTINCT author_id AS creator FROM platform_allocations WHERE month = ?4
                   UNION SELECT creator FROM payout_locked_withdrawals WHERE batch_id = ?1
                   UNION SELECT creator FROM owed) c
             LEFT JOIN owed o ON o.creator = c.creator
             LEFT JOIN platform_connected_accounts a ON a.author_id = c.creator
             LEFT JOIN stripe_objects s ON s.object_type = 'account' AND s.id = a.stripe_account_id"
        ),
        params![id, BATCH_CURRENCY, ctx.now.as_microsecond(), month],
    )?;
    // Credits are negative: the negation is what is owed. SQLite turns an overflowing
    // negation into a float, which this refuses.
    let inexact: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM payout_locked_creators WHERE batch_id = ?1 AND typeof(carried_in) != 'integer')",
        [&id],
        |r| r.get(0),
    )?;
    if inexact {
        return Err(PayoutError::Overflow);
    }
    tracing::debug!(creators = n, "payouts: creators locked");

    phases.mark("creators locked");
    let (inputs_digest, inputs) = scan_locked(&tx, &id)?;
    phases.mark("inputs digested and aggregated");
    let computed = compute::compute(&inputs, &params)?;
    phases.mark("computed");
    let digest = batch_digest(
        &id,
        &month,
        BATCH_CURRENCY,
        &params,
        &inputs_digest,
        &computed.totals,
        &computed.lines,
    );
    let at = ctx.now.as_microsecond();
    let nonce = nonce_from(&digest, &signer.person.name, "prepare", at);
    let signature = signer.sign(&statement(
        &ws.info().id,
        &id,
        &digest,
        "prepare",
        &signer.person.name,
        "",
        at,
        &nonce,
    ));
    // The trigger allows these fields to be filled exactly once, from empty.
    tx.execute(
        "UPDATE payout_batches SET params = ?2, inputs_digest = ?3, digest = ?4, totals = ?5, preparer_signature = ?6
         WHERE id = ?1",
        params![
            id,
            serde_json::to_string(&params).expect("params serialize"),
            inputs_digest,
            digest,
            serde_json::to_string(&computed.totals).expect("totals serialize"),
            signature
        ],
    )?;
    write_lines(&tx, &id, &computed.lines)?;
    phases.mark("lines written");
    audit::append(
        &tx,
        ctx.now,
        &signer.actor(),
        "payouts.prepare",
        &format!(
            "prepared {id} for {month}: {} lines, {} to pay, {} carried over, digest {}",
            computed.totals.lines,
            computed.totals.paid,
            computed.totals.carried_out,
            &digest[..16]
        ),
        &serde_json::json!({"batch": id, "digest": digest, "inputs_digest": inputs_digest, "totals": computed.totals, "params": params}),
    )?;
    tx.commit()?;
    phases.mark("committed");
    let b = load_with(ws, &id, Some(computed));
    phases.mark("read back");
    b
}

pub(super) fn write_lines(
    conn: &rusqlite::Connection,
    id: &str,
    lines: &[Line],
) -> Result<(), PayoutError> {
    let mut stmt = conn.prepare(
        "INSERT INTO payout_lines (batch_id, line_no, kind, creator, reference, destination, gross, fee, net, carried_in, withdrawn, requested, payable, allocations, held)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for l in lines {
        stmt.execute(params![
            id,
            l.line_no,
            l.kind.as_str(),
            l.creator,
            l.reference,
            l.destination,
            l.gross,
            l.fee,
            l.net,
            l.carried_in,
            l.withdrawn,
            l.requested,
            l.payable,
            l.allocations,
            l.held.map(Held::as_str),
        ])?;
    }
    Ok(())
}
