//! Month-end payout batches end to end through the engine: seed 004's month to the cent,
//! sign-off rules, approval files (forged, mismatched, replayed), drift, tampering, and
//! execution against the Stripe simulator with faults, each line paid exactly once.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::ledger;
use closebook_engine::payouts::batch::{self, BatchState};
use closebook_engine::payouts::execute::{self, ExecuteControl, ExecuteOptions, ExecuteProgress};
use closebook_engine::payouts::people::{self, Role};
use closebook_engine::payouts::{Held, LineKind, Params, PayoutError};
use closebook_engine::stripe::{self, SyncControl};
use closebook_engine::workspace::Mode;
use closebook_engine::{ErrorCode, demo};
use closebook_generate::StripeActivity;
use closebook_stripe_sim::{FaultKind, FaultPlan, SimConfig, Simulator};
use common::seed::{Seed, key, now, op, seed_dataset, signer, sync};
use common::{TestWorkspace, count, repo_root, workspace};
use jiff::Timestamp;

fn code(e: PayoutError) -> ErrorCode {
    e.code()
}

fn balance(t: &TestWorkspace, account: &str) -> i64 {
    ledger::balances(&t.ws, None, Some(account))
        .unwrap()
        .iter()
        .filter(|b| b.account == account)
        .map(|b| b.balance.minor)
        .sum()
}

#[test]
fn seed_004_month_reproduces_to_the_cent_and_is_paid_exactly_once() {
    let mut s = Seed::new();
    let b = s.prepare();
    assert_eq!(b.id, "pb_2024-12_1");
    assert_eq!(b.state, BatchState::Draft);
    let t = b.totals;
    assert_eq!(t.subscriptions, 1_000_000);
    assert_eq!(t.allocated, 700_000);
    assert_eq!(t.fees, 49_000);
    assert_eq!(t.net, 651_000);
    assert_eq!(t.paid, 651_000);
    assert_eq!(t.unallocated, 300_000);
    assert_eq!(t.revenue(), Some(349_000));
    assert_eq!((t.carried_in, t.carried_out, t.held_lines), (0, 0, 0));
    let lines: Vec<(&str, i64, i64, i64)> = b
        .lines
        .iter()
        .map(|l| (l.creator.as_str(), l.gross, l.fee, l.payable))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("c1", 200_000, 14_000, 186_000),
            ("c2", 175_000, 12_250, 162_750),
            ("c3", 105_000, 7_350, 97_650),
            ("c4", 130_000, 9_100, 120_900),
            ("c5", 90_000, 6_300, 83_700),
        ]
    );
    assert_eq!(
        b.approvals_required, 1,
        "$6,510 is below the two-approver threshold"
    );

    let approved = batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    assert_eq!(approved.state, BatchState::Approved);
    assert_eq!(approved.decisions.len(), 1);
    // The month is booked: fees and unallocated money are revenue, creators are owed the net.
    assert_eq!(balance(&s.t, "income:platform_fees"), -49_000);
    assert_eq!(balance(&s.t, "income:unallocated"), -300_000);
    assert_eq!(balance(&s.t, "liabilities:creators:c2"), -162_750);

    let report = s.execute(&b.id).unwrap();
    assert_eq!(report.state, BatchState::Done);
    assert_eq!(
        (report.paid_now, report.paid_total, report.failed_total),
        (5, 5, 0)
    );
    let made = s.sim.transfers_created();
    assert_eq!(made.len(), 5);
    let mut by_dest: BTreeMap<&str, i64> = BTreeMap::new();
    for m in &made {
        assert_eq!(m.transfer_group.as_deref(), Some(b.id.as_str()));
        assert_eq!(m.currency, "usd");
        *by_dest.entry(m.destination.as_str()).or_default() += m.amount;
    }
    assert_eq!(by_dest["acct_seed004c1"], 186_000);
    assert_eq!(by_dest["acct_seed004c5"], 83_700);
    // Every creator is paid in full; Stripe's balance lost exactly what was transferred.
    for c in 1..=5 {
        assert_eq!(balance(&s.t, &format!("liabilities:creators:c{c}")), 0);
    }
    assert_eq!(balance(&s.t, "assets:stripe:payments"), 1_000_000 - 651_000);
    let tb = ledger::trial_balance(&s.t.ws, None).unwrap();
    assert!(tb.totals.iter().all(|c| c.debits.minor == c.credits.minor));

    // Done is done: a re-run (after a kill, from a scheduled job) succeeds, says nothing
    // was left, and sends nothing; no second batch for the month.
    let requests = s.sim.requests().len();
    let rerun = s.execute(&b.id).unwrap();
    assert!(rerun.nothing_left);
    assert_eq!(rerun.state, BatchState::Done);
    assert_eq!(
        (rerun.paid_now, rerun.paid_total, rerun.payable_lines),
        (0, 5, 5)
    );
    assert_eq!(s.sim.requests().len(), requests, "nothing sent");
    let again = batch::prepare(
        &s.t.ws,
        &s.signer("Pat Preparer"),
        "2024-12",
        None,
        &op(now()),
    );
    assert_eq!(code(again.unwrap_err()), ErrorCode::InvalidState);
    assert_eq!(s.sim.transfers_created().len(), 5);
    // Each step is in the audit log, and the log verifies.
    let actions: Vec<String> = closebook_engine::audit::list(
        s.t.ws.connection(),
        &closebook_engine::audit::AuditFilter {
            action_prefix: Some("payouts.".into()),
            limit: 100,
            ..Default::default()
        },
    )
    .unwrap()
    .into_iter()
    .map(|r| r.action)
    .collect();
    for a in [
        "payouts.prepare",
        "payouts.approve",
        "payouts.book",
        "payouts.execute.start",
        "payouts.line.paid",
        "payouts.execute.done",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    assert!(
        closebook_engine::audit::verify(s.t.ws.connection())
            .unwrap()
            .intact()
    );

    // Reconciliation matches each transfer entry to Stripe's transfer: the day balances.
    let later: Timestamp = "2025-01-03T09:00:00Z".parse().unwrap();
    s.sim.set_now(later.as_second());
    let sim_url = s.sim.url();
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    stripe::sync(
        &mut s.t.ws,
        &key(),
        &demo::sync_options(&sim_url),
        &op(later),
        &mut control,
    )
    .unwrap();
    // The month-end and transfer entries Closebook booked moved the kept totals exactly.
    ledger::prove_totals(&s.t.ws).unwrap();
    let day = jiff::civil::date(2025, 1, 2);
    let snap = closebook_engine::reconcile::snapshot::compute(&s.t.ws, day, &op(later)).unwrap();
    assert!(snap.exceptions.is_empty(), "{:#?}", snap.exceptions);
    assert_eq!(snap.status, closebook_engine::reconcile::Status::Balanced);
    assert_eq!(snap.currencies[0].ledger, 1_000_000 - 651_000);
    assert_eq!(snap.currencies[0].difference, 0);
}

