//! The simulated API through the real async-stripe 1.0.0-rc.10 client: every object parses
//! into async-stripe's types, pagination and filters behave like Stripe's, the balance adds
//! up, the `Stripe-Account` scope and authentication answer like Stripe, and the demo
//! dataset is served whole.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use closebook_generate::{PlatformSpec, StripeActivity, generate};
use closebook_stripe_sim::{Dataset, Mode, SimConfig, SimError, SimHandle, Simulator};
use common::{client, client_with_key, get, get_as, stripe_err};
use futures_util::TryStreamExt;
use stripe::StripeRequest;
use stripe_connect::account::{ListAccount, RetrieveAccount, RetrieveForMyAccountAccount};
use stripe_connect::transfer::{ListTransfer, RetrieveTransfer};
use stripe_connect::transfer_reversal::ListIdTransferReversal;
use stripe_core::balance::RetrieveForMyAccountBalance;
use stripe_core::balance_transaction::{ListBalanceTransaction, RetrieveBalanceTransaction};
use stripe_core::charge::{ListCharge, RetrieveCharge};
use stripe_core::dispute::{ListDispute, RetrieveDispute};
use stripe_core::event::{ListEvent, RetrieveEvent};
use stripe_core::payout::{ListPayout, RetrievePayout};
use stripe_core::refund::{ListRefund, RetrieveRefund};
use stripe_types::{RangeBoundsTs, RangeQueryTs};

/// Walks a list to its end with `starting_after`, 100 at a time (or `$limit`).
macro_rules! walk {
    ($client:expr, $req:expr) => {
        walk!($client, $req, 100)
    };
    ($client:expr, $req:expr, $limit:expr) => {{
        let mut out = Vec::new();
        let mut req = $req.limit($limit);
        loop {
            let page = req.send($client).await.expect("a page");
            assert!(page.data.len() <= $limit);
            let last = page.data.last().map(|x| x.id.as_str().to_string());
            let more = page.has_more;
            out.extend(page.data);
            match (more, last) {
                (true, Some(id)) => req = req.starting_after(id),
                (true, None) => panic!("has_more with an empty page"),
                _ => break,
            }
        }
        out
    }};
}

fn demo() -> (Dataset, Vec<StripeActivity>) {
    let platform = generate(&PlatformSpec::demo());
    (Dataset::from_platform(&platform), platform.stripe)
}

/// The dataset's balance transactions in Stripe's list order.
fn newest_first(lines: &[StripeActivity]) -> Vec<String> {
    let mut v: Vec<(i64, String)> = lines.iter().map(|l| (l.created, l.id.clone())).collect();
    v.sort();
    v.reverse();
    v.into_iter().map(|(_, id)| id).collect()
}

/// The lines whose event Stripe still lists at `now`: the last 30 days'.
fn retained(lines: &[StripeActivity], now: i64) -> Vec<&StripeActivity> {
    lines
        .iter()
        .filter(|l| l.created >= now - closebook_stripe_sim::EVENT_RETENTION_SECS)
        .collect()
}

fn start(ds: Dataset, config: SimConfig) -> SimHandle {
    Simulator::start(ds, config).expect("simulator starts")
}

