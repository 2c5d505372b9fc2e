//! Item matching: pairs Stripe's items with the ledger's under the user's rules and turns
//! whatever does not agree into exceptions, each with its share of the difference.
//!
//! Pure: the items come in, the exceptions come out; what matching needs to know beyond
//! the day (later bookings, events, groups) it asks through [`Lookup`], so tests drive it
//! with plain data and snapshots with the workspace.
//!
//! Long: one pure matching pass — the rules in order, each pair compared, each leftover
//! explained — over the item and finding types every step shares; the property tests drive
//! it whole.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use serde::{Deserialize, Serialize};

use super::ReconcileError;
use super::rules::{MatchRules, Rule};

/// What kind of disagreement an exception is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    MissingInLedger,
    MissingInStripe,
    AmountMismatch,
    FeeMismatch,
    TimingDifference,
    Duplicate,
    MissedWebhook,
    DataChanged,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::TimingDifference,
        Kind::MissingInLedger,
        Kind::MissedWebhook,
        Kind::MissingInStripe,
        Kind::AmountMismatch,
        Kind::FeeMismatch,
        Kind::Duplicate,
        Kind::DataChanged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::MissingInLedger => "missing_in_ledger",
            Kind::MissingInStripe => "missing_in_stripe",
            Kind::AmountMismatch => "amount_mismatch",
            Kind::FeeMismatch => "fee_mismatch",
            Kind::TimingDifference => "timing_difference",
            Kind::Duplicate => "duplicate",
            Kind::MissedWebhook => "missed_webhook",
            Kind::DataChanged => "data_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Stripe's side of one object in one currency: its balance transactions summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeItem {
    /// The source object (`ch_`, `re_`, `po_`, …), or the balance transaction's own id
    /// when it has no source.
    pub object: SmolStr,
    pub currency: SmolStr,
    pub bt_ids: Vec<SmolStr>,
    /// The balance transaction's `type` (of the first one).
    pub kind: SmolStr,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    /// Earliest `created`, microseconds.
    pub created: i64,
}

/// One ledger entry's part of an item: its postings of one entry type to the
/// Stripe-balance accounts (an entry booking a charge and its fee together has two parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPart {
    pub entry_id: SmolStr,
    pub entry_type: SmolStr,
    /// Booked by Closebook (an adjustment), not mirrored from the platform.
    pub own: bool,
    pub net: i64,
    pub created: i64,
}

/// The ledger's side of one Stripe object in one currency (every entry naming it), or of
/// one entry that names no object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerItem {
    pub object: Option<SmolStr>,
    pub currency: SmolStr,
    /// In booking order (created, then entry id).
    pub parts: Vec<LedgerPart>,
}

/// The entry type whose postings are Stripe's fee (`contracts/BOOKING.md`).
pub const FEE_ENTRY_TYPE: &str = "stripe_fee";

/// (gross amount, fee, net) of ledger parts, per the booking conventions: `stripe_fee`
/// entries take the fee out of the Stripe balance; everything else is the amount.
pub fn figures<'a>(
    parts: impl IntoIterator<Item = &'a LedgerPart>,
) -> Result<(i64, i64, i64), ReconcileError> {
    let (mut amount, mut fee, mut net) = (0i64, 0i64, 0i64);
    for p in parts {
        net = add(net, p.net)?;
        if p.entry_type == FEE_ENTRY_TYPE {
            fee = sub(fee, p.net)?;
        } else {
            amount = add(amount, p.net)?;
        }
    }
    Ok((amount, fee, net))
}

impl LedgerItem {
    pub fn created(&self) -> i64 {
        self.parts.iter().map(|p| p.created).min().unwrap_or(0)
    }

    pub fn label(&self) -> &str {
        match &self.object {
            Some(o) => o,
            None => self
                .parts
                .first()
                .map(|p| p.entry_id.as_str())
                .unwrap_or(""),
        }
    }

    fn entry_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            if !ids.iter().any(|id| id == p.entry_id.as_str()) {
                ids.push(p.entry_id.to_string());
            }
        }
        ids
    }
}

