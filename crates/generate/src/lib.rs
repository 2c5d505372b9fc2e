//! A deterministic generator of synthetic platforms (seed 004's subscription platform)
//! at any scale: the same spec and seed always give byte-identical files.
//!
//! It produces both sides of the truth: what Stripe did (`stripe_activity`, one record
//! per balance transaction, which the Stripe simulator serves) and what the platform
//! booked (the import files of `contracts/FILES.md`, booked per `contracts/BOOKING.md`).
//! With `anomalies`, a handful of deliberate inconsistencies are planted in the last month
//! and listed, so reconciliation can be checked against a known answer.
//!
//! [`Shape`] varies everything the contracts allow a real platform to do differently: fee
//! postings inside or beside a charge's entry, entry ids as sequences, plain numbers or
//! UUIDs, its own account names for each role, refunds announced by `charge.refunded` or
//! `refund.created`, manual or automatic payouts, and webhooks lost for events of any type.
//!
//! It stands apart from the engine on purpose (principle 3: test against the world, not
//! against ourselves): it reads the contracts itself — the roles and default accounts of
//! `contracts/BOOKING.md`, Stripe's fee arithmetic — and shares no code with what it tests.
//!
//! Long: one generation is one pass over a platform's months, and splitting it would pass
//! a dozen pieces of state between files.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// The roles accounts play in the platform's books, as `contracts/BOOKING.md` names them
/// (a workspace maps each with `--map NAME=ACCOUNT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    StripeAccounts,
    StripeBalance,
    Bank,
    SubscriberFunds,
    CreatorObligations,
    StripeFees,
    Disputes,
    PlatformFees,
    Unallocated,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::StripeAccounts,
        Role::StripeBalance,
        Role::Bank,
        Role::SubscriberFunds,
        Role::CreatorObligations,
        Role::StripeFees,
        Role::Disputes,
        Role::PlatformFees,
        Role::Unallocated,
    ];

    /// The role's name in BOOKING.md and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::StripeAccounts => "stripe_accounts",
            Role::StripeBalance => "stripe_balance",
            Role::Bank => "bank",
            Role::SubscriberFunds => "subscriber_funds",
            Role::CreatorObligations => "creator_obligations",
            Role::StripeFees => "stripe_fees",
            Role::Disputes => "disputes",
            Role::PlatformFees => "platform_fees",
            Role::Unallocated => "unallocated",
        }
    }

    /// BOOKING.md's default account for the role.
    pub fn default_account(self) -> &'static str {
        match self {
            Role::StripeAccounts => "assets:stripe",
            Role::StripeBalance => "assets:stripe:payments",
            Role::Bank => "assets:bank",
            Role::SubscriberFunds => "liabilities:subscribers",
            Role::CreatorObligations => "liabilities:creators",
            Role::StripeFees => "expenses:stripe_fees",
            Role::Disputes => "expenses:disputes",
            Role::PlatformFees => "income:platform_fees",
            Role::Unallocated => "income:unallocated",
        }
    }
}

/// `amount × basis_points / 10_000`, rounded half to even: how the seeds say Stripe's
/// percentage fee and the platform's fee are rounded. Written here, not borrowed from the
/// engine, so that the engine's own rounding is checked against an independent one.
fn apply_bps_half_even(amount: i64, basis_points: u32) -> Option<i64> {
    let product = i128::from(amount) * i128::from(basis_points);
    let (q, r) = (product.div_euclid(10_000), product.rem_euclid(10_000));
    let q = match r.cmp(&5_000) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    };
    i64::try_from(q).ok()
}

/// Where a charge's (or a dispute's) Stripe fee is booked (`contracts/BOOKING.md` allows both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeeLayout {
    /// An entry of its own carrying the same `stripe_object_id`.
    #[default]
    Beside,
    /// Inside the movement's entry: one `entry_id`, postings of two entry types.
    Inside,
}

/// How the platform numbers its journal entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntryIds {
    /// `je_00000001`: sortable text.
    #[default]
    Prefixed,
    /// `1`, `2`, … `10`: a database sequence, whose text order is not its number order.
    Plain,
    /// Random UUIDs (version 4 form).
    Uuid,
}

/// The platform's chart of accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chart {
    /// `contracts/BOOKING.md`'s defaults.
    #[default]
    Booking,
    /// A numbered chart: `1010 Stripe Balance`, `2100 Creator Payable`, …
    Numbered,
    /// Flat names: `stripe_clearing`, `creator_liability`, …
    Clearing,
}

impl Chart {
    /// The account of each role (for the subscriber and creator roles, the parent).
    pub fn account(self, role: Role) -> &'static str {
        match self {
            Chart::Booking => role.default_account(),
            Chart::Numbered => match role {
                Role::StripeAccounts | Role::StripeBalance => "1010 Stripe Balance",
                Role::Bank => "1000 Operating Bank",
                Role::SubscriberFunds => "2000 Subscriber Funds",
                Role::CreatorObligations => "2100 Creator Payable",
                Role::StripeFees => "6010 Stripe Fees",
                Role::Disputes => "6020 Chargebacks",
                Role::PlatformFees => "4000 Platform Fee Revenue",
                Role::Unallocated => "4010 Breakage Revenue",
            },
            Chart::Clearing => match role {
                Role::StripeAccounts => "stripe_clearing",
                Role::StripeBalance => "stripe_clearing:usd",
                Role::Bank => "bank",
                Role::SubscriberFunds => "subscriber_liability",
                Role::CreatorObligations => "creator_liability",
                Role::StripeFees => "fees:stripe",
                Role::Disputes => "fees:disputes",
                Role::PlatformFees => "revenue:platform",
                Role::Unallocated => "revenue:breakage",
            },
        }
    }

    /// What a workspace must map to read this chart (nothing for BOOKING.md's).
    pub fn assignments(self) -> Vec<(Role, String)> {
        Role::ALL
            .into_iter()
            .filter(|r| self.account(*r) != r.default_account())
            .map(|r| (r, self.account(r).to_string()))
            .collect()
    }
}

