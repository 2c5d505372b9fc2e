//! Coverage monitoring (seed 001, phase 5): per currency, Stripe's available balance
//! against what the platform owes its creators, with a risk level, recorded at each sync.
//!
//! Obligations = what the ledger owes creators (the negated balance of everything under
//! `liabilities:creators`, `contracts/BOOKING.md`) + the open month's allocations (the month
//! of the sync in the workspace's time zone: allocated, not yet booked to creators; counted
//! whole, before the platform fee, so coverage errs on the safe side).
//!
//! Ratio = available ÷ obligations in basis points, rounded down. Risk: low at or above
//! `low_min_bps` (default 120 %), medium at or above `medium_min_bps` (default 100 %),
//! high below. Without obligations the risk is low.

use jiff::Timestamp;
use rusqlite::params;
use serde::Serialize;

use super::StripeError;
use crate::ledger;
use crate::workspace::Workspace;
use crate::{OpContext, audit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }

    fn parse(s: &str) -> Risk {
        match s {
            "low" => Risk::Low,
            "medium" => Risk::Medium,
            _ => Risk::High,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    pub low_min_bps: i64,
    pub medium_min_bps: i64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            low_min_bps: 12_000,
            medium_min_bps: 10_000,
        }
    }
}

impl Thresholds {
    pub fn risk(&self, ratio_bps: Option<i64>) -> Risk {
        match ratio_bps {
            None => Risk::Low,
            Some(r) if r >= self.low_min_bps => Risk::Low,
            Some(r) if r >= self.medium_min_bps => Risk::Medium,
            Some(_) => Risk::High,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageLine {
    pub currency: String,
    pub at: Timestamp,
    pub available: i64,
    pub obligations: i64,
    pub ledger_owed: i64,
    pub open_month: i64,
    pub ratio_bps: Option<i64>,
    pub risk: Risk,
}

/// A ratio in basis points as a percentage with two decimals: 12345 → "123.45%".
pub fn format_bps(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}%", a / 100, a % 100)
}

pub fn thresholds(ws: &Workspace) -> Result<Thresholds, StripeError> {
    let get = |k: &str| -> Result<Option<i64>, StripeError> {
        Ok(crate::workspace::setting(&ws.conn, k)?.and_then(|v| v.parse().ok()))
    };
    let d = Thresholds::default();
    Ok(Thresholds {
        low_min_bps: get("coverage_low_min_bps")?.unwrap_or(d.low_min_bps),
        medium_min_bps: get("coverage_medium_min_bps")?.unwrap_or(d.medium_min_bps),
    })
}

/// Changes the thresholds (recorded in the audit log). `low_min_bps` must be at least
/// `medium_min_bps`, and both positive.
pub fn set_thresholds(ws: &Workspace, t: Thresholds, ctx: &OpContext) -> Result<(), crate::Error> {
    if t.medium_min_bps <= 0 || t.low_min_bps < t.medium_min_bps || t.low_min_bps > 1_000_000 {
        return Err(crate::Error::InvalidInput(format!(
            "coverage thresholds must satisfy 0 < medium ({}) ≤ low ({}) ≤ 1,000,000 basis points",
            t.medium_min_bps, t.low_min_bps
        )));
    }
    let write = || -> Result<(), StripeError> {
        let tx = ws.conn.unchecked_transaction()?;
        for (k, v) in [
            ("coverage_low_min_bps", t.low_min_bps),
            ("coverage_medium_min_bps", t.medium_min_bps),
        ] {
            crate::workspace::set_setting(&tx, k, &v.to_string())?;
        }
        audit::append(
            &tx,
            ctx.now,
            &ctx.actor,
            "settings.coverage_thresholds",
            &format!(
                "coverage risk thresholds set: low at or above {} bps, medium at or above {} bps",
                t.low_min_bps, t.medium_min_bps
            ),
            &serde_json::json!({"low_min_bps": t.low_min_bps, "medium_min_bps": t.medium_min_bps}),
        )?;
        tx.commit()?;
        Ok(())
    };
    Ok(write()?)
}

/// Coverage as of `at` against the balance fetched by `run_id`.
pub fn compute(
    ws: &Workspace,
    run_id: i64,
    at: Timestamp,
) -> Result<Vec<CoverageLine>, StripeError> {
    let t = thresholds(ws)?;
    let mut per: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
    {
        let mut stmt = ws
            .conn
            .prepare("SELECT currency, available FROM stripe_balances WHERE run_id = ?1")?;
        let rows = stmt.query_map([run_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (c, a) = row?;
            per.entry(c).or_default().0 = a;
        }
    }
    let map = crate::accounts::load(&ws.conn)?;
    let obligations = map.get(crate::accounts::Role::CreatorObligations);
    let owed =
        ledger::balances(ws, Some(at), Some(obligations)).map_err(|e| StripeError::BadObject {
            request: "the ledger's creator obligations".into(),
            detail: e.to_string(),
        })?;
    for leaf in owed {
        let e = per
            .entry(leaf.balance.currency.code().to_string())
            .or_default();
        e.1 =
            e.1.checked_sub(leaf.balance.minor)
                .ok_or(crate::money::MoneyError::Overflow {
                    op: "subtraction",
                    left: e.1.into(),
                    right: leaf.balance.minor.into(),
                })?;
    }
    let month = at
        .to_zoned(ws.time_zone().clone())
        .strftime("%Y-%m")
        .to_string();
    let open: i64 = ws.conn.query_row(
        "SELECT coalesce(sum(amount_cents), 0) FROM platform_allocations WHERE month = ?1",
        [&month],
        |r| r.get(0),
    )?;
    if open != 0 {
        per.entry("usd".into()).or_default().2 = open;
    }
    let mut out = Vec::new();
    for (currency, (available, ledger_owed, open_month)) in per {
        let obligations =
            ledger_owed
                .checked_add(open_month)
                .ok_or(crate::money::MoneyError::Overflow {
                    op: "addition",
                    left: ledger_owed.into(),
                    right: open_month.into(),
                })?;
        let ratio_bps = (obligations > 0).then(|| {
            let r = i128::from(available) * 10_000 / i128::from(obligations);
            i64::try_from(r).unwrap_or(i64::MAX)
        });
        out.push(CoverageLine {
            currency,
            at,
            available,
            obligations,
            ledger_owed,
            open_month,
            ratio_bps,
            risk: t.risk(ratio_bps),
        });
    }
    Ok(out)
}

/// Computes coverage for a finished sync and records it in the history.
pub(crate) fn record(
    ws: &Workspace,
    run_id: i64,
    at: Timestamp,
) -> Result<Vec<CoverageLine>, StripeError> {
    let lines = compute(ws, run_id, at)?;
    let tx = ws.conn.unchecked_transaction()?;
    for l in &lines {
        tx.execute(
            "INSERT INTO coverage_history (run_id, at, currency, available, obligations, ledger_owed, open_month, ratio_bps, risk)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (run_id, currency) DO UPDATE SET at = excluded.at, available = excluded.available,
               obligations = excluded.obligations, ledger_owed = excluded.ledger_owed, open_month = excluded.open_month,
               ratio_bps = excluded.ratio_bps, risk = excluded.risk",
            params![run_id, at.as_microsecond(), l.currency, l.available, l.obligations, l.ledger_owed, l.open_month, l.ratio_bps, l.risk.as_str()],
        )?;
    }
    tx.commit()?;
    Ok(lines)
}

/// The recorded history, oldest first, at most `limit` syncs back.
pub fn history(ws: &Workspace, limit: u32) -> Result<Vec<CoverageLine>, StripeError> {
    let mut stmt = ws.conn.prepare(
        "SELECT currency, at, available, obligations, ledger_owed, open_month, ratio_bps, risk FROM coverage_history
         WHERE run_id IN (SELECT DISTINCT run_id FROM coverage_history ORDER BY run_id DESC LIMIT ?1)
         ORDER BY run_id, currency",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(CoverageLine {
            currency: r.get(0)?,
            at: Timestamp::from_microsecond(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH),
            available: r.get(2)?,
            obligations: r.get(3)?,
            ledger_owed: r.get(4)?,
            open_month: r.get(5)?,
            ratio_bps: r.get(6)?,
            risk: Risk::parse(&r.get::<_, String>(7)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
