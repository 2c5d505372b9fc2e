//! The simulator's state: compact records of every object (rendered to Stripe's JSON only
//! when asked for, so a large dataset stays small and time-dependent fields follow the
//! clock), Stripe's list ordering and cursors, the balance, transfer creation and the
//! idempotency store.
//!
//! Derivation from the dataset (one line per balance transaction):
//! - `charge` lines make charges (`amount` = the line's amount);
//! - `refund` lines make refunds (`amount` = −the line's amount);
//! - `adjustment` lines with reporting category `dispute` make disputes (`amount` = −the
//!   line's amount; a second line with the same `dp_` source joins the same dispute);
//! - `transfer` lines make transfers to the line's `destination`;
//! - `payout` lines make payouts (manual payouts to the platform's bank, `paid` once their
//!   arrival date has passed);
//! - every line with an event id makes one event.
//!
//! The dataset does not say which charge a refund or dispute belongs to. Linking picks, among
//! the charges of the same currency and amount created before it that can still be refunded
//! (or disputed), the one whose time is nearest to "50 hours before" a refund and "9 days
//! before" a dispute (the generator's lags), else the nearest charge in the currency; it is
//! deterministic. A dispute with no charge at all names a charge id that does not exist.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use axum::http::StatusCode;

use crate::MAX_PAGE_LIMIT;
use crate::dataset::Dataset;
use crate::error::{ApiError, SimError};

/// The generator refunds a charge 50 hours after it was made.
const REFUND_LAG_SECS: i64 = 50 * 3600;
/// The generator's disputes arrive 9 days after the charge.
const DISPUTE_LAG_SECS: i64 = 9 * 24 * 3600;
/// Payouts arrive at the next midnight UTC after they are created.
const DAY_SECS: i64 = 86_400;

/// SplitMix64's finaliser: a well-mixed 64-bit hash, used for deterministic ids and fault
/// draws.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Lists are ordered by `(created, id)`: newest first on the wire, id as the tie-break.
pub(crate) type Key = (i64, String);

pub(crate) trait Row {
    fn id(&self) -> &str;
    fn created(&self) -> i64;
}

/// One resource's objects, ordered as Stripe lists them, with an id index for cursors.
pub(crate) struct Table<T> {
    rows: BTreeMap<Key, T>,
    created_of: HashMap<String, i64>,
}

/// A validated list request's common part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub limit: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
    /// Inclusive bounds on `created`.
    pub created_min: Option<i64>,
    pub created_max: Option<i64>,
}

impl Default for ListQuery {
    fn default() -> ListQuery {
        ListQuery {
            limit: crate::DEFAULT_PAGE_LIMIT as usize,
            starting_after: None,
            ending_before: None,
            created_min: None,
            created_max: None,
        }
    }
}

pub(crate) struct Page<'a, T> {
    pub items: Vec<&'a T>,
    pub has_more: bool,
}

impl<T: Row> Table<T> {
    fn new() -> Table<T> {
        Table {
            rows: BTreeMap::new(),
            created_of: HashMap::new(),
        }
    }

    /// Adds a row; `false` (and nothing added) when its id is taken.
    pub fn insert(&mut self, row: T) -> bool {
        if self.created_of.contains_key(row.id()) {
            return false;
        }
        self.created_of.insert(row.id().to_string(), row.created());
        self.rows.insert((row.created(), row.id().to_string()), row);
        true
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        let created = *self.created_of.get(id)?;
        self.rows.get(&(created, id.to_string()))
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let created = *self.created_of.get(id)?;
        self.rows.get_mut(&(created, id.to_string()))
    }

    /// The object if it exists at `visible_until` (every object when `None`).
    pub fn get_visible(&self, id: &str, visible_until: Option<i64>) -> Option<&T> {
        self.get(id)
            .filter(|r| visible_until.is_none_or(|t| r.created() <= t))
    }

    pub fn contains(&self, id: &str) -> bool {
        self.created_of.contains_key(id)
    }

