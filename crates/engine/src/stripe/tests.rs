//! Unit tests of the Stripe mirror's pieces; the sync itself is tested end to end against
//! the Stripe simulator in `tests/stripe_sync.rs`.

use super::api::retryable;
use super::coverage::{Risk, Thresholds};
use super::sync::stripe_amount_to_minor;
use super::*;
use crate::workspace::Mode;

#[test]
fn keys_tell_their_mode_and_never_show_themselves() {
    let k = StripeKey::parse("sk_test_51Abc_DEF123").unwrap();
    assert_eq!(k.mode(), Mode::Test);
    assert!(!k.is_restricted());
    let debug = format!("{k:?}");
    assert!(!debug.contains("51Abc"), "{debug}");
    let r = StripeKey::parse(" rk_live_xyz\n").unwrap();
    assert_eq!(r.mode(), Mode::Live);
    assert!(r.is_restricted());
    for bad in [
        "",
        "pk_test_abc",
        "sk_test_",
        "sk_prod_abc",
        "sk_test_a b",
        "whsec_x",
    ] {
        assert!(
            matches!(StripeKey::parse(bad), Err(StripeError::MalformedKey)),
            "{bad:?} accepted"
        );
    }
    let long = format!("sk_test_{}", "a".repeat(300));
    assert!(StripeKey::parse(&long).is_err());
}

#[test]
fn every_relevant_stripe_object_parses_with_the_real_types() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../../fixtures/stripe/objects.json")).unwrap();
    let text = |k: &str| doc[k].to_string();
    macro_rules! parses {
        ($k:literal, $t:ty) => {{
            let v: $t = miniserde::json::from_str(&text($k))
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", $k));
            v
        }};
    }
    let balance = parses!("balance", stripe_core::Balance);
    assert!(!balance.available.is_empty());
    let bt = parses!("balance_transaction", stripe_core::BalanceTransaction);
    assert_eq!(
        bt.id.as_str(),
        doc["balance_transaction"]["id"].as_str().unwrap()
    );
    assert_eq!(bt.currency.to_string(), "usd");
    parses!("payout", stripe_core::Payout);
    let t = parses!("transfer", stripe_connect::Transfer);
    assert!(!t.reversals.has_more);
    parses!("transfer_reversal", stripe_connect::TransferReversal);
    parses!("charge", stripe_core::Charge);
    parses!("refund", stripe_core::Refund);
    parses!("dispute", stripe_core::Dispute);
    let account = parses!("account", stripe_connect::Account);
    assert!(account.capabilities.is_some());
    let event = parses!("event", stripe_core::Event);
    assert!(!event.type_.as_str().is_empty());
}

#[test]
fn unknown_enum_values_are_kept_not_rejected() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../../fixtures/stripe/objects.json")).unwrap();
    let mut bt = doc["balance_transaction"].clone();
    bt["type"] = "brand_new_kind".into();
    bt["reporting_category"] = "brand_new_category".into();
    let parsed: stripe_core::BalanceTransaction =
        miniserde::json::from_str(&bt.to_string()).unwrap();
    assert_eq!(parsed.type_.as_str(), "brand_new_kind");
    assert_eq!(parsed.reporting_category, "brand_new_category");
    let mut ev = doc["event"].clone();
    ev["type"] = "v3.thing.happened".into();
    let parsed: stripe_core::Event = miniserde::json::from_str(&ev.to_string()).unwrap();
    assert_eq!(parsed.type_.as_str(), "v3.thing.happened");
}

