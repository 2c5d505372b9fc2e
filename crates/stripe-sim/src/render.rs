//! Stripe's JSON for each record: the object of `fixtures/stripe/objects.json` (Stripe's own API
//! fixtures) with ids, amounts, currency, times and links overridden. Starting from the real
//! fixture keeps every field a client requires, including the ones Closebook never reads.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::STRIPE_API_VERSION;
use crate::config::PLATFORM_ACCOUNT_ID;
use crate::store::{
    AccountRec, Balances, BtRec, ChargeRec, DisputeRec, EventRec, ObjRef, PayoutRec, RefundRec,
    Store, TransferRec,
};

/// Stripe's fixtures of the ten objects served (from the `fixtures3.json` of Stripe's
/// OpenAPI repository, `resources` → each object).
static TEMPLATES: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../fixtures/stripe/objects.json"))
        .expect("fixtures/stripe/objects.json is valid JSON (a unit test parses it)")
});

fn template(name: &str) -> Value {
    let t = TEMPLATES[name].clone();
    debug_assert!(t.is_object(), "template {name} exists");
    t
}

/// Fixed ids of things the dataset does not have: the platform's bank account and the cards.
const PLATFORM_BANK_ACCOUNT: &str = "ba_1CloseBookPlatformBank0";
/// A dispute's evidence is due 7 days after it opens.
const EVIDENCE_DUE_SECS: i64 = 7 * 86_400;

/// What rendering needs besides the record: the store (for linked objects), the clock and
/// the mode.
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub now: i64,
    pub livemode: bool,
}

/// `{"object": "list", "data": [..], "has_more": .., "url": ..}`.
pub(crate) fn list(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

fn opt(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |v| json!(v))
}