    /// Oldest first.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.rows.values()
    }

    /// One page as Stripe returns it: newest first; `starting_after` gives the objects older
    /// than the cursor, `ending_before` the ones just newer than it; `has_more` says whether
    /// more objects lie beyond the page in the direction of travel. A cursor must be an id of
    /// this resource (whether or not it matches the filters): anything else is a 400
    /// `resource_missing` naming the parameter.
    pub fn page<'a>(
        &'a self,
        q: &ListQuery,
        noun: &str,
        visible_until: Option<i64>,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Page<'a, T>, ApiError> {
        let key_of = |id: &str, param: &str| -> Result<Key, ApiError> {
            self.created_of
                .get(id)
                .map(|c| (*c, id.to_string()))
                .ok_or_else(|| ApiError::no_such_param(noun, id, param))
        };
        let created_max = match (q.created_max, visible_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // An empty id sorts before every real id, so `(c, "")` is "the start of second c".
        let mut lo: Bound<Key> = q
            .created_min
            .map_or(Bound::Unbounded, |c| Bound::Included((c, String::new())));
        let mut hi: Bound<Key> = match created_max.map(|c| c.checked_add(1)) {
            Some(Some(next)) => Bound::Excluded((next, String::new())),
            _ => Bound::Unbounded,
        };
        if let Some(id) = &q.starting_after {
            let k = key_of(id, "starting_after")?;
            hi = match hi {
                Bound::Excluded(h) if h <= k => Bound::Excluded(h),
                _ => Bound::Excluded(k),
            };
        }
        if let Some(id) = &q.ending_before {
            let k = key_of(id, "ending_before")?;
            lo = match lo {
                Bound::Included(l) if l > k => Bound::Included(l),
                _ => Bound::Excluded(k),
            };
        }
        let empty = match (&lo, &hi) {
            (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(h)) => l >= h,
            _ => false,
        };
        if empty {
            return Ok(Page {
                items: Vec::new(),
                has_more: false,
            });
        }
        let limit = q.limit.clamp(1, MAX_PAGE_LIMIT as usize);
        let range = self.rows.range((lo, hi)).map(|(_, v)| v);
        let forward = q.ending_before.is_some();
        let mut items: Vec<&T> = if forward {
            range.filter(|v| keep(v)).take(limit + 1).collect()
        } else {
            range.rev().filter(|v| keep(v)).take(limit + 1).collect()
        };
        let has_more = items.len() > limit;
        items.truncate(limit);
        if forward {
            items.reverse();
        }
        Ok(Page { items, has_more })
    }
}

macro_rules! row {
    ($t:ty) => {
        impl Row for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn created(&self) -> i64 {
                self.created
            }
        }
    };
}

