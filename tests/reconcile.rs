//! Reconciliation's two sides on the demo platform, with Stripe's side mirrored from the
//! Stripe simulator through the real sync.

use std::sync::atomic::AtomicBool;

use closebook_engine::generate::{PlatformSpec, generate};
use closebook_engine::ledger;
use closebook_engine::reconcile::exceptions;
use closebook_engine::reconcile::{
    self, ExceptionFilter, Kind, STRIPE_BALANCE_ACCOUNTS, StateFilter, Status,
};
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::stripe::{self, StripeKey, SyncControl};
use closebook_engine::workspace::{KeySource, Workspace};
use closebook_engine::{OpContext, demo};
use closebook_stripe_sim::{Dataset, SimConfig, Simulator};
use jiff::Timestamp;
use jiff::civil::date;

fn synced_demo(dir: &std::path::Path) -> Workspace {
    let now = Timestamp::now();
    let ctx = OpContext::new("test", now);
    let (mut ws, _) = demo::open_or_create(dir, &KeySource::Keychain, &MemorySecrets::new(), &ctx)
        .expect("demo workspace");
    let sim = Simulator::spawn_thread(Dataset::demo(), SimConfig::test().with_now(now.as_second()))
        .expect("simulator");
    let options = demo::sync_options(&sim.url());
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let key = StripeKey::parse(closebook_stripe_sim::DEFAULT_TEST_KEY).unwrap();
    stripe::sync(&mut ws, &key, &options, &ctx, &mut control).expect("sync");
    ws
}

