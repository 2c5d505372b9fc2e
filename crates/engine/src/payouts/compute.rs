//! The month-end computation, as a pure function of the locked month (PRODUCT.md, seeds 001
//! and 004): per creator gross, fee (basis points, half-even per line), net, carried in,
//! payable; the minimum with carry-over; eligibility; withdrawal requests as lines of their
//! own; unallocated money to platform revenue. No database, no clock: `prepare`, `load`
//! (which recomputes and compares), the what-if and the property tests all call this.
//!
//! The identity `subscriptions = paid + fees + (carried out − carried in) + unallocated`
//! holds to the minor unit for every result ([`check_identity`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::PayoutError;
use crate::money::apply_bps_half_even;

/// The batch's knobs. Stored with the batch and covered by its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// The platform's fee on each creator's gross, in basis points (700 = 7%).
    pub fee_bps: u32,
    /// Earnings lines paying less than this are carried over (minor units).
    pub minimum_minor: i64,
    /// Batches paying at least this much in total need two distinct approvers.
    pub dual_approval_at_minor: i64,
}

impl Default for Params {
    /// Seed 001: a 7% platform fee and a $25 minimum. Two approvers from $10,000.
    fn default() -> Params {
        Params {
            fee_bps: 700,
            minimum_minor: 2_500,
            dual_approval_at_minor: 1_000_000,
        }
    }
}

/// Largest platform fee accepted: 50%. Anything above is a typo, not a business model.
pub const MAX_FEE_BPS: u32 = 5_000;
/// Largest minimum accepted: $100,000.00 in minor units.
pub const MAX_MINIMUM_MINOR: i64 = 10_000_000;

impl Params {
    pub fn validate(&self) -> Result<(), PayoutError> {
        if self.fee_bps > MAX_FEE_BPS {
            return Err(PayoutError::BadInput(format!(
                "a platform fee of {} basis points is above the {MAX_FEE_BPS} allowed",
                self.fee_bps
            )));
        }
        if !(0..=MAX_MINIMUM_MINOR).contains(&self.minimum_minor) {
            return Err(PayoutError::BadInput(format!(
                "the minimum payout must be between 0 and {MAX_MINIMUM_MINOR} minor units"
            )));
        }
        if self.dual_approval_at_minor < 0 {
            return Err(PayoutError::BadInput(
                "the two-approver threshold cannot be negative".into(),
            ));
        }
        Ok(())
    }
}

/// Whether a creator can receive a transfer, from the mirrored connected account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    Eligible,
    NoConnectedAccount,
    AccountNotSynced,
    TransfersInactive,
    PayoutsDisabled,
    CurrencyUnsupported,
}

impl Eligibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Eligibility::Eligible => "eligible",
            Eligibility::NoConnectedAccount => "no_connected_account",
            Eligibility::AccountNotSynced => "account_not_synced",
            Eligibility::TransfersInactive => "transfers_inactive",
            Eligibility::PayoutsDisabled => "payouts_disabled",
            Eligibility::CurrencyUnsupported => "currency_unsupported",
        }
    }

    pub fn parse(s: &str) -> Option<Eligibility> {
        [
            Eligibility::Eligible,
            Eligibility::NoConnectedAccount,
            Eligibility::AccountNotSynced,
            Eligibility::TransfersInactive,
            Eligibility::PayoutsDisabled,
            Eligibility::CurrencyUnsupported,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }

    fn held(self) -> Option<Held> {
        match self {
            Eligibility::Eligible => None,
            Eligibility::NoConnectedAccount => Some(Held::NoConnectedAccount),
            Eligibility::AccountNotSynced => Some(Held::AccountNotSynced),
            Eligibility::TransfersInactive => Some(Held::TransfersInactive),
            Eligibility::PayoutsDisabled => Some(Held::PayoutsDisabled),
            Eligibility::CurrencyUnsupported => Some(Held::CurrencyUnsupported),
        }
    }
}

/// Why a line is carried over instead of paid. A closed set the UI can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Held {
    NoConnectedAccount,
    AccountNotSynced,
    TransfersInactive,
    PayoutsDisabled,
    CurrencyUnsupported,
    BelowMinimum,
    NothingPayable,
    ExceedsOwed,
    OtherCurrency,
}