#[derive(Debug, Clone)]
pub(crate) struct BtRec {
    pub id: String,
    pub kind: String,
    pub category: String,
    pub source: Option<String>,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    pub currency: String,
    pub created: i64,
    pub available_on: i64,
    pub description: Option<String>,
    /// The automatic payout that paid it out, if one did.
    pub payout: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ChargeRec {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    pub bt: String,
    pub amount_refunded: i64,
    pub disputed: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RefundRec {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    pub bt: String,
    pub charge: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct DisputeRec {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    /// Its balance transactions, oldest first.
    pub bts: Vec<String>,
    pub charge: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TransferRec {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    pub bt: String,
    pub destination: Option<String>,
    pub transfer_group: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub description: Option<String>,
    pub source_transaction: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PayoutRec {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
    pub arrival_date: i64,
    pub bt: String,
    /// Stripe's automatic payout schedule made it (`?payout=` lists what it settled); a
    /// manual one was asked for by the platform (`?payout=` is refused).
    pub automatic: bool,
}

/// What an event's `data.object` is.
#[derive(Debug, Clone)]
pub(crate) enum ObjRef {
    BalanceTransaction(String),
    Charge(String),
    Refund(String),
    Dispute(String),
    Transfer(String),
    Payout(String),
}

#[derive(Debug, Clone)]
pub(crate) struct EventRec {
    pub id: String,
    pub type_: String,
    pub created: i64,
    pub object: ObjRef,
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AccountRec {
    pub id: String,
    pub author_id: String,
    pub created: i64,
}

impl BtRec {
    /// `available` once `available_on` has passed on the simulator's clock.
    pub fn status(&self, now: i64) -> &'static str {
        if self.available_on <= now {
            "available"
        } else {
            "pending"
        }
    }
}

impl PayoutRec {
    /// `paid` once the arrival date has passed, `in_transit` before.
    pub fn status(&self, now: i64) -> &'static str {
        if self.arrival_date <= now {
            "paid"
        } else {
            "in_transit"
        }
    }
}

row!(BtRec);
row!(ChargeRec);
row!(RefundRec);
row!(DisputeRec);
row!(TransferRec);
row!(PayoutRec);
row!(EventRec);
row!(AccountRec);

/// A transfer created through `POST /v1/transfers`, as recorded for tests ("no line paid
/// twice"). Replayed idempotent requests add nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedTransfer {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub destination: String,
    pub transfer_group: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub description: Option<String>,
    pub idempotency_key: Option<String>,
    /// The simulator clock when it was created.
    pub created: i64,
    /// The ordinal of the request that created it.
    pub request_ordinal: u64,
    pub balance_transaction: String,
}

/// A validated `POST /v1/transfers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewTransfer {
    pub amount: i64,
    pub currency: String,
    pub destination: String,
    pub transfer_group: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub description: Option<String>,
    pub source_transaction: Option<String>,
}

/// What an idempotency key remembers: the request it was first used with and its answer.
#[derive(Debug, Clone)]
pub(crate) struct IdemEntry {
    /// Method, path and the request's parameters, sorted.
    pub fingerprint: (String, String, Vec<(String, String)>),
    pub stored_at: i64,
    pub status: u16,
    pub body: Vec<u8>,
}

/// Per currency: (available, pending).
pub(crate) type Balances = BTreeMap<String, (i64, i64)>;

pub(crate) struct Store {
    pub bts: Table<BtRec>,
    pub charges: Table<ChargeRec>,
    pub refunds: Table<RefundRec>,
    pub disputes: Table<DisputeRec>,
    pub transfers: Table<TransferRec>,
    pub payouts: Table<PayoutRec>,
    pub events: Table<EventRec>,
    pub accounts: Table<AccountRec>,
    pub restricted: BTreeSet<String>,
    /// The dataset's most frequent currency (`usd` when empty): the currency of an empty
    /// balance and of the accounts' `default_currency`.
    pub default_currency: String,
    /// Keyed by (account scope, key).
    pub idempotency: HashMap<(String, String), IdemEntry>,
    pub created_transfers: Vec<CreatedTransfer>,
    id_seed: u64,
    id_counter: u64,
}

fn parse_time(s: &str) -> Result<i64, SimError> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| SimError::Dataset(format!("unreadable time {s:?}: {e}")))
}

fn valid_currency(c: &str) -> bool {
    c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase())
}