/// What one side booked after the day, for an object the other side has by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Later {
    pub ids: Vec<String>,
    pub net: i64,
    pub created: i64,
}

/// The event that announced an object, and what the platform's webhook table says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSeen {
    pub event_id: String,
    pub event_type: String,
    /// `None`: the platform never received it.
    pub webhook_status: Option<String>,
}

/// An event Stripe sent that the platform's webhook table lacks or marks failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedEvent {
    pub event_id: String,
    pub event_type: String,
    /// Microseconds.
    pub created: i64,
    /// The object it concerns (for `charge.refunded`, the refund, through its charge).
    pub object: String,
    /// The object's currency at Stripe, when the mirror has its balance transaction.
    pub currency: Option<String>,
    /// `None`: the platform never received it; else its status (`failed`).
    pub webhook_status: Option<String>,
    /// Ledger entries booking the object by then (its money reached the ledger anyway).
    pub ledger_entries: Vec<String>,
}

/// One exception per missed event that no exception of `found` already reports (an item
/// missing from the ledger is reported through its event, with its money): a missed
/// webhook of its own, of no effect, since whatever money it announced is accounted for
/// by the items' exceptions. `currency` is used for an object Stripe's side does not name.
pub fn event_exceptions(found: &[Found], missed: &[MissedEvent], currency: &str) -> Vec<Found> {
    let reported: Vec<&str> = found
        .iter()
        .filter(|f| f.kind == Kind::MissedWebhook)
        .filter_map(|f| f.evidence.event_id.as_deref())
        .collect();
    let mut out = Vec::new();
    for e in missed {
        if reported.contains(&e.event_id.as_str()) {
            continue;
        }
        let currency = e.currency.as_deref().unwrap_or(currency).to_string();
        let what = match &e.webhook_status {
            None => "never reached the platform (no row in its webhook table)".to_string(),
            Some(st) => format!("is marked {st} in the platform's webhook table"),
        };
        let booked = if e.ledger_entries.is_empty() {
            String::new()
        } else {
            format!(
                "; the money is booked ({}), but the handler did not run",
                e.ledger_entries.join(", ")
            )
        };
        out.push(Found {
            kind: Kind::MissedWebhook,
            key: key(Kind::MissedWebhook, &currency, &e.event_id),
            currency,
            stripe_object: Some(e.object.clone()),
            effect: 0,
            stripe_amount: None,
            ledger_amount: None,
            evidence: Evidence {
                ledger_entries: e.ledger_entries.clone(),
                stripe_date: Some(e.created),
                event_id: Some(e.event_id.clone()),
                webhook_status: e.webhook_status.clone(),
                note: format!(
                    "the {} event {} about {} {what}{booked}",
                    e.event_type, e.event_id, e.object
                ),
                ..Evidence::default()
            },
        });
    }
    out
}

/// What matching asks beyond the day's items.
pub trait Lookup {
    /// Ledger postings to the Stripe-balance accounts naming `object` booked after the day.
    fn ledger_after(
        &mut self,
        object: &str,
        currency: &str,
    ) -> Result<Option<Later>, ReconcileError>;
    /// Stripe balance transactions of `object` (as source or id) created after the day.
    fn stripe_after(
        &mut self,
        object: &str,
        currency: &str,
    ) -> Result<Option<Later>, ReconcileError>;
    /// The first mirrored event about `object` (for a refund, its charge's
    /// `charge.refunded`), if any; `None` also when the platform's webhook table is empty
    /// (nothing to compare with).
    fn event_for(&mut self, object: &str) -> Result<Option<EventSeen>, ReconcileError>;
    /// The group a Stripe item belongs to for one-to-many matching: a transfer's
    /// `transfer_group`, or the payout that settled the balance transaction.
    fn group_of(&mut self, item: &StripeItem) -> Result<Option<String>, ReconcileError>;
}

/// Evidence of an exception: both sides' ids, amounts and dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub stripe_ids: Vec<String>,
    pub ledger_entries: Vec<String>,
    /// Microseconds.
    pub stripe_date: Option<i64>,
    pub ledger_date: Option<i64>,
    /// Stripe's fee, for an item the ledger lacks (an adjustment books it separately).
    pub stripe_fee: Option<i64>,
    pub event_id: Option<String>,
    pub webhook_status: Option<String>,
    /// Which rule paired the two sides, when they were paired.
    pub matched_by: Option<Rule>,
    pub note: String,
}

