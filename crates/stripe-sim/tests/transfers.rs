//! `POST /v1/transfers`: creation and its effects, validation, the balance check and
//! Stripe's idempotency (replay, mismatch, expiry after 24 hours of simulator clock).

mod common;

use std::collections::HashMap;

use closebook_stripe_sim::{Dataset, SimConfig, SimHandle, Simulator};
use common::{client, post, stripe_err};
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_connect::transfer::{CreateTransfer, ListTransfer, RetrieveTransfer};
use stripe_core::balance::RetrieveForMyAccountBalance;
use stripe_core::balance_transaction::ListBalanceTransaction;
use stripe_core::event::ListEvent;
use stripe_types::Currency;

fn start() -> (SimHandle, Vec<String>) {
    let ds = Dataset::demo();
    let accounts = ds
        .accounts
        .iter()
        .map(|a| a.stripe_account_id.clone())
        .collect();
    (Simulator::start(ds, SimConfig::test()).unwrap(), accounts)
}

fn idempotent(key: &str) -> RequestStrategy {
    RequestStrategy::Idempotent(IdempotencyKey::new(key).unwrap())
}

fn transfer(dest: &str, amount: i64, line: u32) -> CreateTransfer {
    CreateTransfer::new(Currency::USD, dest)
        .amount(amount)
        .transfer_group("batch_2026_10")
        .description(format!("Payout line {line}"))
        .metadata(HashMap::from([
            ("batch".to_string(), "batch_2026_10".to_string()),
            ("line".to_string(), line.to_string()),
        ]))
}

#[tokio::test]
async fn a_transfer_is_created_with_its_balance_transaction_and_event() {
    let (sim, accounts) = start();
    let c = client(&sim);
    let before = RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    let t = transfer(&accounts[2], 4321, 1)
        .customize()
        .request_strategy(idempotent("batch_2026_10:line:1"))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(t.amount, 4321);
    assert_eq!(t.currency, Currency::USD);
    assert_eq!(t.destination.as_ref().unwrap().id().as_str(), accounts[2]);
    assert_eq!(t.transfer_group.as_deref(), Some("batch_2026_10"));
    assert_eq!(t.metadata["line"], "1");
    assert_eq!(t.created, sim.now());
    assert!(t.reversals.data.is_empty());

    let created = sim.transfers_created();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].id, t.id.as_str());
    assert_eq!(
        created[0].idempotency_key.as_deref(),
        Some("batch_2026_10:line:1")
    );
    assert_eq!(created[0].metadata["batch"], "batch_2026_10");

    let fetched = RetrieveTransfer::new(t.id.clone()).send(&c).await.unwrap();
    assert_eq!(fetched.amount, 4321);
    let grouped = ListTransfer::new()
        .transfer_group("batch_2026_10")
        .send(&c)
        .await
        .unwrap();
    assert_eq!(grouped.data.len(), 1);
    assert_eq!(grouped.data[0].id, t.id);

    let bt_id = t
        .balance_transaction
        .as_ref()
        .unwrap()
        .id()
        .as_str()
        .to_string();
    let bts = ListBalanceTransaction::new()
        .source(t.id.as_str())
        .send(&c)
        .await
        .unwrap();
    assert_eq!(bts.data.len(), 1);
    assert_eq!(bts.data[0].id.as_str(), bt_id);
    assert_eq!(bts.data[0].amount, -4321);
    assert_eq!(bts.data[0].type_.as_str(), "transfer");
    assert_eq!(bts.data[0].status, "available");

    let events = ListEvent::new()
        .type_("transfer.created")
        .limit(1)
        .send(&c)
        .await
        .unwrap();
    let ev = &events.data[0];
    let obj: stripe_connect::Transfer =
        miniserde::json::from_str(&miniserde::json::to_string(&ev.data.object)).unwrap();
    assert_eq!(obj.id, t.id);
    let request = ev.request.as_ref().unwrap();
    assert_eq!(
        request.idempotency_key.as_deref(),
        Some("batch_2026_10:line:1")
    );
    let post = sim
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(request.id.as_deref(), Some(post.request_id.as_str()));

    let after = RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    assert_eq!(after.available[0].amount, before.available[0].amount - 4321);
    assert_eq!(after.pending[0].amount, before.pending[0].amount);
}

