//! Daily reconciliation: does the ledger agree with Stripe at the end of day D (in the
//! workspace's time zone), and if not, exactly why.
//!
//! - [`matching`]: pairs the items under the user's [`rules`] and names every disagreement;
//! - [`snapshot`]: the immutable daily snapshot with its explained difference and digest;
//! - [`exceptions`]: the workflow that resolves what matching found;
//! - sealed days: a sync that changes a mirrored row dated on or before a reconciled day
//!   records the change here ([`record_sealed_change`]), and the next snapshot reports it.
//!
//! And the two sides' balances per currency:
//! - **Stripe**: the net of every mirrored balance transaction created up to the end of D,
//!   split into available (its `available_on` has come by then) and pending;
//! - **ledger**: the balance of the Stripe-balance accounts (`assets:stripe` and everything
//!   below it, `contracts/BOOKING.md`) as of the end of D;
//!
//! and the mirror's completeness check: the live balance fetched at a sync must equal the
//! net of the balance transactions mirrored up to that moment, or the mirror is missing
//! something and no reconciliation on top of it can be trusted.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

pub mod exceptions;
pub mod matching;
pub mod rules;
pub mod snapshot;
pub mod webhooks;

pub use exceptions::{ExceptionFilter, ExceptionRow, Resolution, ResolveRequest, StateFilter};
pub use matching::Kind;
pub use rules::{MatchRules, Rule};
pub use snapshot::{Snapshot, Status};

use rusqlite::{OptionalExtension, params};

use crate::ledger::LedgerError;
use crate::money::MoneyError;
use crate::workspace::Workspace;

/// The accounts that hold money at Stripe by default (`contracts/BOOKING.md`); a workspace
/// maps its own (`crate::accounts`, role `stripe_accounts`).
pub const STRIPE_BALANCE_ACCOUNTS: &str = "assets:stripe";

/// The entry types that move money at Stripe (BOOKING.md).
const STRIPE_MONEY_TYPES: [&str; 6] = [
    "subscription_payment",
    "stripe_fee",
    "refund",
    "dispute",
    "transfer",
    "payout",
];

/// Refuses to reconcile a ledger that books Stripe money without a single posting to the
/// accounts mapped as Stripe's: every Stripe movement would be "missing in the ledger",
/// when the truth is that the account map does not fit the platform's chart. Read from the
/// kept totals: a few thousand rows.
pub(crate) fn check_stripe_role(
    ws: &Workspace,
    map: &crate::accounts::RoleMap,
) -> Result<(), ReconcileError> {
    let stripe_postings: i64 = ws.conn.query_row(
        &format!(
            "SELECT coalesce(sum(postings), 0) FROM ledger_account_totals WHERE {}",
            map.stripe_sql()
        ),
        [],
        |r| r.get(0),
    )?;
    if stripe_postings > 0 {
        return Ok(());
    }
    let mut stmt = ws.conn.prepare_cached(
        "SELECT entry_type, postings FROM ledger_type_totals ORDER BY postings DESC",
    )?;
    let typed: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|(t, _)| STRIPE_MONEY_TYPES.contains(&t.as_str()))
        .collect();
    if typed.is_empty() {
        return Ok(());
    }
    let what: Vec<String> = typed
        .iter()
        .take(3)
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    Err(ReconcileError::Refused(format!(
        "the ledger books Stripe money ({} postings…) but none to the accounts mapped as Stripe's (`{}` and below): map the platform's Stripe account with `closebook accounts map --stripe-balance ACCOUNT` (or in Settings › Accounts), then reconcile",
        what.join(", "),
        map.get(crate::accounts::Role::StripeAccounts)
    )))
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("invalid day {0}: {1}")]
    BadDay(Date, String),
    #[error("database error during reconciliation: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("amounts overflow while {0}")]
    Overflow(&'static str),
    #[error("no reconciliation snapshot of {0}")]
    NoSnapshot(Date),
    #[error("no exception #{0}")]
    NoException(i64),
    #[error("{0}")]
    Refused(String),
    #[error("reconciliation invariant broken: {0}")]
    Invariant(String),
    #[error("cannot write {0}: {1}")]
    Io(String, String),
}