impl Held {
    pub fn as_str(self) -> &'static str {
        match self {
            Held::NoConnectedAccount => "no_connected_account",
            Held::AccountNotSynced => "account_not_synced",
            Held::TransfersInactive => "transfers_inactive",
            Held::PayoutsDisabled => "payouts_disabled",
            Held::CurrencyUnsupported => "currency_unsupported",
            Held::BelowMinimum => "below_minimum",
            Held::NothingPayable => "nothing_payable",
            Held::ExceedsOwed => "exceeds_owed",
            Held::OtherCurrency => "other_currency",
        }
    }

    pub fn parse(s: &str) -> Option<Held> {
        [
            Held::NoConnectedAccount,
            Held::AccountNotSynced,
            Held::TransfersInactive,
            Held::PayoutsDisabled,
            Held::CurrencyUnsupported,
            Held::BelowMinimum,
            Held::NothingPayable,
            Held::ExceedsOwed,
            Held::OtherCurrency,
        ]
        .into_iter()
        .find(|h| h.as_str() == s)
    }

    /// In plain words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Held::NoConnectedAccount => {
                "no Stripe connected account: carried over until one exists"
            }
            Held::AccountNotSynced => {
                "the connected account is not in the Stripe mirror yet: sync Stripe, then prepare again"
            }
            Held::TransfersInactive => "the connected account's transfers capability is not active",
            Held::PayoutsDisabled => "the connected account has payouts disabled",
            Held::CurrencyUnsupported => "the connected account does not support the currency",
            Held::BelowMinimum => "below the minimum payout: carried over to next month",
            Held::NothingPayable => "nothing is owed to this creator",
            Held::ExceedsOwed => "the withdrawal asks for more than the creator is owed",
            Held::OtherCurrency => "the withdrawal is not in the batch's currency",
        }
    }
}

/// One creator as locked: this month's allocations summed, what the ledger already owed
/// them at the lock, where their money goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorInput {
    pub gross: i64,
    pub allocations: u32,
    /// The creator's outstanding obligation in the ledger at the lock (earlier months'
    /// earnings not yet transferred), positive when owed.
    pub carried_in: i64,
    pub destination: Option<String>,
    pub eligibility: Eligibility,
}

/// One subscriber's month: their balance and what their allocation rows add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInput {
    pub user: String,
    /// `None`: allocations exist but the platform sent no balance for the month.
    pub total: Option<i64>,
    pub allocated: i64,
}

/// A withdrawal request (seed 002) pending approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalInput {
    pub id: String,
    pub creator: String,
    pub amount: i64,
    pub currency: String,
}

/// The locked month, aggregated.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub currency: String,
    pub creators: BTreeMap<String, CreatorInput>,
    pub subscribers: Vec<SubscriberInput>,
    /// In request order.
    pub withdrawals: Vec<WithdrawalInput>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Earnings,
    Withdrawal,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Earnings => "earnings",
            LineKind::Withdrawal => "withdrawal",
        }
    }
}

/// One line of a batch. Withdrawal lines carry their request in `requested`; only what a
/// line will pay is in `payable` (a held withdrawal pays nothing and owes nothing: the money
/// stays in the creator's earnings line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub line_no: u32,
    pub kind: LineKind,
    pub creator: String,
    /// The withdrawal request's id.
    pub reference: Option<String>,
    pub destination: Option<String>,
    pub gross: i64,
    pub fee: i64,
    pub net: i64,
    pub carried_in: i64,
    /// Withdrawals of this batch paid out of `carried_in` (earnings lines).
    pub withdrawn: i64,
    /// What the withdrawal asked for (withdrawal lines).
    pub requested: i64,
    /// What this line transfers, or carries over when held.
    pub payable: i64,
    pub allocations: u32,
    pub held: Option<Held>,
}

impl Line {
    pub fn is_paid(&self) -> bool {
        self.held.is_none() && self.payable > 0
    }
}

/// The batch's figures. `paid` is what the batch transfers; `carried_out` what its held
/// lines carry to next month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub subscriptions: i64,
    pub allocated: i64,
    pub unallocated: i64,
    pub fees: i64,
    pub net: i64,
    pub carried_in: i64,
    pub withdrawals: i64,
    pub paid: i64,
    pub carried_out: i64,
    pub lines: u32,
    pub paid_lines: u32,
    pub held_lines: u32,
    pub creators: u32,
    pub subscribers: u32,
}

impl Totals {
    /// Platform revenue of the month: fees plus unallocated money.
    pub fn revenue(&self) -> Option<i64> {
        self.fees.checked_add(self.unallocated)
    }
}