/// The engine, not the screen, decides who executes: an auditor or an approver calling
/// execute on an approved batch directly (as a hand-made IPC call would) is refused before
/// any transfer is sent.
#[test]
fn only_a_preparer_or_an_admin_executes_an_approved_batch() {
    let s = Seed::new();
    let b = s.prepare();
    batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    for who in ["Ada Auditor", "Avery Approver", "Sam Second"] {
        let e = s.execute_as(who, &b.id).unwrap_err();
        assert_eq!(code(e), ErrorCode::PermissionDenied, "{who}");
    }
    assert!(s.sim.transfers_created().is_empty(), "nothing was sent");
    assert_eq!(
        batch::load(&s.t.ws, &b.id).unwrap().state,
        BatchState::Approved
    );
    assert_eq!(s.execute(&b.id).unwrap().state, BatchState::Done);
    assert!(!s.sim.transfers_created().is_empty());
}

#[test]
fn roles_and_maker_checker_are_enforced_in_the_engine() {
    let s = Seed::new();
    let ws = &s.t.ws;
    // An auditor or an approver cannot prepare; a preparer cannot approve.
    for who in ["Ada Auditor", "Avery Approver"] {
        let e = batch::prepare(ws, &s.signer(who), "2024-12", None, &op(now())).unwrap_err();
        assert_eq!(code(e), ErrorCode::PermissionDenied, "{who}");
    }
    let b = s.prepare();
    for who in ["Ada Auditor", "Pat Preparer"] {
        let e = batch::approve(ws, &s.signer(who), &b.id, &op(now())).unwrap_err();
        assert_eq!(code(e), ErrorCode::PermissionDenied, "{who}");
    }
    // An admin who prepared cannot approve their own batch.
    let own = batch::prepare(ws, &s.signer("Kim Admin"), "2024-12", None, &op(now())).unwrap();
    let e = batch::approve(ws, &s.signer("Kim Admin"), &own.id, &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    assert!(
        e_msg(batch::approve(
            ws,
            &s.signer("Kim Admin"),
            &own.id,
            &op(now())
        ))
        .contains("maker")
    );
    // The first draft was superseded by Kim's preparation: its approval is impossible.
    let e = batch::approve(ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidState);
    // No one executes a draft (roles: only_a_preparer_or_an_admin_executes_an_approved_batch).
    let e = s.execute(&own.id).unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidState);
    // Someone whose key is not on this computer cannot act.
    let other = closebook_engine::secrets::MemorySecrets::new();
    let e = people::authenticate(ws, &other, "Avery Approver").unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    // Once there is an admin, only an admin adds people.
    let e = people::add(
        ws,
        &s.t.secrets,
        "Eve",
        Role::Approver,
        [99; 32],
        None,
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    let e = people::add(
        ws,
        &s.t.secrets,
        "Eve",
        Role::Approver,
        [99; 32],
        Some(&s.signer("Pat Preparer")),
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    // A rejection needs a reason and closes the batch.
    let e = batch::reject(ws, &s.signer("Avery Approver"), &own.id, "  ", &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidInput);
    // What is signed is exactly what is kept: a reason with a line break (signed with it
    // turned into a space) or any control character is refused, nothing written.
    let decisions = count(ws, "payout_decisions");
    for bad in ["c3 looks wrong\nsee the sheet", "tab\there", "bell\u{7}"] {
        let e =
            batch::reject(ws, &s.signer("Avery Approver"), &own.id, bad, &op(now())).unwrap_err();
        assert!(e.to_string().contains("control characters"), "{bad:?}");
        assert_eq!(code(e), ErrorCode::InvalidInput, "{bad:?}");
    }
    assert_eq!(count(ws, "payout_decisions"), decisions);
    let r = batch::reject(
        ws,
        &s.signer("Avery Approver"),
        &own.id,
        "c3's allocations look wrong",
        &op(now()),
    )
    .unwrap();
    assert_eq!(r.state, BatchState::Rejected);
    assert_eq!(
        r.decisions[0].reason.as_deref(),
        Some("c3's allocations look wrong")
    );
    assert_eq!(s.sim.transfers_created().len(), 0);
}

fn e_msg<T: std::fmt::Debug>(r: Result<T, PayoutError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn large_batches_need_two_distinct_approvers() {
    let s = Seed::new();
    let stricter = Params {
        dual_approval_at_minor: 500_000,
        ..Params::default()
    };
    // The threshold is a control: once the roster has an admin, only an admin moves it.
    let before = batch::settings(&s.t.ws).unwrap();
    for who in ["Pat Preparer", "Avery Approver", "Ada Auditor"] {
        let e =
            batch::set_settings(&s.t.ws, Some(&s.signer(who)), stricter, &op(now())).unwrap_err();
        assert_eq!(code(e), ErrorCode::PermissionDenied, "{who}");
    }
    let e = batch::set_settings(&s.t.ws, None, stricter, &op(now())).unwrap_err();
    assert_eq!(
        code(e),
        ErrorCode::PermissionDenied,
        "no one acts anonymously"
    );
    assert_eq!(batch::settings(&s.t.ws).unwrap(), before, "nothing changed");
    batch::set_settings(&s.t.ws, Some(&s.signer("Kim Admin")), stricter, &op(now())).unwrap();
    let b = s.prepare();
    assert_eq!(b.approvals_required, 2);
    let one = batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    assert_eq!(one.state, BatchState::Draft);
    assert_eq!(
        count(&s.t.ws, "ledger_postings WHERE origin = 'closebook'"),
        0,
        "nothing booked before full approval"
    );
    // Avery again (a re-run): the approval is recorded already, so nothing is signed or
    // written, and it still counts once.
    let decisions = count(&s.t.ws, "payout_decisions");
    let again = batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    assert_eq!(again.state, BatchState::Draft);
    assert_eq!(again.approvals().count(), 1);
    assert_eq!(count(&s.t.ws, "payout_decisions"), decisions);
    let e = s.execute(&b.id).unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidState);
    let two = batch::approve(&s.t.ws, &s.signer("Sam Second"), &b.id, &op(now())).unwrap();
    assert_eq!(two.state, BatchState::Approved);
    assert_eq!(two.approvals().count(), 2);
}

#[test]
fn approval_files_travel_and_forged_mismatched_or_replayed_ones_are_refused() {
    let s = Seed::new();
    let ws = &s.t.ws;
    let b = s.prepare();
    let file =
        batch::export_approval(ws, &s.signer("Avery Approver"), &b.id, None, &op(now())).unwrap();
    assert_eq!(
        batch::load(ws, &b.id).unwrap().decisions.len(),
        0,
        "exporting records nothing"
    );
    let bytes = serde_json::to_vec(&file).unwrap();
    let before = count(ws, "payout_decisions");

    // Forged: another signature, another reason, another key, another workspace, garbage.
    let mut forged = file.clone();
    forged.signature = file.signature.replacen(
        &file.signature[..2],
        if &file.signature[..2] == "00" {
            "11"
        } else {
            "00"
        },
        1,
    );
    let mut altered = file.clone();
    altered.signed_at_us += 1;
    let mut wrong_key = file.clone();
    wrong_key.public_key = people::get(ws, "Sam Second").unwrap().unwrap().public_key;
    let mut elsewhere = file.clone();
    elsewhere.workspace_id = "ws_someone_else".into();
    for (what, f) in [
        ("signature", &forged),
        ("content", &altered),
        ("key", &wrong_key),
        ("workspace", &elsewhere),
    ] {
        let e =
            batch::import_approval(ws, &serde_json::to_vec(f).unwrap(), &op(now())).unwrap_err();
        assert_eq!(code(e), ErrorCode::ApprovalInvalid, "{what}");
    }
    for junk in [&b"not json"[..], b"{}", &vec![b' '; 20_000]] {
        let e = batch::import_approval(ws, junk, &op(now())).unwrap_err();
        assert_eq!(code(e), ErrorCode::ApprovalInvalid);
    }
    assert_eq!(
        count(ws, "payout_decisions"),
        before,
        "nothing written by refused files"
    );

    // The real one is recorded and approves; the same file again is a replay.
    let approved = batch::import_approval(ws, &bytes, &op(now())).unwrap();
    assert_eq!(approved.state, BatchState::Approved);
    assert_eq!(approved.decisions[0].via, "file");
    let e = batch::import_approval(ws, &bytes, &op(now())).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ApprovalInvalid);
    assert!(e.to_string().contains("replay"), "{e}");
}

#[test]
fn a_changed_batch_voids_its_approvals_and_a_late_allocation_is_reported_not_included() {
    let s = Seed::new();
    let mut t = s.t;
    let b = batch::prepare(
        &t.ws,
        &signer(&t, "Pat Preparer"),
        "2024-12",
        None,
        &op(now()),
    )
    .unwrap();
    let file = batch::export_approval(
        &t.ws,
        &signer(&t, "Avery Approver"),
        &b.id,
        None,
        &op(now()),
    )
    .unwrap();
    // An allocation of the month changes after the lock, and one is added.
    let late = common::write(
        t.dir.path(),
        "late.csv",
        "id,user_id,page_id,author_id,amount_cents,month,updated_at\n\
         al_01,u01,page_c1_1,c1,90000,2024-12,2025-01-01T10:00:00Z\n\
         al_99,u10,page_c5_1,c5,1000,2024-12,2025-01-01T10:00:00Z\n",
    );
    ingest::import_file(
        &mut t.ws,
        Kind::Allocations,
        &late,
        Some(Format::Csv),
        &op(now()),
    )
    .unwrap();
    let p = batch::preview(&t.ws, &b.id).unwrap();
    assert_eq!(p.drift_count, 2);
    assert_eq!(p.drift[0].key, "al_01");
    assert_eq!(
        (p.drift[0].locked_amount, p.drift[0].current_amount),
        (Some(100_000), 90_000)
    );
    assert_eq!(p.drift[1].change, "added");
    assert_eq!(p.batch.totals.allocated, 700_000, "the lock is what counts");
    // Preparing again picks the change up in a new version; the old approval is void.
    let b2 = batch::prepare(
        &t.ws,
        &signer(&t, "Pat Preparer"),
        "2024-12",
        None,
        &op(now()),
    )
    .unwrap();
    assert_eq!(b2.id, "pb_2024-12_2");
    assert_eq!(b2.totals.allocated, 700_000 - 10_000 + 1_000);
    assert_eq!(
        batch::load(&t.ws, &b.id).unwrap().state,
        BatchState::Superseded
    );
    let e =
        batch::import_approval(&t.ws, &serde_json::to_vec(&file).unwrap(), &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::ApprovalInvalid);
    // A file signed for the old version but relabelled for the new one fails its signature.
    let mut relabelled = file.clone();
    relabelled.batch_id = b2.id.clone();
    relabelled.batch_digest = b2.digest.clone();
    let e = batch::import_approval(&t.ws, &serde_json::to_vec(&relabelled).unwrap(), &op(now()))
        .unwrap_err();
    assert_eq!(code(e), ErrorCode::ApprovalInvalid);
}

#[test]
fn tampering_with_a_stored_batch_is_caught_when_it_is_loaded() {
    let s = Seed::new();
    let b = s.prepare();
    let approved = batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    assert_eq!(approved.state, BatchState::Approved);
    let c = s.t.ws.connection();
    // Triggers refuse ordinary edits…
    assert!(
        c.execute(
            "UPDATE payout_lines SET payable = payable + 100 WHERE line_no = 1",
            []
        )
        .is_err()
    );
    assert!(c.execute("DELETE FROM payout_decisions", []).is_err());
    assert!(
        c.execute(
            "UPDATE payout_batches SET totals = '{}' WHERE id = ?1",
            [&b.id]
        )
        .is_err()
    );
    assert!(
        c.execute(
            "UPDATE payout_batches SET state = 'draft' WHERE id = ?1",
            [&b.id]
        )
        .is_ok(),
        "state moves are the engine's to check"
    );
    c.execute(
        "UPDATE payout_batches SET state = 'approved' WHERE id = ?1",
        [&b.id],
    )
    .unwrap();
    // …and someone who drops them is caught on the next load.
    for (what, sql) in [
        (
            "a line",
            "UPDATE payout_lines SET payable = payable + 100, net = net + 100 WHERE line_no = 1",
        ),
        (
            "a locked allocation",
            "UPDATE payout_locked_allocations SET amount = amount + 1 WHERE id = 'al_01'",
        ),
        (
            "a signature",
            "UPDATE payout_decisions SET signed_at = signed_at + 1",
        ),
    ] {
        c.execute_batch(
            "DROP TRIGGER payout_lines_frozen; DROP TRIGGER payout_locked_allocations_frozen; DROP TRIGGER payout_decisions_frozen;",
        )
        .unwrap();
        c.execute(sql, []).unwrap();
        let e = batch::load(&s.t.ws, &b.id).unwrap_err();
        assert_eq!(code(e), ErrorCode::LedgerInvariant, "{what}");
        // Put it back for the next case.
        c.execute(
            match what {
                "a line" => "UPDATE payout_lines SET payable = payable - 100, net = net - 100 WHERE line_no = 1",
                "a locked allocation" => "UPDATE payout_locked_allocations SET amount = amount - 1 WHERE id = 'al_01'",
                _ => "UPDATE payout_decisions SET signed_at = signed_at - 1",
            },
            [],
        )
        .unwrap();
        batch::load(&s.t.ws, &b.id).unwrap();
        c.execute_batch(
            "CREATE TRIGGER payout_lines_frozen BEFORE UPDATE ON payout_lines BEGIN SELECT RAISE(ABORT, 'x'); END;
             CREATE TRIGGER payout_locked_allocations_frozen BEFORE UPDATE ON payout_locked_allocations BEGIN SELECT RAISE(ABORT, 'x'); END;
             CREATE TRIGGER payout_decisions_frozen BEFORE UPDATE ON payout_decisions BEGIN SELECT RAISE(ABORT, 'x'); END;",
        )
        .unwrap();
    }
}

#[test]
fn approval_needs_a_covering_stripe_balance() {
    // Stripe holds only $5,000 of the $6,510 to pay (a $5,000 payout left the balance).
    let mut t = workspace(Mode::Test);
    for (kind, name) in [
        (Kind::Accounts, "accounts.csv"),
        (Kind::Ledger, "ledger.csv"),
        (Kind::Balances, "balances.csv"),
        (Kind::Allocations, "allocations.csv"),
    ] {
        let path = repo_root().join("fixtures/seed-example").join(name);
        ingest::import_file(&mut t.ws, kind, &path, Some(Format::Csv), &op(now())).unwrap();
    }
    people::add(
        &t.ws,
        &t.secrets,
        "Pat",
        Role::Preparer,
        [1; 32],
        None,
        &op(now()),
    )
    .unwrap();
    people::add(
        &t.ws,
        &t.secrets,
        "Avery",
        Role::Approver,
        [2; 32],
        None,
        &op(now()),
    )
    .unwrap();
    // Until an admin roots the signed roster, no one is vouched for and no one acts.
    let e = batch::prepare(&t.ws, &signer(&t, "Pat"), "2024-12", None, &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    people::add(
        &t.ws,
        &t.secrets,
        "Kim",
        Role::Admin,
        [3; 32],
        None,
        &op(now()),
    )
    .unwrap();
    let b = batch::prepare(&t.ws, &signer(&t, "Pat"), "2024-12", None, &op(now())).unwrap();
    // No sync yet: no balance known.
    let e = batch::approve(&t.ws, &signer(&t, "Avery"), &b.id, &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidState);
    assert!(
        e_msg(batch::approve(
            &t.ws,
            &signer(&t, "Avery"),
            &b.id,
            &op(now())
        ))
        .contains("sync Stripe")
    );
    let mut ds = seed_dataset();
    ds.activity.push(StripeActivity {
        id: "txn_seed004_payout".into(),
        kind: "payout".into(),
        reporting_category: "payout".into(),
        source: "po_seed004".into(),
        amount: -500_000,
        fee: 0,
        net: -500_000,
        currency: "usd".into(),
        created: "2024-12-30T10:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_second(),
        available_on: "2024-12-30T10:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_second(),
        destination: None,
        event_id: "evt_seed004_payout".into(),
        event_type: "payout.paid".into(),
        charge: None,
        payout: None,
    });
    let sim = Simulator::spawn_thread(ds, SimConfig::test().with_now(now().as_second())).unwrap();
    sync(&mut t, &sim);
    // Before the sync no account was known, so nothing was payable; prepared again now.
    assert_eq!(b.totals.paid, 0);
    assert!(
        b.lines
            .iter()
            .all(|l| l.held == Some(Held::AccountNotSynced))
    );
    let b = batch::prepare(&t.ws, &signer(&t, "Pat"), "2024-12", None, &op(now())).unwrap();
    assert_eq!(b.totals.paid, 651_000);
    let p = batch::preview(&t.ws, &b.id).unwrap();
    assert_eq!(p.coverage.available, Some(500_000));
    assert!(!p.coverage.covered);
    let e = batch::approve(&t.ws, &signer(&t, "Avery"), &b.id, &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidState);
    assert_eq!(count(&t.ws, "payout_decisions"), 0);
}

#[test]
fn ineligible_and_small_creators_carry_over_and_the_what_if_saves_nothing() {
    // c5's account is restricted at Stripe (transfers inactive).
    let s = Seed::with(|c| c.with_restricted_account("acct_seed004c5"));
    let b = batch::prepare(
        &s.t.ws,
        &s.signer("Pat Preparer"),
        "2024-12",
        Some(Params {
            minimum_minor: 100_000,
            ..Params::default()
        }),
        &op(now()),
    )
    .unwrap();
    let held: Vec<(&str, Option<Held>)> = b
        .lines
        .iter()
        .map(|l| (l.creator.as_str(), l.held))
        .collect();
    assert_eq!(
        held,
        vec![
            ("c1", None),
            ("c2", None),
            ("c3", Some(Held::BelowMinimum)),
            ("c4", None),
            ("c5", Some(Held::TransfersInactive)),
        ]
    );
    assert_eq!(b.totals.carried_out, 97_650 + 83_700);
    let before = count(&s.t.ws, "payout_lines");
    let w = batch::what_if(
        &s.t.ws,
        &b.id,
        Params {
            fee_bps: 500,
            minimum_minor: 0,
            ..b.params
        },
    )
    .unwrap();
    assert_eq!(w.totals.fees, 35_000);
    assert_eq!(
        w.lines.iter().filter(|l| l.held.is_some()).count(),
        1,
        "only c5 is still held"
    );
    assert_eq!(count(&s.t.ws, "payout_lines"), before);
    assert_eq!(batch::load(&s.t.ws, &b.id).unwrap().totals, b.totals);

    // Paid: three lines. Next month the carried-over amounts come back as carried in.
    batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    let r = s.execute(&b.id).unwrap();
    assert_eq!((r.paid_total, r.state), (3, BatchState::Done));
    assert_eq!(balance(&s.t, "liabilities:creators:c3"), -97_650);
    assert_eq!(balance(&s.t, "liabilities:creators:c5"), -83_700);
    let later: Timestamp = "2025-02-02T09:00:00Z".parse().unwrap();
    let jan = batch::prepare(
        &s.t.ws,
        &s.signer("Pat Preparer"),
        "2025-01",
        None,
        &op(later),
    )
    .unwrap();
    let c3 = jan.lines.iter().find(|l| l.creator == "c3").unwrap();
    assert_eq!(
        (c3.gross, c3.carried_in, c3.payable, c3.held),
        (0, 97_650, 97_650, None)
    );
    assert_eq!(jan.totals.carried_in, 97_650 + 83_700);
    let p = batch::preview(&s.t.ws, &jan.id).unwrap();
    assert_eq!(p.previous_batch.as_deref(), Some(b.id.as_str()));
}

#[test]
fn failures_are_retried_with_the_same_key_and_final_ones_wait_for_a_person() {
    let s = Seed::new();
    let b = s.prepare();
    batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    // Every retryable failure on the first transfers, and a reset after Stripe processed
    // one: each line still ends up paid once.
    let base = s.sim.next_ordinal();
    s.sim
        .set_faults(
            FaultPlan::none()
                .at(base, FaultKind::Status(500))
                .at(base + 1, FaultKind::RateLimited)
                .at(base + 2, FaultKind::ConnectionResetAfterProcessing)
                .at(base + 4, FaultKind::Timeout)
                .at(base + 6, FaultKind::TruncatedBody),
        )
        .unwrap();
    let r = s.execute(&b.id).unwrap();
    assert_eq!((r.paid_total, r.state), (5, BatchState::Done));
    let made = s.sim.transfers_created();
    assert_eq!(made.len(), 5, "no line paid twice: {made:#?}");
}

#[test]
fn a_final_refusal_fails_the_line_until_a_person_retries_it() {
    let s = Seed::new();
    let b = s.prepare();
    batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    // c2's account was restricted after the lock: Stripe refuses its transfer.
    assert!(s.sim.set_account_restricted("acct_seed004c2", true));
    let r = s.execute(&b.id).unwrap();
    assert_eq!(
        (r.paid_total, r.failed_total, r.state),
        (4, 1, BatchState::Executing)
    );
    let loaded = batch::load(&s.t.ws, &b.id).unwrap();
    let failed = loaded
        .executions
        .iter()
        .find(|e| e.state == "failed")
        .unwrap();
    assert_eq!(failed.line_no, 2);
    assert!(
        failed.failure.as_deref().unwrap().contains("400"),
        "{failed:?}"
    );
    // Running again does not retry it by itself.
    let r = s.execute(&b.id).unwrap();
    assert_eq!((r.paid_now, r.failed_total), (0, 1));
    assert_eq!(s.sim.transfers_created().len(), 4);
    // A person retries it once the account is fixed.
    assert!(s.sim.set_account_restricted("acct_seed004c2", false));
    let e = execute::retry_failed(
        &s.t.ws,
        &s.signer("Pat Preparer"),
        &b.id,
        Some(&[1]),
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(
        code(e),
        ErrorCode::InvalidState,
        "line 1 was paid, not failed"
    );
    let e = execute::retry_failed(&s.t.ws, &s.signer("Ada Auditor"), &b.id, None, &op(now()))
        .unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    assert_eq!(
        execute::retry_failed(&s.t.ws, &s.signer("Pat Preparer"), &b.id, None, &op(now())).unwrap(),
        vec![2]
    );
    let r = s.execute(&b.id).unwrap();
    assert_eq!((r.paid_total, r.state), (5, BatchState::Done));
    assert_eq!(s.sim.transfers_created().len(), 5);
}

#[test]
fn a_line_sent_before_a_crash_is_found_at_stripe_even_after_the_idempotency_window() {
    let s = Seed::with(|c| c.with_idempotency_window_secs(60));
    let b = s.prepare();
    batch::approve(&s.t.ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    // Simulate a crash right after Stripe made line 1's transfer: the request is answered,
    // but the process dies before recording it (the execution row says `sent`).
    let base = s.sim.next_ordinal();
    s.sim
        .set_faults(FaultPlan::none().at(base, FaultKind::ConnectionResetAfterProcessing))
        .unwrap();
    let mut options = ExecuteOptions::new(&s.sim.url(), false);
    options.limits.max_attempts = 1;
    options.limits.requests_per_second = 1_000;
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &ExecuteProgress| {};
    let e = execute::execute(
        &s.t.ws,
        &s.signer("Pat Preparer"),
        &key(),
        &b.id,
        &options,
        &op(now()),
        &mut ExecuteControl {
            progress: &mut progress,
            cancel: &cancel,
        },
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::StripeUnavailable);
    assert_eq!(s.sim.transfers_created().len(), 1);
    assert_eq!(count(&s.t.ws, "payout_executions WHERE state = 'sent'"), 1);
    // A day later Stripe has forgotten the key; the transfer is found by its group instead.
    s.sim.advance(86_400 * 2);
    let r = s.execute(&b.id).unwrap();
    assert_eq!((r.adopted, r.paid_total, r.state), (1, 5, BatchState::Done));
    assert_eq!(
        s.sim.transfers_created().len(),
        5,
        "line 1 was not paid twice"
    );
}

#[test]
fn withdrawal_requests_are_lines_of_their_own() {
    let s = Seed::new();
    let mut t = s.t;
    // The ledger already owes c1 $300 from before; c1 asks to withdraw $250, c2 (owed
    // nothing earlier) $100.
    let owed = common::write(
        t.dir.path(),
        "owed.csv",
        "entry_id,account,amount_minor,currency,entry_type,created_at\n\
         old_c1,liabilities:subscribers:u99,30000,usd,allocation,2024-11-30T12:00:00Z\n\
         old_c1,liabilities:creators:c1,-30000,usd,allocation,2024-11-30T12:00:00Z\n",
    );
    ingest::import_file(
        &mut t.ws,
        Kind::Ledger,
        &owed,
        Some(Format::Csv),
        &op(now()),
    )
    .unwrap();
    let wd = common::write(
        t.dir.path(),
        "wd.csv",
        "id,user_id,amount_minor,currency,status,requested_at\n\
         wd_1,c1,25000,usd,pending,2024-12-10T10:00:00Z\n\
         wd_2,c2,10000,usd,pending,2024-12-11T10:00:00Z\n\
         wd_3,c3,5000,usd,rejected,2024-12-12T10:00:00Z\n",
    );
    ingest::import_file(
        &mut t.ws,
        Kind::Withdrawals,
        &wd,
        Some(Format::Csv),
        &op(now()),
    )
    .unwrap();
    let b = batch::prepare(
        &t.ws,
        &signer(&t, "Pat Preparer"),
        "2024-12",
        None,
        &op(now()),
    )
    .unwrap();
    let w: Vec<(&str, i64, Option<Held>)> = b
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Withdrawal)
        .map(|l| (l.reference.as_deref().unwrap(), l.payable, l.held))
        .collect();
    assert_eq!(
        w,
        vec![("wd_1", 25_000, None), ("wd_2", 0, Some(Held::ExceedsOwed))]
    );
    let c1 = &b.lines[0];
    assert_eq!(
        (c1.carried_in, c1.withdrawn, c1.payable),
        (30_000, 25_000, 186_000 + 5_000)
    );
    assert_eq!(b.totals.paid, 651_000 + 30_000);
}

#[test]
fn a_month_that_is_not_over_or_overallocated_is_refused_with_nothing_written() {
    let s = Seed::new();
    let mut t = s.t;
    let during: Timestamp = "2024-12-20T09:00:00Z".parse().unwrap();
    let e = batch::prepare(
        &t.ws,
        &signer(&t, "Pat Preparer"),
        "2024-12",
        None,
        &op(during),
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidState);
    let e = batch::prepare(
        &t.ws,
        &signer(&t, "Pat Preparer"),
        "2024-13",
        None,
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::InvalidInput);
    let over = common::write(
        t.dir.path(),
        "over.csv",
        "id,user_id,page_id,author_id,amount_cents,month,updated_at\n\
         al_50,u03,page_c1_1,c1,1,2024-12,2024-12-30T10:00:00Z\n",
    );
    ingest::import_file(
        &mut t.ws,
        Kind::Allocations,
        &over,
        Some(Format::Csv),
        &op(now()),
    )
    .unwrap();
    let e = batch::prepare(
        &t.ws,
        &signer(&t, "Pat Preparer"),
        "2024-12",
        None,
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(
        e.to_string()
            .contains("u03 allocated 100001 of a balance of 100000"),
        "{e}"
    );
    assert_eq!(count(&t.ws, "payout_batches"), 0);
    assert_eq!(count(&t.ws, "payout_locked_allocations"), 0);
}

/// An "approval file" that never ends (a device) or never starts (a named pipe nobody
/// writes to), or is too large, is refused without being read whole or waited for.
#[cfg(unix)]
#[test]
fn an_endless_approval_file_is_refused_without_being_read_whole() {
    let s = Seed::new();
    let e = batch::read_approval_file(std::path::Path::new("/dev/zero")).unwrap_err();
    assert_eq!(code(e), ErrorCode::ApprovalInvalid);
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("approval.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = batch::read_approval_file(&fifo).unwrap_err();
    assert_eq!(code(e), ErrorCode::ApprovalInvalid);
    let big = tmp.path().join("big.json");
    std::fs::write(&big, vec![b' '; batch::MAX_APPROVAL_FILE + 1]).unwrap();
    let e = batch::read_approval_file(&big).unwrap_err();
    assert_eq!(code(e), ErrorCode::ApprovalInvalid);
    let e = batch::import_approval(
        &s.t.ws,
        &vec![b' '; batch::MAX_APPROVAL_FILE + 1],
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::ApprovalInvalid);
}

/// An import of a device or a named pipe (as the desktop's path field allows) is refused
/// at once, naming the path, with nothing written.
#[cfg(unix)]
#[test]
fn an_import_of_a_device_or_a_pipe_is_refused_at_once() {
    use closebook_engine::ingest::{self, Kind};
    let mut s = Seed::new();
    let before = count(&s.t.ws, "imports");
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("ledger.csv");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for path in [std::path::Path::new("/dev/zero"), fifo.as_path()] {
        let e = ingest::import_file(
            &mut s.t.ws,
            Kind::Ledger,
            path,
            Some(ingest::Format::Csv),
            &op(now()),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("not a regular file") && msg.contains(&path.display().to_string()),
            "{msg}"
        );
    }
    assert_eq!(count(&s.t.ws, "imports"), before);
}

/// Security review #1 (the part that needs no signed roster yet): whoever holds the
/// database key and their own signing key cannot approve their own batch, count one
/// approver twice, or approve without the role — each load proves maker–checker again from
/// the signed decisions alone, whatever the table holds, and nothing is paid.
#[test]
fn forged_approvals_in_the_table_are_caught_on_load() {
    for (who, legit_first, expect) in [
        ("Pat Preparer", false, "own preparer"),
        ("Ada Auditor", false, "without the approver or admin role"),
        ("Avery Approver", true, "approved it twice"),
        ("Mallory", false, "not on the roster an admin signed"),
    ] {
        let s = Seed::new();
        let ws = &s.t.ws;
        let ws_id = ws.info().id.clone();
        let b = s.prepare();
        if legit_first {
            batch::approve(ws, &s.signer(who), &b.id, &op(now())).unwrap();
        }
        if who == "Mallory" {
            // A fake approver: a row written with the database key, holding a key pair of
            // the attacker's own making (its private half in the attacker's keychain).
            plant_unvouched_approver(&s, who, [66; 32]);
            let e = batch::approve(ws, &s.signer(who), &b.id, &op(now())).unwrap_err();
            assert!(e.to_string().contains("no admin has signed"), "{e}");
            assert_eq!(code(e), ErrorCode::PermissionDenied);
        }
        // A decision signed with a person's own key, written straight into the table, and
        // the batch moved to approved.
        let signer = s.signer(who);
        let at_us = now().as_microsecond() + 1;
        let nonce = format!("forged-{}", at_us);
        let msg = batch::statement(&ws_id, &b.id, &b.digest, "approve", who, "", at_us, &nonce);
        let c = ws.connection();
        c.execute(
            "INSERT INTO payout_decisions (batch_id, batch_digest, person, public_key, decision, reason, signed_at, nonce, signature, recorded_at, via)
             VALUES (?1, ?2, ?3, ?4, 'approve', NULL, ?5, ?6, ?7, ?5, 'here')",
            rusqlite::params![b.id, b.digest, who, signer.person.public_key, at_us, nonce, signer.sign(&msg)],
        )
        .unwrap();
        c.execute(
            "UPDATE payout_batches SET state = 'approved' WHERE id = ?1 AND state = 'draft'",
            [&b.id],
        )
        .unwrap();
        let e = batch::load(ws, &b.id).unwrap_err();
        assert!(e.to_string().contains(expect), "{who}: {e}");
        assert_eq!(code(e), ErrorCode::LedgerInvariant, "{who}");
        assert!(s.execute(&b.id).is_err(), "{who}: nothing is executed");
        assert!(
            s.sim.transfers_created().is_empty(),
            "{who}: nothing is paid"
        );
    }
}

/// Writes a roster row straight into the table (as whoever holds the database key can), with
/// a key pair of one's own making whose private half goes to this keychain.
fn plant_unvouched_approver(s: &Seed, name: &str, seed: [u8; 32]) -> String {
    use closebook_engine::secrets::SecretStore as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let pk = hex::encode(key.verifying_key().to_bytes());
    s.t.secrets
        .set(
            &people::keychain_name(&s.t.ws.info().id, &pk),
            &hex::encode(seed),
        )
        .unwrap();
    s.t.ws
        .connection()
        .execute(
            "INSERT INTO people (name, role, public_key, added_at, added_by) VALUES (?1, 'approver', ?2, 0, 'person:Kim Admin')",
            rusqlite::params![name, pk],
        )
        .unwrap();
    pk
}

#[test]
fn the_roster_is_signed_by_admins_and_an_edit_to_it_is_caught() {
    let s = Seed::new();
    let ws = &s.t.ws;
    // The seed's people were added while setting up; the first admin, Kim, rooted the signed
    // roster with their own record and vouched for everyone added before.
    let roster = people::signed_roster(ws).unwrap();
    assert_eq!(roster.root(), Some("Kim Admin"));
    let listed = people::list(ws, None).unwrap();
    assert!(
        listed
            .iter()
            .all(|p| p.vouched_by.as_deref() == Some("Kim Admin")),
        "{listed:?}"
    );
    assert!(listed.iter().all(|p| p.fingerprint.len() == 19));
    // From now on an admin signs every addition.
    let kim = s.signer("Kim Admin");
    let quinn = people::add(
        ws,
        &s.t.secrets,
        "Quinn",
        Role::Approver,
        [40; 32],
        Some(&kim),
        &op(now()),
    )
    .unwrap();
    assert_eq!(quinn.vouched_by.as_deref(), Some("Kim Admin"));

    // A row written by hand is listed but acts on nothing, until an admin vouches for it.
    plant_unvouched_approver(&s, "Mallory", [66; 32]);
    let m = people::get(ws, "Mallory").unwrap().unwrap();
    assert_eq!(m.vouched_by, None);
    let b = s.prepare();
    let e = batch::approve(ws, &s.signer("Mallory"), &b.id, &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    // A preparer cannot vouch; an admin names whom they vouch for; a second time is a no-op.
    let e = people::vouch(
        ws,
        &s.signer("Pat Preparer"),
        &["Mallory".into()],
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    let e = people::vouch(ws, &kim, &["Nobody".into()], &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::NotFound);
    assert_eq!(
        people::vouch(ws, &kim, &["Mallory".into()], &op(now())).unwrap(),
        vec!["Mallory".to_string()]
    );
    assert!(
        people::vouch(ws, &kim, &["Mallory".into()], &op(now()))
            .unwrap()
            .is_empty()
    );
    batch::approve(ws, &s.signer("Mallory"), &b.id, &op(now())).unwrap();
    batch::load(ws, &b.id).unwrap();

    // Each edit to what was signed is caught by every reader of the roster (and so by every
    // batch load), naming what is wrong.
    let c = ws.connection();
    let edits: [(&str, &str); 4] = [
        (
            "UPDATE people SET role = 'approver' WHERE name = 'Pat Preparer'",
            "differs from the record an admin signed",
        ),
        (
            "DROP TRIGGER roster_records_no_delete; DELETE FROM roster_records WHERE seq = 3",
            "out of sequence",
        ),
        (
            "DROP TRIGGER roster_records_no_update; UPDATE roster_records SET role = 'admin' WHERE name = 'Pat Preparer'",
            "is not signed by the key it names",
        ),
        (
            "DELETE FROM people WHERE name = 'Quinn'",
            "missing from the roster",
        ),
    ];
    for (sql, expect) in edits {
        let tx = c.unchecked_transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        let e = batch::load(ws, &b.id).unwrap_err();
        assert!(e.to_string().contains(expect), "{sql}: {e}");
        assert_eq!(code(e), ErrorCode::LedgerInvariant);
        assert!(people::list(ws, None).is_err(), "{sql}");
        tx.rollback().unwrap();
    }
    // A record signed by a vouched non-admin (Pat) for a new approver is no admin's.
    let pat = s.signer("Pat Preparer");
    let forged = people::add(
        ws,
        &s.t.secrets,
        "Eve",
        Role::Approver,
        [77; 32],
        Some(&pat),
        &op(now()),
    );
    assert_eq!(code(forged.unwrap_err()), ErrorCode::PermissionDenied);
    let tx = c.unchecked_transaction().unwrap();
    let (seq, prev): (i64, String) = tx
        .query_row(
            "SELECT COUNT(*) + 1, (SELECT hash FROM roster_records ORDER BY seq DESC LIMIT 1) FROM roster_records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let eve_key = hex::encode([9u8; 32]);
    let at = now().as_microsecond();
    let msg = format!(
        "closebook roster record 1\nworkspace {}\nseq {seq}\nprev {prev}\nkind add\nname Eve\nrole approver\nkey {eve_key}\nat {at}\nby {}",
        ws.info().id,
        pat.person.public_key
    );
    let sig = pat.sign(msg.as_bytes());
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(format!(
        "{msg}\nsignature {sig}"
    )));
    tx.execute(
        "INSERT INTO roster_records (seq, kind, name, role, public_key, at, signed_by, prev, signature, hash)
         VALUES (?1, 'add', 'Eve', 'approver', ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![seq, eve_key, at, pat.person.public_key, prev, sig, hash],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO people (name, role, public_key, added_at, added_by) VALUES ('Eve', 'approver', ?1, 0, 'x')",
        [&eve_key],
    )
    .unwrap();
    let e = people::signed_roster(ws).unwrap_err();
    assert!(e.to_string().contains("no admin's"), "{e}");
    tx.rollback().unwrap();
    batch::load(ws, &b.id).unwrap();
}

#[test]
fn a_roster_from_before_signed_rosters_is_vouched_for_by_its_admin() {
    // A workspace whose people were added before the roster was signed: the same people,
    // no records (dropping the guard as the migration found them).
    let s = Seed::new();
    let ws = &s.t.ws;
    ws.connection()
        .execute_batch("DROP TRIGGER roster_records_no_delete; DELETE FROM roster_records;")
        .unwrap();
    let listed = people::list(ws, None).unwrap();
    assert!(listed.iter().all(|p| p.vouched_by.is_none()));
    // No one acts, and what to do is said.
    let e = batch::prepare(ws, &s.signer("Pat Preparer"), "2024-12", None, &op(now())).unwrap_err();
    assert!(e.to_string().contains("people vouch"), "{e}");
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    // A non-admin cannot root the roster; the admin does, vouching for whom they name.
    let e = people::vouch(
        ws,
        &s.signer("Avery Approver"),
        &["Pat Preparer".into()],
        &op(now()),
    )
    .unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
    let done = people::vouch(
        ws,
        &s.signer("Kim Admin"),
        &["Pat Preparer".into(), "Avery Approver".into()],
        &op(now()),
    )
    .unwrap();
    assert_eq!(done, ["Avery Approver", "Kim Admin", "Pat Preparer"]);
    assert_eq!(people::signed_roster(ws).unwrap().root(), Some("Kim Admin"));
    assert_eq!(
        people::signed_roster(ws).unwrap().unvouched(),
        ["Ada Auditor", "Sam Second"]
    );
    let b = s.prepare();
    batch::approve(ws, &s.signer("Avery Approver"), &b.id, &op(now())).unwrap();
    let e = batch::approve(ws, &s.signer("Sam Second"), &b.id, &op(now())).unwrap_err();
    assert_eq!(code(e), ErrorCode::PermissionDenied);
}