/// Which event announces a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefundEvents {
    /// `charge.refunded`, whose object is the Charge.
    #[default]
    ChargeRefunded,
    /// `refund.created`, whose object is the Refund.
    RefundCreated,
}

/// How Stripe pays the platform's balance out to its bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Payouts {
    /// The platform asks for a payout (half of each month's revenue on the 3rd); Stripe
    /// refuses `?payout=` on these.
    #[default]
    Manual,
    /// Stripe pays out everything available on the 3rd; `?payout=` lists what each settled.
    Automatic,
}

/// Every way a real platform may differ from the demo's, within the contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    pub fees: FeeLayout,
    pub entry_ids: EntryIds,
    pub chart: Chart,
    pub refund_events: RefundEvents,
    pub payouts: Payouts,
    /// With `anomalies`: webhooks also lost for transfers, payouts, refunds and booked
    /// charges (each planted one listed).
    pub webhook_gaps: bool,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct PlatformSpec {
    pub seed: u64,
    pub subscribers: u32,
    pub creators: u32,
    /// First month, `(year, month)`.
    pub first_month: (i16, i8),
    pub months: u32,
    /// Leading months whose month-end the platform already processed (allocations, fees,
    /// sweep and transfers booked). The months after them are open.
    pub processed_months: u32,
    pub timezone: String,
    /// Creators (by index from the end) without a connected account.
    pub creators_without_account: u32,
    /// Per-mille of subscribers refunded in full each month.
    pub refunds_per_mille: u32,
    pub disputes: u32,
    pub anomalies: bool,
    pub livemode: bool,
    pub platform_fee_bps: u32,
    pub minimum_payout_minor: i64,
    pub shape: Shape,
}

impl PlatformSpec {
    /// The demo platform of `fixtures/demo`.
    pub fn demo() -> PlatformSpec {
        PlatformSpec {
            seed: 2026,
            subscribers: 300,
            creators: 50,
            first_month: (2026, 8),
            months: 3,
            processed_months: 2,
            timezone: "America/New_York".into(),
            creators_without_account: 1,
            refunds_per_mille: 15,
            disputes: 1,
            anomalies: true,
            livemode: false,
            platform_fee_bps: 700,
            minimum_payout_minor: 2500,
            shape: Shape::default(),
        }
    }

