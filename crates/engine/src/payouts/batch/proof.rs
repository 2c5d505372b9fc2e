//! Loading a batch, which proves it again: the locked rows against their digest, the lines
//! and totals against a recomputation, the identity, the digest, every signature against
//! the signed roster, and maker–checker from the signed decisions alone.

#[allow(unused_imports)]
use super::*;

use jiff::Timestamp;
use rusqlite::OptionalExtension;

use crate::payouts::PayoutError;
use crate::payouts::compute::{self, Computed, Held, Line, LineKind, Params, Totals};
use crate::payouts::people::{self};
use crate::workspace::Workspace;

pub(super) fn ts(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn read_lines(conn: &rusqlite::Connection, id: &str) -> Result<Vec<Line>, PayoutError> {
    let mut stmt = conn.prepare(
        "SELECT line_no, kind, creator, reference, destination, gross, fee, net, carried_in, withdrawn, requested, payable, allocations, held
         FROM payout_lines WHERE batch_id = ?1 ORDER BY line_no",
    )?;
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(1)?;
        let held: Option<String> = r.get(13)?;
        out.push(Line {
            line_no: r.get(0)?,
            kind: if kind == "withdrawal" {
                LineKind::Withdrawal
            } else {
                LineKind::Earnings
            },
            creator: r.get(2)?,
            reference: r.get(3)?,
            destination: r.get(4)?,
            gross: r.get(5)?,
            fee: r.get(6)?,
            net: r.get(7)?,
            carried_in: r.get(8)?,
            withdrawn: r.get(9)?,
            requested: r.get(10)?,
            payable: r.get(11)?,
            allocations: r.get(12)?,
            held: match held {
                None => None,
                Some(h) => Some(Held::parse(&h).ok_or_else(|| {
                    PayoutError::Integrity(format!("line held for an unknown reason `{h}`"))
                })?),
            },
        });
    }
    Ok(out)
}

/// Reads a batch and proves it: locked rows against their digest, lines and totals
/// against a recomputation, the identity, the batch digest, and every signature.
pub fn load(ws: &Workspace, id: &str) -> Result<Batch, PayoutError> {
    load_with(ws, id, None)
}

