//! Reconciliation's two sides on the demo platform, with Stripe's side mirrored from the
//! Stripe simulator through the real sync.

use std::sync::atomic::AtomicBool;

use closebook_engine::ledger;
use closebook_engine::reconcile::exceptions::{self, Resolution, ResolveRequest};
use closebook_engine::reconcile::{
    self, ExceptionFilter, Kind, STRIPE_BALANCE_ACCOUNTS, StateFilter, Status,
};
use closebook_engine::secrets::MemorySecrets;
use closebook_engine::stripe::{self, StripeKey, SyncControl};
use closebook_engine::workspace::{KeySource, Workspace};
use closebook_engine::{OpContext, demo};
use closebook_generate::{PlatformSpec, generate};
use closebook_stripe_sim::{Dataset, SimConfig, Simulator};
use jiff::Timestamp;
use jiff::civil::date;

fn synced_demo(dir: &std::path::Path) -> Workspace {
    let ctx = OpContext::new("test", Timestamp::now());
    let (mut ws, _) = demo::open_or_create(dir, &KeySource::Keychain, &MemorySecrets::new(), &ctx)
        .expect("demo workspace");
    sync_with(&mut ws, Dataset::demo(), &ctx, None);
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

fn sync_with(
    ws: &mut Workspace,
    dataset: Dataset,
    ctx: &OpContext,
    resync: Option<(Timestamp, Timestamp)>,
) {
    // The simulator's clock at the data's last activity: Stripe lists 30 days of events.
    let now = dataset.suggested_now();
    let sim = Simulator::spawn_thread(dataset, SimConfig::test().with_now(now)).expect("simulator");
    let mut options = demo::sync_options(&sim.url());
    options.resync = resync;
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let key = StripeKey::parse(closebook_stripe_sim::DEFAULT_TEST_KEY).unwrap();
    stripe::sync(ws, &key, &options, ctx, &mut control).expect("sync");
    sim.shutdown();
}

fn id_of(ws: &Workspace, kind: Kind) -> i64 {
    let all = exceptions::list(
        ws,
        &ExceptionFilter {
            kind: Some(kind),
            state: StateFilter::All,
            ..Default::default()
        },
    )
    .unwrap();
    all[0].exception.id.unwrap()
}

fn count(ws: &Workspace, table: &str) -> i64 {
    ws.connection()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn resolutions_carry_to_later_snapshots_and_adjustments_bring_the_ledger_to_stripe() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = reconciled_demo(&tmp.path().join("ws"));
    let alice = OpContext::new("alice", at("2026-11-01T15:00:00Z"));
    let resolve = |ids: Vec<i64>, resolution: Resolution, note: &str| {
        exceptions::resolve(
            &ws,
            &ResolveRequest {
                ids,
                resolution,
                note: note.into(),
                counter_account: None,
            },
            &alice,
        )
        .unwrap()
    };
    // The adjustment for a missing charge books Stripe's amount and its fee separately.
    let missing = id_of(&ws, Kind::MissingInLedger);
    let proposal = exceptions::propose_adjustment(&ws, missing, None).unwrap();
    assert_eq!(proposal.len(), 2);
    assert_eq!(proposal[0].postings[0].amount_minor, 1000);
    assert_eq!(proposal[1].entry_type, "stripe_fee");
    assert_eq!(proposal[1].postings[0].amount_minor, -59);
    let done = resolve(
        vec![missing],
        Resolution::BookedAdjustment,
        "booked by hand",
    );
    let r = done[0].exception.resolution.as_ref().unwrap();
    assert_eq!(
        (r.actor.as_str(), r.adjustment_entry.as_deref()),
        ("alice", Some(format!("cb-adj-{missing}").as_str()))
    );
    for kind in [Kind::FeeMismatch, Kind::Duplicate, Kind::MissingInStripe] {
        resolve(
            vec![id_of(&ws, kind)],
            Resolution::BookedAdjustment,
            "corrected",
        );
    }
    resolve(
        vec![id_of(&ws, Kind::AmountMismatch)],
        Resolution::WriteOff,
        "one dollar, written off",
    );
    let webhooks: Vec<i64> = exceptions::list(
        &ws,
        &ExceptionFilter {
            kind: Some(Kind::MissedWebhook),
            ..Default::default()
        },
    )
    .unwrap()
    .iter()
    .map(|x| x.exception.id.unwrap())
    .collect();
    assert_eq!(webhooks.len(), 2);
    resolve(
        webhooks,
        Resolution::Accepted,
        "the platform will replay both events",
    );
    resolve(
        vec![id_of(&ws, Kind::TimingDifference)],
        Resolution::Timing,
        "booked after midnight",
    );
    assert!(
        exceptions::list(&ws, &ExceptionFilter::default())
            .unwrap()
            .is_empty()
    );
    // Every adjustment entry balances.
    let unbalanced: i64 = ws
        .connection()
        .query_row(
            "SELECT count(*) FROM (SELECT entry_id FROM ledger_postings WHERE origin = 'closebook' GROUP BY entry_id, currency HAVING sum(amount_minor) <> 0)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unbalanced, 0);
    // The next day's snapshot no longer finds what was adjusted; the rest stay resolved.
    let next = OpContext::new("alice", at("2026-11-02T12:00:00Z"));
    let s = reconcile::snapshot::take(&ws, date(2026, 11, 1), &next).unwrap();
    let mut kinds: Vec<&str> = s.exceptions.iter().map(|e| e.kind.name()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["amount_mismatch", "missed_webhook", "missed_webhook"]
    );
    assert!(s.exceptions.iter().all(|e| e.resolution.is_some()));
    assert_eq!(s.currencies[0].open_exceptions, 0);
    assert_eq!(s.currencies[0].remainder, 0);
    assert_eq!(s.status, Status::Explained);
    // A snapshot of an earlier day is history: unchanged, still showing what it found.
    let oct31 = reconcile::snapshot::latest_of(&ws, date(2026, 10, 31))
        .unwrap()
        .unwrap();
    assert_eq!(oct31.exceptions.len(), 7);
    // Who resolved what is in the audit log.
    let resolved = count(
        &ws,
        "audit_log WHERE action = 'reconcile.resolve' AND actor = 'alice'",
    );
    assert_eq!(resolved, 8);
    // The adjustments export in the platform's ledger format and import elsewhere.
    let file = tmp.path().join("adjustments.csv");
    let n = exceptions::export_adjustments(&ws, &file).unwrap();
    assert_eq!(n, 10);
    // Owner-only (a plaintext copy of the workspace), and never written over a file that is
    // already there.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let kept = std::fs::read(&file).unwrap();
    let e = exceptions::export_adjustments(&ws, &file).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&file).unwrap(), kept);
    let mut other = Workspace::init(
        &tmp.path().join("other"),
        closebook_engine::workspace::InitOptions {
            name: "other".into(),
            mode: closebook_engine::workspace::Mode::Test,
            timezone: "America/New_York".into(),
            demo: false,
        },
        &KeySource::File(tmp.path().join("other.key")),
        &MemorySecrets::new(),
        closebook_engine::workspace::FreshIdentity::generate().unwrap(),
        &alice,
    )
    .unwrap();
    let report = closebook_engine::ingest::import_file(
        &mut other,
        closebook_engine::ingest::Kind::Ledger,
        &file,
        None,
        &alice,
    )
    .unwrap();
    assert_eq!(report.rows_added, 10);
}