/// One disagreement found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub currency: String,
    pub stripe_object: Option<String>,
    /// Identity across snapshots: the same disagreement found again is the same exception.
    pub key: String,
    /// This exception's share of Stripe − ledger, minor units.
    pub effect: i64,
    pub stripe_amount: Option<i64>,
    pub ledger_amount: Option<i64>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub matched: u64,
    pub unmatched_stripe: u64,
    pub unmatched_ledger: u64,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub counts: BTreeMap<String, Counts>,
    pub found: Vec<Found>,
}

fn add(a: i64, b: i64) -> Result<i64, ReconcileError> {
    a.checked_add(b)
        .ok_or(ReconcileError::Overflow("adding amounts"))
}

fn sub(a: i64, b: i64) -> Result<i64, ReconcileError> {
    a.checked_sub(b)
        .ok_or(ReconcileError::Overflow("subtracting amounts"))
}

/// The counts of `currency`, without allocating once it is there.
fn counts<'a>(out: &'a mut Outcome, currency: &str) -> &'a mut Counts {
    if !out.counts.contains_key(currency) {
        out.counts.insert(currency.to_string(), Counts::default());
    }
    out.counts.get_mut(currency).expect("inserted")
}

fn strings(v: &[SmolStr]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn key(kind: Kind, currency: &str, what: &str) -> String {
    format!("{}:{currency}:{what}", kind.name())
}

/// Pairs the items under `rules` and reports every disagreement. Deterministic: the same
/// items and lookups give the same exceptions in the same order.
pub fn match_items(
    stripe: &[StripeItem],
    ledger: &[LedgerItem],
    rules: &MatchRules,
    look: &mut dyn Lookup,
) -> Result<Outcome, ReconcileError> {
    let mut out = Outcome::default();
    let mut s_done = vec![false; stripe.len()];
    let mut l_done = vec![false; ledger.len()];
    // Pairs in the order found: (ledger index, stripe indices, rule).
    // Pairs in the order found: (ledger index, range of `members`, rule); `members` holds
    // the Stripe indices of all pairs, one allocation for a million of them.
    let mut pairs: Vec<(usize, std::ops::Range<usize>, Rule)> = Vec::new();
    let mut members: Vec<usize> = Vec::new();

    for rule in &rules.order {
        match rule {
            Rule::ExactReference => {
                let mut by_ref: FxHashMap<(&str, &str), usize> = FxHashMap::default();
                by_ref.reserve(stripe.len());
                for (i, s) in stripe.iter().enumerate() {
                    by_ref.insert((s.object.as_str(), s.currency.as_str()), i);
                }
                // Entries naming a balance transaction's own id instead of its source: the
                // map of ids is built only if some entry needs it.
                let mut by_bt: Option<FxHashMap<(&str, &str), usize>> = None;
                for (li, l) in ledger.iter().enumerate() {
                    let Some(o) = &l.object else { continue };
                    if l_done[li] {
                        continue;
                    }
                    let k = (o.as_str(), l.currency.as_str());
                    let si = match by_ref.get(&k) {
                        Some(&si) => Some(si),
                        None => by_bt
                            .get_or_insert_with(|| {
                                let mut m = FxHashMap::default();
                                for (i, s) in stripe.iter().enumerate() {
                                    for bt in &s.bt_ids {
                                        if bt != &s.object {
                                            m.insert((bt.as_str(), s.currency.as_str()), i);
                                        }
                                    }
                                }
                                m
                            })
                            .get(&k)
                            .copied(),
                    };
                    if let Some(si) = si
                        && !s_done[si]
                    {
                        s_done[si] = true;
                        l_done[li] = true;
                        members.push(si);
                        pairs.push((li, members.len() - 1..members.len(), Rule::ExactReference));
                    }
                }
            }
            Rule::AmountDate => {
                // Unpaired Stripe items by (currency, net): a range query per ledger item.
                let mut open: BTreeMap<(&str, i64), Vec<usize>> = BTreeMap::new();
                for (i, s) in stripe.iter().enumerate() {
                    if !s_done[i] {
                        open.entry((s.currency.as_str(), s.net))
                            .or_default()
                            .push(i);
                    }
                }
                let tol = rules.amount_tolerance_minor;
                let window = rules.window_us();
                for (li, l) in ledger.iter().enumerate() {
                    // Only an entry that names no Stripe object: one that names an object
                    // Stripe does not have is a discrepancy of its own, never paired with
                    // another object that happens to have its amount.
                    if l_done[li] || l.object.is_some() {
                        continue;
                    }
                    let (_, _, net) = figures(&l.parts)?;
                    let at = l.created();
                    let lo = (l.currency.as_str(), net.saturating_sub(tol));
                    let hi = (l.currency.as_str(), net.saturating_add(tol));
                    // Closest amount, then closest date, then the earliest id.
                    let mut best: Option<(i64, i64, usize)> = None;
                    for (_, idxs) in open.range(lo..=hi) {
                        for &si in idxs {
                            if s_done[si] {
                                continue;
                            }
                            let s = &stripe[si];
                            let dt = (s.created - at).abs();
                            if dt > window {
                                continue;
                            }
                            let cand = ((s.net - net).abs(), dt, si);
                            if best.is_none_or(|b| cand < b) {
                                best = Some(cand);
                            }
                        }
                    }
                    if let Some((_, _, si)) = best {
                        s_done[si] = true;
                        l_done[li] = true;
                        members.push(si);
                        pairs.push((li, members.len() - 1..members.len(), Rule::AmountDate));
                    }
                }
            }
            Rule::OneToMany => {
                let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
                for (i, s) in stripe.iter().enumerate() {
                    if !s_done[i]
                        && let Some(g) = look.group_of(s)?
                    {
                        groups.entry(g).or_default().push(i);
                    }
                }
                for (li, l) in ledger.iter().enumerate() {
                    if l_done[li] {
                        continue;
                    }
                    let (_, _, net) = figures(&l.parts)?;
                    let at = l.created();
                    let mut chosen: Option<&String> = None;
                    for (g, idxs) in &groups {
                        let live: Vec<usize> =
                            idxs.iter().copied().filter(|&i| !s_done[i]).collect();
                        if live.is_empty() || live.iter().any(|&i| stripe[i].currency != l.currency)
                        {
                            continue;
                        }
                        if l.object.as_deref() == Some(g.as_str()) {
                            chosen = Some(g);
                            break;
                        }
                        let mut sum = 0i64;
                        for &i in &live {
                            sum = add(sum, stripe[i].net)?;
                        }
                        let near = live
                            .iter()
                            .all(|&i| (stripe[i].created - at).abs() <= rules.window_us());
                        if live.len() >= 2
                            && l.object.is_none()
                            && near
                            && (sum - net).abs() <= rules.amount_tolerance_minor
                        {
                            chosen = Some(g);
                            break;
                        }
                    }
                    if let Some(g) = chosen {
                        let live: Vec<usize> =
                            groups[g].iter().copied().filter(|&i| !s_done[i]).collect();
                        for &i in &live {
                            s_done[i] = true;
                        }
                        l_done[li] = true;
                        let start = members.len();
                        members.extend(live);
                        pairs.push((li, start..members.len(), Rule::OneToMany));
                    }
                }
            }
        }
    }

    for (li, range, rule) in &pairs {
        let sis = &members[range.clone()];
        compare(
            stripe_sum(stripe, sis)?.as_ref(),
            &ledger[*li],
            *rule,
            look,
            &mut out,
        )?;
        counts(&mut out, &ledger[*li].currency).matched += sis.len() as u64;
    }
    for (si, s) in stripe.iter().enumerate() {
        if !s_done[si] {
            counts(&mut out, &s.currency).unmatched_stripe += 1;
            stripe_only(s, look, &mut out)?;
        }
    }
    for (li, l) in ledger.iter().enumerate() {
        if !l_done[li] && ledger_only(l, look, &mut out)? {
            counts(&mut out, &l.currency).unmatched_ledger += 1;
        }
    }
    Ok(out)
}

/// Several Stripe items as one (one-to-many); a single item as itself.
fn stripe_sum<'a>(
    stripe: &'a [StripeItem],
    sis: &[usize],
) -> Result<std::borrow::Cow<'a, StripeItem>, ReconcileError> {
    let first = &stripe[sis[0]];
    if sis.len() == 1 {
        return Ok(std::borrow::Cow::Borrowed(first));
    }
    let mut sum = StripeItem {
        object: first.object.clone(),
        currency: first.currency.clone(),
        bt_ids: Vec::new(),
        kind: first.kind.clone(),
        amount: 0,
        fee: 0,
        net: 0,
        created: first.created,
    };
    for &i in sis {
        let s = &stripe[i];
        sum.bt_ids.extend(s.bt_ids.iter().cloned());
        sum.amount = add(sum.amount, s.amount)?;
        sum.fee = add(sum.fee, s.fee)?;
        sum.net = add(sum.net, s.net)?;
        sum.created = sum.created.min(s.created);
    }
    Ok(std::borrow::Cow::Owned(sum))
}