/// A computed month: the lines, the totals, and each subscriber's unallocated money (for
/// the sweep entries).
#[derive(Debug, Clone)]
pub struct Computed {
    pub lines: Vec<Line>,
    pub totals: Totals,
    pub unallocated: Vec<(String, i64)>,
}

fn add(a: i64, b: i64) -> Result<i64, PayoutError> {
    a.checked_add(b).ok_or(PayoutError::Overflow)
}

fn sub(a: i64, b: i64) -> Result<i64, PayoutError> {
    a.checked_sub(b).ok_or(PayoutError::Overflow)
}

/// Computes the batch. Errors: a subscriber allocating more than their balance (named), a
/// subscriber with allocations and no balance, overflow, bad parameters.
pub fn compute(inputs: &Inputs, params: &Params) -> Result<Computed, PayoutError> {
    params.validate()?;
    let mut totals = Totals::default();
    let mut unallocated = Vec::new();
    let mut over: Vec<String> = Vec::new();
    for s in &inputs.subscribers {
        if s.allocated < 0 {
            return Err(PayoutError::BadInput(format!(
                "subscriber {} has negative allocations",
                s.user
            )));
        }
        let Some(total) = s.total else {
            if s.allocated > 0 {
                over.push(format!(
                    "{} allocated {} with no balance for the month",
                    s.user, s.allocated
                ));
            }
            continue;
        };
        if s.allocated > total {
            over.push(format!(
                "{} allocated {} of a balance of {}",
                s.user, s.allocated, total
            ));
            continue;
        }
        totals.subscriptions = add(totals.subscriptions, total)?;
        totals.subscribers += 1;
        let u = sub(total, s.allocated)?;
        if u > 0 {
            unallocated.push((s.user.clone(), u));
        }
        totals.unallocated = add(totals.unallocated, u)?;
    }
    if !over.is_empty() {
        return Err(PayoutError::OverAllocated(over));
    }

    // Withdrawals first: each draws on what the ledger owed the creator at the lock.
    let mut withdrawn: BTreeMap<&str, i64> = BTreeMap::new();
    let mut withdrawal_lines = Vec::new();
    for w in &inputs.withdrawals {
        if w.amount <= 0 {
            return Err(PayoutError::BadInput(format!(
                "withdrawal {} asks for a non-positive amount",
                w.id
            )));
        }
        let creator = inputs.creators.get(&w.creator);
        let owed = creator.map_or(0, |c| c.carried_in);
        let taken = withdrawn.get(w.creator.as_str()).copied().unwrap_or(0);
        let held = if w.currency != inputs.currency {
            Some(Held::OtherCurrency)
        } else if let Some(h) =
            creator.map_or(Some(Held::NoConnectedAccount), |c| c.eligibility.held())
        {
            Some(h)
        } else if add(taken, w.amount)? > owed {
            Some(Held::ExceedsOwed)
        } else {
            None
        };
        if held.is_none() {
            withdrawn.insert(&w.creator, add(taken, w.amount)?);
        }
        withdrawal_lines.push(Line {
            line_no: 0,
            kind: LineKind::Withdrawal,
            creator: w.creator.clone(),
            reference: Some(w.id.clone()),
            destination: creator.and_then(|c| c.destination.clone()),
            gross: 0,
            fee: 0,
            net: 0,
            carried_in: 0,
            withdrawn: 0,
            requested: w.amount,
            payable: if held.is_none() { w.amount } else { 0 },
            allocations: 0,
            held,
        });
    }

    let mut lines = Vec::with_capacity(inputs.creators.len() + withdrawal_lines.len());
    for (creator, c) in &inputs.creators {
        let w = withdrawn.get(creator.as_str()).copied().unwrap_or(0);
        let fee =
            apply_bps_half_even(c.gross, params.fee_bps).map_err(|_| PayoutError::Overflow)?;
        let net = sub(c.gross, fee)?;
        let payable = sub(add(net, c.carried_in)?, w)?;
        if c.gross == 0 && payable == 0 && c.carried_in == 0 {
            continue;
        }
        let held = if let Some(h) = c.eligibility.held() {
            Some(h)
        } else if payable <= 0 {
            Some(Held::NothingPayable)
        } else if payable < params.minimum_minor {
            Some(Held::BelowMinimum)
        } else {
            None
        };
        totals.allocated = add(totals.allocated, c.gross)?;
        totals.fees = add(totals.fees, fee)?;
        totals.net = add(totals.net, net)?;
        totals.carried_in = add(totals.carried_in, c.carried_in)?;
        totals.creators += 1;
        lines.push(Line {
            line_no: 0,
            kind: LineKind::Earnings,
            creator: creator.clone(),
            reference: None,
            destination: c.destination.clone(),
            gross: c.gross,
            fee,
            net,
            carried_in: c.carried_in,
            withdrawn: w,
            requested: 0,
            payable,
            allocations: c.allocations,
            held,
        });
    }
    lines.extend(withdrawal_lines);
    for (i, line) in lines.iter_mut().enumerate() {
        line.line_no = u32::try_from(i + 1).map_err(|_| PayoutError::Overflow)?;
        totals.lines += 1;
        if line.kind == LineKind::Withdrawal && line.held.is_none() {
            totals.withdrawals = add(totals.withdrawals, line.payable)?;
        }
        if line.is_paid() {
            totals.paid = add(totals.paid, line.payable)?;
            totals.paid_lines += 1;
        } else {
            totals.carried_out = add(totals.carried_out, line.payable)?;
            totals.held_lines += 1;
        }
    }
    // Every allocation belongs to a creator line: allocated money is never dropped.
    let allocated_by_subscribers = inputs
        .subscribers
        .iter()
        .try_fold(0i64, |s, x| add(s, x.allocated))?;
    if allocated_by_subscribers != totals.allocated {
        return Err(PayoutError::Integrity(format!(
            "subscribers allocated {allocated_by_subscribers} but creators received {}",
            totals.allocated
        )));
    }
    check_identity(&totals)?;
    Ok(Computed {
        lines,
        totals,
        unallocated,
    })
}