/// `load`, or, right after preparing (`just_computed`: what was computed from the rows
/// digested in the same transaction), the read-back check: the stored lines and totals are
/// exactly those computed, and digest and signatures verify.
pub(super) fn load_with(
    ws: &Workspace,
    id: &str,
    just_computed: Option<Computed>,
) -> Result<Batch, PayoutError> {
    let conn = &ws.conn;
    type Row = (
        String,
        u32,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        String,
        i64,
    );
    let row: Option<Row> = conn
        .query_row(
            "SELECT month, version, currency, state, params, inputs_digest, digest, totals, prepared_by, prepared_at, preparer_signature, state_changed_at
             FROM payout_batches WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?,
                    r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?,
                ))
            },
        )
        .optional()?;
    let Some((
        month,
        version,
        currency,
        state,
        params,
        inputs_digest,
        digest,
        totals,
        prepared_by,
        prepared_at,
        preparer_signature,
        state_changed_at,
    )) = row
    else {
        return Err(PayoutError::NotFound(format!("no payout batch `{id}`")));
    };
    let broken = |what: String| PayoutError::Integrity(format!("batch {id}: {what}"));
    let state =
        BatchState::parse(&state).ok_or_else(|| broken(format!("unknown state `{state}`")))?;
    let params: Params = serde_json::from_str(&params)
        .map_err(|e| broken(format!("parameters unreadable ({e})")))?;
    let totals: Totals =
        serde_json::from_str(&totals).map_err(|e| broken(format!("totals unreadable ({e})")))?;
    let mut phases = Phases::start();
    let lines = read_lines(conn, id)?;
    phases.mark("lines read");

    let computed: Computed = match just_computed {
        Some(c) => c,
        None => {
            // The locked rows are those that were digested…
            let (again, inputs) = scan_locked(conn, id)?;
            if again != inputs_digest {
                return Err(broken(
                    "the locked month no longer matches its digest".into(),
                ));
            }
            phases.mark("inputs digested and aggregated again");
            // …and recomputing them gives exactly the stored lines and totals.
            let c = compute::compute(&inputs, &params)?;
            phases.mark("recomputed");
            c
        }
    };
    if computed.lines != lines {
        let first = computed
            .lines
            .iter()
            .zip(&lines)
            .find(|(a, b)| a != b)
            .map_or_else(
                || "the number of lines".to_string(),
                |(a, _)| format!("line {}", a.line_no),
            );
        return Err(broken(format!(
            "stored lines differ from the locked month at {first}"
        )));
    }
    let from_lines = compute::totals_of(
        &lines,
        totals.subscriptions,
        totals.unallocated,
        totals.subscribers,
    )?;
    if computed.totals != totals || from_lines != totals {
        return Err(broken("stored totals differ from the lines".into()));
    }
    compute::check_identity(&totals)?;
    if batch_digest(
        id,
        &month,
        &currency,
        &params,
        &inputs_digest,
        &totals,
        &lines,
    ) != digest
    {
        return Err(broken("the batch no longer matches its digest".into()));
    }
    let ws_id = ws.info().id.clone();
    // Every signer is taken from the signed roster, never from the table alone: a row no
    // admin signed for (written with the database key) vouches for no one.
    let roster = people::signed_roster(ws)?;
    let preparer = roster.vouched(&prepared_by).ok_or_else(|| {
        broken(format!(
            "its preparer {prepared_by} is not on the roster an admin signed"
        ))
    })?;
    if !matches!(preparer.role, people::Role::Preparer | people::Role::Admin) {
        return Err(broken(format!(
            "{prepared_by} prepared it without the preparer or admin role"
        )));
    }
    let nonce = nonce_from(&digest, &prepared_by, "prepare", prepared_at);
    if !people::verify(
        &preparer.public_key,
        &statement(
            &ws_id,
            id,
            &digest,
            "prepare",
            &prepared_by,
            "",
            prepared_at,
            &nonce,
        ),
        &preparer_signature,
    ) {
        return Err(broken(format!(
            "{prepared_by}'s preparation signature does not verify"
        )));
    }
    phases.mark("digest checked");
    let decisions = read_decisions(conn, id)?;
    for d in &decisions {
        if roster.vouched(&d.person).is_none() {
            return Err(broken(format!(
                "{}'s {} is by someone not on the roster an admin signed",
                d.person, d.decision
            )));
        }
        let ok = roster
            .vouched(&d.person)
            .is_some_and(|p| p.public_key == d.public_key)
            && people::verify(
                &d.public_key,
                &statement(
                    &ws_id,
                    id,
                    &digest,
                    &d.decision,
                    &d.person,
                    d.reason.as_deref().unwrap_or(""),
                    d.signed_at.as_microsecond(),
                    &d.nonce,
                ),
                &d.signature,
            );
        if !ok {
            return Err(broken(format!(
                "{}'s {} does not verify against the batch's digest",
                d.person, d.decision
            )));
        }
    }
    let approvals_required = if totals.paid >= params.dual_approval_at_minor {
        2
    } else {
        1
    };
    // Maker–checker, proven again from the signed decisions alone (the table can be written
    // by whoever holds the database key): an approval counts only from someone other than
    // the preparer, who holds the approver or admin role, once per person.
    let mut approvers: Vec<&str> = Vec::new();
    for d in decisions.iter().filter(|d| d.decision == "approve") {
        if d.person == prepared_by {
            return Err(broken(format!(
                "it carries an approval by its own preparer {prepared_by}: maker–checker is broken"
            )));
        }
        if approvers.contains(&d.person.as_str()) {
            return Err(broken(format!(
                "{} approved it twice: two approvals must come from two people",
                d.person
            )));
        }
        let allowed = roster
            .vouched(&d.person)
            .is_some_and(|p| matches!(p.role, people::Role::Approver | people::Role::Admin));
        if !allowed {
            return Err(broken(format!(
                "{} approved it without the approver or admin role",
                d.person
            )));
        }
        approvers.push(&d.person);
    }
    let approvals = approvers.len() as u32;
    if matches!(
        state,
        BatchState::Approved | BatchState::Executing | BatchState::Done
    ) && approvals < approvals_required
    {
        return Err(broken(format!(
            "it is {} with {approvals} of {approvals_required} approvals",
            state.as_str()
        )));
    }
    phases.mark("signatures verified");
    let executions = read_executions(conn, id)?;
    for e in &executions {
        let line = lines
            .get((e.line_no as usize).wrapping_sub(1))
            .filter(|l| l.line_no == e.line_no && l.is_paid());
        if line.is_none() {
            return Err(broken(format!(
                "line {} was executed but is not payable",
                e.line_no
            )));
        }
    }
    Ok(Batch {
        id: id.to_string(),
        month,
        version,
        currency,
        state,
        params,
        inputs_digest,
        digest,
        totals,
        prepared_by,
        prepared_at: ts(prepared_at),
        preparer_signature,
        state_changed_at: ts(state_changed_at),
        lines,
        decisions,
        approvals_required,
        executions,
        unallocated: computed.unallocated,
    })
}

pub(super) fn read_decisions(
    conn: &rusqlite::Connection,
    id: &str,
) -> Result<Vec<Decision>, PayoutError> {
    let mut stmt = conn.prepare(
        "SELECT person, public_key, decision, reason, signed_at, nonce, signature, recorded_at, via, batch_digest
         FROM payout_decisions WHERE batch_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Decision {
            person: r.get(0)?,
            public_key: r.get(1)?,
            decision: r.get(2)?,
            reason: r.get(3)?,
            signed_at: ts(r.get(4)?),
            nonce: r.get(5)?,
            signature: r.get(6)?,
            recorded_at: ts(r.get(7)?),
            via: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn read_executions(
    conn: &rusqlite::Connection,
    id: &str,
) -> Result<Vec<Execution>, PayoutError> {
    let mut stmt = conn.prepare(
        "SELECT line_no, generation, idempotency_key, state, transfer_id, failure, first_sent_at, finished_at
         FROM payout_executions WHERE batch_id = ?1 ORDER BY line_no",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Execution {
            line_no: r.get(0)?,
            generation: r.get(1)?,
            idempotency_key: r.get(2)?,
            state: r.get(3)?,
            transfer_id: r.get(4)?,
            failure: r.get(5)?,
            first_sent_at: ts(r.get(6)?),
            finished_at: r.get::<_, Option<i64>>(7)?.map(ts),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