/// A paired item: duplicates first, then gross and fee separately; a difference that a
/// later booking on either side makes up is timing.
fn compare(
    s: &StripeItem,
    l: &LedgerItem,
    rule: Rule,
    look: &mut dyn Lookup,
    out: &mut Outcome,
) -> Result<(), ReconcileError> {
    // A platform entry is extra when an earlier platform entry of the same item has its type.
    let is_extra = |i: usize| {
        let p = &l.parts[i];
        !p.own
            && l.parts[..i]
                .iter()
                .any(|q| !q.own && q.entry_type == p.entry_type)
    };
    // The common case, without allocating: no duplicate, and the figures agree.
    if !(0..l.parts.len()).any(is_extra) {
        let (amount, fee, _) = figures(&l.parts)?;
        if amount == s.amount && fee == s.fee {
            return Ok(());
        }
    }
    let base = Evidence {
        stripe_ids: strings(&s.bt_ids),
        ledger_entries: l.entry_ids(),
        stripe_date: Some(s.created),
        ledger_date: Some(l.created()),
        matched_by: Some(rule),
        ..Evidence::default()
    };
    let object = s.object.to_string();
    // Duplicates: a second platform entry of the same type for one object.
    let mut kept: Vec<&LedgerPart> = Vec::with_capacity(l.parts.len());
    let mut extra: Vec<&LedgerPart> = Vec::new();
    for (i, p) in l.parts.iter().enumerate() {
        if is_extra(i) {
            extra.push(p)
        } else {
            kept.push(p)
        }
    }
    let mut extra_net = 0i64;
    for p in &extra {
        extra_net = add(extra_net, p.net)?;
    }
    let own_net = l
        .parts
        .iter()
        .filter(|p| p.own)
        .try_fold(0i64, |a, p| add(a, p.net))?;
    if !extra.is_empty() && own_net == sub(0, extra_net)? {
        // Closebook's adjustment reversed the duplicate: neither counts any more.
        kept.retain(|p| !p.own);
    } else if !extra.is_empty() {
        let (_, _, all_net) = figures(&l.parts)?;
        let mut types: Vec<&str> = Vec::new();
        for p in &extra {
            if !types.contains(&p.entry_type.as_str()) {
                types.push(p.entry_type.as_str());
            }
        }
        // An entry booking the charge and its fee together is one booking, not two.
        let times = 1 + types
            .iter()
            .map(|t| extra.iter().filter(|p| p.entry_type == *t).count())
            .max()
            .unwrap_or(0);
        let mut dup_entries: Vec<String> = Vec::new();
        for p in l
            .parts
            .iter()
            .filter(|p| !p.own && types.contains(&p.entry_type.as_str()))
        {
            if !dup_entries.iter().any(|id| id == p.entry_id.as_str()) {
                dup_entries.push(p.entry_id.to_string());
            }
        }
        out.found.push(Found {
            kind: Kind::Duplicate,
            currency: s.currency.to_string(),
            stripe_object: Some(object.clone()),
            key: key(Kind::Duplicate, &s.currency, &object),
            effect: sub(0, extra_net)?,
            stripe_amount: Some(s.net),
            ledger_amount: Some(all_net),
            evidence: Evidence {
                ledger_entries: dup_entries,
                note: format!(
                    "{} booked {} times in the ledger ({})",
                    object,
                    times,
                    types.join(", ")
                ),
                ..base.clone()
            },
        });
    }
    let (l_amount, l_fee, l_net) = figures(kept.iter().copied())?;
    if l_net != s.net {
        // Timing: the rest of the booking (or of Stripe's movement) came after the day.
        if let Some(later) = look.ledger_after(&object, &s.currency)?
            && add(l_net, later.net)? == s.net
        {
            out.found.push(timing_found(
                s,
                Some(l),
                sub(s.net, l_net)?,
                Evidence {
                    note: format!(
                        "part of {object} was booked after the day ({})",
                        later.ids.join(", ")
                    ),
                    ledger_entries: later.ids.clone(),
                    ledger_date: Some(later.created),
                    ..base.clone()
                },
            ));
            return Ok(());
        }
        if let Some(later) = look.stripe_after(&object, &s.currency)?
            && add(s.net, later.net)? == l_net
        {
            out.found.push(timing_found(
                s,
                Some(l),
                sub(s.net, l_net)?,
                Evidence {
                    note: format!("part of {object} reached Stripe's balance after the day"),
                    stripe_ids: later.ids.clone(),
                    stripe_date: Some(later.created),
                    ..base.clone()
                },
            ));
            return Ok(());
        }
    }
    let entries_where = |fee: bool| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for p in kept
            .iter()
            .filter(|p| (p.entry_type == FEE_ENTRY_TYPE) == fee)
        {
            if !v.iter().any(|id| id == p.entry_id.as_str()) {
                v.push(p.entry_id.to_string());
            }
        }
        v
    };
    if l_amount != s.amount {
        out.found.push(Found {
            kind: Kind::AmountMismatch,
            currency: s.currency.to_string(),
            stripe_object: Some(object.clone()),
            key: key(Kind::AmountMismatch, &s.currency, &object),
            effect: sub(s.amount, l_amount)?,
            stripe_amount: Some(s.amount),
            ledger_amount: Some(l_amount),
            evidence: Evidence {
                note: format!(
                    "{object} is {} at Stripe but booked as {}",
                    s.amount, l_amount
                ),
                ledger_entries: entries_where(false),
                ..base.clone()
            },
        });
    }
    if l_fee != s.fee {
        out.found.push(Found {
            kind: Kind::FeeMismatch,
            currency: s.currency.to_string(),
            stripe_object: Some(object.clone()),
            key: key(Kind::FeeMismatch, &s.currency, &object),
            effect: sub(l_fee, s.fee)?,
            stripe_amount: Some(s.fee),
            ledger_amount: Some(l_fee),
            evidence: Evidence {
                note: format!(
                    "Stripe's fee on {object} is {} but {} was booked",
                    s.fee, l_fee
                ),
                ledger_entries: entries_where(true),
                ..base
            },
        });
    }
    Ok(())
}