impl Store {
    pub fn build(
        ds: &Dataset,
        restricted: &BTreeSet<String>,
        id_seed: u64,
    ) -> Result<Store, SimError> {
        let mut s = Store {
            bts: Table::new(),
            charges: Table::new(),
            refunds: Table::new(),
            disputes: Table::new(),
            transfers: Table::new(),
            payouts: Table::new(),
            events: Table::new(),
            accounts: Table::new(),
            restricted: BTreeSet::new(),
            default_currency: "usd".into(),
            idempotency: HashMap::new(),
            created_transfers: Vec::new(),
            id_seed,
            id_counter: 0,
        };
        for a in &ds.accounts {
            let rec = AccountRec {
                id: a.stripe_account_id.clone(),
                author_id: a.author_id.clone(),
                created: parse_time(&a.created_at)?,
            };
            if !rec.id.starts_with("acct_") || !s.accounts.insert(rec) {
                return Err(SimError::Dataset(format!(
                    "account id {:?} is duplicated or not an acct_ id",
                    a.stripe_account_id
                )));
            }
        }
        for r in restricted {
            if !s.accounts.contains(r) {
                return Err(SimError::Config(format!(
                    "restricted account {r} is not one of the dataset's accounts"
                )));
            }
        }
        s.restricted = restricted.clone();

        let mut currency_count: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &ds.activity {
            let bad = |why: &str| SimError::Dataset(format!("activity line {}: {why}", a.id));
            if !valid_currency(&a.currency) {
                return Err(bad("currency must be a lowercase three-letter code"));
            }
            if a.amount.checked_sub(a.fee) != Some(a.net) {
                return Err(bad("net is not amount - fee"));
            }
            *currency_count.entry(&a.currency).or_default() += 1;
            let source = (!a.source.is_empty()).then(|| a.source.clone());
            let bt = BtRec {
                id: a.id.clone(),
                kind: a.kind.clone(),
                category: a.reporting_category.clone(),
                source: source.clone(),
                amount: a.amount,
                fee: a.fee,
                net: a.net,
                currency: a.currency.clone(),
                created: a.created,
                available_on: a.available_on,
                description: None,
                payout: a.payout.clone(),
            };
            if !s.bts.insert(bt) {
                return Err(bad("duplicate balance transaction id"));
            }
            let object_amount = -a.amount;
            let object = match (a.kind.as_str(), source) {
                ("charge", Some(src)) => {
                    if a.amount <= 0 {
                        return Err(bad("a charge's amount must be positive"));
                    }
                    let ok = s.charges.insert(ChargeRec {
                        id: src.clone(),
                        amount: a.amount,
                        currency: a.currency.clone(),
                        created: a.created,
                        bt: a.id.clone(),
                        amount_refunded: 0,
                        disputed: false,
                    });
                    if !ok {
                        return Err(bad("duplicate charge"));
                    }
                    ObjRef::Charge(src)
                }
                ("refund", Some(src)) => {
                    if object_amount <= 0 {
                        return Err(bad("a refund's balance transaction must be negative"));
                    }
                    let ok = s.refunds.insert(RefundRec {
                        id: src.clone(),
                        amount: object_amount,
                        currency: a.currency.clone(),
                        created: a.created,
                        bt: a.id.clone(),
                        charge: a.charge.clone(),
                    });
                    if !ok {
                        return Err(bad("duplicate refund"));
                    }
                    ObjRef::Refund(src)
                }
                ("adjustment", Some(src)) if a.reporting_category == "dispute" => {
                    if let Some(d) = s.disputes.get_mut(&src) {
                        d.bts.push(a.id.clone());
                    } else {
                        if object_amount <= 0 {
                            return Err(bad(
                                "a dispute's first balance transaction must be negative",
                            ));
                        }
                        s.disputes.insert(DisputeRec {
                            id: src.clone(),
                            amount: object_amount,
                            currency: a.currency.clone(),
                            created: a.created,
                            bts: vec![a.id.clone()],
                            charge: a.charge.clone().unwrap_or_default(),
                        });
                    }
                    ObjRef::Dispute(src)
                }
                ("transfer", Some(src)) => {
                    if object_amount <= 0 {
                        return Err(bad("a transfer's balance transaction must be negative"));
                    }
                    let ok = s.transfers.insert(TransferRec {
                        id: src.clone(),
                        amount: object_amount,
                        currency: a.currency.clone(),
                        created: a.created,
                        bt: a.id.clone(),
                        destination: a.destination.clone(),
                        transfer_group: None,
                        metadata: BTreeMap::new(),
                        description: None,
                        source_transaction: None,
                    });
                    if !ok {
                        return Err(bad("duplicate transfer"));
                    }
                    ObjRef::Transfer(src)
                }
                ("payout", Some(src)) => {
                    if object_amount <= 0 {
                        return Err(bad("a payout's balance transaction must be negative"));
                    }
                    let ok = s.payouts.insert(PayoutRec {
                        id: src.clone(),
                        amount: object_amount,
                        currency: a.currency.clone(),
                        created: a.created,
                        arrival_date: (a.created.div_euclid(DAY_SECS) + 1) * DAY_SECS,
                        bt: a.id.clone(),
                        automatic: a.payout.as_deref() == Some(src.as_str()),
                    });
                    if !ok {
                        return Err(bad("duplicate payout"));
                    }
                    ObjRef::Payout(src)
                }
                _ => ObjRef::BalanceTransaction(a.id.clone()),
            };
            // An event's object is what its type names: `charge.refunded` is about the
            // Charge (not the refund that caused it), `charge.dispute.*` about the Dispute.
            let object = match (&object, a.charge.as_deref()) {
                (ObjRef::Refund(_), Some(ch))
                    if a.event_type.starts_with("charge.")
                        && !a.event_type.starts_with("charge.refund.") =>
                {
                    ObjRef::Charge(ch.to_string())
                }
                _ => object,
            };
            if !a.event_id.is_empty() {
                let ok = s.events.insert(EventRec {
                    id: a.event_id.clone(),
                    type_: a.event_type.clone(),
                    created: a.created,
                    object,
                    request_id: None,
                    idempotency_key: None,
                });
                if !ok {
                    return Err(bad("duplicate event id"));
                }
            }
        }
        if let Some((c, _)) = currency_count
            .iter()
            .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
        {
            s.default_currency = (*c).to_string();
        }
        s.link();
        Ok(s)
    }

