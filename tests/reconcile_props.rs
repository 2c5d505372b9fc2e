//! Matching as a property: generated platforms whose two sides agree, with random
//! discrepancies of every kind injected; each must be found exactly once with its kind,
//! nothing else may be flagged, and the exceptions must explain the whole difference.

use std::collections::{BTreeMap, HashMap};

use closebook_engine::reconcile::ReconcileError;
use closebook_engine::reconcile::matching::{
    EventSeen, FEE_ENTRY_TYPE, Kind, Later, LedgerItem, LedgerPart, Lookup, StripeItem, figures,
    match_items,
};
use closebook_engine::reconcile::rules::{MatchRules, Rule};
use proptest::prelude::*;

const DAY_US: i64 = 86_400 * 1_000_000;

/// What one side has after the day, events, and groups: the lookups a workspace answers.
#[derive(Default)]
struct Fake {
    ledger_after: HashMap<String, Later>,
    stripe_after: HashMap<String, Later>,
    events: HashMap<String, EventSeen>,
    groups: HashMap<String, String>,
}

impl Lookup for Fake {
    fn ledger_after(&mut self, o: &str, _: &str) -> Result<Option<Later>, ReconcileError> {
        Ok(self.ledger_after.get(o).cloned())
    }
    fn stripe_after(&mut self, o: &str, _: &str) -> Result<Option<Later>, ReconcileError> {
        Ok(self.stripe_after.get(o).cloned())
    }
    fn event_for(&mut self, o: &str) -> Result<Option<EventSeen>, ReconcileError> {
        Ok(self.events.get(o).cloned())
    }
    fn group_of(&mut self, item: &StripeItem) -> Result<Option<String>, ReconcileError> {
        Ok(self.groups.get(item.object.as_str()).cloned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inject {
    None,
    MissingInLedger,
    MissedWebhookNever,
    MissedWebhookFailed,
    AmountMismatch(i64),
    FeeMismatch(i64),
    Duplicate,
    TimingLedgerLate,
    TimingStripeLate,
    MissingInStripe,
}

impl Inject {
    fn kind(self) -> Option<Kind> {
        Some(match self {
            Inject::None => return None,
            Inject::MissingInLedger => Kind::MissingInLedger,
            Inject::MissedWebhookNever | Inject::MissedWebhookFailed => Kind::MissedWebhook,
            Inject::AmountMismatch(_) => Kind::AmountMismatch,
            Inject::FeeMismatch(_) => Kind::FeeMismatch,
            Inject::Duplicate => Kind::Duplicate,
            Inject::TimingLedgerLate | Inject::TimingStripeLate => Kind::TimingDifference,
            Inject::MissingInStripe => Kind::MissingInStripe,
        })
    }
}

fn inject() -> impl Strategy<Value = Inject> {
    let delta = prop_oneof![-500i64..=-1, 1i64..=500];
    prop_oneof![
        6 => Just(Inject::None),
        1 => Just(Inject::MissingInLedger),
        1 => Just(Inject::MissedWebhookNever),
        1 => Just(Inject::MissedWebhookFailed),
        1 => delta.clone().prop_map(Inject::AmountMismatch),
        1 => delta.prop_map(Inject::FeeMismatch),
        1 => Just(Inject::Duplicate),
        1 => Just(Inject::TimingLedgerLate),
        1 => Just(Inject::TimingStripeLate),
        1 => Just(Inject::MissingInStripe),
    ]
}

/// One Stripe movement of the generated platform: (type, currency, amount, created day,
/// whether its fee is booked inside the movement's entry rather than in one of its own).
fn movement() -> impl Strategy<Value = (u8, bool, i64, i64, bool)> {
    (0u8..4, any::<bool>(), 0i64..40, 0i64..28, any::<bool>())
}

struct Platform {
    stripe: Vec<StripeItem>,
    ledger: Vec<LedgerItem>,
    fake: Fake,
    /// (kind, object) of every injected discrepancy.
    expected: Vec<(Kind, String)>,
}

fn build(moves: &[(u8, bool, i64, i64, bool)], injects: &[Inject]) -> Platform {
    let mut p = Platform {
        stripe: Vec::new(),
        ledger: Vec::new(),
        fake: Fake::default(),
        expected: Vec::new(),
    };
    for (i, ((t, eur, jitter, day, fee_inside), inj)) in moves.iter().zip(injects).enumerate() {
        let (prefix, bt_type, entry_type) = match t {
            0 => ("ch", "charge", "subscription_payment"),
            1 => ("re", "refund", "refund"),
            2 => ("tr", "transfer", "transfer"),
            _ => ("po", "payout", "payout"),
        };
        let object = format!("{prefix}_{i:05}");
        let currency = if *eur { "eur" } else { "usd" }.to_string();
        // Amounts far apart, so that no two items could pass for each other.
        let magnitude = 1_000 + 100 * i as i64 + jitter;
        let (amount, fee) = if *t == 0 {
            (magnitude, 30 + magnitude * 29 / 1_000)
        } else {
            (-magnitude, 0)
        };
        let net = amount - fee;
        let created = day * DAY_US + (i as i64 % 1_000) * 1_000_000;
        let item = StripeItem {
            object: object.as_str().into(),
            currency: currency.as_str().into(),
            bt_ids: vec![format!("txn_{i:05}").into()],
            kind: bt_type.into(),
            amount,
            fee,
            net,
            created,
        };
        let mut parts = vec![LedgerPart {
            entry_id: format!("je_{i:05}a").into(),
            entry_type: entry_type.into(),
            own: false,
            net: amount,
            created,
        }];
        if fee != 0 {
            parts.push(LedgerPart {
                entry_id: if *fee_inside {
                    format!("je_{i:05}a")
                } else {
                    format!("je_{i:05}b")
                }
                .into(),
                entry_type: FEE_ENTRY_TYPE.into(),
                own: false,
                net: -fee,
                created,
            });
        }
        let mut ledger = Some(LedgerItem {
            object: Some(object.as_str().into()),
            currency: currency.as_str().into(),
            parts,
        });
        let mut stripe = Some(item);
        let event = |status: Option<&str>| EventSeen {
            event_id: format!("evt_{i:05}"),
            event_type: format!("{bt_type}.created"),
            webhook_status: status.map(String::from),
        };
        p.fake
            .events
            .insert(object.clone(), event(Some("processed")));
        let mut inj = *inj;
        // A fee discrepancy needs a fee.
        if matches!(inj, Inject::FeeMismatch(_)) && fee == 0 {
            inj = Inject::None;
        }
        match inj {
            Inject::None => {}
            Inject::MissingInLedger => ledger = None,
            Inject::MissedWebhookNever => {
                ledger = None;
                p.fake.events.insert(object.clone(), event(None));
            }
            Inject::MissedWebhookFailed => {
                ledger = None;
                p.fake.events.insert(object.clone(), event(Some("failed")));
            }
            Inject::AmountMismatch(d) => ledger.as_mut().unwrap().parts[0].net += d,
            Inject::FeeMismatch(d) => ledger.as_mut().unwrap().parts[1].net -= d,
            Inject::Duplicate => {
                // A redelivered webhook books the movement's entry again: with the fee
                // inside it, the fee is booked again too.
                let l = ledger.as_mut().unwrap();
                let copies = if *fee_inside { l.parts.len() } else { 1 };
                for k in 0..copies {
                    let mut again = l.parts[k].clone();
                    again.entry_id = format!("je_{i:05}dup").into();
                    again.created += 60_000_000;
                    l.parts.push(again);
                }
            }
            Inject::TimingLedgerLate => {
                let l = ledger.take().unwrap();
                let (_, _, net) = figures(&l.parts).unwrap();
                p.fake.ledger_after.insert(
                    object.clone(),
                    Later {
                        ids: l.parts.iter().map(|x| x.entry_id.to_string()).collect(),
                        net,
                        created: 40 * DAY_US,
                    },
                );
            }
            Inject::TimingStripeLate => {
                let s = stripe.take().unwrap();
                p.fake.stripe_after.insert(
                    object.clone(),
                    Later {
                        ids: s.bt_ids.iter().map(|x| x.to_string()).collect(),
                        net: s.net,
                        created: 40 * DAY_US,
                    },
                );
            }
            Inject::MissingInStripe => stripe = None,
        }
        if let Some(k) = inj.kind() {
            p.expected.push((k, object.clone()));
        }
        p.stripe.extend(stripe);
        p.ledger.extend(ledger);
    }
    p.expected.sort();
    p
}

fn net_per_currency(p: &Platform) -> BTreeMap<String, i64> {
    let mut d: BTreeMap<String, i64> = BTreeMap::new();
    for s in &p.stripe {
        *d.entry(s.currency.to_string()).or_default() += s.net;
    }
    for l in &p.ledger {
        *d.entry(l.currency.to_string()).or_default() -= figures(&l.parts).unwrap().2;
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_injected_discrepancy_is_found_once_and_the_difference_is_explained(
        (moves, injects) in (1usize..80).prop_flat_map(|n| (
            proptest::collection::vec(movement(), n),
            proptest::collection::vec(inject(), n),
        )),
        shuffle in any::<u64>(),
    ) {
        let mut p = build(&moves, &injects);
        // The order items arrive in must not matter.
        let k = (shuffle as usize) % p.ledger.len().max(1);
        p.ledger.rotate_left(k);
        let out = match_items(&p.stripe, &p.ledger, &MatchRules::default(), &mut p.fake).unwrap();
        let mut found: Vec<(Kind, String)> = out
            .found
            .iter()
            .map(|f| (f.kind, f.stripe_object.clone().unwrap_or_default()))
            .collect();
        found.sort();
        prop_assert_eq!(&found, &p.expected);
        // Keys are unique: one exception per discrepancy.
        let mut keys: Vec<&str> = out.found.iter().map(|f| f.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), out.found.len());
        // Stripe − ledger, per currency, is exactly the sum of the exceptions' effects.
        let mut explained: BTreeMap<String, i64> = BTreeMap::new();
        for f in &out.found {
            *explained.entry(f.currency.clone()).or_default() += f.effect;
        }
        for (c, diff) in net_per_currency(&p) {
            prop_assert_eq!(explained.get(&c).copied().unwrap_or(0), diff, "{}", c);
        }
    }
}

fn charge(object: &str, net: i64, created: i64) -> StripeItem {
    StripeItem {
        object: object.into(),
        currency: "usd".into(),
        bt_ids: vec![format!("txn_{object}").into()],
        kind: "transfer".into(),
        amount: net,
        fee: 0,
        net,
        created,
    }
}

fn entry(object: Option<&str>, id: &str, net: i64, created: i64) -> LedgerItem {
    LedgerItem {
        object: object.map(Into::into),
        currency: "usd".into(),
        parts: vec![LedgerPart {
            entry_id: id.into(),
            entry_type: "transfer".into(),
            own: false,
            net,
            created,
        }],
    }
}

#[test]
fn an_entry_without_a_reference_matches_by_amount_within_tolerance_and_window() {
    let stripe = vec![charge("tr_a", -10_000, 0)];
    let rules = MatchRules {
        amount_tolerance_minor: 5,
        ..MatchRules::default()
    };
    // 3 cents apart, a day later: matched, the 3 cents reported as an amount mismatch.
    let ledger = vec![entry(None, "je_1", -10_003, DAY_US)];
    let out = match_items(&stripe, &ledger, &rules, &mut Fake::default()).unwrap();
    assert_eq!(out.found.len(), 1);
    assert_eq!(out.found[0].kind, Kind::AmountMismatch);
    assert_eq!(out.found[0].effect, 3);
    assert_eq!(out.found[0].evidence.matched_by, Some(Rule::AmountDate));
    assert_eq!(out.counts["usd"].matched, 1);
    // Outside the window: nothing matches, both sides are reported.
    let late = vec![entry(None, "je_1", -10_003, 5 * DAY_US)];
    let out = match_items(&stripe, &late, &rules, &mut Fake::default()).unwrap();
    let mut kinds: Vec<Kind> = out.found.iter().map(|f| f.kind).collect();
    kinds.sort();
    assert_eq!(kinds, [Kind::MissingInLedger, Kind::MissingInStripe]);
    // With the rule switched off, the same entry is not matched either.
    let exact_only = MatchRules {
        order: vec![Rule::ExactReference],
        ..rules
    };
    let out = match_items(&stripe, &ledger, &exact_only, &mut Fake::default()).unwrap();
    assert_eq!(out.found.len(), 2);
}

#[test]
fn one_ledger_entry_matches_the_transfers_of_a_group_or_a_payout_its_settled_transactions() {
    let stripe = vec![
        charge("tr_1", -1_000, 0),
        charge("tr_2", -2_500, 0),
        charge("tr_3", -500, DAY_US),
        charge("tr_other", -700, 0),
    ];
    let mut fake = Fake::default();
    for t in ["tr_1", "tr_2", "tr_3"] {
        fake.groups.insert(t.into(), "batch_2026-10".into());
    }
    // By the group's name.
    let ledger = vec![
        entry(Some("batch_2026-10"), "je_batch", -4_000, 0),
        entry(Some("tr_other"), "je_other", -700, 0),
    ];
    let out = match_items(&stripe, &ledger, &MatchRules::default(), &mut fake).unwrap();
    assert!(out.found.is_empty(), "{:?}", out.found);
    assert_eq!(out.counts["usd"].matched, 4);
    // By the sum, for an entry that names nothing; a wrong sum leaves both sides open.
    let ledger = vec![
        entry(None, "je_batch", -4_000, 0),
        entry(Some("tr_other"), "je_other", -700, 0),
    ];
    let out = match_items(&stripe, &ledger, &MatchRules::default(), &mut fake).unwrap();
    assert!(out.found.is_empty(), "{:?}", out.found);
    let ledger = vec![
        entry(None, "je_batch", -4_100, 0),
        entry(Some("tr_other"), "je_other", -700, 0),
    ];
    let out = match_items(&stripe, &ledger, &MatchRules::default(), &mut fake).unwrap();
    assert_eq!(out.found.len(), 4);
    // A payout's settled transactions form a group the same way.
    let mut fake = Fake::default();
    fake.groups.insert("tr_1".into(), "po_1".into());
    fake.groups.insert("tr_2".into(), "po_1".into());
    let stripe = vec![charge("tr_1", -1_000, 0), charge("tr_2", -2_500, 0)];
    let ledger = vec![entry(Some("po_1"), "je_po", -3_500, 0)];
    let out = match_items(&stripe, &ledger, &MatchRules::default(), &mut fake).unwrap();
    assert!(out.found.is_empty(), "{:?}", out.found);
}

/// Regression: an adjustment that reverses a duplicate must leave nothing behind, not a
/// duplicate and an amount mismatch of opposite signs.
#[test]
fn an_adjustment_reversing_a_duplicate_clears_it() {
    let stripe = vec![charge("tr_1", -1_000, 0)];
    let mut l = entry(Some("tr_1"), "je_1", -1_000, 0);
    l.parts.push(LedgerPart {
        entry_id: "je_1_again".into(),
        entry_type: "transfer".into(),
        own: false,
        net: -1_000,
        created: 10,
    });
    let out = match_items(
        &stripe,
        std::slice::from_ref(&l),
        &MatchRules::default(),
        &mut Fake::default(),
    )
    .unwrap();
    assert_eq!(out.found.len(), 1);
    assert_eq!(
        (out.found[0].kind, out.found[0].effect),
        (Kind::Duplicate, 1_000)
    );
    l.parts.push(LedgerPart {
        entry_id: "cb-adj-1".into(),
        entry_type: "adjustment".into(),
        own: true,
        net: 1_000,
        created: 20,
    });
    let out = match_items(&stripe, &[l], &MatchRules::default(), &mut Fake::default()).unwrap();
    assert!(out.found.is_empty(), "{:?}", out.found);
}