fn timing_found(s: &StripeItem, l: Option<&LedgerItem>, effect: i64, evidence: Evidence) -> Found {
    Found {
        kind: Kind::TimingDifference,
        currency: s.currency.to_string(),
        stripe_object: Some(s.object.to_string()),
        key: key(Kind::TimingDifference, &s.currency, &s.object),
        effect,
        stripe_amount: Some(s.net),
        ledger_amount: l.map(|l| figures(&l.parts).map(|f| f.2).unwrap_or_default()),
        evidence,
    }
}

/// A Stripe item with no ledger counterpart by the end of the day.
fn stripe_only(
    s: &StripeItem,
    look: &mut dyn Lookup,
    out: &mut Outcome,
) -> Result<(), ReconcileError> {
    let base = Evidence {
        stripe_ids: strings(&s.bt_ids),
        stripe_date: Some(s.created),
        ..Evidence::default()
    };
    if let Some(later) = look.ledger_after(&s.object, &s.currency)? {
        out.found.push(Found {
            ledger_amount: Some(later.net),
            ..timing_found(
                s,
                None,
                s.net,
                Evidence {
                    ledger_entries: later.ids.clone(),
                    ledger_date: Some(later.created),
                    note: format!(
                        "{} is in Stripe's balance by the end of the day but was booked after it",
                        s.object
                    ),
                    ..base
                },
            )
        });
        return Ok(());
    }
    let event = look.event_for(&s.object)?;
    let missed = event
        .as_ref()
        .is_some_and(|e| e.webhook_status.as_deref() != Some("processed"));
    let (kind, note) = match (&event, missed) {
        (Some(e), true) => (
            Kind::MissedWebhook,
            match &e.webhook_status {
                None => format!(
                    "{} is not in the ledger: its {} event {} never reached the platform",
                    s.object, e.event_type, e.event_id
                ),
                Some(st) => format!(
                    "{} is not in the ledger: its {} event {} is marked {st} in the platform's webhook table",
                    s.object, e.event_type, e.event_id
                ),
            },
        ),
        (Some(e), false) => (
            Kind::MissingInLedger,
            format!(
                "{} is not in the ledger although the platform processed its event {}",
                s.object, e.event_id
            ),
        ),
        (None, _) => (
            Kind::MissingInLedger,
            format!("{} ({}) is not in the ledger", s.object, s.kind),
        ),
    };
    out.found.push(Found {
        kind,
        currency: s.currency.to_string(),
        stripe_object: Some(s.object.to_string()),
        key: key(kind, &s.currency, &s.object),
        effect: s.net,
        stripe_amount: Some(s.amount),
        ledger_amount: None,
        evidence: Evidence {
            stripe_fee: Some(s.fee),
            event_id: event.as_ref().map(|e| e.event_id.clone()),
            webhook_status: event.and_then(|e| e.webhook_status),
            note,
            ..base
        },
    });
    Ok(())
}

