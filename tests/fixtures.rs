//! The fixtures are data with known answers: seed 004's figures, the demo's planted
//! anomalies, and the generator's promise that Stripe's side and the ledger agree.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::money::apply_bps_half_even;
use closebook_engine::workspace::Mode;
use closebook_engine::{demo, ledger};
use closebook_generate::{self as generate, PlatformSpec};
use common::{ctx, repo_root, workspace};
use proptest::prelude::*;

fn import_dir(t: &mut common::TestWorkspace, dir: &std::path::Path) {
    for kind in [
        Kind::Accounts,
        Kind::Ledger,
        Kind::Balances,
        Kind::Allocations,
        Kind::WebhookEvents,
        Kind::Withdrawals,
    ] {
        let name = match kind {
            Kind::Ledger => "ledger.csv",
            Kind::Balances => "balances.csv",
            Kind::Allocations => "allocations.csv",
            Kind::Accounts => "accounts.csv",
            Kind::WebhookEvents => "webhook_events.csv",
            Kind::Withdrawals => "withdrawals.csv",
        };
        let path = dir.join(name);
        if path.exists() {
            ingest::import_file(&mut t.ws, kind, &path, Some(Format::Csv), &ctx()).unwrap();
        }
    }
}

#[test]
fn seed_004_example_gives_exactly_its_figures() {
    let mut t = workspace(Mode::Test);
    import_dir(&mut t, &repo_root().join("fixtures/seed-example"));
    let c = t.ws.connection();
    let (subscriptions, allocated): (i64, i64) = c
        .query_row("SELECT sum(total_usd_cents), sum(allocated_usd_cents) FROM platform_balances WHERE month = '2024-12'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(subscriptions, 1_000_000);
    assert_eq!(allocated, 700_000);
    let mut stmt = c.prepare("SELECT author_id, sum(amount_cents) FROM platform_allocations WHERE month = '2024-12' GROUP BY author_id").unwrap();
    let lines: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let gross: i64 = lines.iter().map(|l| l.1).sum();
    let fees: i64 = lines
        .iter()
        .map(|l| apply_bps_half_even(l.1, 700).unwrap())
        .sum();
    assert_eq!(
        gross, allocated,
        "allocations agree with the balances' allocated totals"
    );
    assert_eq!(fees, 49_000);
    assert_eq!(gross - fees, 651_000);
    assert_eq!(subscriptions - allocated, 300_000);
    assert_eq!(fees + subscriptions - allocated, 349_000);
    // The ledger holds the month's subscription money, and it balances.
    let stripe = ledger::balances(&t.ws, None, Some("assets:stripe")).unwrap();
    assert_eq!(stripe[0].balance.minor, 1_000_000);
    assert_eq!(
        ledger::trial_balance(&t.ws, None).unwrap().totals[0]
            .debits
            .minor,
        1_000_000
    );
}

#[test]
fn the_demo_fixture_is_exactly_what_the_generator_makes() {
    let tmp = tempfile::tempdir().unwrap();
    generate::write_files(&generate::generate(&PlatformSpec::demo()), tmp.path()).unwrap();
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let name = entry.unwrap().file_name();
        let fresh = std::fs::read(tmp.path().join(&name)).unwrap();
        let committed = std::fs::read(repo_root().join("fixtures/demo").join(&name)).unwrap();
        assert!(
            fresh == committed,
            "fixtures/demo/{} differs from the generator's output: regenerate with `closebook generate --demo --out fixtures/demo`",
            name.to_string_lossy()
        );
    }
}

#[derive(serde::Deserialize)]
struct Activity {
    source: String,
    amount: i64,
    fee: i64,
    net: i64,
}

#[derive(serde::Deserialize)]
struct Anomaly {
    kind: String,
    stripe_object_id: Option<String>,
    stripe_amount: Option<i64>,
    ledger_amount: Option<i64>,
}