#[tokio::test]
async fn the_same_key_replays_the_same_answer() {
    let (sim, accounts) = start();
    let c = client(&sim);
    let first = transfer(&accounts[0], 2500, 7)
        .customize()
        .request_strategy(idempotent("line-7"))
        .send(&c)
        .await
        .unwrap();
    let second = transfer(&accounts[0], 2500, 7)
        .customize()
        .request_strategy(idempotent("line-7"))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(sim.transfers_created().len(), 1);
    let records = sim.requests();
    assert!(!records[0].idempotent_replayed);
    assert!(records[1].idempotent_replayed);

    // On the wire: the same status and bytes, marked as a replay.
    let body = "amount=2500&currency=usd&destination=".to_string() + &accounts[0];
    let sim = tokio::task::spawn_blocking(move || {
        let a = post(&sim, "/v1/transfers", &body, Some("raw-key"));
        let b = post(&sim, "/v1/transfers", &body, Some("raw-key"));
        assert_eq!(a.status(), 200);
        assert_eq!(b.status(), 200);
        assert_eq!(a.body(), b.body());
        assert_eq!(a.header("idempotent-replayed"), None);
        assert_eq!(b.header("idempotent-replayed").as_deref(), Some("true"));
        // Parameters in another order are the same request.
        let reordered = body.split('&').rev().collect::<Vec<_>>().join("&");
        let c = post(&sim, "/v1/transfers", &reordered, Some("raw-key"));
        assert_eq!(c.body(), a.body());
        sim
    })
    .await
    .unwrap();
    assert_eq!(sim.transfers_created().len(), 2);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_pay_once() {
    let (sim, accounts) = start();
    let c = client(&sim);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        let dest = accounts[4].clone();
        tasks.push(tokio::spawn(async move {
            transfer(&dest, 3000, 9)
                .customize()
                .request_strategy(idempotent("line-9"))
                .send(&c)
                .await
                .map(|t| t.id)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(sim.transfers_created().len(), 1);
}

#[tokio::test]
async fn a_key_reused_with_other_parameters_is_an_idempotency_error() {
    let (sim, accounts) = start();
    let c = client(&sim);
    transfer(&accounts[0], 2500, 1)
        .customize()
        .request_strategy(idempotent("line-1"))
        .send(&c)
        .await
        .unwrap();
    let e = transfer(&accounts[0], 2600, 1)
        .customize()
        .request_strategy(idempotent("line-1"))
        .send(&c)
        .await
        .unwrap_err();
    let (status, type_, _, _) = stripe_err(&e);
    assert_eq!((status, type_.as_str()), (400, "idempotency_error"));
    assert_eq!(sim.transfers_created().len(), 1);
}

#[tokio::test]
async fn keys_expire_after_24_hours_of_simulator_clock() {
    let (sim, accounts) = start();
    let c = client(&sim);
    let send = || {
        transfer(&accounts[1], 2500, 3)
            .customize()
            .request_strategy(idempotent("line-3"))
            .send(&c)
    };
    let first = send().await.unwrap();
    sim.advance(24 * 3600 - 1);
    assert_eq!(send().await.unwrap().id, first.id, "still remembered");
    sim.advance(1);
    let after = send().await.unwrap();
    assert_ne!(after.id, first.id, "forgotten after 24 h: a new transfer");
    assert_eq!(sim.transfers_created().len(), 2);
    assert_eq!(sim.transfers_created()[1].created, sim.now());
}

#[tokio::test]
async fn a_shorter_window_can_be_configured() {
    let ds = Dataset::demo();
    let dest = ds.accounts[0].stripe_account_id.clone();
    let sim = Simulator::start(ds, SimConfig::test().with_idempotency_window_secs(60)).unwrap();
    let c = client(&sim);
    let a = transfer(&dest, 2500, 1)
        .customize()
        .request_strategy(idempotent("k"))
        .send(&c)
        .await
        .unwrap();
    sim.advance(60);
    let b = transfer(&dest, 2500, 1)
        .customize()
        .request_strategy(idempotent("k"))
        .send(&c)
        .await
        .unwrap();
    assert_ne!(a.id, b.id);
}

#[tokio::test]
async fn invalid_transfers_are_refused_and_store_nothing() {
    let ds = Dataset::demo();
    let restricted = ds.accounts[5].stripe_account_id.clone();
    let ok_dest = ds.accounts[6].stripe_account_id.clone();
    let sim = Simulator::start(
        ds,
        SimConfig::test().with_restricted_account(restricted.clone()),
    )
    .unwrap();
    let c = client(&sim);
    let check = |e: stripe::StripeError, code: Option<&str>, param: &str| {
        let (status, type_, got_code, got_param) = stripe_err(&e);
        assert_eq!(
            (status, type_.as_str()),
            (400, "invalid_request_error"),
            "{e:?}"
        );
        assert_eq!(got_code.as_deref(), code, "{e:?}");
        assert_eq!(got_param.as_deref(), Some(param), "{e:?}");
    };
    let e = transfer(&ok_dest, 0, 1).send(&c).await.unwrap_err();
    check(e, Some("parameter_invalid_integer"), "amount");
    let e = transfer(&ok_dest, -5, 1).send(&c).await.unwrap_err();
    check(e, Some("parameter_invalid_integer"), "amount");
    let e = CreateTransfer::new(Currency::USD, ok_dest.as_str())
        .send(&c)
        .await
        .unwrap_err();
    check(e, Some("parameter_missing"), "amount");
    let e = transfer("acct_unknown", 2500, 1)
        .send(&c)
        .await
        .unwrap_err();
    check(e, Some("resource_missing"), "destination");
    let key = idempotent("line-restricted");
    let e = transfer(&restricted, 2500, 1)
        .customize()
        .request_strategy(key.clone())
        .send(&c)
        .await
        .unwrap_err();
    check(
        e,
        Some("insufficient_capabilities_for_transfer"),
        "destination",
    );
    assert!(sim.transfers_created().is_empty());

    // The refusal was not stored: once the account is fixed, the same key pays.
    assert!(sim.set_account_restricted(&restricted, false));
    let t = transfer(&restricted, 2500, 1)
        .customize()
        .request_strategy(key)
        .send(&c)
        .await
        .unwrap();
    assert_eq!(sim.transfers_created().len(), 1);
    assert_eq!(sim.transfers_created()[0].id, t.id.as_str());
    assert!(!sim.set_account_restricted("acct_unknown", true));
}

#[tokio::test]
async fn a_transfer_beyond_the_available_balance_is_refused_and_remembered() {
    let (sim, accounts) = start();
    let c = client(&sim);
    let available = RetrieveForMyAccountBalance::new()
        .send(&c)
        .await
        .unwrap()
        .available[0]
        .amount;
    assert!(available > 0);
    let send = |amount: i64| {
        transfer(&accounts[0], amount, 11)
            .customize()
            .request_strategy(idempotent("line-11"))
            .send(&c)
    };
    let e = send(available + 1).await.unwrap_err();
    let (status, _, code, _) = stripe_err(&e);
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("balance_insufficient"))
    );
    // Execution had started: the answer is stored and replayed for the same key and
    // parameters.
    sim.advance(3600);
    let e = send(available + 1).await.unwrap_err();
    assert_eq!(stripe_err(&e).2.as_deref(), Some("balance_insufficient"));
    assert!(sim.requests().last().unwrap().idempotent_replayed);
    assert!(sim.transfers_created().is_empty());
    // Three days later the key is forgotten and the pending charges have settled: the same
    // request now executes again, and succeeds.
    sim.advance(3 * 86_400);
    send(available + 1).await.unwrap();
    assert!(!sim.requests().last().unwrap().idempotent_replayed);
    assert_eq!(sim.transfers_created().len(), 1);
    // Exactly the available balance can be paid out.
    let now_available = RetrieveForMyAccountBalance::new()
        .send(&c)
        .await
        .unwrap()
        .available[0]
        .amount;
    transfer(&accounts[0], now_available, 12)
        .send(&c)
        .await
        .unwrap();
    let b = RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    assert_eq!(b.available[0].amount, 0);
}

#[tokio::test]
async fn a_connected_account_cannot_pay_from_its_empty_balance() {
    let (sim, accounts) = start();
    let c = client(&sim);
    let e = transfer(&accounts[0], 2500, 1)
        .customize()
        .account_id(stripe::AccountId::from(accounts[1].as_str()))
        .send(&c)
        .await
        .unwrap_err();
    assert_eq!(stripe_err(&e).2.as_deref(), Some("balance_insufficient"));
    assert!(sim.transfers_created().is_empty());
}