    /// Gives refunds and disputes their charge (see the module documentation).
    fn link(&mut self) {
        let mut same_amount: HashMap<(String, i64), Vec<(i64, String)>> = HashMap::new();
        let mut same_currency: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        for c in self.charges.values() {
            same_amount
                .entry((c.currency.clone(), c.amount))
                .or_default()
                .push((c.created, c.id.clone()));
            same_currency
                .entry(c.currency.clone())
                .or_default()
                .push((c.created, c.id.clone()));
        }
        let refunds: Vec<(String, String, i64, i64, Option<String>)> = self
            .refunds
            .values()
            .map(|r| {
                (
                    r.id.clone(),
                    r.currency.clone(),
                    r.amount,
                    r.created,
                    r.charge.clone(),
                )
            })
            .collect();
        for (id, currency, amount, created, given) in refunds {
            let target = created.saturating_sub(REFUND_LAG_SECS);
            let charges = &self.charges;
            let eligible = |cid: &str| {
                charges
                    .get(cid)
                    .is_some_and(|c| c.amount - c.amount_refunded >= amount && !c.disputed)
            };
            // The dataset's own link when it gives one (and the charge exists), else a guess.
            let pick = given.filter(|c| charges.contains(c)).or_else(|| {
                same_amount
                    .get(&(currency.clone(), amount))
                    .and_then(|l| nearest(l, created, target, eligible))
                    .or_else(|| {
                        same_currency
                            .get(&currency)
                            .and_then(|l| nearest(l, created, target, eligible))
                    })
            });
            if let Some(cid) = &pick
                && let Some(c) = self.charges.get_mut(cid)
            {
                c.amount_refunded += amount;
            }
            if let Some(r) = self.refunds.get_mut(&id) {
                r.charge = pick;
            }
        }
        let disputes: Vec<(String, String, i64, i64, String)> = self
            .disputes
            .values()
            .map(|d| {
                (
                    d.id.clone(),
                    d.currency.clone(),
                    d.amount,
                    d.created,
                    d.charge.clone(),
                )
            })
            .collect();
        for (id, currency, amount, created, given) in disputes {
            if self.charges.contains(&given) {
                if let Some(c) = self.charges.get_mut(&given) {
                    c.disputed = true;
                }
                continue;
            }
            let target = created.saturating_sub(DISPUTE_LAG_SECS);
            let charges = &self.charges;
            let eligible = |cid: &str| {
                charges
                    .get(cid)
                    .is_some_and(|c| !c.disputed && c.amount_refunded == 0)
            };
            let pick = same_amount
                .get(&(currency.clone(), amount))
                .and_then(|l| nearest(l, created, target, eligible))
                .or_else(|| {
                    same_currency
                        .get(&currency)
                        .and_then(|l| nearest(l, created, target, eligible))
                });
            let charge = match pick {
                Some(cid) => {
                    if let Some(c) = self.charges.get_mut(&cid) {
                        c.disputed = true;
                    }
                    cid
                }
                None => format!("ch_{}", id.trim_start_matches("dp_")),
            };
            if let Some(d) = self.disputes.get_mut(&id) {
                d.charge = charge;
            }
        }
    }

    /// A fresh id `prefix_` + 24 base-62 characters, derived from the id seed and a counter,
    /// never one already in use.
    pub fn new_id(&mut self, prefix: &str) -> String {
        loop {
            self.id_counter += 1;
            let mut x = mix(self.id_seed ^ mix(self.id_counter));
            let mut tail = String::with_capacity(24);
            for i in 0..24u64 {
                if i % 8 == 0 {
                    x = mix(x ^ i);
                }
                tail.push(ALPHABET[(x % 62) as usize] as char);
                x /= 62;
            }
            let id = format!("{prefix}_{tail}");
            let taken = self.bts.contains(&id)
                || self.charges.contains(&id)
                || self.refunds.contains(&id)
                || self.disputes.contains(&id)
                || self.transfers.contains(&id)
                || self.payouts.contains(&id)
                || self.events.contains(&id)
                || self.accounts.contains(&id);
            if !taken {
                return id;
            }
        }
    }