#[tokio::test]
async fn the_demo_dataset_is_served_whole() {
    let platform = generate(&PlatformSpec::demo());
    let sim = start(Dataset::demo(), SimConfig::test());
    let c = client(&sim);
    let count = |kind: &str| platform.stripe.iter().filter(|l| l.kind == kind).count();

    let bts = walk!(&c, ListBalanceTransaction::new());
    assert_eq!(bts.len(), platform.stripe.len());
    let got: BTreeSet<String> = bts.iter().map(|b| b.id.as_str().to_string()).collect();
    let want: BTreeSet<String> = platform.stripe.iter().map(|l| l.id.clone()).collect();
    assert_eq!(got, want);
    for (bt, line) in bts.iter().zip(newest_first(&platform.stripe)) {
        assert_eq!(bt.id.as_str(), line);
    }
    let by_id: BTreeMap<&str, &StripeActivity> =
        platform.stripe.iter().map(|l| (l.id.as_str(), l)).collect();
    for bt in &bts {
        let line = by_id[bt.id.as_str()];
        assert_eq!(bt.amount, line.amount);
        assert_eq!(bt.fee, line.fee);
        assert_eq!(bt.net, line.net);
        assert_eq!(bt.created, line.created);
        assert_eq!(bt.available_on, line.available_on);
        assert_eq!(bt.type_.as_str(), line.kind);
        assert_eq!(bt.reporting_category, line.reporting_category);
        assert_eq!(bt.currency.to_string(), line.currency);
        assert_eq!(
            bt.source.as_ref().map(|s| s.id().as_str().to_string()),
            Some(line.source.clone())
        );
        assert_eq!(bt.fee_details.len(), usize::from(line.fee != 0));
        if line.fee != 0 {
            assert_eq!(bt.fee_details[0].amount, line.fee);
            assert_eq!(bt.fee_details[0].type_, "stripe_fee");
        }
        let status = if line.available_on <= sim.now() {
            "available"
        } else {
            "pending"
        };
        assert_eq!(bt.status, status);
    }

    assert_eq!(walk!(&c, ListCharge::new()).len(), count("charge"));
    assert_eq!(walk!(&c, ListRefund::new()).len(), count("refund"));
    assert_eq!(walk!(&c, ListDispute::new()).len(), count("adjustment"));
    assert_eq!(walk!(&c, ListTransfer::new()).len(), count("transfer"));
    assert_eq!(walk!(&c, ListPayout::new()).len(), count("payout"));
    // Events: the last 30 days' only, as Stripe keeps them.
    let events = retained(&platform.stripe, sim.now());
    assert!(!events.is_empty() && events.len() < platform.stripe.len());
    assert_eq!(walk!(&c, ListEvent::new()).len(), events.len());
    let accounts = walk!(&c, ListAccount::new());
    assert_eq!(accounts.len(), platform.accounts.len());
    let got: BTreeSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    let want: BTreeSet<&str> = platform
        .accounts
        .iter()
        .map(|a| a.stripe_account_id.as_str())
        .collect();
    assert_eq!(got, want);
    // The demo has refunds, a dispute, transfers and payouts: every kind is exercised.
    for kind in ["charge", "refund", "adjustment", "transfer", "payout"] {
        assert!(count(kind) > 0, "{kind}");
    }
}