#[test]
fn both_sides_add_up_from_their_sources_at_the_end_of_each_day() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = synced_demo(&tmp.path().join("ws"));
    let activity = generate(&PlatformSpec::demo()).stripe;
    for day in [
        date(2026, 8, 15),
        date(2026, 9, 30),
        date(2026, 10, 19),
        date(2026, 10, 31),
    ] {
        let at = ws.end_of_day(day).unwrap();
        let rows = reconcile::day_balances(&ws, day).unwrap();
        assert_eq!(rows.len(), 1, "{day}: USD only");
        let usd = &rows[0];
        assert_eq!(usd.currency, "usd");
        // Stripe's side is the net of what Stripe had booked by then, split by availability.
        let created: Vec<_> = activity
            .iter()
            .filter(|a| a.created <= at.as_second())
            .collect();
        let available: i64 = created
            .iter()
            .filter(|a| a.available_on <= at.as_second())
            .map(|a| a.net)
            .sum();
        let total: i64 = created.iter().map(|a| a.net).sum();
        assert_eq!(usd.stripe_available, available, "{day}");
        assert_eq!(usd.stripe_total, total, "{day}");
        assert_eq!(usd.stripe_available + usd.stripe_pending, usd.stripe_total);
        // The ledger's side is the Stripe-balance accounts as of the same instant.
        let ledger_total: i64 = ledger::balances(&ws, Some(at), Some(STRIPE_BALANCE_ACCOUNTS))
            .unwrap()
            .iter()
            .map(|b| b.balance.minor)
            .sum();
        assert_eq!(usd.ledger, ledger_total, "{day}");
        assert_eq!(usd.difference, usd.stripe_total - usd.ledger, "{day}");
    }
    // The planted inconsistencies leave a difference to explain at month end.
    let end = &reconcile::day_balances(&ws, date(2026, 10, 31)).unwrap()[0];
    assert_ne!(end.difference, 0);
    // Before any activity both sides are empty.
    assert!(
        reconcile::day_balances(&ws, date(2026, 7, 1))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_mirror_matches_the_live_balance_and_a_missing_row_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = synced_demo(&tmp.path().join("ws"));
    let checks = reconcile::check_mirror(&ws).unwrap();
    assert_eq!(checks.len(), 1);
    assert!(checks[0].complete(), "{checks:?}");
    assert_eq!(checks[0].live, checks[0].mirrored);
    // A balance transaction the mirror lost shows as missing, to the cent.
    let (id, net): (String, i64) = ws
        .connection()
        .query_row(
            "SELECT id, net FROM stripe_balance_transactions WHERE type = 'charge' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    ws.connection()
        .execute(
            "DELETE FROM stripe_balance_transactions WHERE id = ?1",
            [&id],
        )
        .unwrap();
    let checks = reconcile::check_mirror(&ws).unwrap();
    assert!(!checks[0].complete());
    assert_eq!(checks[0].missing, net);
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The demo reconciled day by day from its first day to the end of October.
fn reconciled_demo(dir: &std::path::Path) -> Workspace {
    let ws = synced_demo(dir);
    let ctx = OpContext::new("test", at("2026-11-01T12:00:00Z"));
    let report = reconcile::snapshot::catch_up(&ws, &ctx, &mut |_| {}, &AtomicBool::new(false))
        .expect("catch-up");
    assert_eq!(report.days.first().map(|d| d.day), Some(date(2026, 8, 1)));
    assert_eq!(report.last_day, Some(date(2026, 10, 31)));
    assert_eq!(report.days.len(), 92);
    ws
}

#[test]
fn every_planted_inconsistency_is_found_with_its_kind_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = reconciled_demo(&tmp.path().join("ws"));
    let anomalies: serde_json::Value = serde_json::from_slice(demo::ANOMALIES).unwrap();
    let mut expected: Vec<(String, String, Vec<String>)> = anomalies
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["stripe_object_id"].as_str().unwrap().to_string(),
                a["entry_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    expected.sort();
    let filter = ExceptionFilter {
        state: StateFilter::All,
        ..Default::default()
    };
    let mut found: Vec<(String, String, Vec<String>)> = exceptions::list(&ws, &filter)
        .unwrap()
        .into_iter()
        .map(|x| {
            let e = x.exception;
            (
                e.kind.name().to_string(),
                e.stripe_object.unwrap_or_default(),
                e.evidence.ledger_entries,
            )
        })
        .collect();
    found.sort();
    assert_eq!(found.len(), expected.len(), "{found:?}");
    for ((kind, object, entries), (k, o, e)) in found.iter().zip(&expected) {
        assert_eq!((kind, object), (k, o));
        // The entries at fault are named; a late booking names all its entries.
        if kind == "timing_difference" {
            assert!(
                e.iter().all(|x| entries.contains(x)),
                "{kind} {object}: {entries:?}"
            );
        } else {
            assert_eq!(entries, e, "{kind} {object}");
        }
    }
    // Every day's difference is explained to the cent.
    for d in reconcile::snapshot::history(&ws).unwrap() {
        assert_ne!(d.status, Status::Unexplained, "{}", d.day);
        assert!(d.currencies.iter().all(|c| c.remainder == 0), "{}", d.day);
    }
    // Before the first planted inconsistency the books agree.
    let sep = reconcile::snapshot::latest_of(&ws, date(2026, 9, 30))
        .unwrap()
        .unwrap();
    assert_eq!(sep.status, Status::Balanced, "{:?}", sep.exceptions);
    // The timing difference shows on its day only; the rest stay to the end.
    let oct19 = reconcile::snapshot::latest_of(&ws, date(2026, 10, 19))
        .unwrap()
        .unwrap();
    assert!(
        oct19
            .exceptions
            .iter()
            .any(|e| e.kind == Kind::TimingDifference)
    );
    let end = reconcile::snapshot::latest_of(&ws, date(2026, 10, 31))
        .unwrap()
        .unwrap();
    assert_eq!(end.status, Status::Explained);
    assert!(
        end.exceptions
            .iter()
            .all(|e| e.kind != Kind::TimingDifference)
    );
    assert_eq!(end.exceptions.len(), 7);
    let usd = &end.currencies[0];
    let explained: i64 = usd.explained.iter().map(|(_, v)| v).sum();
    assert_eq!(explained, usd.difference);
    assert_eq!(usd.remainder, 0);
    // Recomputing a day from the same rows gives the same digest and saves nothing new.
    let ctx = OpContext::new("test", at("2026-11-02T09:00:00Z"));
    let dry = reconcile::snapshot::compute(&ws, date(2026, 10, 31), &ctx).unwrap();
    assert_eq!(dry.digest, end.digest);
    assert_eq!(dry.currencies, end.currencies);
    let again = reconcile::snapshot::take(&ws, date(2026, 10, 31), &ctx).unwrap();
    assert!(again.unchanged);
    assert_eq!(again.version, 1);
}