    /// Available and pending per currency: the sum of the balance transactions' `net`,
    /// available once `available_on <= now`. The default currency is always present.
    pub fn balances(&self, now: i64, visible_until: Option<i64>) -> Result<Balances, ApiError> {
        let overflow = || {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "the balance does not fit in 64 bits",
            )
        };
        let mut out: Balances = BTreeMap::new();
        out.insert(self.default_currency.clone(), (0, 0));
        for bt in self.bts.values() {
            if visible_until.is_some_and(|t| bt.created > t) {
                continue;
            }
            let e = out.entry(bt.currency.clone()).or_insert((0, 0));
            let slot = if bt.available_on <= now {
                &mut e.0
            } else {
                &mut e.1
            };
            *slot = slot.checked_add(bt.net).ok_or_else(overflow)?;
        }
        Ok(out)
    }

    /// Records a transfer, its balance transaction and its `transfer.created` event.
    pub fn create_transfer(
        &mut self,
        t: NewTransfer,
        now: i64,
        request_id: &str,
        request_ordinal: u64,
        idempotency_key: Option<&str>,
    ) -> String {
        let tr = self.new_id("tr");
        let txn = self.new_id("txn");
        let evt = self.new_id("evt");
        self.bts.insert(BtRec {
            id: txn.clone(),
            kind: "transfer".into(),
            category: "transfer".into(),
            source: Some(tr.clone()),
            amount: -t.amount,
            fee: 0,
            net: -t.amount,
            currency: t.currency.clone(),
            created: now,
            available_on: now,
            description: t.description.clone(),
            payout: None,
        });
        self.transfers.insert(TransferRec {
            id: tr.clone(),
            amount: t.amount,
            currency: t.currency.clone(),
            created: now,
            bt: txn.clone(),
            destination: Some(t.destination.clone()),
            transfer_group: t.transfer_group.clone(),
            metadata: t.metadata.clone(),
            description: t.description.clone(),
            source_transaction: t.source_transaction.clone(),
        });
        self.events.insert(EventRec {
            id: evt,
            type_: "transfer.created".into(),
            created: now,
            object: ObjRef::Transfer(tr.clone()),
            request_id: Some(request_id.to_string()),
            idempotency_key: idempotency_key.map(str::to_string),
        });
        self.created_transfers.push(CreatedTransfer {
            id: tr.clone(),
            amount: t.amount,
            currency: t.currency,
            destination: t.destination,
            transfer_group: t.transfer_group,
            metadata: t.metadata,
            description: t.description,
            idempotency_key: idempotency_key.map(str::to_string),
            created: now,
            request_ordinal,
            balance_transaction: txn,
        });
        tr
    }
}