#[tokio::test]
async fn pagination_walks_forward_and_back_like_stripe() {
    let (ds, lines) = demo();
    let sim = start(ds, SimConfig::test());
    let c = client(&sim);
    let order = newest_first(&lines);

    // Pages of 7: many boundaries, several inside the same second.
    let walked: Vec<String> = walk!(&c, ListBalanceTransaction::new(), 7)
        .iter()
        .map(|b| b.id.as_str().to_string())
        .collect();
    assert_eq!(walked, order);

    // The client's own paginator follows the list's `url` and cursors.
    let streamed: Vec<String> = ListBalanceTransaction::new()
        .limit(100)
        .paginate()
        .stream(&c)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .iter()
        .map(|b| b.id.as_str().to_string())
        .collect();
    assert_eq!(streamed, order);

    // Default page size, has_more, url.
    let first = ListBalanceTransaction::new().send(&c).await.unwrap();
    assert_eq!(first.data.len(), 10);
    assert!(first.has_more);
    assert_eq!(first.url, "/v1/balance_transactions");

    // ending_before: the objects just newer than the cursor, newest first.
    let page = ListBalanceTransaction::new()
        .ending_before(order[50].clone())
        .limit(10)
        .send(&c)
        .await
        .unwrap();
    let ids: Vec<&str> = page.data.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(
        ids,
        order[40..50].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(page.has_more);
    let page = ListBalanceTransaction::new()
        .ending_before(order[5].clone())
        .limit(10)
        .send(&c)
        .await
        .unwrap();
    let ids: Vec<&str> = page.data.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(
        ids,
        order[..5].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(!page.has_more);

    // The last page.
    let page = ListBalanceTransaction::new()
        .starting_after(order[order.len() - 3].clone())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(!page.has_more);

    // created[gte] / created[lt] select exactly the window.
    let lo = lines[lines.len() / 3].created;
    let hi = lines[2 * lines.len() / 3].created;
    let window = RangeQueryTs::Bounds(RangeBoundsTs {
        gte: Some(lo),
        lt: Some(hi),
        ..Default::default()
    });
    let got: Vec<String> = walk!(&c, ListBalanceTransaction::new().created(window), 50)
        .iter()
        .map(|b| b.id.as_str().to_string())
        .collect();
    let want: Vec<String> = newest_first(
        &lines
            .iter()
            .filter(|l| l.created >= lo && l.created < hi)
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let got = walk!(
        &c,
        ListBalanceTransaction::new().created(RangeQueryTs::gt(hi))
    );
    assert_eq!(got.len(), lines.iter().filter(|l| l.created > hi).count());
    let got = walk!(
        &c,
        ListBalanceTransaction::new().created(RangeQueryTs::lte(lo))
    );
    assert_eq!(got.len(), lines.iter().filter(|l| l.created <= lo).count());

    // limit bounds.
    let full = ListBalanceTransaction::new()
        .limit(100)
        .send(&c)
        .await
        .unwrap();
    assert_eq!(full.data.len(), 100);
    for bad in [0, 101, -1] {
        let e = ListBalanceTransaction::new()
            .limit(bad)
            .send(&c)
            .await
            .unwrap_err();
        let (status, type_, _, param) = stripe_err(&e);
        assert_eq!(
            (status, type_.as_str()),
            (400, "invalid_request_error"),
            "{bad}"
        );
        assert_eq!(param.as_deref(), Some("limit"));
    }

    // A cursor that is no object of the list.
    for (req, param) in [
        (
            ListBalanceTransaction::new().starting_after("txn_doesnotexist"),
            "starting_after",
        ),
        (
            ListBalanceTransaction::new().ending_before("txn_doesnotexist"),
            "ending_before",
        ),
        (
            ListBalanceTransaction::new().starting_after(lines[0].source.clone()),
            "starting_after",
        ),
    ] {
        let e = req.send(&c).await.unwrap_err();
        let (status, _, code, p) = stripe_err(&e);
        assert_eq!(status, 400);
        assert_eq!(code.as_deref(), Some("resource_missing"));
        assert_eq!(p.as_deref(), Some(param));
    }
    let e = ListBalanceTransaction::new()
        .starting_after(order[0].clone())
        .ending_before(order[3].clone())
        .send(&c)
        .await
        .unwrap_err();
    assert_eq!(stripe_err(&e).0, 400);
}

#[tokio::test]
async fn filters_select_what_stripe_would() {
    let (ds, lines) = demo();
    let sim = start(ds, SimConfig::test());
    let c = client(&sim);

    for kind in ["charge", "refund", "adjustment", "transfer", "payout"] {
        let got = walk!(&c, ListBalanceTransaction::new().type_(kind));
        assert_eq!(
            got.len(),
            lines.iter().filter(|l| l.kind == kind).count(),
            "{kind}"
        );
        assert!(got.iter().all(|b| b.type_.as_str() == kind));
    }
    // The demo's payouts are manual: Stripe refuses the payout filter on them.
    let payout_line = lines.iter().find(|l| l.kind == "payout").unwrap();
    let e = ListBalanceTransaction::new()
        .payout(payout_line.source.clone())
        .send(&c)
        .await
        .unwrap_err();
    let (status, kind, _, param) = stripe_err(&e);
    assert_eq!(
        (status, kind.as_str(), param.as_deref()),
        (400, "invalid_request_error", Some("payout"))
    );
    let e = ListBalanceTransaction::new()
        .payout("po_unknown")
        .send(&c)
        .await
        .unwrap_err();
    let (status, _, code, param) = stripe_err(&e);
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (400, Some("resource_missing"), Some("payout"))
    );

    let charge_line = lines.iter().find(|l| l.kind == "charge").unwrap();
    let got = ListBalanceTransaction::new()
        .source(charge_line.source.clone())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(got.data.len(), 1);
    assert_eq!(got.data[0].id.as_str(), charge_line.id);

    let usd = walk!(
        &c,
        ListBalanceTransaction::new().currency(stripe_types::Currency::USD)
    );
    assert_eq!(usd.len(), lines.len());
    let eur = ListBalanceTransaction::new()
        .currency(stripe_types::Currency::EUR)
        .send(&c)
        .await
        .unwrap();
    assert!(eur.data.is_empty() && !eur.has_more);

    let transfer_line = lines.iter().find(|l| l.kind == "transfer").unwrap();
    let dest = transfer_line.destination.clone().unwrap();
    let got = walk!(&c, ListTransfer::new().destination(dest.clone()));
    let want = lines
        .iter()
        .filter(|l| l.kind == "transfer" && l.destination.as_deref() == Some(&dest))
        .count();
    assert_eq!(got.len(), want);
    assert!(got.iter().any(|t| t.id.as_str() == transfer_line.source));

    let kept = retained(&lines, sim.now());
    let paid = walk!(&c, ListEvent::new().type_("payout.paid"));
    assert_eq!(
        paid.len(),
        kept.iter()
            .filter(|l| l.event_type == "payout.paid")
            .count()
    );
    let charges = walk!(&c, ListEvent::new().type_("charge.*"));
    assert_eq!(
        charges.len(),
        kept.iter()
            .filter(|l| l.event_type.starts_with("charge."))
            .count()
    );
    let two = walk!(
        &c,
        ListEvent::new().types(vec![
            "payout.paid".to_string(),
            "transfer.created".to_string()
        ])
    );
    assert_eq!(
        two.len(),
        kept.iter()
            .filter(|l| l.event_type == "payout.paid" || l.event_type == "transfer.created")
            .count()
    );

    let refunds = walk!(&c, ListRefund::new());
    let linked = refunds.iter().find_map(|r| r.charge.as_ref()).unwrap();
    let by_charge = ListRefund::new()
        .charge(linked.id().as_str())
        .send(&c)
        .await
        .unwrap();
    assert!(!by_charge.data.is_empty());
    assert!(
        by_charge
            .data
            .iter()
            .all(|r| r.charge.as_ref().map(|x| x.id()) == Some(linked.id()))
    );
}

#[tokio::test]
async fn every_object_parses_into_async_stripe_types() {
    let (ds, lines) = demo();
    let restricted = ds.accounts[0].stripe_account_id.clone();
    let sim = start(
        ds,
        SimConfig::test().with_restricted_account(restricted.clone()),
    );
    let c = client(&sim);

    let balance = RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    assert!(!balance.livemode);
    assert_eq!(balance.available.len(), 1);
    assert_eq!(balance.connect_reserved.as_deref().map(<[_]>::len), Some(0));

    // One of each kind of balance transaction, by id.
    for kind in ["charge", "refund", "adjustment", "transfer", "payout"] {
        let line = lines.iter().find(|l| l.kind == kind).unwrap();
        let bt = RetrieveBalanceTransaction::new(line.id.as_str())
            .send(&c)
            .await
            .unwrap();
        assert_eq!(bt.amount, line.amount);
        assert_eq!(bt.balance_type.as_str(), "payments");
    }

    let charges = ListCharge::new().limit(100).send(&c).await.unwrap();
    let ch = &charges.data[0];
    assert!(ch.paid && ch.captured);
    assert_eq!(ch.amount_captured, ch.amount);
    assert_eq!(ch.status.as_str(), "succeeded");
    let again = RetrieveCharge::new(ch.id.clone()).send(&c).await.unwrap();
    assert_eq!(again.id, ch.id);
    let bt_id = ch
        .balance_transaction
        .as_ref()
        .unwrap()
        .id()
        .as_str()
        .to_string();
    let bt = RetrieveBalanceTransaction::new(bt_id.as_str())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(bt.source.unwrap().id().as_str(), ch.id.as_str());

    let refunds = walk!(&c, ListRefund::new());
    let re = &refunds[0];
    assert!(re.amount > 0);
    assert_eq!(re.status.as_deref(), Some("succeeded"));
    let re2 = RetrieveRefund::new(re.id.clone()).send(&c).await.unwrap();
    assert_eq!(re2.amount, re.amount);
    // The refunded charge says so.
    let ch_id = re.charge.as_ref().unwrap().id().clone();
    let refunded = RetrieveCharge::new(ch_id).send(&c).await.unwrap();
    assert!(refunded.amount_refunded >= re.amount);

    let disputes = walk!(&c, ListDispute::new());
    let dp = &disputes[0];
    assert!(dp.amount > 0);
    assert_eq!(dp.status.as_str(), "lost");
    assert_eq!(dp.balance_transactions.len(), 1);
    assert_eq!(dp.balance_transactions[0].amount, -dp.amount);
    assert_eq!(dp.balance_transactions[0].reporting_category, "dispute");
    let disputed = RetrieveCharge::new(dp.charge.id().clone())
        .send(&c)
        .await
        .unwrap();
    assert!(disputed.disputed);
    assert_eq!(disputed.amount, dp.amount);
    RetrieveDispute::new(dp.id.clone()).send(&c).await.unwrap();

    let transfers = ListTransfer::new().send(&c).await.unwrap();
    let tr = &transfers.data[0];
    assert!(tr.amount > 0);
    assert!(tr.reversals.data.is_empty() && !tr.reversals.has_more);
    assert_eq!(
        tr.reversals.url,
        format!("/v1/transfers/{}/reversals", tr.id)
    );
    assert!(
        tr.destination
            .as_ref()
            .unwrap()
            .id()
            .as_str()
            .starts_with("acct_")
    );
    let tr2 = RetrieveTransfer::new(tr.id.clone()).send(&c).await.unwrap();
    assert_eq!(tr2.amount, tr.amount);
    let reversals = ListIdTransferReversal::new(tr.id.clone())
        .send(&c)
        .await
        .unwrap();
    assert!(reversals.data.is_empty());
    assert_eq!(reversals.url, format!("/v1/transfers/{}/reversals", tr.id));

    let payouts = ListPayout::new().send(&c).await.unwrap();
    let po = &payouts.data[0];
    assert!(po.amount > 0);
    assert_eq!(po.status, "paid");
    assert!(!po.automatic);
    let po2 = RetrievePayout::new(po.id.clone()).send(&c).await.unwrap();
    assert_eq!(po2.arrival_date, po.arrival_date);

    let accounts = walk!(&c, ListAccount::new());
    for a in &accounts {
        let transfers = a.capabilities.as_ref().unwrap().transfers.as_ref().unwrap();
        let due = a
            .requirements
            .as_ref()
            .unwrap()
            .currently_due
            .clone()
            .unwrap();
        if a.id.as_str() == restricted {
            assert_eq!(transfers.as_str(), "inactive");
            assert_eq!(a.payouts_enabled, Some(false));
            assert!(!due.is_empty());
        } else {
            assert_eq!(transfers.as_str(), "active");
            assert_eq!(a.payouts_enabled, Some(true));
            assert_eq!(a.charges_enabled, Some(true));
            assert!(due.is_empty());
        }
        assert_eq!(a.type_.as_ref().unwrap().as_str(), "express");
    }
    let one = RetrieveAccount::new(accounts[3].id.clone())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(one.id, accounts[3].id);
    let me = RetrieveForMyAccountAccount::new().send(&c).await.unwrap();
    assert_eq!(me.id.as_str(), closebook_stripe_sim::PLATFORM_ACCOUNT_ID);

    // Every event's object parses into its own type.
    let events = walk!(&c, ListEvent::new());
    let mut seen = BTreeSet::new();
    for ev in &events {
        let json = miniserde::json::to_string(&ev.data.object);
        let ty = ev.type_.as_str().to_string();
        let id =
            match ty.as_str() {
                "charge.succeeded" => miniserde::json::from_str::<stripe_core::Charge>(&json)
                    .map(|x| x.id.to_string()),
                // About the Charge that was refunded, as Stripe sends it.
                "charge.refunded" => miniserde::json::from_str::<stripe_core::Charge>(&json)
                    .map(|x| x.id.to_string()),
                "charge.dispute.created" => {
                    miniserde::json::from_str::<stripe_core::Dispute>(&json)
                        .map(|x| x.id.to_string())
                }
                "transfer.created" => miniserde::json::from_str::<stripe_connect::Transfer>(&json)
                    .map(|x| x.id.to_string()),
                "payout.paid" => miniserde::json::from_str::<stripe_core::Payout>(&json)
                    .map(|x| x.id.to_string()),
                other => panic!("unexpected event type {other}"),
            }
            .unwrap_or_else(|_| panic!("{ty} object parses"));
        let line = lines.iter().find(|l| l.event_id == ev.id.as_str()).unwrap();
        let object = if ty == "charge.refunded" {
            line.charge.clone().unwrap()
        } else {
            line.source.clone()
        };
        assert_eq!(id, object);
        assert_eq!(ev.created, line.created);
        seen.insert(ty);
    }
    // Every type of the last 30 days (the demo's one dispute is older).
    let kept: BTreeSet<String> = retained(&lines, sim.now())
        .iter()
        .map(|l| l.event_type.clone())
        .collect();
    assert_eq!(seen, kept);
    assert!(seen.len() >= 4, "{seen:?}");
    let ev = RetrieveEvent::new(events[0].id.clone())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(ev.id, events[0].id);

    // Unknown ids are Stripe's 404.
    let e = RetrieveCharge::new("ch_nope").send(&c).await.unwrap_err();
    let (status, _, code, param) = stripe_err(&e);
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (404, Some("resource_missing"), Some("id"))
    );
    let e = RetrieveTransfer::new("tr_nope").send(&c).await.unwrap_err();
    assert_eq!(stripe_err(&e).0, 404);
}

#[tokio::test]
async fn live_mode_objects_say_so() {
    let (ds, _) = demo();
    let sim = start(ds, SimConfig::live("sk_live_closebook_simulator_key"));
    let c = client(&sim);
    assert!(
        RetrieveForMyAccountBalance::new()
            .send(&c)
            .await
            .unwrap()
            .livemode
    );
    assert!(ListCharge::new().send(&c).await.unwrap().data[0].livemode);
    assert!(ListEvent::new().send(&c).await.unwrap().data[0].livemode);
    assert!(ListTransfer::new().send(&c).await.unwrap().data[0].livemode);
    // A test key is not accepted by a live simulator.
    let e = ListCharge::new()
        .send(&client_with_key(&sim, "sk_test_closebook_simulator"))
        .await
        .unwrap_err();
    assert_eq!(stripe_err(&e).0, 401);
    // And the configuration must be consistent.
    let err =
        Simulator::start(Dataset::empty(), SimConfig::new(Mode::Live, "sk_test_x")).unwrap_err();
    assert!(matches!(err, SimError::Config(_)), "{err}");
}

#[tokio::test]
async fn the_balance_adds_up_and_follows_the_clock() {
    let (ds, lines) = demo();
    let sim = start(ds, SimConfig::test());
    let c = client(&sim);
    let expect = |now: i64| {
        let available: i64 = lines
            .iter()
            .filter(|l| l.available_on <= now)
            .map(|l| l.net)
            .sum();
        let pending: i64 = lines
            .iter()
            .filter(|l| l.available_on > now)
            .map(|l| l.net)
            .sum();
        (available, pending)
    };
    let now = sim.now();
    let b = RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    let (available, pending) = expect(now);
    assert!(
        pending > 0,
        "the last days' charges are pending at the suggested clock"
    );
    assert_eq!(b.available[0].amount, available);
    assert_eq!(b.pending[0].amount, pending);
    assert_eq!(b.available[0].currency.to_string(), "usd");

    // Three days later every charge has settled.
    sim.advance(3 * 86_400);
    let b = RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    let total: i64 = lines.iter().map(|l| l.net).sum();
    assert_eq!(b.available[0].amount, total);
    assert_eq!(b.pending[0].amount, 0);
    let pending_bts = walk!(&c, ListBalanceTransaction::new())
        .iter()
        .filter(|b| b.status == "pending")
        .count();
    assert_eq!(pending_bts, 0);

    // Back before the first payout: it is still in transit.
    let first_payout = lines.iter().find(|l| l.kind == "payout").unwrap();
    sim.set_now(first_payout.created);
    let po = RetrievePayout::new(first_payout.source.as_str())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(po.status, "in_transit");
    let b = RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    assert_eq!(
        (b.available[0].amount, b.pending[0].amount),
        expect(first_payout.created)
    );
}

#[tokio::test]
async fn the_clock_can_reveal_the_dataset_gradually() {
    let (ds, lines) = demo();
    let middle = lines[lines.len() / 2].created;
    let sim = start(
        ds,
        SimConfig::test()
            .with_now(middle)
            .with_reveal_by_clock(true),
    );
    let c = client(&sim);
    let seen = walk!(&c, ListBalanceTransaction::new());
    assert_eq!(
        seen.len(),
        lines.iter().filter(|l| l.created <= middle).count()
    );
    let later = lines.iter().find(|l| l.created > middle).unwrap();
    let e = RetrieveBalanceTransaction::new(later.id.as_str())
        .send(&c)
        .await
        .unwrap_err();
    assert_eq!(stripe_err(&e).0, 404);
    sim.set_now(lines.last().unwrap().created);
    assert_eq!(walk!(&c, ListBalanceTransaction::new()).len(), lines.len());
}

#[tokio::test]
async fn a_connected_account_sees_its_own_empty_view() {
    let (ds, _) = demo();
    let acct = ds.accounts[1].stripe_account_id.clone();
    let sim = start(ds, SimConfig::test());
    let c = client(&sim);
    let as_acct = stripe::AccountId::from(acct.as_str());

    let page = ListBalanceTransaction::new()
        .customize()
        .account_id(as_acct.clone())
        .send(&c)
        .await
        .unwrap();
    assert!(page.data.is_empty() && !page.has_more);
    let b = RetrieveForMyAccountBalance::new()
        .customize()
        .account_id(as_acct.clone())
        .send(&c)
        .await
        .unwrap();
    assert_eq!((b.available[0].amount, b.pending[0].amount), (0, 0));
    let me = RetrieveForMyAccountAccount::new()
        .customize()
        .account_id(as_acct.clone())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(me.id.as_str(), acct);

    let e = ListBalanceTransaction::new()
        .customize()
        .account_id(stripe::AccountId::from("acct_notconnected"))
        .send(&c)
        .await
        .unwrap_err();
    let (status, type_, code, _) = stripe_err(&e);
    assert_eq!(
        (status, type_.as_str(), code.as_deref()),
        (403, "invalid_request_error", Some("account_invalid"))
    );
    let recorded = sim.requests();
    assert_eq!(
        recorded.last().unwrap().stripe_account.as_deref(),
        Some("acct_notconnected")
    );
}

#[tokio::test]
async fn authentication_is_checked_like_stripe() {
    let sim = start(Dataset::empty(), SimConfig::test());
    let e = ListCharge::new()
        .send(&client_with_key(&sim, "sk_test_someoneelsesverylongkey"))
        .await
        .unwrap_err();
    match &e {
        stripe::StripeError::Stripe(api, 401) => {
            assert_eq!(api.type_.as_str(), "invalid_request_error");
            let msg = api.message.as_deref().unwrap();
            assert!(
                msg.starts_with("Invalid API Key provided: sk_test_****"),
                "{msg}"
            );
            assert!(!msg.contains("someoneelses"), "the key is redacted: {msg}");
        }
        other => panic!("{other:?}"),
    }
    let ok = ListCharge::new().send(&client(&sim)).await.unwrap();
    assert!(ok.data.is_empty());
    let key = sim.api_key().to_string();
    let handle = tokio::task::spawn_blocking(move || {
        let sim_addr = sim.addr();
        let none = common::raw(sim_addr, "GET", "/v1/charges", &[], None);
        let basic = common::raw(
            sim_addr,
            "GET",
            "/v1/charges",
            &[("Authorization", "Basic Zm9vOmJhcg==")],
            None,
        );
        let auth = format!("Bearer {key}");
        let unknown = common::raw(
            sim_addr,
            "GET",
            "/v1/nothing",
            &[("Authorization", &auth)],
            None,
        );
        let bad_param = common::raw(
            sim_addr,
            "GET",
            "/v1/charges?colour=blue",
            &[("Authorization", &auth)],
            None,
        );
        let delete = common::raw(
            sim_addr,
            "DELETE",
            "/v1/charges",
            &[("Authorization", &auth)],
            None,
        );
        (none, basic, unknown, bad_param, delete, sim)
    });
    let (none, basic, unknown, bad_param, delete, _sim) = handle.await.unwrap();
    for r in [&none, &basic] {
        assert_eq!(r.status(), 401);
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    assert!(
        none.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not provide an API key")
    );
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized request URL (GET: /v1/nothing)")
    );
    assert_eq!(bad_param.status(), 400);
    assert_eq!(bad_param.json()["error"]["param"], "colour");
    assert_eq!(delete.status(), 404);
    assert!(none.header("request-id").unwrap().starts_with("req_"));
}

#[test]
fn a_simulator_on_its_own_thread_serves_synchronous_callers() {
    let sim = SimHandle::spawn_thread(Dataset::demo(), SimConfig::test()).unwrap();
    let r = get(&sim, "/v1/balance_transactions?limit=3&type=payout");
    assert_eq!(r.status(), 200);
    let body = r.json();
    assert_eq!(body["object"], "list");
    assert_eq!(body["url"], "/v1/balance_transactions");
    // The demo's two processed months end in one payout each.
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["has_more"], false);
    assert_eq!(body["data"][0]["object"], "balance_transaction");
    assert_eq!(body["data"][0]["type"], "payout");
    // Percent-encoded brackets work as well as raw ones.
    let r = get(&sim, "/v1/events?limit=1&created%5Blte%5D=0");
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 0);
    let acct = Dataset::demo().accounts[0].stripe_account_id.clone();
    let r = get_as(&sim, "/v1/account", &acct);
    assert_eq!(r.json()["id"], acct.as_str());
    assert_eq!(sim.requests().len(), 3);
    let url = sim.url();
    sim.shutdown();
    // Stopped: nothing listens any more.
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn start_outside_a_runtime_says_how_to_do_it() {
    let err = Simulator::start(Dataset::empty(), SimConfig::test()).unwrap_err();
    assert!(matches!(err, SimError::NoRuntime), "{err}");
}

