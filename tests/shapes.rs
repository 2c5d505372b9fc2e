//! Reconciliation across every shape the contracts allow, end to end: a generated platform
//! booked with its fees inside or beside each charge's entry, entry ids as text sequences,
//! plain numbers or UUIDs, its own chart of accounts (mapped onto the roles), refunds
//! announced by `charge.refunded` or `refund.created`, manual or automatic payouts, and
//! webhooks lost for events of every type. Its files are imported, its Stripe side synced
//! from the simulator through the real async-stripe client, and every day reconciled.
//!
//! A clean platform of any shape is Balanced on every day with no exception at all; with
//! planted anomalies, each is found exactly once with its kind and object, and nothing
//! else is.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;

use closebook_engine::OpContext;
use closebook_engine::accounts;
use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::reconcile::{self, ExceptionFilter, StateFilter, Status};
use closebook_engine::stripe::{self, StripeKey, SyncControl, SyncOptions};
use closebook_engine::workspace::Mode;
use closebook_generate::{
    self as generate, Chart, EntryIds, FeeLayout, Payouts, PlatformSpec, RefundEvents, Shape,
};
use closebook_stripe_sim::{Dataset, SimConfig, Simulator};
use jiff::Timestamp;
use proptest::prelude::*;

fn spec(seed: u64, shape: Shape, anomalies: bool, timezone: &str) -> PlatformSpec {
    PlatformSpec {
        seed,
        subscribers: 45,
        creators: 8,
        first_month: (2026, 8),
        months: 3,
        processed_months: 2,
        timezone: timezone.into(),
        creators_without_account: 1,
        refunds_per_mille: 60,
        disputes: 1,
        anomalies,
        livemode: false,
        platform_fee_bps: 700,
        minimum_payout_minor: 2500,
        shape,
    }
}

/// What reconciling a generated platform found.
struct Outcome {
    statuses: Vec<(jiff::civil::Date, Status)>,
    /// (kind, Stripe object) of every exception ever found, with its key.
    found: Vec<(String, String, String)>,
    planted: BTreeSet<(String, String)>,
}

/// A generated platform imported into a new workspace (its chart mapped), its Stripe side
/// synced from a simulator that keeps running; the context is after all its activity.
struct Setup {
    t: common::TestWorkspace,
    platform: generate::Platform,
    sim: closebook_stripe_sim::SimHandle,
    ctx: OpContext,
}

