//! Property tests of the month-end computation over random months: the identity
//! `subscriptions = paid + fees + (carried out − carried in) + unallocated` holds to the
//! minor unit, every allocated cent reaches a creator line, fees are half-even per line,
//! held lines are exactly the ineligible or small ones, and what is paid never exceeds what
//! is owed.

use std::collections::BTreeMap;

use closebook_engine::money::apply_bps_half_even;
use closebook_engine::payouts::compute::{
    self, CreatorInput, Eligibility, Held, Inputs, LineKind, Params, SubscriberInput,
    WithdrawalInput, check_identity, totals_of,
};
use proptest::prelude::*;

const ELIGIBILITY: [Eligibility; 6] = [
    Eligibility::Eligible,
    Eligibility::NoConnectedAccount,
    Eligibility::AccountNotSynced,
    Eligibility::TransfersInactive,
    Eligibility::PayoutsDisabled,
    Eligibility::CurrencyUnsupported,
];

#[derive(Debug, Clone)]
struct Month {
    /// (subscriber, total, [(creator, amount)])
    subscribers: Vec<(i64, Vec<(usize, i64)>)>,
    /// Per creator: carried in, eligibility index (mostly eligible).
    creators: Vec<(i64, usize)>,
    /// (creator, amount, in the batch's currency)
    withdrawals: Vec<(usize, i64, bool)>,
    fee_bps: u32,
    minimum: i64,
}

fn month() -> impl Strategy<Value = Month> {
    (1usize..12).prop_flat_map(|creators| {
        let subscriber = (0i64..2_000_000).prop_flat_map(move |total| {
            // Allocations that never exceed the total.
            proptest::collection::vec((0..creators, 0i64..=100), 0..5).prop_map(move |parts| {
                let weight: i64 = parts.iter().map(|p| p.1).sum::<i64>().max(100);
                let allocs = parts
                    .into_iter()
                    .map(|(c, w)| (c, total * w / weight))
                    .collect();
                (total, allocs)
            })
        });
        (
            proptest::collection::vec(subscriber, 0..30),
            proptest::collection::vec(
                (
                    prop_oneof![3 => Just(0i64), 1 => -5_000i64..500_000],
                    prop_oneof![5 => Just(0usize), 1 => 0usize..6],
                ),
                creators,
            ),
            proptest::collection::vec(
                (0..creators, 1i64..100_000, prop::bool::weighted(0.9)),
                0..4,
            ),
            0u32..=5_000,
            0i64..10_000,
        )
            .prop_map(
                |(subscribers, creators, withdrawals, fee_bps, minimum)| Month {
                    subscribers,
                    creators,
                    withdrawals,
                    fee_bps,
                    minimum,
                },
            )
    })
}