/// Found by fuzzing (fuzz/fuzz_targets/sim_request.rs): a path id that is not UTF-8 was
/// answered with axum's plain-text rejection; every error is a Stripe-shaped JSON body.
#[tokio::test]
async fn a_path_id_that_is_not_utf8_is_a_json_error() {
    let sim = closebook_stripe_sim::SimService::new(
        Dataset::demo(),
        SimConfig::new(Mode::Test, closebook_stripe_sim::DEFAULT_TEST_KEY),
    )
    .unwrap();
    let auth = format!("Bearer {}", closebook_stripe_sim::DEFAULT_TEST_KEY);
    for target in [
        "/v1/transfers/r%ff%fe",
        "/v1/transfers/tr_1/reversals/%c3%28",
        "/v1/charges/%ff/",
    ] {
        let (status, body) = sim
            .handle(
                "GET",
                target,
                &[("authorization", auth.as_str())],
                Vec::new(),
            )
            .await
            .expect("a well-formed HTTP request");
        let doc: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{target}: {}", String::from_utf8_lossy(&body)));
        assert!((400..500).contains(&status), "{target}: {status}");
        assert_eq!(doc["error"]["type"], "invalid_request_error", "{target}");
    }
}

/// Automatic payouts (Stripe's schedule) list what they paid out under `?payout=`, their
/// own balance transaction among them, and the list nets to zero; a manual payout is
/// refused with Stripe's words; `charge.refunded` is about the Charge and `refund.created`
/// about the Refund.
#[test]
fn automatic_payouts_list_what_they_settled_and_events_name_their_objects() {
    use closebook_generate::{Payouts, RefundEvents, Shape};
    let manual = SimHandle::spawn_thread(Dataset::demo(), SimConfig::test()).unwrap();
    let po = demo().1.into_iter().find(|l| l.kind == "payout").unwrap();
    let r = get(
        &manual,
        &format!("/v1/balance_transactions?payout={}", po.source),
    );
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json()["error"]["message"],
        "Balance transaction history can only be filtered on automatic transfers, not manual."
    );
    manual.shutdown();
    for refund_events in [RefundEvents::ChargeRefunded, RefundEvents::RefundCreated] {
        let mut spec = PlatformSpec::scale(3_000, 7);
        spec.refunds_per_mille = 80;
        spec.shape = Shape {
            payouts: Payouts::Automatic,
            refund_events,
            ..Shape::default()
        };
        let platform = generate(&spec);
        let sim =
            SimHandle::spawn_thread(Dataset::from_platform(&platform), SimConfig::test()).unwrap();
        let payouts: Vec<&StripeActivity> = platform
            .stripe
            .iter()
            .filter(|l| l.kind == "payout")
            .collect();
        assert!(!payouts.is_empty());
        for p in &payouts {
            let want: BTreeSet<String> = platform
                .stripe
                .iter()
                .filter(|l| l.payout.as_deref() == Some(p.source.as_str()))
                .map(|l| l.id.clone())
                .collect();
            assert!(want.len() > 1, "a payout settles more than itself");
            let mut got: BTreeSet<String> = BTreeSet::new();
            let mut net = 0i64;
            let mut after = String::new();
            loop {
                let page = get(
                    &sim,
                    &format!(
                        "/v1/balance_transactions?limit=100&payout={}{after}",
                        p.source
                    ),
                )
                .json();
                for b in page["data"].as_array().unwrap() {
                    got.insert(b["id"].as_str().unwrap().to_string());
                    net += b["net"].as_i64().unwrap();
                }
                if page["has_more"] != true {
                    break;
                }
                after = format!(
                    "&starting_after={}",
                    page["data"].as_array().unwrap().last().unwrap()["id"]
                        .as_str()
                        .unwrap()
                );
            }
            assert_eq!(got, want);
            assert!(got.contains(&p.id), "its own balance transaction");
            assert_eq!(net, 0, "a payout nets to zero");
            assert_eq!(
                get(&sim, &format!("/v1/payouts/{}", p.source)).json()["automatic"],
                true
            );
        }
        let refund = platform
            .stripe
            .iter()
            .rev()
            .find(|l| l.kind == "refund")
            .unwrap();
        let event = get(&sim, &format!("/v1/events/{}", refund.event_id)).json();
        let (want_object, want_id) = match refund_events {
            RefundEvents::ChargeRefunded => ("charge", refund.charge.clone().unwrap()),
            RefundEvents::RefundCreated => ("refund", refund.source.clone()),
        };
        assert_eq!(event["data"]["object"]["object"], want_object, "{event}");
        assert_eq!(event["data"]["object"]["id"], want_id.as_str());
        sim.shutdown();
    }
}