/// `after_all`: the simulator's clock after all the activity (the month's money available
/// to pay from); else a day into the open month, so that every event of the last month-end
/// and of the open month lies within the 30 days Stripe keeps events for.
fn set_up(spec: &PlatformSpec, after_all: bool) -> Setup {
    let platform = generate::generate(spec);
    let mut t = common::workspace_tz(Mode::Test, &spec.timezone);
    // The platform's own account names, mapped as a finance team would on day one.
    let map: Vec<(accounts::Role, String)> = spec
        .shape
        .chart
        .assignments()
        .into_iter()
        .map(|(r, a)| {
            (
                accounts::Role::parse(r.name()).expect("BOOKING.md's roles"),
                a,
            )
        })
        .collect();
    if !map.is_empty() {
        accounts::set(&t.ws, None, &map, &common::ctx()).expect("the chart maps");
    }
    let files = t.dir.path().join("platform");
    generate::write_files(&platform, &files).unwrap();
    for (kind, file) in [
        (Kind::Accounts, "accounts.csv"),
        (Kind::Ledger, "ledger.csv"),
        (Kind::Balances, "balances.csv"),
        (Kind::Allocations, "allocations.csv"),
        (Kind::WebhookEvents, "webhook_events.csv"),
        (Kind::Withdrawals, "withdrawals.csv"),
    ] {
        let r = ingest::import_file(
            &mut t.ws,
            kind,
            &files.join(file),
            Some(Format::Csv),
            &common::ctx(),
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        if kind == Kind::Ledger {
            // Disputes and the bank may be absent from a small platform; the rest is there.
            let gaps: Vec<_> = r
                .role_gaps
                .iter()
                .filter(|g| !matches!(g.role, accounts::Role::Disputes | accounts::Role::Bank))
                .collect();
            assert!(gaps.is_empty(), "{gaps:?}");
        }
    }
    let dataset = Dataset::from_platform(&platform);
    let first = platform.stripe.iter().map(|a| a.created).min().unwrap();
    let last = dataset.suggested_now();
    let clock = if after_all {
        last + 5 * 86_400
    } else {
        generate_month_start(spec, spec.months - 1) + 86_400
    };
    let sim =
        Simulator::spawn_thread(dataset, SimConfig::test().with_now(clock)).expect("simulator");
    let ctx = OpContext::new("test", Timestamp::from_second(last + 5 * 86_400).unwrap());
    let mut options = SyncOptions::new(&sim.url(), false);
    options.limits.requests_per_second = 1_000;
    options.since = Timestamp::from_second(first - 86_400).ok();
    options.events_since = options.since;
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let key = StripeKey::parse(closebook_stripe_sim::DEFAULT_TEST_KEY).unwrap();
    stripe::sync(&mut t.ws, &key, &options, &ctx, &mut control).expect("the sync completes");
    Setup {
        t,
        platform,
        sim,
        ctx,
    }
}

fn reconcile_platform(spec: &PlatformSpec) -> Outcome {
    let Setup {
        t,
        platform,
        sim,
        ctx,
    } = set_up(spec, false);
    sim.shutdown();
    let cancel = AtomicBool::new(false);
    let report = reconcile::snapshot::catch_up(&t.ws, &ctx, &mut |_| {}, &cancel)
        .expect("every day reconciles");
    assert!(report.days.len() > 80, "{} days", report.days.len());
    let all = reconcile::exceptions::list(
        &t.ws,
        &ExceptionFilter {
            state: StateFilter::All,
            ..Default::default()
        },
    )
    .unwrap();
    let found = all
        .iter()
        .map(|x| {
            (
                x.exception.kind.name().to_string(),
                x.exception.stripe_object.clone().unwrap_or_default(),
                x.exception.key.clone(),
            )
        })
        .collect();
    let planted = platform
        .anomalies
        .iter()
        .map(|a| {
            (
                a.kind.clone(),
                a.stripe_object_id.clone().unwrap_or_default(),
            )
        })
        .collect();
    Outcome {
        statuses: report.days.iter().map(|d| (d.day, d.status)).collect(),
        found,
        planted,
    }
}

/// The first instant of the spec's month `offset` (UTC is close enough for a clock).
fn generate_month_start(spec: &PlatformSpec, offset: u32) -> i64 {
    let months =
        i32::from(spec.first_month.0) * 12 + i32::from(spec.first_month.1) - 1 + offset as i32;
    jiff::civil::date((months / 12) as i16, (months % 12 + 1) as i8, 1)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
}

fn check(spec: &PlatformSpec) -> Result<(), TestCaseError> {
    let out = reconcile_platform(spec);
    let shape = spec.shape;
    if !spec.anomalies {
        let off: Vec<_> = out
            .statuses
            .iter()
            .filter(|(_, s)| *s != Status::Balanced)
            .collect();
        prop_assert!(
            off.is_empty(),
            "{shape:?}: days not balanced: {off:?}; found {:?}",
            out.found
        );
        prop_assert!(out.found.is_empty(), "{shape:?}: {:?}", out.found);
        return Ok(());
    }
    // Each planted anomaly once, nothing else.
    let mut kinds_objects: Vec<(String, String)> = out
        .found
        .iter()
        .map(|(k, o, _)| (k.clone(), o.clone()))
        .collect();
    kinds_objects.sort();
    let distinct: BTreeSet<(String, String)> = kinds_objects.iter().cloned().collect();
    prop_assert_eq!(
        kinds_objects.len(),
        distinct.len(),
        "{:?}: something was found twice: {:?}",
        shape,
        out.found
    );
    prop_assert_eq!(&distinct, &out.planted, "{:?}", shape);
    Ok(())
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![Just(FeeLayout::Beside), Just(FeeLayout::Inside)],
        prop_oneof![
            Just(EntryIds::Prefixed),
            Just(EntryIds::Plain),
            Just(EntryIds::Uuid)
        ],
        prop_oneof![
            Just(Chart::Booking),
            Just(Chart::Numbered),
            Just(Chart::Clearing)
        ],
        prop_oneof![
            Just(RefundEvents::ChargeRefunded),
            Just(RefundEvents::RefundCreated)
        ],
        prop_oneof![Just(Payouts::Manual), Just(Payouts::Automatic)],
        any::<bool>(),
    )
        .prop_map(
            |(fees, entry_ids, chart, refund_events, payouts, webhook_gaps)| Shape {
                fees,
                entry_ids,
                chart,
                refund_events,
                payouts,
                webhook_gaps,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any shape, any seed, with or without anomalies, in one of three time zones.
    #[test]
    fn every_shape_reconciles_and_every_anomaly_is_found_once(
        shape in shape(),
        seed in 1u64..1_000_000,
        anomalies in any::<bool>(),
        tz in prop_oneof![Just("UTC"), Just("America/New_York"), Just("Asia/Tokyo")],
    ) {
        check(&spec(seed, shape, anomalies, tz))?;
    }
}

/// Found by the property above (seed 748971): a refund Stripe made whose webhook failed (not
/// in the ledger) and a refund of the same amount, days later, that the ledger booked under
/// an id Stripe does not have. The amount-and-date rule paired the two, so the booked refund
/// was never reported and the lost webhook was reported twice (by its refund, then by its
/// event). An entry that names a Stripe object is now matched by that reference only.
#[test]
fn a_booked_refund_stripe_lacks_is_not_paired_with_another_by_amount() {
    let shape = Shape {
        fees: FeeLayout::Beside,
        entry_ids: EntryIds::Prefixed,
        chart: Chart::Booking,
        refund_events: RefundEvents::ChargeRefunded,
        payouts: Payouts::Manual,
        webhook_gaps: true,
    };
    check(&spec(748_971, shape, true, "UTC")).unwrap();
}

/// Each ledger layout and chart, clean: Balanced on every day, no exception at all. The
/// other dimensions turn with them, so each of their values is met too.
#[test]
fn a_clean_platform_in_each_layout_is_balanced_every_day() {
    let layouts = [
        (
            FeeLayout::Beside,
            Chart::Booking,
            EntryIds::Prefixed,
            RefundEvents::ChargeRefunded,
            Payouts::Manual,
        ),
        (
            FeeLayout::Inside,
            Chart::Booking,
            EntryIds::Uuid,
            RefundEvents::RefundCreated,
            Payouts::Automatic,
        ),
        (
            FeeLayout::Beside,
            Chart::Numbered,
            EntryIds::Plain,
            RefundEvents::RefundCreated,
            Payouts::Manual,
        ),
        (
            FeeLayout::Inside,
            Chart::Numbered,
            EntryIds::Prefixed,
            RefundEvents::ChargeRefunded,
            Payouts::Automatic,
        ),
        (
            FeeLayout::Beside,
            Chart::Clearing,
            EntryIds::Uuid,
            RefundEvents::ChargeRefunded,
            Payouts::Automatic,
        ),
        (
            FeeLayout::Inside,
            Chart::Clearing,
            EntryIds::Plain,
            RefundEvents::RefundCreated,
            Payouts::Manual,
        ),
    ];
    for (i, (fees, chart, entry_ids, refund_events, payouts)) in layouts.into_iter().enumerate() {
        let shape = Shape {
            fees,
            chart,
            entry_ids,
            refund_events,
            payouts,
            webhook_gaps: false,
        };
        check(&spec(100 + i as u64, shape, false, "America/New_York"))
            .unwrap_or_else(|e| panic!("{shape:?}: {e}"));
    }
}

/// Fees inside the charge's entry, with every anomaly and every webhook gap: each found
/// once. (Before entry types were read per posting, every charge of this layout was a
/// false amount mismatch and fee mismatch.)
#[test]
fn fees_inside_the_charge_entry_with_every_anomaly() {
    for payouts in [Payouts::Manual, Payouts::Automatic] {
        let shape = Shape {
            fees: FeeLayout::Inside,
            entry_ids: EntryIds::Uuid,
            chart: Chart::Numbered,
            refund_events: RefundEvents::ChargeRefunded,
            payouts,
            webhook_gaps: true,
        };
        check(&spec(2026, shape, true, "America/New_York"))
            .unwrap_or_else(|e| panic!("{shape:?}: {e}"));
    }
}

/// A platform whose chart says `2100 Creator Payable` and `1010 Stripe Balance` is paid as one
/// on BOOKING.md's names: what the ledger owes each creator is read from its own accounts, the
/// month and the transfers are booked to them, and every paid creator's account ends at zero.
#[test]
fn a_platform_with_its_own_chart_is_paid_from_its_own_accounts() {
    use closebook_engine::ledger;
    use closebook_engine::payouts::execute::{self, ExecuteControl, ExecuteOptions};
    use closebook_engine::payouts::{batch, people};
    let spec = spec(
        7,
        Shape {
            chart: Chart::Numbered,
            ..Shape::default()
        },
        false,
        "UTC",
    );
    let Setup { t, sim, ctx, .. } = set_up(&spec, true);
    let creators = Chart::Numbered.account(generate::Role::CreatorObligations);
    let owed_before: i64 = ledger::balances(&t.ws, None, Some(creators))
        .unwrap()
        .iter()
        .map(|b| b.balance.minor)
        .sum();
    for (i, (name, role)) in [
        ("Pat Preparer", people::Role::Preparer),
        ("Avery Approver", people::Role::Approver),
        ("Kim Admin", people::Role::Admin),
    ]
    .into_iter()
    .enumerate()
    {
        people::add(&t.ws, &t.secrets, name, role, [i as u8 + 7; 32], None, &ctx).unwrap();
    }
    let signer = |n: &str| people::authenticate(&t.ws, &t.secrets, n).unwrap();
    let b = batch::prepare(&t.ws, &signer("Pat Preparer"), "2026-10", None, &ctx).unwrap();
    assert_eq!(
        b.totals.carried_in, -owed_before,
        "what the ledger owed, from the mapped accounts"
    );
    assert!(b.totals.paid_lines > 0);
    batch::approve(&t.ws, &signer("Avery Approver"), &b.id, &ctx).unwrap();
    let stripe_before: i64 = ledger::balances(&t.ws, None, Some("1010 Stripe Balance"))
        .unwrap()
        .iter()
        .map(|b| b.balance.minor)
        .sum();
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &execute::ExecuteProgress| {};
    let mut control = ExecuteControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let mut options = ExecuteOptions::new(&sim.url(), false);
    options.limits.requests_per_second = 1_000;
    let key = StripeKey::parse(closebook_stripe_sim::DEFAULT_TEST_KEY).unwrap();
    let r = execute::execute(
        &t.ws,
        &signer("Pat Preparer"),
        &key,
        &b.id,
        &options,
        &ctx,
        &mut control,
    )
    .unwrap();
    assert_eq!(r.paid_total, b.totals.paid_lines);
    sim.shutdown();
    let paid = batch::load(&t.ws, &b.id).unwrap();
    for l in paid.lines.iter().filter(|l| l.is_paid()) {
        let account = format!("{creators}:{}", l.creator);
        let left: i64 = ledger::balances(&t.ws, None, Some(&account))
            .unwrap()
            .iter()
            .map(|b| b.balance.minor)
            .sum();
        assert_eq!(left, 0, "{account}");
    }
    let stripe_after: i64 = ledger::balances(&t.ws, None, Some("1010 Stripe Balance"))
        .unwrap()
        .iter()
        .map(|b| b.balance.minor)
        .sum();
    assert_eq!(stripe_before - stripe_after, b.totals.paid);
    // Nothing was booked under BOOKING.md's default names.
    for default in [
        "liabilities:creators",
        "assets:stripe",
        "income:platform_fees",
        "income:unallocated",
    ] {
        assert!(
            ledger::balances(&t.ws, None, Some(default))
                .unwrap()
                .is_empty(),
            "{default}"
        );
    }
}