/// A ledger item with no Stripe counterpart by the end of the day. False when there is
/// nothing left of it to report.
fn ledger_only(
    l: &LedgerItem,
    look: &mut dyn Lookup,
    out: &mut Outcome,
) -> Result<bool, ReconcileError> {
    let (_, _, net) = figures(&l.parts)?;
    if net == 0 && l.parts.iter().any(|p| p.own) {
        // Closebook's adjustment took it back out of the Stripe balance: nothing is left.
        return Ok(false);
    }
    let base = Evidence {
        ledger_entries: l.entry_ids(),
        ledger_date: Some(l.created()),
        ..Evidence::default()
    };
    if let Some(o) = &l.object
        && let Some(later) = look.stripe_after(o, &l.currency)?
    {
        out.found.push(Found {
            kind: Kind::TimingDifference,
            currency: l.currency.to_string(),
            stripe_object: Some(o.to_string()),
            key: key(Kind::TimingDifference, &l.currency, o),
            effect: sub(0, net)?,
            stripe_amount: Some(later.net),
            ledger_amount: Some(net),
            evidence: Evidence {
                stripe_ids: later.ids.clone(),
                stripe_date: Some(later.created),
                note: format!("{o} is booked by the end of the day but reached Stripe after it"),
                ..base
            },
        });
        return Ok(true);
    }
    let label = l.label().to_string();
    out.found.push(Found {
        kind: Kind::MissingInStripe,
        currency: l.currency.to_string(),
        stripe_object: l.object.as_ref().map(|o| o.to_string()),
        key: key(Kind::MissingInStripe, &l.currency, &label),
        effect: sub(0, net)?,
        stripe_amount: None,
        ledger_amount: Some(net),
        evidence: Evidence {
            note: match &l.object {
                Some(o) => format!("{o} is booked ({net}) but Stripe has no such movement"),
                None => format!(
                    "entry {label} moves the Stripe balance ({net}) without naming a Stripe object, and nothing at Stripe matches it"
                ),
            },
            ..base
        },
    });
    Ok(true)
}
