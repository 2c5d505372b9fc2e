//! Every fault kind, seen twice: by the real async-stripe client (what a sync or a payout
//! run has to handle) and on the wire by a raw TCP client (that the fault is what it claims).
//! Also latency, the rate limit and the recording of requests.

mod common;

use std::time::{Duration, Instant};

use closebook_stripe_sim::{Dataset, FaultKind, FaultPlan, SimConfig, SimHandle, Simulator};
use common::{client, client_with_timeout, get, post, stripe_err};
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_connect::transfer::CreateTransfer;
use stripe_core::balance::RetrieveForMyAccountBalance;
use stripe_core::charge::ListCharge;
use stripe_types::Currency;

fn sim(config: SimConfig) -> SimHandle {
    Simulator::start(Dataset::demo(), config).unwrap()
}

/// The next request gets `kind`.
fn next_fails(sim: &SimHandle, kind: FaultKind) {
    sim.set_faults(FaultPlan::none().at(sim.next_ordinal(), kind))
        .unwrap();
}

fn client_error(e: &StripeError) -> &str {
    match e {
        StripeError::ClientError(msg) => msg,
        other => panic!("expected a ClientError, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_stripe_errors_and_are_retried() {
    let s = sim(SimConfig::test());
    let c = client(&s);
    for code in [500, 502, 503, 504] {
        next_fails(&s, FaultKind::Status(code));
        let e = ListCharge::new().send(&c).await.unwrap_err();
        let (status, type_, _, _) = stripe_err(&e);
        assert_eq!((status, type_.as_str()), (code, "api_error"));
    }
    // Retry(3) gets through two 503s.
    let n = s.next_ordinal();
    s.set_faults(FaultPlan::none().between(n..=n + 1, FaultKind::Status(503)))
        .unwrap();
    let page = ListCharge::new()
        .customize()
        .request_strategy(RequestStrategy::Retry(3))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(page.data.len(), 10);
    let recs = s.requests();
    let last3: Vec<_> = recs[recs.len() - 3..]
        .iter()
        .map(|r| (r.status, r.fault))
        .collect();
    assert_eq!(
        last3,
        [
            (Some(503), Some(FaultKind::Status(503))),
            (Some(503), Some(FaultKind::Status(503))),
            (Some(200), None)
        ]
    );
    // On the wire: the status, Stripe's api_error JSON and Stripe-Should-Retry: true.
    next_fails(&s, FaultKind::Status(502));
    let s = tokio::task::spawn_blocking(move || {
        let r = get(&s, "/v1/charges");
        assert_eq!(r.status(), 502);
        assert_eq!(r.header("stripe-should-retry").as_deref(), Some("true"));
        assert_eq!(r.json()["error"]["type"], "api_error");
        s
    })
    .await
    .unwrap();
    drop(s);
}

#[tokio::test]
async fn a_non_retryable_error_is_not_retried() {
    let s = sim(SimConfig::test());
    let c = client(&s);
    next_fails(&s, FaultKind::NonRetryable);
    let before = s.next_ordinal();
    let e = ListCharge::new()
        .customize()
        .request_strategy(RequestStrategy::Retry(3))
        .send(&c)
        .await
        .unwrap_err();
    let (status, type_, _, _) = stripe_err(&e);
    assert_eq!((status, type_.as_str()), (400, "invalid_request_error"));
    assert_eq!(
        s.next_ordinal(),
        before + 1,
        "Stripe-Should-Retry: false stops Retry(3)"
    );
    next_fails(&s, FaultKind::NonRetryable);
    let s = tokio::task::spawn_blocking(move || {
        let r = get(&s, "/v1/charges");
        assert_eq!(r.status(), 400);
        assert_eq!(r.header("stripe-should-retry").as_deref(), Some("false"));
        s
    })
    .await
    .unwrap();
    drop(s);
}

#[tokio::test]
async fn a_rate_limited_fault_is_a_429() {
    let s = sim(SimConfig::test());
    let c = client(&s);
    next_fails(&s, FaultKind::RateLimited);
    let e = ListCharge::new().send(&c).await.unwrap_err();
    let (status, type_, code, _) = stripe_err(&e);
    assert_eq!(
        (status, type_.as_str(), code.as_deref()),
        (429, "invalid_request_error", Some("rate_limit"))
    );
}

#[tokio::test]
async fn a_timeout_holds_the_answer_past_the_client_timeout() {
    let s = sim(SimConfig::test().with_timeout_hold(Duration::from_secs(5)));
    let c = client_with_timeout(&s, Duration::from_millis(300));
    next_fails(&s, FaultKind::Timeout);
    let t0 = Instant::now();
    let e = ListCharge::new().send(&c).await.unwrap_err();
    assert!(matches!(e, StripeError::Timeout), "{e:?}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    let rec = s.requests().pop().unwrap();
    assert_eq!((rec.status, rec.fault), (None, Some(FaultKind::Timeout)));
    // The next request is served normally.
    assert_eq!(ListCharge::new().send(&c).await.unwrap().data.len(), 10);
}

#[tokio::test]
async fn a_timeout_without_a_client_timeout_ends_in_a_dropped_connection() {
    let s = sim(SimConfig::test().with_timeout_hold(Duration::from_millis(400)));
    next_fails(&s, FaultKind::Timeout);
    let (s, r, waited) = tokio::task::spawn_blocking(move || {
        let t0 = Instant::now();
        let r = get(&s, "/v1/charges");
        (s, r, t0.elapsed())
    })
    .await
    .unwrap();
    assert!(waited >= Duration::from_millis(400), "{waited:?}");
    assert!(r.bytes.is_empty(), "no response byte: {r:?}");
    drop(s);
}

#[tokio::test]
async fn a_truncated_body_stops_half_way() {
    let s = sim(SimConfig::test());
    let c = client(&s);
    next_fails(&s, FaultKind::TruncatedBody);
    let e = ListCharge::new().send(&c).await.unwrap_err();
    assert_eq!(client_error(&e), "error reading a body from connection");
    next_fails(&s, FaultKind::TruncatedBody);
    let s = tokio::task::spawn_blocking(move || {
        let r = get(&s, "/v1/charges");
        assert_eq!(r.status(), 200, "the head went out whole");
        let declared: usize = r.header("content-length").unwrap().parse().unwrap();
        assert!(!r.body().is_empty());
        assert!(
            r.body().len() < declared,
            "{} of {declared} bytes",
            r.body().len()
        );
        assert!(serde_json::from_slice::<serde_json::Value>(r.body()).is_err());
        s
    })
    .await
    .unwrap();
    let rec = s.requests().pop().unwrap();
    assert_eq!(
        (rec.status, rec.fault),
        (Some(200), Some(FaultKind::TruncatedBody))
    );
}

#[tokio::test]
async fn a_reset_sends_no_response_at_all() {
    let s = sim(SimConfig::test());
    let c = client(&s);
    next_fails(&s, FaultKind::ConnectionReset);
    let e = ListCharge::new().send(&c).await.unwrap_err();
    client_error(&e);
    next_fails(&s, FaultKind::ConnectionReset);
    let s = tokio::task::spawn_blocking(move || {
        let r = get(&s, "/v1/charges");
        assert!(r.bytes.is_empty(), "{r:?}");
        assert_eq!(
            r.error,
            Some(std::io::ErrorKind::ConnectionReset),
            "a TCP reset"
        );
        s
    })
    .await
    .unwrap();
    let rec = s.requests().pop().unwrap();
    assert_eq!(
        (rec.status, rec.fault),
        (None, Some(FaultKind::ConnectionReset))
    );
}

/// The answer is lost but the transfer exists: retrying with the same key must replay it,
/// not pay twice. A fault that does not execute the request creates nothing.
#[tokio::test]
async fn lost_answers_to_a_transfer_are_recovered_with_the_same_key() {
    let s = sim(SimConfig::test().with_timeout_hold(Duration::from_secs(5)));
    let c = client_with_timeout(&s, Duration::from_millis(300));
    let dest = Dataset::demo().accounts[0].stripe_account_id.clone();
    let create = |key: &str| {
        CreateTransfer::new(Currency::USD, dest.as_str())
            .amount(2500)
            .transfer_group("batch_1")
            .customize()
            .request_strategy(RequestStrategy::Idempotent(
                IdempotencyKey::new(key).unwrap(),
            ))
            .send(&c)
    };
    let mut expected_created = 0;
    for (kind, executes) in [
        (FaultKind::Timeout, true),
        (FaultKind::TruncatedBody, true),
        (FaultKind::ConnectionResetAfterProcessing, true),
        (FaultKind::ConnectionReset, false),
        (FaultKind::Status(500), false),
    ] {
        let key = format!("line-{kind:?}");
        next_fails(&s, kind);
        let e = create(&key).await.unwrap_err();
        match kind {
            FaultKind::Timeout => assert!(matches!(e, StripeError::Timeout), "{e:?}"),
            FaultKind::Status(500) => assert_eq!(stripe_err(&e).0, 500),
            _ => {
                client_error(&e);
            }
        }
        if executes {
            expected_created += 1;
        }
        assert_eq!(s.transfers_created().len(), expected_created, "{kind:?}");
        let t = create(&key).await.unwrap();
        if executes {
            assert_eq!(
                s.transfers_created().last().unwrap().id,
                t.id.as_str(),
                "{kind:?}: replayed"
            );
            assert!(s.requests().last().unwrap().idempotent_replayed, "{kind:?}");
        } else {
            expected_created += 1;
            assert!(
                !s.requests().last().unwrap().idempotent_replayed,
                "{kind:?}"
            );
        }
        assert_eq!(s.transfers_created().len(), expected_created, "{kind:?}");
    }
}

#[tokio::test]
async fn random_faults_are_the_same_for_the_same_seed() {
    let plan = FaultPlan::none().random(
        42,
        &[
            (FaultKind::Status(500), 150_000),
            (FaultKind::RateLimited, 100_000),
            (FaultKind::TruncatedBody, 50_000),
        ],
    );
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let s = sim(SimConfig::test().with_faults(plan.clone()));
        let c = client(&s);
        let mut seen = Vec::new();
        for _ in 0..40 {
            seen.push(match ListCharge::new().limit(1).send(&c).await {
                Ok(_) => "ok".to_string(),
                Err(StripeError::Stripe(_, status)) => status.to_string(),
                Err(StripeError::ClientError(_)) => "cut".to_string(),
                Err(other) => panic!("{other:?}"),
            });
        }
        let faults: Vec<_> = s.requests().iter().map(|r| r.fault).collect();
        assert_eq!(
            faults,
            (1..=40).map(|n| plan.fault_for(n)).collect::<Vec<_>>()
        );
        outcomes.push(seen);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    for kind in ["ok", "500", "429", "cut"] {
        assert!(
            outcomes[0].iter().any(|o| o == kind),
            "{kind} in {:?}",
            outcomes[0]
        );
    }
}

#[tokio::test]
async fn the_rate_limit_admits_n_per_sliding_second() {
    let s = sim(SimConfig::test().with_rate_limit(5));
    let c = client(&s);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(match RetrieveForMyAccountBalance::new().send(&c).await {
            Ok(_) => 200,
            Err(e) => {
                let (status, _, code, _) = stripe_err(&e);
                assert_eq!(code.as_deref(), Some("rate_limit"));
                status
            }
        });
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    // Lifted at run time.
    s.set_rate_limit(None).unwrap();
    for _ in 0..10 {
        RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    }
    // 429 without Stripe-Should-Retry, as Stripe.
    s.set_rate_limit(Some(1)).unwrap();
    let s = tokio::task::spawn_blocking(move || {
        assert_eq!(get(&s, "/v1/balance").status(), 200);
        let r = get(&s, "/v1/balance");
        assert_eq!(r.status(), 429);
        assert_eq!(r.header("stripe-should-retry"), None);
        s
    })
    .await
    .unwrap();
    drop(s);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let s = sim(SimConfig::test().with_latency(Duration::from_millis(150)));
    let c = client(&s);
    let t0 = Instant::now();
    RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(150));
    s.set_latency(Duration::ZERO);
    let t0 = Instant::now();
    RetrieveForMyAccountBalance::new().send(&c).await.unwrap();
    assert!(t0.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn every_request_is_recorded() {
    let s = sim(SimConfig::test());
    let c = client(&s);
    ListCharge::new().limit(3).send(&c).await.unwrap();
    let dest = Dataset::demo().accounts[0].stripe_account_id.clone();
    let body = format!("amount=2500&currency=usd&destination={dest}&metadata[line]=1");
    let s = tokio::task::spawn_blocking(move || {
        assert_eq!(
            post(&s, "/v1/transfers", &body, Some("rec-1")).status(),
            200
        );
        s
    })
    .await
    .unwrap();
    let recs = s.requests();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].ordinal, 1);
    assert_eq!(recs[0].method, "GET");
    assert_eq!(recs[0].path, "/v1/charges");
    assert_eq!(recs[0].query.as_deref(), Some("limit=3"));
    assert_eq!(recs[0].status, Some(200));
    assert_eq!(recs[1].method, "POST");
    assert_eq!(recs[1].idempotency_key.as_deref(), Some("rec-1"));
    assert_eq!(s.transfers_created()[0].request_ordinal, 2);
    s.clear_requests();
    assert!(s.requests().is_empty());
    assert_eq!(s.next_ordinal(), 3);
    assert!(
        s.set_faults(FaultPlan::none().at(1, FaultKind::Status(418)))
            .is_err()
    );
}