#[test]
fn bad_resolutions_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = reconciled_demo(&tmp.path().join("ws"));
    let ctx = OpContext::new("bob", at("2026-11-01T15:00:00Z"));
    let dup = id_of(&ws, Kind::Duplicate);
    let timing = id_of(&ws, Kind::TimingDifference);
    exceptions::resolve(
        &ws,
        &ResolveRequest {
            ids: vec![timing],
            resolution: Resolution::Timing,
            note: "cleared".into(),
            counter_account: None,
        },
        &ctx,
    )
    .unwrap();
    let before = (
        count(&ws, "recon_resolutions"),
        count(&ws, "ledger_postings"),
        count(&ws, "audit_log"),
    );
    // (ids, resolution, note, counter-account, what the refusal says)
    type Case<'a> = (Vec<i64>, Resolution, &'a str, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![dup], Resolution::Accepted, "   ", None, "needs a note"),
        (
            vec![dup],
            Resolution::Accepted,
            "first line\nsecond line",
            None,
            "control characters",
        ),
        (
            vec![dup],
            Resolution::Timing,
            "why",
            None,
            "cannot be resolved as timing",
        ),
        (
            vec![999_999],
            Resolution::Accepted,
            "why",
            None,
            "no exception #999999",
        ),
        (
            vec![dup, timing],
            Resolution::Accepted,
            "why",
            None,
            "already resolved",
        ),
        (
            vec![],
            Resolution::Accepted,
            "why",
            None,
            "no exception to resolve",
        ),
        (
            vec![dup],
            Resolution::BookedAdjustment,
            "why",
            Some("not an account!"),
            "is not an account name",
        ),
        (
            vec![timing],
            Resolution::BookedAdjustment,
            "why",
            None,
            "already resolved",
        ),
    ];
    for (ids, resolution, note, counter, expect) in cases {
        let err = exceptions::resolve(
            &ws,
            &ResolveRequest {
                ids: ids.clone(),
                resolution,
                note: note.into(),
                counter_account: counter.map(String::from),
            },
            &ctx,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(expect),
            "{ids:?} {resolution:?}: {err}"
        );
        let code = closebook_engine::Error::from(err).code();
        assert!(
            matches!(
                code,
                closebook_engine::ErrorCode::InvalidInput | closebook_engine::ErrorCode::NotFound
            ),
            "{code:?}"
        );
    }
    let after = (
        count(&ws, "recon_resolutions"),
        count(&ws, "ledger_postings"),
        count(&ws, "audit_log"),
    );
    assert_eq!(before, after);
    assert!(exceptions::propose_adjustment(&ws, timing, None).is_err());
}