/// Stripe keeps events for 30 days: older ones are neither listed nor retrievable.
#[test]
fn events_older_than_thirty_days_are_gone() {
    let (ds, lines) = demo();
    let sim = SimHandle::spawn_thread(ds, SimConfig::test()).unwrap();
    let horizon = sim.now() - closebook_stripe_sim::EVENT_RETENTION_SECS;
    let old = lines.iter().find(|l| l.created < horizon).unwrap();
    assert_eq!(
        get(&sim, &format!("/v1/events/{}", old.event_id)).status(),
        404
    );
    let recent = lines.iter().rev().find(|l| l.created >= horizon).unwrap();
    assert_eq!(
        get(&sim, &format!("/v1/events/{}", recent.event_id)).status(),
        200
    );
    let listed = get(
        &sim,
        &format!("/v1/events?limit=100&created%5Blt%5D={}", horizon + 86_400),
    )
    .json();
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["created"].as_i64().unwrap() >= horizon)
    );
    sim.shutdown();
}

/// A cursor must come from the same list: a charge's id given as `starting_after` to the
/// balance transactions is Stripe's `resource_missing` on that parameter; so is an unknown
/// parameter, and a `limit` outside 1–100.
#[test]
fn a_cursor_from_another_list_and_unknown_parameters_are_refused() {
    let (ds, lines) = demo();
    let sim = SimHandle::spawn_thread(ds, SimConfig::test()).unwrap();
    let charge = &lines.iter().find(|l| l.kind == "charge").unwrap().source;
    let r = get(
        &sim,
        &format!("/v1/balance_transactions?starting_after={charge}"),
    );
    assert_eq!(r.status(), 400);
    assert_eq!(r.json()["error"]["code"], "resource_missing");
    assert_eq!(r.json()["error"]["param"], "starting_after");
    let r = get(&sim, "/v1/charges?limit=100&colour=blue");
    assert_eq!(
        (r.status(), r.json()["error"]["param"].clone()),
        (400, "colour".into())
    );
    for limit in ["0", "101"] {
        let r = get(&sim, &format!("/v1/events?limit={limit}"));
        assert_eq!(r.status(), 400, "limit={limit}");
        assert_eq!(r.json()["error"]["param"], "limit");
    }
    sim.shutdown();
}