#[test]
fn the_demo_readme_lists_every_planted_anomaly_and_they_explain_the_difference() {
    let anomalies: Vec<Anomaly> = serde_json::from_slice(demo::ANOMALIES).unwrap();
    let kinds: BTreeSet<&str> = anomalies.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "amount_mismatch",
            "duplicate",
            "fee_mismatch",
            "missed_webhook",
            "missing_in_ledger",
            "missing_in_stripe",
            "timing_difference"
        ]
        .into()
    );
    let readme = std::fs::read_to_string(repo_root().join("fixtures/demo/README.md")).unwrap();
    for a in &anomalies {
        assert!(
            readme.contains(a.stripe_object_id.as_deref().unwrap()),
            "README misses {:?}",
            a.stripe_object_id
        );
    }

    // Stripe's balance minus the ledger's Stripe balance is exactly what the anomalies say.
    let stripe: Vec<Activity> = demo::STRIPE_ACTIVITY
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let stripe_total: i64 = stripe.iter().map(|s| s.net).sum();
    let mut t = workspace(Mode::Test);
    for (kind, name, bytes) in demo::FILES {
        ingest::import_bytes(&mut t.ws, *kind, name, bytes, Format::Csv, &ctx()).unwrap();
    }
    let ledger_total = ledger::balances(&t.ws, None, Some("assets:stripe")).unwrap()[0]
        .balance
        .minor;
    let by_source: BTreeMap<&str, &Activity> =
        stripe.iter().map(|s| (s.source.as_str(), s)).collect();
    let mut explained = 0i64;
    for a in &anomalies {
        let id = a.stripe_object_id.as_deref().unwrap();
        explained += match a.kind.as_str() {
            "missed_webhook" | "missing_in_ledger" => by_source[id].net,
            "amount_mismatch" | "duplicate" => a.stripe_amount.unwrap() - a.ledger_amount.unwrap(),
            "fee_mismatch" => a.ledger_amount.unwrap() - a.stripe_amount.unwrap(),
            "missing_in_stripe" => -a.ledger_amount.unwrap(),
            "timing_difference" => 0, // same amount, another day: no difference over all time
            other => panic!("unexpected kind {other}"),
        };
    }
    assert_eq!(
        stripe_total - ledger_total,
        explained,
        "Stripe {stripe_total}, ledger {ledger_total}"
    );
    for s in &stripe {
        assert_eq!(s.amount - s.fee, s.net);
    }
}

#[test]
fn the_demo_has_a_creator_with_earnings_and_no_connected_account() {
    let mut t = workspace(Mode::Test);
    for (kind, name, bytes) in demo::FILES {
        ingest::import_bytes(&mut t.ws, *kind, name, bytes, Format::Csv, &ctx()).unwrap();
    }
    let c = t.ws.connection();
    let earned: i64 = c.query_row("SELECT coalesce(sum(amount_cents), 0) FROM platform_allocations WHERE author_id = 'cr_00050'", [], |r| r.get(0)).unwrap();
    let accounts: i64 = c
        .query_row(
            "SELECT count(*) FROM platform_connected_accounts WHERE author_id = 'cr_00050'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(earned > 0);
    assert_eq!(accounts, 0);
    // August and September were paid; October is open: no month-end entries dated November.
    let november = "2026-11-01T00:00:00-04:00"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_microsecond();
    let late: i64 = c
        .query_row("SELECT count(*) FROM ledger_postings WHERE entry_type IN ('allocation', 'transfer') AND created_at >= ?1", [november], |r| r.get(0))
        .unwrap();
    assert_eq!(late, 0);
}

fn small_spec() -> impl Strategy<Value = PlatformSpec> {
    (
        any::<u64>(),
        10u32..60,
        3u32..12,
        1u32..4,
        0u32..200,
        0u32..3,
    )
        .prop_map(
            |(seed, subscribers, creators, months, refunds, disputes)| PlatformSpec {
                seed,
                subscribers,
                creators,
                months,
                processed_months: months.saturating_sub(1),
                refunds_per_mille: refunds,
                disputes,
                creators_without_account: 1,
                ..PlatformSpec::scale(1_000, seed)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Without planted anomalies Stripe and the ledger agree: the same source objects, and
    /// Stripe's net balance equals the ledger's Stripe account to the cent.
    #[test]
    fn clean_generated_platforms_agree_with_stripe_and_import_cleanly(spec in small_spec()) {
        let p = generate::generate(&spec);
        prop_assert!(p.anomalies.is_empty());
        let stripe_net: i64 = p.stripe.iter().map(|s| s.net).sum();
        let ledger_stripe: i64 = p.ledger.iter().filter(|l| l.account.starts_with("assets:stripe")).map(|l| l.amount_minor).sum();
        prop_assert_eq!(stripe_net, ledger_stripe);
        let sources: BTreeSet<&str> = p.stripe.iter().map(|s| s.source.as_str()).collect();
        let booked: BTreeSet<&str> = p.ledger.iter().filter_map(|l| l.stripe_object_id.as_deref()).collect();
        prop_assert_eq!(sources, booked);

        let tmp = tempfile::tempdir().unwrap();
        generate::write_files(&p, tmp.path()).unwrap();
        let mut t = workspace(Mode::Test);
        import_dir(&mut t, tmp.path());
        let tb = ledger::trial_balance(&t.ws, None).unwrap();
        prop_assert!(tb.totals.iter().all(|c| c.debits == c.credits));
        let stripe = ledger::balances(&t.ws, None, Some("assets:stripe")).unwrap();
        prop_assert_eq!(stripe.iter().map(|b| b.balance.minor).sum::<i64>(), stripe_net);
    }
}