/// `subscriptions = paid + fees + (carried out − carried in) + unallocated`, to the minor
/// unit, and the totals' own sums. Checked when a batch is built and whenever it is loaded.
pub fn check_identity(t: &Totals) -> Result<(), PayoutError> {
    let rhs = add(
        add(add(t.paid, t.fees)?, sub(t.carried_out, t.carried_in)?)?,
        t.unallocated,
    )?;
    if rhs != t.subscriptions {
        return Err(PayoutError::Integrity(format!(
            "subscriptions {} ≠ paid {} + fees {} + (carried out {} − carried in {}) + unallocated {} = {rhs}",
            t.subscriptions, t.paid, t.fees, t.carried_out, t.carried_in, t.unallocated
        )));
    }
    if add(t.allocated, t.unallocated)? != t.subscriptions {
        return Err(PayoutError::Integrity(format!(
            "allocated {} + unallocated {} ≠ subscriptions {}",
            t.allocated, t.unallocated, t.subscriptions
        )));
    }
    if sub(t.allocated, t.fees)? != t.net || t.paid_lines + t.held_lines != t.lines {
        return Err(PayoutError::Integrity(
            "the batch's totals do not add up".into(),
        ));
    }
    Ok(())
}

/// Recomputes the totals from lines (what `load` does with stored lines).
pub fn totals_of(
    lines: &[Line],
    subscriptions: i64,
    unallocated: i64,
    subscribers: u32,
) -> Result<Totals, PayoutError> {
    let mut t = Totals {
        subscriptions,
        unallocated,
        subscribers,
        ..Totals::default()
    };
    for l in lines {
        t.lines += 1;
        if l.kind == LineKind::Earnings {
            t.allocated = add(t.allocated, l.gross)?;
            t.fees = add(t.fees, l.fee)?;
            t.net = add(t.net, l.net)?;
            t.carried_in = add(t.carried_in, l.carried_in)?;
            t.creators += 1;
        } else if l.held.is_none() {
            t.withdrawals = add(t.withdrawals, l.payable)?;
        }
        if l.is_paid() {
            t.paid = add(t.paid, l.payable)?;
            t.paid_lines += 1;
        } else {
            t.carried_out = add(t.carried_out, l.payable)?;
            t.held_lines += 1;
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creator(gross: i64, carried_in: i64, e: Eligibility) -> CreatorInput {
        CreatorInput {
            gross,
            allocations: 1,
            carried_in,
            destination: Some("acct_1".into()),
            eligibility: e,
        }
    }

    fn inputs() -> Inputs {
        let mut creators = BTreeMap::new();
        creators.insert("c1".to_string(), creator(10_000, 0, Eligibility::Eligible));
        creators.insert("c2".to_string(), creator(2_000, 0, Eligibility::Eligible));
        creators.insert(
            "c3".to_string(),
            creator(5_000, 1_000, Eligibility::NoConnectedAccount),
        );
        Inputs {
            currency: "usd".into(),
            creators,
            subscribers: vec![
                SubscriberInput {
                    user: "u1".into(),
                    total: Some(15_000),
                    allocated: 12_000,
                },
                SubscriberInput {
                    user: "u2".into(),
                    total: Some(6_000),
                    allocated: 5_000,
                },
            ],
            withdrawals: vec![],
        }
    }

    #[test]
    fn fees_round_half_even_per_line_and_small_lines_carry_over() {
        let c = compute(&inputs(), &Params::default()).unwrap();
        let l: Vec<_> = c
            .lines
            .iter()
            .map(|l| (l.creator.as_str(), l.fee, l.payable, l.held))
            .collect();
        assert_eq!(
            l,
            vec![
                ("c1", 700, 9_300, None),
                ("c2", 140, 1_860, Some(Held::BelowMinimum)),
                ("c3", 350, 5_650, Some(Held::NoConnectedAccount)),
            ]
        );
        assert_eq!(c.totals.subscriptions, 21_000);
        assert_eq!(c.totals.unallocated, 4_000);
        assert_eq!(c.totals.paid, 9_300);
        assert_eq!(c.totals.carried_out, 7_510);
        assert_eq!(c.totals.carried_in, 1_000);
        // 21,000 = 9,300 + 1,190 + (7,510 − 1,000) + 4,000
        check_identity(&c.totals).unwrap();
        // Half-even: 7% of 50 cents is 3.5 → 4; of 150 cents 10.5 → 10.
        assert_eq!(apply_bps_half_even(50, 700).unwrap(), 4);
        assert_eq!(apply_bps_half_even(150, 700).unwrap(), 10);
    }

    #[test]
    fn a_subscriber_allocating_more_than_their_balance_is_named() {
        let mut i = inputs();
        i.subscribers[1].allocated = 6_001;
        match compute(&i, &Params::default()) {
            Err(PayoutError::OverAllocated(who)) => {
                assert_eq!(who.len(), 1);
                assert!(who[0].starts_with("u2 allocated 6001"), "{who:?}");
            }
            other => panic!("{other:?}"),
        }
        let mut i = inputs();
        i.subscribers[0].total = None;
        assert!(matches!(
            compute(&i, &Params::default()),
            Err(PayoutError::OverAllocated(_))
        ));
    }

    #[test]
    fn withdrawals_draw_on_what_is_owed_and_keep_the_identity() {
        let mut i = inputs();
        i.creators.get_mut("c1").unwrap().carried_in = 3_000;
        i.withdrawals = vec![
            WithdrawalInput {
                id: "wd_1".into(),
                creator: "c1".into(),
                amount: 2_500,
                currency: "usd".into(),
            },
            WithdrawalInput {
                id: "wd_2".into(),
                creator: "c1".into(),
                amount: 1_000,
                currency: "usd".into(),
            },
            WithdrawalInput {
                id: "wd_3".into(),
                creator: "c3".into(),
                amount: 500,
                currency: "usd".into(),
            },
            WithdrawalInput {
                id: "wd_4".into(),
                creator: "c2".into(),
                amount: 10,
                currency: "eur".into(),
            },
        ];
        let c = compute(&i, &Params::default()).unwrap();
        let w: Vec<_> = c
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Withdrawal)
            .map(|l| (l.reference.as_deref().unwrap(), l.payable, l.held))
            .collect();
        assert_eq!(
            w,
            vec![
                ("wd_1", 2_500, None),
                ("wd_2", 0, Some(Held::ExceedsOwed)),
                ("wd_3", 0, Some(Held::NoConnectedAccount)),
                ("wd_4", 0, Some(Held::OtherCurrency)),
            ]
        );
        let c1 = &c.lines[0];
        assert_eq!((c1.withdrawn, c1.payable), (2_500, 9_300 + 3_000 - 2_500));
        check_identity(&c.totals).unwrap();
        assert_eq!(c.totals.withdrawals, 2_500);
        let again = totals_of(
            &c.lines,
            c.totals.subscriptions,
            c.totals.unallocated,
            c.totals.subscribers,
        )
        .unwrap();
        assert_eq!(again, c.totals);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let p = Params {
            fee_bps: 5_001,
            ..Params::default()
        };
        assert!(matches!(
            compute(&inputs(), &p),
            Err(PayoutError::BadInput(_))
        ));
        let p = Params {
            minimum_minor: -1,
            ..Params::default()
        };
        assert!(matches!(
            compute(&inputs(), &p),
            Err(PayoutError::BadInput(_))
        ));
    }
}