fn metadata(m: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// A derived id for linked objects the dataset lacks (a payment method, a destination
/// payment): `prefix_` + the record id's tail.
fn derived_id(prefix: &str, id: &str) -> String {
    let tail = id.split_once('_').map_or(id, |(_, t)| t);
    format!("{prefix}_{tail}")
}

impl Ctx<'_> {
    pub fn balance_transaction(&self, bt: &BtRec) -> Value {
        let mut v = template("balance_transaction");
        v["id"] = json!(bt.id);
        v["amount"] = json!(bt.amount);
        v["fee"] = json!(bt.fee);
        v["net"] = json!(bt.net);
        v["currency"] = json!(bt.currency);
        v["created"] = json!(bt.created);
        v["available_on"] = json!(bt.available_on);
        v["status"] = json!(bt.status(self.now));
        v["type"] = json!(bt.kind);
        v["reporting_category"] = json!(bt.category);
        v["source"] = opt(&bt.source);
        v["description"] = opt(&bt.description);
        v["exchange_rate"] = Value::Null;
        v["balance_type"] = json!("payments");
        v["fee_details"] = if bt.fee == 0 {
            json!([])
        } else {
            let description = if bt.category == "dispute" {
                "Dispute fee"
            } else {
                "Stripe processing fees"
            };
            json!([{
                "amount": bt.fee,
                "application": null,
                "currency": bt.currency,
                "description": description,
                "type": "stripe_fee",
            }])
        };
        v
    }

    pub fn charge(&self, c: &ChargeRec) -> Value {
        let mut v = template("charge");
        v["id"] = json!(c.id);
        v["amount"] = json!(c.amount);
        v["amount_captured"] = json!(c.amount);
        v["amount_refunded"] = json!(c.amount_refunded);
        v["refunded"] = json!(c.amount_refunded == c.amount);
        v["disputed"] = json!(c.disputed);
        v["balance_transaction"] = json!(c.bt);
        v["captured"] = json!(true);
        v["paid"] = json!(true);
        v["status"] = json!("succeeded");
        v["created"] = json!(c.created);
        v["currency"] = json!(c.currency);
        v["livemode"] = json!(self.livemode);
        v["description"] = json!("Subscription");
        v["payment_method"] = json!(derived_id("pm", &c.id));
        v["receipt_url"] = Value::Null;
        v["billing_details"]["name"] = Value::Null;
        v["outcome"]["type"] = json!("authorized");
        v["outcome"]["network_status"] = json!("approved_by_network");
        v["outcome"]["seller_message"] = json!("Payment complete.");
        v["outcome"]["risk_level"] = json!("normal");
        if let Some(card) = v["payment_method_details"]["card"].as_object_mut() {
            card.insert("amount_authorized".into(), json!(c.amount));
            let tail = derived_id("", &c.id);
            card.insert(
                "fingerprint".into(),
                json!(tail.chars().skip(1).take(16).collect::<String>()),
            );
            if let Some(o) = card.get_mut("overcapture") {
                o["maximum_amount_capturable"] = json!(c.amount);
            }
        }
        // Current API versions no longer embed refunds in a charge, nor a legacy source.
        if let Some(o) = v.as_object_mut() {
            o.remove("refunds");
            o.remove("source");
        }
        v["transfer_data"] = Value::Null;
        v
    }

    pub fn refund(&self, r: &RefundRec) -> Value {
        let mut v = template("refund");
        v["id"] = json!(r.id);
        v["amount"] = json!(r.amount);
        v["currency"] = json!(r.currency);
        v["created"] = json!(r.created);
        v["balance_transaction"] = json!(r.bt);
        v["charge"] = opt(&r.charge);
        v["status"] = json!("succeeded");
        v["reason"] = json!("requested_by_customer");
        v
    }

    pub fn dispute(&self, d: &DisputeRec) -> Value {
        let mut v = template("dispute");
        v["id"] = json!(d.id);
        v["amount"] = json!(d.amount);
        v["currency"] = json!(d.currency);
        v["created"] = json!(d.created);
        v["charge"] = json!(d.charge);
        v["livemode"] = json!(self.livemode);
        v["status"] = json!("lost");
        v["reason"] = json!("fraudulent");
        v["is_charge_refundable"] = json!(false);
        v["enhanced_eligibility_types"] = json!([]);
        v["balance_transactions"] = Value::Array(
            d.bts
                .iter()
                .filter_map(|id| self.store.bts.get(id))
                .map(|bt| self.balance_transaction(bt))
                .collect(),
        );
        let due_by = d.created.saturating_add(EVIDENCE_DUE_SECS);
        v["evidence_details"]["due_by"] = json!(due_by);
        v["evidence_details"]["past_due"] = json!(self.now > due_by);
        v["evidence_details"]["has_evidence"] = json!(false);
        v["evidence_details"]["submission_count"] = json!(0);
        v["payment_method_details"]["card"]["case_type"] = json!("chargeback");
        v["payment_method_details"]["card"]["network_reason_code"] = json!("10.4");
        v
    }

    pub fn transfer(&self, t: &TransferRec) -> Value {
        let mut v = template("transfer");
        v["id"] = json!(t.id);
        v["amount"] = json!(t.amount);
        v["amount_reversed"] = json!(0);
        v["reversed"] = json!(false);
        v["currency"] = json!(t.currency);
        v["created"] = json!(t.created);
        v["balance_transaction"] = json!(t.bt);
        v["destination"] = opt(&t.destination);
        v["destination_payment"] = if t.destination.is_some() {
            json!(derived_id("py", &t.id))
        } else {
            Value::Null
        };
        v["livemode"] = json!(self.livemode);
        v["metadata"] = metadata(&t.metadata);
        v["description"] = opt(&t.description);
        v["transfer_group"] = opt(&t.transfer_group);
        v["source_transaction"] = opt(&t.source_transaction);
        v["source_type"] = json!("card");
        v["reversals"] = list(&format!("/v1/transfers/{}/reversals", t.id), vec![], false);
        v
    }

    pub fn payout(&self, p: &PayoutRec) -> Value {
        let mut v = template("payout");
        v["id"] = json!(p.id);
        v["amount"] = json!(p.amount);
        v["currency"] = json!(p.currency);
        v["created"] = json!(p.created);
        v["arrival_date"] = json!(p.arrival_date);
        v["balance_transaction"] = json!(p.bt);
        v["livemode"] = json!(self.livemode);
        v["automatic"] = json!(p.automatic);
        v["reconciliation_status"] = json!("not_applicable");
        v["destination"] = json!(PLATFORM_BANK_ACCOUNT);
        v["status"] = json!(p.status(self.now));
        v["trace_id"] = json!({ "status": "unsupported", "value": null });
        v
    }

    /// A creator's connected account (Express); restricted ones have the `transfers`
    /// capability inactive, payouts disabled and requirements past due.
    pub fn account(&self, a: &AccountRec) -> Value {
        let restricted = self.store.restricted.contains(&a.id);
        let mut v = self.account_common(&a.id, a.created);
        v["type"] = json!("express");
        v["controller"] = json!({
            "type": "application",
            "is_controller": true,
            "requirement_collection": "stripe",
            "stripe_dashboard": { "type": "express" },
        });
        v["email"] = json!(format!("{}@creators.example", a.author_id));
        v["metadata"] = json!({ "author_id": a.author_id });
        v["business_profile"]["name"] = json!(a.author_id);
        v["capabilities"] = json!({
            "card_payments": "active",
            "transfers": if restricted { "inactive" } else { "active" },
        });
        v["payouts_enabled"] = json!(!restricted);
        v["charges_enabled"] = json!(!restricted);
        v["details_submitted"] = json!(true);
        let due: Vec<&str> = if restricted {
            vec!["external_account", "individual.verification.document"]
        } else {
            vec![]
        };
        v["requirements"] = json!({
            "alternatives": [],
            "current_deadline": null,
            "currently_due": due,
            "disabled_reason": if restricted { json!("requirements.past_due") } else { Value::Null },
            "errors": [],
            "eventually_due": due,
            "past_due": due,
            "pending_verification": [],
        });
        v
    }

    /// The platform's own account (`GET /v1/account` without `Stripe-Account`).
    pub fn platform_account(&self) -> Value {
        let mut v = self.account_common(PLATFORM_ACCOUNT_ID, 1_700_000_000);
        v["type"] = json!("standard");
        v["controller"] = json!({ "type": "account" });
        v["email"] = json!("finance@platform.example");
        v["metadata"] = json!({});
        v["business_profile"]["name"] = json!("Closebook demo platform");
        v["capabilities"] = json!({ "card_payments": "active", "transfers": "active" });
        v["payouts_enabled"] = json!(true);
        v["charges_enabled"] = json!(true);
        v["details_submitted"] = json!(true);
        v["requirements"] = v["future_requirements"].clone();
        v
    }

    fn account_common(&self, id: &str, created: i64) -> Value {
        let mut v = template("account");
        v["id"] = json!(id);
        v["created"] = json!(created);
        v["country"] = json!("US");
        v["default_currency"] = json!(self.store.default_currency);
        v["external_accounts"] = list(
            &format!("/v1/accounts/{id}/external_accounts"),
            vec![],
            false,
        );
        v["tos_acceptance"]["date"] = json!(created);
        v
    }

    pub fn event(&self, e: &EventRec) -> Value {
        let mut v = template("event");
        v["id"] = json!(e.id);
        v["type"] = json!(e.type_);
        v["created"] = json!(e.created);
        v["livemode"] = json!(self.livemode);
        v["api_version"] = json!(STRIPE_API_VERSION);
        v["pending_webhooks"] = json!(0);
        v["request"] = json!({ "id": e.request_id, "idempotency_key": e.idempotency_key });
        let object = match &e.object {
            ObjRef::BalanceTransaction(id) => {
                self.store.bts.get(id).map(|x| self.balance_transaction(x))
            }
            ObjRef::Charge(id) => self.store.charges.get(id).map(|x| self.charge(x)),
            ObjRef::Refund(id) => self.store.refunds.get(id).map(|x| self.refund(x)),
            ObjRef::Dispute(id) => self.store.disputes.get(id).map(|x| self.dispute(x)),
            ObjRef::Transfer(id) => self.store.transfers.get(id).map(|x| self.transfer(x)),
            ObjRef::Payout(id) => self.store.payouts.get(id).map(|x| self.payout(x)),
        };
        v["data"] = json!({ "object": object.unwrap_or_else(|| Value::Object(Map::new())) });
        v
    }

    pub fn balance(&self, balances: &Balances) -> Value {
        let amounts = |pick: fn(&(i64, i64)) -> i64| -> Vec<Value> {
            balances
                .iter()
                .map(|(currency, ap)| {
                    json!({
                        "amount": pick(ap),
                        "currency": currency,
                        "source_types": { "card": pick(ap) },
                    })
                })
                .collect()
        };
        let mut v = template("balance");
        v["available"] = json!(amounts(|ap| ap.0));
        v["pending"] = json!(amounts(|ap| ap.1));
        v["connect_reserved"] = json!([]);
        v["livemode"] = json!(self.livemode);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_there() {
        for name in [
            "balance",
            "balance_transaction",
            "payout",
            "transfer",
            "transfer_reversal",
            "charge",
            "refund",
            "dispute",
            "account",
            "event",
        ] {
            assert!(TEMPLATES[name].is_object(), "{name}");
            if name != "balance" {
                assert_eq!(TEMPLATES[name]["object"], json!(name), "{name}");
            }
        }
    }

    #[test]
    fn derived_ids_keep_the_tail() {
        assert_eq!(derived_id("pm", "ch_abc"), "pm_abc");
        assert_eq!(derived_id("py", "plain"), "py_plain");
    }
}