#[test]
fn what_is_worth_retrying() {
    use stripe::StripeError as E;
    let api = |code: Option<&str>| {
        let body = match code {
            Some(c) => format!(r#"{{"type":"api_error","code":"{c}"}}"#),
            None => r#"{"type":"api_error"}"#.to_string(),
        };
        Box::new(miniserde::json::from_str::<stripe::ApiErrors>(&body).unwrap())
    };
    assert!(retryable(&E::Timeout));
    assert!(retryable(&E::ClientError("connection reset".into())));
    for status in [429, 500, 502, 503, 504] {
        assert!(retryable(&E::Stripe(api(None), status)), "{status}");
    }
    assert!(retryable(&E::Stripe(api(Some("lock_timeout")), 409)));
    assert!(!retryable(&E::Stripe(api(None), 409)));
    for status in [400, 401, 402, 403, 404] {
        assert!(!retryable(&E::Stripe(api(None), status)), "{status}");
    }
    assert!(!retryable(&E::JSONDeserialize(
        "error deserializing request data".into()
    )));
    assert!(retryable(&E::JSONDeserialize(
        "error deserializing Stripe error".into()
    )));
    assert!(!retryable(&E::ConfigError("bad".into())));
}

#[test]
fn isk_and_ugx_come_from_stripe_with_two_zero_decimals() {
    assert_eq!(stripe_amount_to_minor("isk", 150_000), Some(1_500));
    assert_eq!(stripe_amount_to_minor("ugx", 100), Some(1));
    assert_eq!(stripe_amount_to_minor("isk", 150_050), None);
    assert_eq!(stripe_amount_to_minor("usd", 150_050), Some(150_050));
    assert_eq!(stripe_amount_to_minor("jpy", -7), Some(-7));
}

#[test]
fn risk_levels_follow_the_thresholds() {
    let t = Thresholds::default();
    assert_eq!(t.risk(None), Risk::Low);
    assert_eq!(t.risk(Some(12_000)), Risk::Low);
    assert_eq!(t.risk(Some(11_999)), Risk::Medium);
    assert_eq!(t.risk(Some(10_000)), Risk::Medium);
    assert_eq!(t.risk(Some(9_999)), Risk::High);
    assert_eq!(t.risk(Some(-5)), Risk::High);
}

#[test]
fn limits_stay_below_stripes_documented_rates() {
    assert!(Limits::for_mode(false).requests_per_second < 25);
    assert!(Limits::for_mode(true).requests_per_second < 100);
    assert_eq!(Limits::for_mode(true).page_size, 100);
}

#[test]
fn a_page_parses_as_a_sync_parses_it_and_bad_pages_are_named() {
    use super::sync::{ObjectType, parse_page};
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../../fixtures/stripe/objects.json")).unwrap();
    let page = serde_json::json!({
        "object": "list", "url": "/v1/balance_transactions", "has_more": false,
        "data": [doc["balance_transaction"].clone()],
    });
    let body = page.to_string();
    // One typed balance-transaction row and one raw mirror row.
    assert_eq!(
        parse_page(ObjectType::BalanceTransaction, body.as_bytes()).unwrap(),
        2
    );
    for bad in [
        &b"{"[..],
        b"[]",
        b"\xff\xfe",
        br#"{"object":"list","data":[{"id":1}]}"#,
    ] {
        let err = parse_page(ObjectType::BalanceTransaction, bad).unwrap_err();
        assert!(matches!(err, super::StripeError::BadObject { .. }), "{err}");
    }
    // A charge page whose item lost its id is refused by name.
    let mut charge = doc["charge"].clone();
    charge.as_object_mut().unwrap().remove("id");
    let page = serde_json::json!({"object": "list", "url": "/v1/charges", "has_more": false, "data": [charge]});
    assert!(parse_page(ObjectType::Charge, page.to_string().as_bytes()).is_err());
}

#[test]
fn the_key_travels_only_over_https_or_to_loopback() {
    use super::StripeError;
    use super::api::normalize_base;
    for ok in [
        "https://api.stripe.com",
        "https://api.stripe.com/",
        "http://127.0.0.1:12111",
        "http://localhost:8080/",
        "http://[::1]:9000",
    ] {
        let b = normalize_base(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert!(b.ends_with('/'), "{b}");
    }
    for cleartext in [
        "http://api.stripe.com",
        "http://10.0.0.5:12111",
        "http://127.0.0.1.evil.example",
    ] {
        assert!(
            matches!(
                normalize_base(cleartext),
                Err(StripeError::CleartextApiBase(_))
            ),
            "{cleartext}"
        );
    }
    for bad in [
        "",
        "api.stripe.com",
        "ftp://api.stripe.com",
        "file:///etc/passwd",
        "https://",
    ] {
        assert!(
            matches!(normalize_base(bad), Err(StripeError::BadApiBase(_))),
            "{bad}"
        );
    }
}