fn inputs(m: &Month) -> Inputs {
    let mut creators: BTreeMap<String, CreatorInput> = BTreeMap::new();
    let name = |c: usize| format!("cr_{c:03}");
    for (c, (carried_in, e)) in m.creators.iter().enumerate() {
        if *carried_in != 0 {
            creators.insert(
                name(c),
                CreatorInput {
                    gross: 0,
                    allocations: 0,
                    carried_in: *carried_in,
                    destination: Some(format!("acct_{c}")),
                    eligibility: ELIGIBILITY[*e],
                },
            );
        }
    }
    let mut subscribers = Vec::new();
    for (u, (total, allocs)) in m.subscribers.iter().enumerate() {
        let mut allocated = 0;
        for (c, amount) in allocs {
            allocated += amount;
            let (carried_in, e) = m.creators[*c];
            let entry = creators.entry(name(*c)).or_insert(CreatorInput {
                gross: 0,
                allocations: 0,
                carried_in,
                destination: Some(format!("acct_{c}")),
                eligibility: ELIGIBILITY[e],
            });
            entry.gross += amount;
            entry.allocations += 1;
        }
        subscribers.push(SubscriberInput {
            user: format!("u_{u:03}"),
            total: Some(*total),
            allocated,
        });
    }
    let withdrawals = m
        .withdrawals
        .iter()
        .enumerate()
        .map(|(i, (c, amount, same))| WithdrawalInput {
            id: format!("wd_{i}"),
            creator: name(*c),
            amount: *amount,
            currency: if *same { "usd" } else { "eur" }.into(),
        })
        .collect();
    Inputs {
        currency: "usd".into(),
        creators,
        subscribers,
        withdrawals,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_identity_holds_and_every_cent_is_accounted_for(m in month()) {
        let i = inputs(&m);
        let params = Params { fee_bps: m.fee_bps, minimum_minor: m.minimum, ..Params::default() };
        let c = compute::compute(&i, &params).unwrap();
        let t = c.totals;
        check_identity(&t).unwrap();
        prop_assert_eq!(
            t.subscriptions,
            t.paid + t.fees + (t.carried_out - t.carried_in) + t.unallocated
        );
        let subscribed: i64 = m.subscribers.iter().map(|s| s.0).sum();
        let allocated: i64 = i.subscribers.iter().map(|s| s.allocated).sum();
        prop_assert_eq!(t.subscriptions, subscribed);
        prop_assert_eq!(t.allocated, allocated);
        prop_assert_eq!(t.unallocated, subscribed - allocated);
        prop_assert_eq!(c.unallocated.iter().map(|u| u.1).sum::<i64>(), t.unallocated);
        // Recomputing the totals from the lines gives the same figures (what `load` checks).
        prop_assert_eq!(totals_of(&c.lines, t.subscriptions, t.unallocated, t.subscribers).unwrap(), t);

        let mut withdrawn: BTreeMap<&str, i64> = BTreeMap::new();
        for l in c.lines.iter().filter(|l| l.kind == LineKind::Withdrawal) {
            if l.held.is_none() {
                *withdrawn.entry(l.creator.as_str()).or_default() += l.payable;
                prop_assert_eq!(l.payable, l.requested);
            } else {
                prop_assert_eq!(l.payable, 0);
            }
        }
        for l in c.lines.iter().filter(|l| l.kind == LineKind::Earnings) {
            let input = &i.creators[&l.creator];
            // Half-even per line, on the line's gross.
            prop_assert_eq!(l.fee, apply_bps_half_even(input.gross, m.fee_bps).unwrap());
            prop_assert_eq!(l.net, l.gross - l.fee);
            prop_assert_eq!(l.carried_in, input.carried_in);
            let w = withdrawn.get(l.creator.as_str()).copied().unwrap_or(0);
            prop_assert_eq!(l.withdrawn, w);
            prop_assert_eq!(l.payable, l.net + l.carried_in - w);
            // Withdrawals never take more than the ledger owed.
            prop_assert!(w <= input.carried_in.max(0));
            let expected = if input.eligibility != Eligibility::Eligible {
                true
            } else {
                l.payable <= 0 || l.payable < m.minimum
            };
            prop_assert_eq!(l.held.is_some(), expected, "line {:?}", l);
            if l.held == Some(Held::BelowMinimum) {
                prop_assert!(l.payable > 0 && l.payable < m.minimum);
            }
        }
        // Line numbers are 1..n in order; paid and held partition the lines.
        for (k, l) in c.lines.iter().enumerate() {
            prop_assert_eq!(l.line_no as usize, k + 1);
        }
        prop_assert_eq!(t.paid_lines + t.held_lines, t.lines);
        prop_assert!(c.lines.iter().filter(|l| l.is_paid()).all(|l| l.payable > 0 && l.destination.is_some()));
    }

    #[test]
    fn over_allocation_is_always_refused_and_names_the_subscriber(m in month(), extra in 1i64..1_000) {
        let mut i = inputs(&m);
        prop_assume!(!i.subscribers.is_empty());
        i.subscribers[0].allocated = i.subscribers[0].total.unwrap() + extra;
        let e = compute::compute(&i, &Params::default()).unwrap_err();
        prop_assert!(e.to_string().contains("u_000"), "{}", e);
    }
}