    /// A clean platform of roughly `postings` ledger postings, for benchmarks and tests.
    pub fn scale(postings: u64, seed: u64) -> PlatformSpec {
        // Per subscriber-month: 4 postings (charge + fee) plus about 4 at month-end.
        let subscribers = (postings / 24).max(10) as u32;
        PlatformSpec {
            seed,
            subscribers,
            creators: (subscribers / 10).max(5),
            first_month: (2026, 1),
            months: 3,
            processed_months: 2,
            timezone: "UTC".into(),
            creators_without_account: 1,
            refunds_per_mille: 10,
            disputes: 2,
            anomalies: false,
            livemode: false,
            platform_fee_bps: 700,
            minimum_payout_minor: 2500,
            shape: Shape::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LedgerLine {
    pub id: i64,
    pub entry_id: String,
    pub account: String,
    pub amount_minor: i64,
    pub currency: String,
    pub entry_type: String,
    pub stripe_object_id: Option<String>,
    pub event_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub livemode: bool,
    pub created_at: String,
    pub description: String,
    #[serde(skip)]
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct BalanceLine {
    pub user_id: String,
    pub month: String,
    pub total_usd_cents: i64,
    pub allocated_usd_cents: i64,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AllocationLine {
    pub id: String,
    pub user_id: String,
    pub page_id: String,
    pub author_id: String,
    pub amount_cents: i64,
    pub month: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountLine {
    pub author_id: String,
    pub stripe_account_id: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebhookLine {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub received_at: String,
    pub processed_at: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WithdrawalLine {
    pub id: String,
    pub user_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub requested_at: String,
    pub stripe_transfer_id: Option<String>,
}

/// One Stripe balance transaction as it really happened.
#[derive(Debug, Clone, Serialize)]
pub struct StripeActivity {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub reporting_category: String,
    pub source: String,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    pub currency: String,
    pub created: i64,
    pub available_on: i64,
    pub destination: Option<String>,
    pub event_id: String,
    pub event_type: String,
    /// A refund's or a dispute's charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge: Option<String>,
    /// The automatic payout that paid this balance transaction out (on the payout's own
    /// line, its own id: the mark of an automatic payout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout: Option<String>,
}

/// A planted inconsistency, with the evidence reconciliation should find.
#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub kind: String,
    pub stripe_object_id: Option<String>,
    pub event_id: Option<String>,
    pub entry_ids: Vec<String>,
    pub stripe_amount: Option<i64>,
    pub ledger_amount: Option<i64>,
    pub description: String,
}

#[derive(Debug, Clone, Default)]
pub struct Platform {
    pub ledger: Vec<LedgerLine>,
    pub balances: Vec<BalanceLine>,
    pub allocations: Vec<AllocationLine>,
    pub accounts: Vec<AccountLine>,
    pub webhook_events: Vec<WebhookLine>,
    pub withdrawals: Vec<WithdrawalLine>,
    pub stripe: Vec<StripeActivity>,
    pub anomalies: Vec<Anomaly>,
}

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PRICES: &[(i64, u32)] = &[
    (500, 25),
    (1000, 35),
    (1500, 10),
    (2000, 15),
    (3000, 10),
    (5000, 5),
];
const STRIPE_FEE_BPS: u32 = 290;
const STRIPE_FEE_FIXED: i64 = 30;
const DISPUTE_FEE: i64 = 1500;

struct Gen {
    rng: ChaCha8Rng,
    /// UUID entry ids draw from their own stream: the shape never moves the main one.
    id_rng: ChaCha8Rng,
    tz: TimeZone,
    livemode: bool,
    p: Platform,
    entry_seq: u64,
    shape: Shape,
}

/// One Stripe balance transaction to record.
struct Txn<'a> {
    kind: &'a str,
    category: &'a str,
    source: &'a str,
    amount: i64,
    fee: i64,
    at: Timestamp,
    /// Days until the funds are available (0: at once).
    available_days: i64,
    destination: Option<String>,
    event_id: &'a str,
    event_type: &'a str,
    charge: Option<&'a str>,
}

/// A charge as Stripe made it and as the platform booked it.
#[derive(Clone)]
struct Charge {
    user: usize,
    month: usize,
    id: String,
    event: String,
    amount: i64,
    fee: i64,
    at: Timestamp,
    refunded: bool,
}

impl Gen {
    fn stripe_id(&mut self, prefix: &str) -> String {
        let tail: String = (0..24)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        format!("{prefix}_{tail}")
    }

    fn local(&self, date: Date, h: i8, m: i8, s: i8) -> Timestamp {
        DateTime::from_parts(date, jiff::civil::time(h, m, s, 0))
            .to_zoned(self.tz.clone())
            .expect("generated local times exist")
            .timestamp()
    }

    fn random_time(&mut self, date: Date) -> Timestamp {
        let (h, m, s) = (
            self.rng.random_range(6..23),
            self.rng.random_range(0..60),
            self.rng.random_range(0..60),
        );
        self.local(date, h, m, s)
    }

    /// The account of `role` (a parent for subscribers and creators).
    fn acct(&self, role: Role) -> &'static str {
        self.shape.chart.account(role)
    }

    fn subscriber(&self, user: &str) -> String {
        format!("{}:{user}", self.acct(Role::SubscriberFunds))
    }

    fn creator(&self, creator: &str) -> String {
        format!("{}:{creator}", self.acct(Role::CreatorObligations))
    }

    fn next_entry_id(&mut self) -> String {
        self.entry_seq += 1;
        match self.shape.entry_ids {
            EntryIds::Prefixed => format!("je_{:08}", self.entry_seq),
            EntryIds::Plain => self.entry_seq.to_string(),
            EntryIds::Uuid => {
                let a: u64 = self.id_rng.random();
                let b: u64 = self.id_rng.random();
                format!(
                    "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    0x8000 | (b >> 48 & 0x3fff),
                    b & 0xffff_ffff_ffff
                )
            }
        }
    }

    fn entry(
        &mut self,
        kind: &str,
        at: Timestamp,
        stripe: Option<&str>,
        event: Option<&str>,
        description: String,
        postings: &[(&str, i64)],
    ) -> String {
        let entry_id = self.next_entry_id();
        self.postings(&entry_id, kind, at, stripe, event, &description, postings);
        entry_id
    }

    /// A Stripe movement and its fee: one entry with postings of two types, or two entries
    /// (the shape's fee layout). Returns the movement's entry and the fee's.
    #[allow(clippy::too_many_arguments)]
    fn entry_with_fee(
        &mut self,
        kind: &str,
        at: Timestamp,
        stripe: Option<&str>,
        event: Option<&str>,
        description: String,
        postings: &[(&str, i64)],
        fee_description: String,
        fee_postings: &[(&str, i64)],
    ) -> (String, String) {
        let e1 = self.entry(kind, at, stripe, event, description, postings);
        let e2 = match self.shape.fees {
            FeeLayout::Beside => self.entry(
                "stripe_fee",
                at,
                stripe,
                event,
                fee_description,
                fee_postings,
            ),
            FeeLayout::Inside => {
                self.postings(
                    &e1,
                    "stripe_fee",
                    at,
                    stripe,
                    event,
                    &fee_description,
                    fee_postings,
                );
                e1.clone()
            }
        };
        (e1, e2)
    }

    #[allow(clippy::too_many_arguments)]
    fn postings(
        &mut self,
        entry_id: &str,
        kind: &str,
        at: Timestamp,
        stripe: Option<&str>,
        event: Option<&str>,
        description: &str,
        postings: &[(&str, i64)],
    ) {
        debug_assert_eq!(
            postings.iter().map(|p| p.1).sum::<i64>(),
            0,
            "generated entries balance"
        );
        for (account, amount) in postings {
            self.p.ledger.push(LedgerLine {
                id: 0,
                entry_id: entry_id.to_string(),
                account: (*account).to_string(),
                amount_minor: *amount,
                currency: "usd".into(),
                entry_type: kind.into(),
                stripe_object_id: stripe.map(str::to_string),
                event_id: event.map(str::to_string),
                idempotency_key: event.map(|e| format!("{e}:{kind}")),
                livemode: self.livemode,
                created_at: at.to_string(),
                description: description.to_string(),
                at,
            });
        }
    }

    /// Records a balance transaction; returns its index in `p.stripe`.
    fn stripe_txn(&mut self, t: Txn<'_>) -> usize {
        let Txn {
            kind,
            category,
            source,
            amount,
            fee,
            at,
            available_days,
            destination,
            event_id,
            event_type,
            charge,
        } = t;
        let id = self.stripe_id("txn");
        let available_on = if available_days == 0 {
            at.as_second()
        } else {
            // Stripe makes card funds available at midnight UTC, N days later.
            let day = at
                .to_zoned(TimeZone::UTC)
                .date()
                .checked_add(available_days.days())
                .expect("date in range");
            day.to_zoned(TimeZone::UTC)
                .expect("midnight exists")
                .timestamp()
                .as_second()
        };
        self.p.stripe.push(StripeActivity {
            id,
            kind: kind.into(),
            reporting_category: category.into(),
            source: source.into(),
            amount,
            fee,
            net: amount - fee,
            currency: "usd".into(),
            created: at.as_second(),
            available_on,
            destination,
            event_id: event_id.into(),
            event_type: event_type.into(),
            charge: charge.map(str::to_string),
            payout: None,
        });
        self.p.stripe.len() - 1
    }

    fn webhook(
        &mut self,
        event: &str,
        kind: &str,
        at: Timestamp,
        status: &str,
        error: Option<&str>,
    ) {
        let received = at.checked_add(2.seconds()).expect("in range");
        let processed = (status != "received").then(|| {
            received
                .checked_add(1.second())
                .expect("in range")
                .to_string()
        });
        self.p.webhook_events.push(WebhookLine {
            event_id: event.into(),
            kind: kind.into(),
            status: status.into(),
            received_at: received.to_string(),
            processed_at: processed,
            error: error.map(str::to_string),
        });
    }
}

fn month_date(first: (i16, i8), offset: u32, day: i8) -> Date {
    let months = i32::from(first.0) * 12 + i32::from(first.1) - 1 + offset as i32;
    jiff::civil::date((months / 12) as i16, (months % 12 + 1) as i8, day)
}

fn month_label(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Generates a platform. Pure: the spec decides everything.
pub fn generate(spec: &PlatformSpec) -> Platform {
    let tz = TimeZone::get(&spec.timezone).expect("spec time zone is valid");
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        id_rng: ChaCha8Rng::seed_from_u64(spec.seed ^ 0x05ee_d1d5),
        tz,
        livemode: spec.livemode,
        p: Platform::default(),
        entry_seq: 0,
        shape: spec.shape,
    };
    let stripe_acct = g.acct(Role::StripeBalance);
    let creators: Vec<String> = (1..=spec.creators).map(|i| format!("cr_{i:05}")).collect();
    let users: Vec<String> = (1..=spec.subscribers)
        .map(|i| format!("u_{i:06}"))
        .collect();
    let tier_total: u32 = PRICES.iter().map(|p| p.1).sum();
    let plans: Vec<(i64, i8)> = users
        .iter()
        .map(|_| {
            let mut pick = g.rng.random_range(0..tier_total);
            let price = PRICES
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map_or(1000, |p| p.0);
            (price, g.rng.random_range(1..=28))
        })
        .collect();
    // Creator popularity: a few are very popular (weights 1/rank).
    let weights: Vec<u32> = (1..=spec.creators).map(|r| 10_000 / r).collect();
    let weight_total: u32 = weights.iter().sum();

    // Connected accounts, created before the first month.
    let account_day = month_date(spec.first_month, 0, 1)
        .checked_sub(20.days())
        .expect("in range");
    let with_account = spec.creators.saturating_sub(spec.creators_without_account) as usize;
    for c in creators.iter().take(with_account) {
        let acct = g.stripe_id("acct");
        let at = g.random_time(account_day);
        g.p.accounts.push(AccountLine {
            author_id: c.clone(),
            stripe_account_id: acct,
            created_at: at.to_string(),
        });
    }

    let mut charges: Vec<Charge> = Vec::new();
    for month in 0..spec.months as usize {
        for (u, (price, day)) in plans.iter().enumerate() {
            let date = month_date(spec.first_month, month as u32, *day);
            let at = g.random_time(date);
            let id = g.stripe_id("ch");
            let event = g.stripe_id("evt");
            let fee =
                apply_bps_half_even(*price, STRIPE_FEE_BPS).expect("small") + STRIPE_FEE_FIXED;
            let refunded = g.rng.random_range(0..1000) < spec.refunds_per_mille;
            charges.push(Charge {
                user: u,
                month,
                id,
                event,
                amount: *price,
                fee,
                at,
                refunded,
            });
        }
    }
    charges.sort_by_key(|c| c.at);

    let open_month = spec.months as usize - 1;
    let plan = if spec.anomalies {
        plan_anomalies(&charges, open_month, spec.shape.webhook_gaps)
    } else {
        AnomalyPlan::default()
    };

    // Stripe's side and the platform's bookings of charges, refunds, disputes.
    let mut credited: BTreeMap<(usize, usize), i64> = BTreeMap::new(); // (user, month) -> booked subscription money
    let mut last_touch: BTreeMap<(usize, usize), Timestamp> = BTreeMap::new();
    let mut disputes_left = spec.disputes;
    for (i, ch) in charges.iter().enumerate() {
        g.stripe_txn(Txn {
            kind: "charge",
            category: "charge",
            source: &ch.id,
            amount: ch.amount,
            fee: ch.fee,
            at: ch.at,
            available_days: 2,
            destination: None,
            event_id: &ch.event,
            event_type: "charge.succeeded",
            charge: None,
        });
        let user = users[ch.user].clone();
        let sub_account = g.subscriber(&user);
        let label = month_label(month_date(spec.first_month, ch.month as u32, 1));
        let booked_at = if plan.timing == Some(i) {
            // The platform booked the charge just after the next midnight (a late webhook).
            let d = ch.at.to_zoned(g.tz.clone()).date();
            g.local(d.checked_add(1.day()).expect("in range"), 0, 0, 40)
        } else {
            ch.at
        };
        let missing = plan.missed_webhook == Some(i)
            || plan.failed_webhook == Some(i)
            || plan.missing_in_ledger == Some(i);
        if plan.missed_webhook != Some(i) {
            let (status, error) =
                if plan.failed_webhook == Some(i) || plan.booked_charge_webhook_failed == Some(i) {
                    ("failed", Some("handler timed out after 30s"))
                } else {
                    ("processed", None)
                };
            g.webhook(&ch.event, "charge.succeeded", ch.at, status, error);
        }
        if !missing {
            let amount = if plan.amount_mismatch == Some(i) {
                ch.amount + 100
            } else {
                ch.amount
            };
            let fee = if plan.fee_mismatch == Some(i) {
                ch.fee - 5
            } else {
                ch.fee
            };
            let desc = format!("Subscription {label} of {user}");
            let (e1, e2) = g.entry_with_fee(
                "subscription_payment",
                booked_at,
                Some(&ch.id),
                Some(&ch.event),
                desc.clone(),
                &[(stripe_acct, amount), (&sub_account, -amount)],
                format!("Stripe fee on {}", ch.id),
                &[(g.acct(Role::StripeFees), fee), (stripe_acct, -fee)],
            );
            if plan.booked_charge_webhook_failed == Some(i) {
                g.p.anomalies.push(Anomaly {
                    kind: "missed_webhook".into(),
                    stripe_object_id: Some(ch.id.clone()),
                    event_id: Some(ch.event.clone()),
                    entry_ids: vec![e1.clone()],
                    stripe_amount: Some(ch.amount),
                    ledger_amount: Some(amount),
                    description: format!(
                        "charge {} is booked, but its charge.succeeded event {} is marked failed in stripe_webhook_events (booked by another path; the handler needs a look)",
                        ch.id, ch.event
                    ),
                });
            }
            *credited.entry((ch.user, ch.month)).or_default() += amount;
            last_touch.insert((ch.user, ch.month), booked_at);
            if plan.duplicate == Some(i) {
                let later = booked_at.checked_add(47.seconds()).expect("in range");
                // A redelivered webhook books the charge's entry again; with the fee inside
                // it, the fee too.
                let dup = match g.shape.fees {
                    FeeLayout::Beside => g.entry(
                        "subscription_payment",
                        later,
                        Some(&ch.id),
                        Some(&ch.event),
                        format!("{desc} (webhook redelivered)"),
                        &[(stripe_acct, amount), (&sub_account, -amount)],
                    ),
                    FeeLayout::Inside => {
                        g.entry_with_fee(
                            "subscription_payment",
                            later,
                            Some(&ch.id),
                            Some(&ch.event),
                            format!("{desc} (webhook redelivered)"),
                            &[(stripe_acct, amount), (&sub_account, -amount)],
                            format!("Stripe fee on {} (webhook redelivered)", ch.id),
                            &[(g.acct(Role::StripeFees), fee), (stripe_acct, -fee)],
                        )
                        .0
                    }
                };
                *credited.entry((ch.user, ch.month)).or_default() += amount;
                g.p.anomalies.push(Anomaly {
                    kind: "duplicate".into(),
                    stripe_object_id: Some(ch.id.clone()),
                    event_id: Some(ch.event.clone()),
                    entry_ids: vec![e1.clone(), dup],
                    stripe_amount: Some(ch.amount),
                    ledger_amount: Some(amount * 2),
                    description: format!("charge {} was booked twice: the redelivered webhook was not recognised as a duplicate", ch.id),
                });
            }
            if plan.amount_mismatch == Some(i) {
                g.p.anomalies.push(Anomaly {
                    kind: "amount_mismatch".into(),
                    stripe_object_id: Some(ch.id.clone()),
                    event_id: Some(ch.event.clone()),
                    entry_ids: vec![e1.clone()],
                    stripe_amount: Some(ch.amount),
                    ledger_amount: Some(amount),
                    description: format!(
                        "charge {} is {} cents at Stripe but booked as {} cents",
                        ch.id, ch.amount, amount
                    ),
                });
            }
            if plan.fee_mismatch == Some(i) {
                g.p.anomalies.push(Anomaly {
                    kind: "fee_mismatch".into(),
                    stripe_object_id: Some(ch.id.clone()),
                    event_id: Some(ch.event.clone()),
                    entry_ids: vec![e2],
                    stripe_amount: Some(ch.fee),
                    ledger_amount: Some(fee),
                    description: format!(
                        "Stripe took a fee of {} cents on {} but {} cents were booked",
                        ch.fee, ch.id, fee
                    ),
                });
            }
            if plan.timing == Some(i) {
                g.p.anomalies.push(Anomaly {
                    kind: "timing_difference".into(),
                    stripe_object_id: Some(ch.id.clone()),
                    event_id: Some(ch.event.clone()),
                    entry_ids: vec![e1],
                    stripe_amount: Some(ch.amount),
                    ledger_amount: Some(amount),
                    description: format!(
                        "charge {} was made at {} but booked at {} (after midnight in {})",
                        ch.id, ch.at, booked_at, spec.timezone
                    ),
                });
            }
        } else {
            let (kind, why) = if plan.missed_webhook == Some(i) {
                (
                    "missed_webhook",
                    "its charge.succeeded event never reached the platform (no row in stripe_webhook_events)",
                )
            } else if plan.failed_webhook == Some(i) {
                (
                    "missed_webhook",
                    "its charge.succeeded event is marked failed in stripe_webhook_events",
                )
            } else {
                (
                    "missing_in_ledger",
                    "the event was processed but no entry was booked",
                )
            };
            g.p.anomalies.push(Anomaly {
                kind: kind.into(),
                stripe_object_id: Some(ch.id.clone()),
                event_id: Some(ch.event.clone()),
                entry_ids: vec![],
                stripe_amount: Some(ch.amount),
                ledger_amount: None,
                description: format!(
                    "charge {} ({} cents) is not in the ledger: {why}",
                    ch.id, ch.amount
                ),
            });
        }
        if ch.refunded && !missing {
            let refund_at = ch
                .at
                .checked_add(jiff::SignedDuration::from_hours(50))
                .expect("in range");
            let re = g.stripe_id("re");
            let evt = g.stripe_id("evt");
            let event_type = match spec.shape.refund_events {
                RefundEvents::ChargeRefunded => "charge.refunded",
                RefundEvents::RefundCreated => "refund.created",
            };
            g.stripe_txn(Txn {
                kind: "refund",
                category: "refund",
                source: &re,
                amount: -ch.amount,
                fee: 0,
                at: refund_at,
                available_days: 0,
                destination: None,
                event_id: &evt,
                event_type,
                charge: Some(&ch.id),
            });
            if plan.refund_webhook_failed == Some(i) {
                // The refund's webhook failed and the platform never booked it.
                g.webhook(
                    &evt,
                    event_type,
                    refund_at,
                    "failed",
                    Some("refund handler raised an exception"),
                );
                g.p.anomalies.push(Anomaly {
                    kind: "missed_webhook".into(),
                    stripe_object_id: Some(re.clone()),
                    event_id: Some(evt.clone()),
                    entry_ids: vec![],
                    stripe_amount: Some(-ch.amount),
                    ledger_amount: None,
                    description: format!(
                        "refund {re} of charge {} ({} cents) is not in the ledger: its {event_type} event {evt} is marked failed",
                        ch.id, ch.amount
                    ),
                });
            } else {
                g.webhook(&evt, event_type, refund_at, "processed", None);
                let booked = credited.get(&(ch.user, ch.month)).copied().unwrap_or(0);
                let amount = ch.amount.min(booked);
                g.entry(
                    "refund",
                    refund_at,
                    Some(&re),
                    Some(&evt),
                    format!("Refund of {} to {user}", ch.id),
                    &[(&sub_account, amount), (stripe_acct, -amount)],
                );
                *credited.entry((ch.user, ch.month)).or_default() -= amount;
                last_touch.insert((ch.user, ch.month), refund_at);
            }
        } else if !ch.refunded
            && !missing
            && disputes_left > 0
            && ch.month == 1.min(open_month)
            && ch.amount >= 2000
            && plan.is_clean(i)
        {
            disputes_left -= 1;
            let at = ch
                .at
                .checked_add(jiff::SignedDuration::from_hours(24 * 9))
                .expect("in range");
            let dp = g.stripe_id("dp");
            let evt = g.stripe_id("evt");
            g.stripe_txn(Txn {
                kind: "adjustment",
                category: "dispute",
                source: &dp,
                amount: -ch.amount,
                fee: DISPUTE_FEE,
                at,
                available_days: 0,
                destination: None,
                event_id: &evt,
                event_type: "charge.dispute.created",
                charge: Some(&ch.id),
            });
            g.webhook(&evt, "charge.dispute.created", at, "processed", None);
            g.entry_with_fee(
                "dispute",
                at,
                Some(&dp),
                Some(&evt),
                format!("Dispute on {}", ch.id),
                &[
                    (g.acct(Role::Disputes), ch.amount),
                    (stripe_acct, -ch.amount),
                ],
                format!("Dispute fee on {dp}"),
                &[
                    (g.acct(Role::StripeFees), DISPUTE_FEE),
                    (stripe_acct, -DISPUTE_FEE),
                ],
            );
        }
    }
    if let Some(i) = plan.refund_missing_in_stripe {
        // The platform booked a refund that Stripe never made (the API call failed).
        let ch = &charges[i];
        let user = &users[ch.user];
        let at = ch
            .at
            .checked_add(jiff::SignedDuration::from_hours(30))
            .expect("in range");
        let re = g.stripe_id("re");
        let e = g.entry(
            "refund",
            at,
            Some(&re),
            None,
            format!("Refund of {} to {user}", ch.id),
            &[(&g.subscriber(user), ch.amount), (stripe_acct, -ch.amount)],
        );
        *credited.entry((ch.user, ch.month)).or_default() -= ch.amount;
        g.p.anomalies.push(Anomaly {
            kind: "missing_in_stripe".into(),
            stripe_object_id: Some(re.clone()),
            event_id: None,
            entry_ids: vec![e],
            stripe_amount: None,
            ledger_amount: Some(-ch.amount),
            description: format!(
                "refund {re} of {} cents is booked but Stripe has no such refund",
                ch.amount
            ),
        });
    }

    // Allocations and balances per subscriber-month, from what the platform credited.
    let mut carried: BTreeMap<usize, i64> = BTreeMap::new(); // creator -> outstanding obligation
    let mut alloc_seq = 0u64;
    for month in 0..spec.months as usize {
        let label = month_label(month_date(spec.first_month, month as u32, 1));
        let end = month_date(spec.first_month, month as u32 + 1, 1);
        let mut gross: BTreeMap<usize, i64> = BTreeMap::new();
        let mut month_allocs: Vec<(usize, usize, i64)> = Vec::new();
        let mut unallocated: Vec<(usize, i64)> = Vec::new();
        for (u, user) in users.iter().enumerate() {
            let total = credited.get(&(u, month)).copied().unwrap_or(0).max(0);
            let mut allocated = 0;
            let mut touched = last_touch.get(&(u, month)).copied();
            if total > 0 && g.rng.random_range(0..100) < 80 {
                let share = g.rng.random_range(50..=100);
                let budget = total * share / 100;
                let n = g.rng.random_range(1..=3usize);
                let mut remaining = budget;
                for k in 0..n {
                    let amount = if k + 1 == n {
                        remaining
                    } else {
                        remaining * g.rng.random_range(30..70) / 100
                    };
                    if amount <= 0 {
                        continue;
                    }
                    remaining -= amount;
                    let mut pick = g.rng.random_range(0..weight_total);
                    let c = weights
                        .iter()
                        .position(|w| {
                            if pick < *w {
                                true
                            } else {
                                pick -= w;
                                false
                            }
                        })
                        .unwrap_or(0);
                    let days_before_end: i64 = g.rng.random_range(1..=20);
                    let when =
                        g.random_time(end.checked_sub(days_before_end.days()).expect("in range"));
                    alloc_seq += 1;
                    g.p.allocations.push(AllocationLine {
                        id: format!("al_{alloc_seq:09}"),
                        user_id: user.clone(),
                        page_id: format!("pg_{:05}_{}", c + 1, g.rng.random_range(1..=4)),
                        author_id: creators[c].clone(),
                        amount_cents: amount,
                        month: label.clone(),
                        updated_at: when.to_string(),
                    });
                    touched = Some(touched.map_or(when, |t: Timestamp| t.max(when)));
                    allocated += amount;
                    *gross.entry(c).or_default() += amount;
                    month_allocs.push((u, c, amount));
                }
            }
            if let Some(t) = touched {
                g.p.balances.push(BalanceLine {
                    user_id: user.clone(),
                    month: label.clone(),
                    total_usd_cents: total,
                    allocated_usd_cents: allocated,
                    updated_at: t.to_string(),
                });
            }
            if total - allocated > 0 {
                unallocated.push((u, total - allocated));
            }
        }
        if month as u32 >= spec.processed_months {
            continue;
        }
        // Month-end, booked by the platform on the 1st of the next month.
        let at = g.local(end, 0, 10, 0);
        for (u, c, amount) in &month_allocs {
            let (ua, ca) = (g.subscriber(&users[*u]), g.creator(&creators[*c]));
            g.entry(
                "allocation",
                at,
                None,
                None,
                format!("Allocation {label} from {} to {}", users[*u], creators[*c]),
                &[(&ua, *amount), (&ca, -*amount)],
            );
        }
        for (c, amount) in &gross {
            let fee = apply_bps_half_even(*amount, spec.platform_fee_bps).expect("small");
            let ca = g.creator(&creators[*c]);
            g.entry(
                "platform_fee",
                at,
                None,
                None,
                format!("Platform fee {label} on {}", creators[*c]),
                &[(&ca, fee), (g.acct(Role::PlatformFees), -fee)],
            );
            *carried.entry(*c).or_default() += amount - fee;
        }
        for (u, amount) in &unallocated {
            let ua = g.subscriber(&users[*u]);
            g.entry(
                "unallocated_sweep",
                at,
                None,
                None,
                format!("Unallocated {label} of {}", users[*u]),
                &[(&ua, *amount), (g.acct(Role::Unallocated), -*amount)],
            );
        }
        let transfer_at = g.local(end, 9, 0, 0);
        let mut revenue = 0;
        // With webhook gaps, the last closed month loses its first transfer's webhook and
        // its payout's (money booked both times: missed webhooks of no effect).
        let gaps_here = plan.webhook_gaps && month as u32 + 1 == spec.processed_months;
        let mut transfer_gap_left = gaps_here;
        for (c, owed) in carried.iter_mut() {
            if *owed < spec.minimum_payout_minor || (*c) >= with_account {
                continue;
            }
            let tr = g.stripe_id("tr");
            let evt = g.stripe_id("evt");
            let acct = g.p.accounts[*c].stripe_account_id.clone();
            g.stripe_txn(Txn {
                kind: "transfer",
                category: "transfer",
                source: &tr,
                amount: -*owed,
                fee: 0,
                at: transfer_at,
                available_days: 0,
                destination: Some(acct),
                event_id: &evt,
                event_type: "transfer.created",
                charge: None,
            });
            let ca = g.creator(&creators[*c]);
            let e = g.entry(
                "transfer",
                transfer_at,
                Some(&tr),
                Some(&evt),
                format!("Payout {label} to {}", creators[*c]),
                &[(&ca, *owed), (stripe_acct, -*owed)],
            );
            if transfer_gap_left {
                transfer_gap_left = false;
                g.p.anomalies.push(Anomaly {
                    kind: "missed_webhook".into(),
                    stripe_object_id: Some(tr.clone()),
                    event_id: Some(evt.clone()),
                    entry_ids: vec![e],
                    stripe_amount: Some(-*owed),
                    ledger_amount: Some(-*owed),
                    description: format!(
                        "transfer {tr} is booked, but its transfer.created event {evt} never reached the platform"
                    ),
                });
            } else {
                g.webhook(&evt, "transfer.created", transfer_at, "processed", None);
            }
            *owed = 0;
        }
        revenue += gross
            .values()
            .map(|a| apply_bps_half_even(*a, spec.platform_fee_bps).expect("small"))
            .sum::<i64>();
        revenue += unallocated.iter().map(|(_, a)| a).sum::<i64>();
        // Manual: half of the month's platform revenue goes to the bank on the 3rd.
        // Automatic: Stripe pays out everything available by then.
        let at = g.local(end.checked_add(2.days()).expect("in range"), 10, 0, 0);
        let (payout, settled) = match spec.shape.payouts {
            Payouts::Manual => (revenue / 2, Vec::new()),
            Payouts::Automatic => {
                let t = at.as_second();
                let settled: Vec<usize> = (0..g.p.stripe.len())
                    .filter(|&k| {
                        let x = &g.p.stripe[k];
                        x.payout.is_none() && x.created <= t && x.available_on <= t
                    })
                    .collect();
                let total: i64 = settled.iter().map(|&k| g.p.stripe[k].net).sum();
                (total, settled)
            }
        };
        if payout > 0 {
            let po = g.stripe_id("po");
            let evt = g.stripe_id("evt");
            let own = g.stripe_txn(Txn {
                kind: "payout",
                category: "payout",
                source: &po,
                amount: -payout,
                fee: 0,
                at,
                available_days: 0,
                destination: None,
                event_id: &evt,
                event_type: "payout.paid",
                charge: None,
            });
            if spec.shape.payouts == Payouts::Automatic {
                for k in settled.into_iter().chain([own]) {
                    g.p.stripe[k].payout = Some(po.clone());
                }
            }
            let e = g.entry(
                "payout",
                at,
                Some(&po),
                Some(&evt),
                format!("Payout {label} to the platform's bank"),
                &[(g.acct(Role::Bank), payout), (stripe_acct, -payout)],
            );
            if gaps_here {
                g.webhook(
                    &evt,
                    "payout.paid",
                    at,
                    "failed",
                    Some("no handler for payout.paid"),
                );
                g.p.anomalies.push(Anomaly {
                    kind: "missed_webhook".into(),
                    stripe_object_id: Some(po.clone()),
                    event_id: Some(evt.clone()),
                    entry_ids: vec![e],
                    stripe_amount: Some(-payout),
                    ledger_amount: Some(-payout),
                    description: format!(
                        "payout {po} is booked, but its payout.paid event {evt} is marked failed in stripe_webhook_events"
                    ),
                });
            } else {
                g.webhook(&evt, "payout.paid", at, "processed", None);
            }
        }
    }

    // Withdrawal requests (seed 002) in the open month: creators asking to be paid early.
    let open_date = month_date(spec.first_month, open_month as u32, 1);
    for k in 0..spec.creators.min(5) as usize {
        let status = ["pending", "pending", "approved", "rejected", "pending"][k];
        let at = g.random_time(
            open_date
                .checked_add((3 + 4 * k as i64).days())
                .expect("in range"),
        );
        g.p.withdrawals.push(WithdrawalLine {
            id: format!("wd_{:05}", k + 1),
            user_id: creators[k].clone(),
            amount_minor: 2500 + 500 * k as i64,
            currency: "usd".into(),
            status: status.into(),
            requested_at: at.to_string(),
            stripe_transfer_id: None,
        });
    }

    // Platform ids follow booking time, as a BIGSERIAL would.
    g.p.ledger
        .sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.entry_id.cmp(&b.entry_id)));
    for (i, line) in g.p.ledger.iter_mut().enumerate() {
        line.id = i as i64 + 1;
    }
    g.p.stripe
        .sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    g.p.webhook_events.sort_by(|a, b| {
        a.received_at
            .cmp(&b.received_at)
            .then_with(|| a.event_id.cmp(&b.event_id))
    });
    g.p
}

/// Which charges (indexes into the time-ordered list) carry which planted anomaly.
#[derive(Default)]
struct AnomalyPlan {
    missed_webhook: Option<usize>,
    failed_webhook: Option<usize>,
    missing_in_ledger: Option<usize>,
    amount_mismatch: Option<usize>,
    fee_mismatch: Option<usize>,
    duplicate: Option<usize>,
    timing: Option<usize>,
    refund_missing_in_stripe: Option<usize>,
    /// Webhook gaps (the shape's): a charge booked although its webhook failed, a refund
    /// neither booked nor processed, and (at the last month-end) a transfer and a payout.
    webhook_gaps: bool,
    booked_charge_webhook_failed: Option<usize>,
    refund_webhook_failed: Option<usize>,
}

impl AnomalyPlan {
    fn is_clean(&self, i: usize) -> bool {
        ![
            self.missed_webhook,
            self.failed_webhook,
            self.missing_in_ledger,
            self.amount_mismatch,
            self.fee_mismatch,
            self.duplicate,
            self.timing,
            self.refund_missing_in_stripe,
            self.booked_charge_webhook_failed,
        ]
        .contains(&Some(i))
    }
}

fn plan_anomalies(charges: &[Charge], open_month: usize, webhook_gaps: bool) -> AnomalyPlan {
    // Distinct, unrefunded charges of the open month, spread through it; the timing
    // anomaly needs a charge late in its day (the generator's times run 06:00–23:59).
    let candidates: Vec<usize> = (0..charges.len())
        .filter(|&i| charges[i].month == open_month && !charges[i].refunded)
        .collect();
    let pick = |k: usize| candidates.get(k * candidates.len() / 9).copied();
    let gaps = |v: Option<usize>| if webhook_gaps { v } else { None };
    AnomalyPlan {
        webhook_gaps,
        booked_charge_webhook_failed: gaps(pick(8)),
        // The first refund of the open month.
        refund_webhook_failed: gaps(
            (0..charges.len()).find(|&i| charges[i].month == open_month && charges[i].refunded),
        ),
        missed_webhook: pick(0),
        failed_webhook: pick(1),
        missing_in_ledger: pick(2),
        amount_mismatch: pick(3),
        fee_mismatch: pick(4),
        duplicate: pick(5),
        timing: pick(6),
        refund_missing_in_stripe: pick(7),
    }
}

/// Writes the platform as import files (CSV) plus `stripe_activity.jsonl` and
/// `anomalies.json`. Existing files are replaced.
pub fn write_files(p: &Platform, dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    write_csv(&dir.join("ledger.csv"), &p.ledger)?;
    write_csv(&dir.join("balances.csv"), &p.balances)?;
    write_csv(&dir.join("allocations.csv"), &p.allocations)?;
    write_csv(&dir.join("accounts.csv"), &p.accounts)?;
    write_csv(&dir.join("webhook_events.csv"), &p.webhook_events)?;
    write_csv(&dir.join("withdrawals.csv"), &p.withdrawals)?;
    write_jsonl(&dir.join("stripe_activity.jsonl"), &p.stripe)?;
    let mut f = fs::File::create(dir.join("anomalies.json"))?;
    serde_json::to_writer_pretty(&mut f, &p.anomalies)?;
    f.write_all(b"\n")?;
    Ok(())
}

pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()
}

pub fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(fs::File::create(path)?);
    for r in rows {
        serde_json::to_writer(&mut w, r)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_points_round_half_to_even_both_ways() {
        // 7% of 50 cents is 3.5 → 4 (4 is even); of 150, 10.5 → 10; of -50, -3.5 → -4.
        assert_eq!(apply_bps_half_even(50, 700), Some(4));
        assert_eq!(apply_bps_half_even(150, 700), Some(10));
        assert_eq!(apply_bps_half_even(-50, 700), Some(-4));
        assert_eq!(apply_bps_half_even(-150, 700), Some(-10));
        assert_eq!(apply_bps_half_even(999, 290), Some(29));
        assert_eq!(apply_bps_half_even(1_001, 290), Some(29));
        assert_eq!(apply_bps_half_even(i64::MAX, 10_000), Some(i64::MAX));
        assert_eq!(apply_bps_half_even(i64::MAX, 20_000), None);
    }

    #[test]
    fn the_same_spec_and_seed_give_the_same_platform() {
        let spec = PlatformSpec::demo();
        let (a, b) = (generate(&spec), generate(&spec));
        assert!(!a.ledger.is_empty() && !a.stripe.is_empty());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let mut other = spec.clone();
        other.seed += 1;
        assert_ne!(format!("{a:?}"), format!("{:?}", generate(&other)));
    }
}