#[test]
fn a_sync_that_changes_a_reconciled_day_is_flagged_never_absorbed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ws = reconciled_demo(&tmp.path().join("ws"));
    let oct31 = reconcile::snapshot::latest_of(&ws, date(2026, 10, 31))
        .unwrap()
        .unwrap();
    // Stripe now reports a different fee on a charge of October 5th.
    let mut dataset = Dataset::demo();
    let day = ws.start_of_day(date(2026, 10, 5)).unwrap().as_second();
    let a = dataset
        .activity
        .iter_mut()
        .find(|a| a.kind == "charge" && a.created >= day)
        .unwrap();
    a.fee += 1;
    a.net -= 1;
    let changed = a.id.clone();
    let source = a.source.clone();
    let ctx = OpContext::new("sync", at("2026-11-01T16:00:00Z"));
    sync_with(
        &mut ws,
        dataset,
        &ctx,
        Some((at("2026-10-01T00:00:00Z"), at("2026-10-10T00:00:00Z"))),
    );
    let (row, sealed_day, change, detected): (String, String, String, i64) = ws
        .connection()
        .query_row(
            "SELECT row_id, sealed_day, change, detected_at FROM recon_sealed_changes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (row.as_str(), sealed_day.as_str()),
        (changed.as_str(), "2026-10-31")
    );
    assert!(change.contains("fee") && change.contains("net"), "{change}");
    assert_eq!(detected, ctx.now.as_microsecond());
    // The next snapshot reports the change and the fee it now disagrees on.
    let s = reconcile::snapshot::take(&ws, date(2026, 11, 1), &ctx).unwrap();
    let data_changed: Vec<_> = s
        .exceptions
        .iter()
        .filter(|e| e.kind == Kind::DataChanged)
        .collect();
    assert_eq!(data_changed.len(), 1);
    assert!(data_changed[0].evidence.note.contains(&changed));
    assert!(s.exceptions.iter().any(
        |e| e.kind == Kind::FeeMismatch && e.stripe_object.as_deref() == Some(source.as_str())
    ));
    assert_eq!(s.currencies[0].remainder, 0);
    // Reconciling October 31st again reads different rows: a new version, the old one kept.
    let v2 = reconcile::snapshot::take(&ws, date(2026, 10, 31), &ctx).unwrap();
    assert_eq!(v2.version, 2);
    assert_ne!(v2.digest, oct31.digest);
    assert_eq!(count(&ws, "recon_snapshots WHERE day = '2026-10-31'"), 2);
}