/// Both sides in one currency at the end of a day. Amounts in the currency's minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayBalance {
    pub currency: String,
    pub stripe_available: i64,
    pub stripe_pending: i64,
    /// available + pending.
    pub stripe_total: i64,
    pub ledger: i64,
    /// Stripe − ledger: what reconciliation must explain.
    pub difference: i64,
}

fn add(a: i64, b: i64) -> Result<i64, MoneyError> {
    a.checked_add(b).ok_or(MoneyError::Overflow {
        op: "addition",
        left: a.into(),
        right: b.into(),
    })
}

fn sub(a: i64, b: i64) -> Result<i64, MoneyError> {
    a.checked_sub(b).ok_or(MoneyError::Overflow {
        op: "subtraction",
        left: a.into(),
        right: b.into(),
    })
}

/// Stripe's balance from the mirrored balance transactions created up to `at`, per
/// currency: (available by then, pending). SQLite's `sum()` fails on overflow.
fn stripe_side(
    ws: &Workspace,
    at: Timestamp,
) -> Result<BTreeMap<String, (i64, i64)>, ReconcileError> {
    let mut stmt = ws.conn.prepare_cached(
        "SELECT currency, sum(CASE WHEN available_on <= ?1 THEN net ELSE 0 END),
                sum(CASE WHEN available_on <= ?1 THEN 0 ELSE net END)
         FROM stripe_balance_transactions INDEXED BY stripe_bt_reconcile
         WHERE created <= ?1 GROUP BY currency",
    )?;
    let rows = stmt
        .query_map([at.as_microsecond()], |r| {
            Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The ledger's Stripe-balance accounts up to `at`, per currency.
fn ledger_side(ws: &Workspace, at: Timestamp) -> Result<BTreeMap<String, i64>, ReconcileError> {
    let map = crate::accounts::load(&ws.conn)?;
    let mut stmt = ws.conn.prepare_cached(&format!(
        "SELECT currency, sum(amount_minor) FROM ledger_postings INDEXED BY ledger_postings_reconcile
         WHERE {} AND created_at <= ?1 GROUP BY currency",
        map.stripe_sql()
    ))?;
    let rows = stmt
        .query_map([at.as_microsecond()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Both sides per currency at the end of `day` in the workspace's time zone.
pub fn day_balances(ws: &Workspace, day: Date) -> Result<Vec<DayBalance>, ReconcileError> {
    let at = ws
        .end_of_day(day)
        .map_err(|e| ReconcileError::BadDay(day, e.to_string()))?;
    balances_at(ws, at)
}

/// Both sides per currency at the instant `at`.
pub fn balances_at(ws: &Workspace, at: Timestamp) -> Result<Vec<DayBalance>, ReconcileError> {
    let stripe = stripe_side(ws, at)?;
    let ledger_side = ledger_side(ws, at)?;
    let currencies: std::collections::BTreeSet<&String> =
        stripe.keys().chain(ledger_side.keys()).collect();
    let mut out = Vec::with_capacity(currencies.len());
    for c in currencies {
        let (available, pending) = stripe.get(c).copied().unwrap_or_default();
        let total = add(available, pending)?;
        let ledger = ledger_side.get(c).copied().unwrap_or_default();
        out.push(DayBalance {
            currency: c.clone(),
            stripe_available: available,
            stripe_pending: pending,
            stripe_total: total,
            ledger,
            difference: sub(total, ledger)?,
        });
    }
    Ok(out)
}

/// The live balance fetched at a sync against the mirror's balance transactions up to then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MirrorCheck {
    pub run_id: i64,
    pub fetched_at: Timestamp,
    pub currency: String,
    /// available + pending as Stripe reported it.
    pub live: i64,
    /// The net of the mirrored balance transactions created up to `fetched_at`.
    pub mirrored: i64,
    /// live − mirrored: zero when the mirror holds everything Stripe counted.
    pub missing: i64,
}

impl MirrorCheck {
    pub fn complete(&self) -> bool {
        self.missing == 0
    }
}

/// Checks the mirror against the live balance of the latest sync that fetched one; empty
/// when no sync has.
pub fn check_mirror(ws: &Workspace) -> Result<Vec<MirrorCheck>, ReconcileError> {
    mirror_checks(ws, |at| {
        Ok(stripe_side(ws, at)?
            .into_iter()
            .map(|(c, (a, p))| add(a, p).map(|t| (c, t)))
            .collect::<Result<_, _>>()?)
    })
}

/// Net of the balance transactions created in `(from, to]` per currency (negated when
/// `to < from`): moves a known total from one instant to another without a full scan.
pub(crate) fn net_between(
    ws: &Workspace,
    from_us: i64,
    to_us: i64,
) -> Result<BTreeMap<String, i64>, ReconcileError> {
    let (lo, hi, sign) = if from_us <= to_us {
        (from_us, to_us, 1)
    } else {
        (to_us, from_us, -1)
    };
    let mut stmt = ws.conn.prepare_cached(
        "SELECT currency, sum(net) FROM stripe_balance_transactions INDEXED BY stripe_bt_reconcile
         WHERE created > ?1 AND created <= ?2 GROUP BY currency",
    )?;
    let rows = stmt
        .query_map([lo, hi], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(c, v)| {
            v.checked_mul(sign)
                .map(|v| (c, v))
                .ok_or(ReconcileError::Overflow("negating a sum"))
        })
        .collect()
}

/// The mirror check with the mirrored totals at the sync's instant given by `mirrored`.
pub(crate) fn mirror_checks(
    ws: &Workspace,
    mirrored: impl FnOnce(Timestamp) -> Result<BTreeMap<String, i64>, ReconcileError>,
) -> Result<Vec<MirrorCheck>, ReconcileError> {
    let latest: Option<(i64, i64)> = ws
        .conn
        .query_row(
            "SELECT run_id, fetched_at FROM stripe_balances ORDER BY run_id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    let Some((run_id, fetched_us)) = latest else {
        return Ok(Vec::new());
    };
    let fetched_at = Timestamp::from_microsecond(fetched_us).unwrap_or(Timestamp::UNIX_EPOCH);
    let mirrored = mirrored(fetched_at)?;
    let mut stmt = ws
        .conn
        .prepare("SELECT currency, available, pending FROM stripe_balances WHERE run_id = ?1 ORDER BY currency")?;
    let live = stmt
        .query_map([run_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (currency, available, pending) in live {
        let live = add(available, pending)?;
        let m = mirrored.get(&currency).copied().unwrap_or_default();
        seen.insert(currency.clone());
        out.push(MirrorCheck {
            run_id,
            fetched_at,
            currency,
            live,
            mirrored: m,
            missing: sub(live, m)?,
        });
    }
    // A currency the mirror has but Stripe no longer reports holds nothing at Stripe.
    for (currency, m) in mirrored {
        if !seen.contains(&currency) {
            out.push(MirrorCheck {
                run_id,
                fetched_at,
                currency,
                live: 0,
                mirrored: m,
                missing: sub(0, m)?,
            });
        }
    }
    Ok(out)
}

/// A mirrored balance-transaction row as a sync is about to write it.
pub struct SealedRow<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub source: Option<&'a str>,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    pub currency: &'a str,
    pub status: &'a str,
    pub created: i64,
    pub available_on: i64,
}

/// The last reconciled day and its end (microseconds): rows dated up to then are sealed.
pub fn sealed_until(ws: &Workspace) -> Result<Option<(String, i64)>, rusqlite::Error> {
    let day: Option<String> =
        ws.conn
            .query_row("SELECT max(day) FROM recon_snapshots", [], |r| r.get(0))?;
    let Some(day) = day else { return Ok(None) };
    let Ok(date) = day.parse::<Date>() else {
        return Ok(None);
    };
    Ok(ws
        .end_of_day(date)
        .ok()
        .map(|end| (day, end.as_microsecond())))
}

/// Records what a sync changes in a sealed row (added, or which fields changed), in the
/// sync's own transaction. Nothing is recorded when the row is unchanged.
pub fn record_sealed_change(
    conn: &rusqlite::Connection,
    row: &SealedRow<'_>,
    sealed_day: &str,
    sync_run: i64,
    now_us: i64,
) -> Result<(), rusqlite::Error> {
    let source = format!("Stripe sync run {sync_run}");
    type Old = (
        String,
        Option<String>,
        i64,
        i64,
        i64,
        String,
        String,
        i64,
        i64,
    );
    let old: Option<Old> = conn
        .prepare_cached(
            "SELECT type, source, amount, fee, net, currency, status, created, available_on
             FROM stripe_balance_transactions WHERE id = ?1",
        )?
        .query_row([row.id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .optional()?;
    let change = match old {
        None => format!(
            "appeared after the day was reconciled ({} {} {}, net {})",
            row.kind,
            row.source.unwrap_or("-"),
            row.currency,
            row.net
        ),
        Some((kind, source, amount, fee, net, currency, status, created, available_on)) => {
            let mut diffs = Vec::new();
            let mut field = |name: &str, a: String, b: String| {
                if a != b {
                    diffs.push(format!("{name} {a} → {b}"));
                }
            };
            field("type", kind, row.kind.to_string());
            field(
                "source",
                source.unwrap_or_default(),
                row.source.unwrap_or_default().to_string(),
            );
            field("amount", amount.to_string(), row.amount.to_string());
            field("fee", fee.to_string(), row.fee.to_string());
            field("net", net.to_string(), row.net.to_string());
            field("currency", currency, row.currency.to_string());
            field("status", status, row.status.to_string());
            field("created", created.to_string(), row.created.to_string());
            field(
                "available_on",
                available_on.to_string(),
                row.available_on.to_string(),
            );
            if diffs.is_empty() {
                return Ok(());
            }
            format!("changed: {}", diffs.join(", "))
        }
    };
    conn.execute(
        "INSERT INTO recon_sealed_changes (detected_at, side, source, sealed_day, row_id, row_created, currency, change)
         VALUES (?1, 'stripe', ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            now_us,
            source,
            sealed_day,
            row.id,
            row.created,
            row.currency,
            change
        ],
    )?;
    Ok(())
}

/// The highest posting sequence number: what an import adds comes after it.
pub fn last_posting_seq(conn: &rusqlite::Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM ledger_postings",
        [],
        |r| r.get(0),
    )
}

/// Records the postings to the Stripe-balance accounts that an import or pull added after
/// `after_seq` and that are dated on or before the last reconciled day, in the import's own
/// transaction: a ledger change to a sealed day is reported, never silently absorbed.
pub fn record_sealed_postings(
    conn: &rusqlite::Connection,
    sealed: &Option<(String, i64)>,
    after_seq: i64,
    import_id: i64,
    now_us: i64,
) -> Result<u64, rusqlite::Error> {
    let Some((day, until)) = sealed else {
        return Ok(0);
    };
    let stripe_sql = crate::accounts::load(conn)?.stripe_sql();
    let n = conn.execute(
        &format!(
            "INSERT INTO recon_sealed_changes (detected_at, side, source, sealed_day, row_id, row_created, currency, change)
             SELECT ?1, 'ledger', 'import ' || ?2, ?3, entry_id, created_at, currency,
                    'gained posting ' || posting_key || ' (' || entry_type || ', ' || account || ' ' || amount_minor || ')'
             FROM ledger_postings
             WHERE seq > ?4 AND created_at <= ?5 AND {stripe_sql}"
        ),
        params![now_us, import_id, day, after_seq, until],
    )?;
    Ok(n as u64)
}

/// Records a change of the account map made after `sealed_day` (whose end is `until_us`)
/// as a change to sealed data, once per currency the last snapshot reconciled: what was
/// read as Stripe money, or where Closebook books, is no longer what that day proved.
pub(crate) fn record_sealed_map_change(
    conn: &rusqlite::Connection,
    sealed_day: &str,
    until_us: i64,
    what: &str,
    ctx: &crate::OpContext,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO recon_sealed_changes (detected_at, side, source, sealed_day, row_id, row_created, currency, change)
         SELECT ?1, 'ledger', 'account map changed by ' || ?2, ?3, 'account map', ?4, c.currency, 'the account map changed: ' || ?5
         FROM recon_snapshot_currencies c
         WHERE c.snapshot_id = (SELECT id FROM recon_snapshots WHERE day = ?3 ORDER BY version DESC LIMIT 1)
         ORDER BY c.currency",
        params![ctx.now.as_microsecond(), ctx.actor, sealed_day, until_us, what],
    )?;
    Ok(())
}