/// Among `list` (sorted by time) the entries created no later than `until`, the eligible one
/// whose time is nearest to `target` (the earlier one on a tie).
fn nearest(
    list: &[(i64, String)],
    until: i64,
    target: i64,
    eligible: impl Fn(&str) -> bool,
) -> Option<String> {
    let upper = list.partition_point(|c| c.0 <= until);
    let mut right = list[..upper].partition_point(|c| c.0 < target);
    let mut left = right;
    loop {
        let l = left.checked_sub(1);
        let r = (right < upper).then_some(right);
        let pick = match (l, r) {
            (None, None) => return None,
            (Some(i), None) => {
                left = i;
                i
            }
            (None, Some(j)) => {
                right += 1;
                j
            }
            (Some(i), Some(j)) => {
                if target - list[i].0 <= list[j].0 - target {
                    left = i;
                    i
                } else {
                    right += 1;
                    j
                }
            }
        };
        if eligible(&list[pick].1) {
            return Some(list[pick].1.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct R {
        id: String,
        created: i64,
    }
    row!(R);

    fn table(n: usize) -> Table<R> {
        let mut t = Table::new();
        for i in 0..n {
            // Pairs share a second, so the id tie-break matters.
            t.insert(R {
                id: format!("x_{i:03}"),
                created: (i / 2) as i64,
            });
        }
        t
    }

    fn ids(p: &Page<'_, R>) -> Vec<String> {
        p.items.iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn pages_are_newest_first_and_cursors_move_both_ways() {
        let t = table(9);
        let q = ListQuery {
            limit: 4,
            ..ListQuery::default()
        };
        let p = t.page(&q, "thing", None, |_| true).unwrap();
        assert_eq!(ids(&p), ["x_008", "x_007", "x_006", "x_005"]);
        assert!(p.has_more);
        let q2 = ListQuery {
            starting_after: Some("x_005".into()),
            ..q.clone()
        };
        let p2 = t.page(&q2, "thing", None, |_| true).unwrap();
        assert_eq!(ids(&p2), ["x_004", "x_003", "x_002", "x_001"]);
        assert!(p2.has_more);
        let q3 = ListQuery {
            starting_after: Some("x_001".into()),
            ..q.clone()
        };
        let p3 = t.page(&q3, "thing", None, |_| true).unwrap();
        assert_eq!(ids(&p3), ["x_000"]);
        assert!(!p3.has_more);
        // ending_before: the objects just newer than the cursor, still newest first.
        let q4 = ListQuery {
            ending_before: Some("x_001".into()),
            limit: 3,
            ..ListQuery::default()
        };
        let p4 = t.page(&q4, "thing", None, |_| true).unwrap();
        assert_eq!(ids(&p4), ["x_004", "x_003", "x_002"]);
        assert!(p4.has_more);
        let q5 = ListQuery {
            ending_before: Some("x_006".into()),
            limit: 3,
            ..ListQuery::default()
        };
        let p5 = t.page(&q5, "thing", None, |_| true).unwrap();
        assert_eq!(ids(&p5), ["x_008", "x_007"]);
        assert!(!p5.has_more);
    }

    #[test]
    fn created_bounds_filters_and_clock_combine() {
        let t = table(10);
        let q = ListQuery {
            limit: 100,
            created_min: Some(1),
            created_max: Some(3),
            ..ListQuery::default()
        };
        let p = t.page(&q, "thing", None, |_| true).unwrap();
        assert_eq!(
            ids(&p),
            ["x_007", "x_006", "x_005", "x_004", "x_003", "x_002"]
        );
        let p = t.page(&q, "thing", Some(2), |r| r.id != "x_004").unwrap();
        assert_eq!(ids(&p), ["x_005", "x_003", "x_002"]);
        let q = ListQuery {
            created_min: Some(4),
            created_max: Some(3),
            ..ListQuery::default()
        };
        assert!(
            t.page(&q, "thing", None, |_| true)
                .unwrap()
                .items
                .is_empty()
        );
        let q = ListQuery {
            created_min: Some(3),
            starting_after: Some("x_006".into()),
            ..ListQuery::default()
        };
        assert!(
            t.page(&q, "thing", None, |_| true)
                .unwrap()
                .items
                .is_empty()
        );
        let q = ListQuery {
            created_max: Some(i64::MAX),
            ..ListQuery::default()
        };
        assert_eq!(t.page(&q, "thing", None, |_| true).unwrap().items.len(), 10);
    }

    #[test]
    fn an_unknown_cursor_is_resource_missing() {
        let t = table(3);
        let q = ListQuery {
            starting_after: Some("x_999".into()),
            ..ListQuery::default()
        };
        let err = t.page(&q, "thing", None, |_| true).err().unwrap();
        assert_eq!(err.code, Some("resource_missing"));
        assert_eq!(err.param.as_deref(), Some("starting_after"));
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn nearest_prefers_the_target_and_skips_ineligible() {
        let list: Vec<(i64, String)> = [(10, "a"), (20, "b"), (30, "c"), (40, "d")]
            .iter()
            .map(|(t, s)| (*t, s.to_string()))
            .collect();
        assert_eq!(nearest(&list, 100, 21, |_| true).as_deref(), Some("b"));
        assert_eq!(nearest(&list, 100, 25, |_| true).as_deref(), Some("b"));
        assert_eq!(nearest(&list, 100, 21, |s| s != "b").as_deref(), Some("c"));
        assert_eq!(nearest(&list, 25, 40, |_| true).as_deref(), Some("b"));
        assert_eq!(nearest(&list, 5, 40, |_| true), None);
        assert_eq!(nearest(&list, 100, 0, |s| s == "d").as_deref(), Some("d"));
    }

    #[test]
    fn new_ids_are_deterministic_and_well_formed() {
        let mut a = Store::build(&Dataset::empty(), &BTreeSet::new(), 1).unwrap();
        let mut b = Store::build(&Dataset::empty(), &BTreeSet::new(), 1).unwrap();
        let x = a.new_id("tr");
        assert_eq!(x, b.new_id("tr"));
        assert_ne!(x, a.new_id("tr"));
        assert_eq!(x.len(), 3 + 24);
        assert!(x[3..].bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