#[test]
fn snapshots_exceptions_and_resolutions_cannot_be_edited_or_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = reconciled_demo(&tmp.path().join("ws"));
    let ctx = OpContext::new("bob", at("2026-11-01T15:00:00Z"));
    exceptions::resolve(
        &ws,
        &ResolveRequest {
            ids: vec![id_of(&ws, Kind::Duplicate)],
            resolution: Resolution::DuplicateConfirmed,
            note: "platform reverses it".into(),
            counter_account: None,
        },
        &ctx,
    )
    .unwrap();
    for sql in [
        "UPDATE recon_snapshots SET status = 'balanced'",
        "DELETE FROM recon_snapshots",
        "UPDATE recon_snapshot_currencies SET difference = 0",
        "DELETE FROM recon_snapshot_currencies",
        "UPDATE recon_snapshot_exceptions SET effect = 0",
        "DELETE FROM recon_snapshot_exceptions",
        "UPDATE recon_exceptions SET kind = 'timing_difference'",
        "DELETE FROM recon_exceptions",
        "UPDATE recon_resolutions SET note = 'changed'",
        "DELETE FROM recon_resolutions",
    ] {
        let err = ws.connection().execute(sql, []).unwrap_err();
        assert!(
            err.to_string().contains("immutable") || err.to_string().contains("append-only"),
            "{sql}: {err}"
        );
    }
}

/// Regression: a desktop app that caught up on opening, before its first sync, reconciled
/// every day against an empty Stripe side and then flagged the whole first sync as changes
/// to sealed days. Days are reconciled only once a successful sync has covered them.
#[test]
fn no_day_is_reconciled_before_stripe_has_been_synced_up_to_its_end() {
    let tmp = tempfile::tempdir().unwrap();
    let ctx = OpContext::new("test", at("2026-11-01T12:00:00Z"));
    let (ws, _) = demo::open_or_create(
        &tmp.path().join("ws"),
        &KeySource::Keychain,
        &MemorySecrets::new(),
        &ctx,
    )
    .unwrap();
    assert!(
        reconcile::snapshot::missing_days(&ws, ctx.now)
            .unwrap()
            .is_empty()
    );
    let report =
        reconcile::snapshot::catch_up(&ws, &ctx, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    assert!(report.days.is_empty());
    let err = reconcile::snapshot::take(&ws, date(2026, 10, 1), &ctx).unwrap_err();
    assert!(err.to_string().contains("has not been synced"), "{err}");
    // A dry run still shows the day as it stands.
    let dry = reconcile::snapshot::compute(&ws, date(2026, 10, 1), &ctx).unwrap();
    assert_eq!(dry.stripe_rows, 0);
    assert_eq!(count(&ws, "recon_snapshots"), 0);
}

#[test]
fn a_ledger_import_that_books_into_a_reconciled_day_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ws = reconciled_demo(&tmp.path().join("ws"));
    let file = tmp.path().join("late.csv");
    std::fs::write(
        &file,
        "entry_id,account,amount_minor,currency,entry_type,stripe_object_id,created_at,description\n\
         je_late_1,assets:stripe:payments,-250,usd,adjustment,,2026-10-15T12:00:00Z,backdated correction\n\
         je_late_1,expenses:stripe_fees,250,usd,adjustment,,2026-10-15T12:00:00Z,backdated correction\n\
         je_late_2,assets:stripe:payments,300,usd,adjustment,,2026-11-01T12:00:00Z,after the sealed days\n\
         je_late_2,expenses:stripe_fees,-300,usd,adjustment,,2026-11-01T12:00:00Z,after the sealed days\n",
    )
    .unwrap();
    let ctx = OpContext::new("carol", at("2026-11-01T16:00:00Z"));
    closebook_engine::ingest::import_file(
        &mut ws,
        closebook_engine::ingest::Kind::Ledger,
        &file,
        None,
        &ctx,
    )
    .unwrap();
    // Only the posting dated inside the reconciled days is a change to them.
    let (side, row, source): (String, String, String) = ws
        .connection()
        .query_row(
            "SELECT side, row_id, source FROM recon_sealed_changes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((side.as_str(), row.as_str()), ("ledger", "je_late_1"));
    assert!(source.starts_with("import "), "{source}");
    let s = reconcile::snapshot::take(&ws, date(2026, 11, 1), &ctx).unwrap();
    let changed: Vec<_> = s
        .exceptions
        .iter()
        .filter(|e| e.kind == Kind::DataChanged)
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].evidence.ledger_entries, ["je_late_1"]);
    // Both entries move the Stripe balance without naming a Stripe object: missing in Stripe.
    assert_eq!(
        s.exceptions
            .iter()
            .filter(|e| e.kind == Kind::MissingInStripe)
            .count(),
        3
    );
    assert_eq!(s.currencies[0].remainder, 0);
}

/// The webhook health view: per day and event type, what Stripe sent and what the
/// platform's table says; the demo's two lost charge webhooks are where they happened, and
/// every mirrored event is counted once.
#[test]
fn webhook_health_counts_every_event_once_per_day_and_type() {
    use closebook_engine::reconcile::webhooks;
    let tmp = tempfile::tempdir().unwrap();
    let ws = synced_demo(&tmp.path().join("ws"));
    let days = webhooks::health(&ws, date(2026, 9, 1), date(2026, 11, 5)).unwrap();
    let events: i64 = ws
        .connection()
        .query_row(
            "SELECT count(*) FROM stripe_objects WHERE object_type = 'event'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(events > 0);
    assert_eq!(days.iter().map(|d| d.sent as i64).sum::<i64>(), events);
    for d in &days {
        assert_eq!(d.sent, d.recorded + d.missing, "{d:?}");
        assert_eq!(d.recorded, d.processed + d.failed + d.pending, "{d:?}");
        assert!(d.subscribed, "{d:?}");
    }
    let charge = |day| {
        days.iter()
            .find(|d| d.day == day && d.event_type == "charge.succeeded")
            .unwrap()
    };
    assert_eq!(
        (
            charge(date(2026, 10, 1)).missing,
            charge(date(2026, 10, 1)).failed
        ),
        (1, 0)
    );
    assert_eq!(
        (
            charge(date(2026, 10, 4)).missing,
            charge(date(2026, 10, 4)).failed
        ),
        (0, 1)
    );
    let lost: u64 = days.iter().map(|d| d.missing + d.failed).sum();
    assert_eq!(lost, 2, "the demo loses two webhooks: {days:?}");
    // A reversed or endless period is refused.
    assert!(webhooks::health(&ws, date(2026, 10, 2), date(2026, 10, 1)).is_err());
    assert!(webhooks::health(&ws, date(2024, 1, 1), date(2026, 10, 1)).is_err());
}

/// A change of the account map after a reconciled day is a change to sealed data: recorded
/// with the change, reported by the next snapshot, in the audit log.
#[test]
fn an_account_map_change_after_a_reconciled_day_is_flagged() {
    use closebook_engine::accounts::{self, Role};
    let tmp = tempfile::tempdir().unwrap();
    let ws = reconciled_demo(&tmp.path().join("ws"));
    let ctx = OpContext::new("carol", at("2026-11-01T16:00:00Z"));
    let change = accounts::set(
        &ws,
        None,
        &[(Role::Bank, "1000 Operating Bank".into())],
        &ctx,
    )
    .unwrap();
    assert_eq!(change.flagged_sealed_day.as_deref(), Some("2026-10-31"));
    let s = reconcile::snapshot::take(&ws, date(2026, 11, 1), &ctx).unwrap();
    let changed: Vec<_> = s
        .exceptions
        .iter()
        .filter(|e| e.kind == Kind::DataChanged)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    let note = &changed[0].evidence.note;
    assert!(
        note.contains("account map") && note.contains("bank assets:bank → 1000 Operating Bank"),
        "{note}"
    );
    let log = closebook_engine::audit::recent(ws.connection(), 3).unwrap();
    assert!(log.iter().any(|r| r.action == "settings.accounts"));
}

/// A ledger whose chart names the Stripe account otherwise reconciles nothing until it is
/// mapped: the snapshot refuses, saying what to do, instead of calling every charge missing.
#[test]
fn an_unmapped_stripe_account_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = synced_demo(&tmp.path().join("ws"));
    let ctx = OpContext::new("test", at("2026-11-01T12:00:00Z"));
    closebook_engine::accounts::set(
        &ws,
        None,
        &[(
            closebook_engine::accounts::Role::StripeBalance,
            "1010 Stripe Balance".into(),
        )],
        &ctx,
    )
    .unwrap();
    let err = reconcile::snapshot::take(&ws, date(2026, 10, 1), &ctx).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("none to the accounts mapped as Stripe's") && msg.contains("accounts map"),
        "{msg}"
    );
    assert_eq!(
        closebook_engine::Error::from(err).code(),
        closebook_engine::ErrorCode::InvalidInput
    );
}
