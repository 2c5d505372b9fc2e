//! The matching rules a snapshot applies, in the priority order the user chose. Stored in
//! the workspace; every snapshot records the rules it used.

use serde::{Deserialize, Serialize};

use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// One way of pairing Stripe's items with the ledger's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The entry's `stripe_object_id` equals the balance transaction's source or id.
    ExactReference,
    /// An entry that names no Stripe object: same currency, net within the tolerance, dates
    /// within the window. (An entry naming an object Stripe lacks is missing in Stripe.)
    AmountDate,
    /// One ledger entry to several Stripe items: the transfers of one transfer group, or
    /// the balance transactions one payout settled.
    OneToMany,
}

impl Rule {
    pub const ALL: [Rule; 3] = [Rule::ExactReference, Rule::AmountDate, Rule::OneToMany];

    pub fn name(self) -> &'static str {
        match self {
            Rule::ExactReference => "exact_reference",
            Rule::AmountDate => "amount_date",
            Rule::OneToMany => "one_to_many",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// Largest amount tolerance accepted: $1,000.00 in a two-decimal currency. Beyond that an
/// "amount match" pairs unrelated items.
pub const MAX_TOLERANCE_MINOR: i64 = 100_000;
/// Longest date window accepted: a month.
pub const MAX_WINDOW_DAYS: u32 = 31;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRules {
    /// Applied in this order; a rule left out is not applied.
    pub order: Vec<Rule>,
    /// Largest |Stripe net − ledger net| the amount-and-date and one-to-many rules accept,
    /// in minor units. A difference inside the tolerance is still reported (amount mismatch).
    pub amount_tolerance_minor: i64,
    /// Largest distance in days between the two sides' dates for the amount-and-date and
    /// one-to-many rules.
    pub date_window_days: u32,
}

impl Default for MatchRules {
    fn default() -> Self {
        MatchRules {
            order: Rule::ALL.to_vec(),
            amount_tolerance_minor: 0,
            date_window_days: 3,
        }
    }
}

impl MatchRules {
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.order {
            if !seen.insert(*r) {
                return Err(format!("rule {} is listed twice", r.name()));
            }
        }
        if !(0..=MAX_TOLERANCE_MINOR).contains(&self.amount_tolerance_minor) {
            return Err(format!(
                "the amount tolerance must be between 0 and {MAX_TOLERANCE_MINOR} minor units, not {}",
                self.amount_tolerance_minor
            ));
        }
        if self.date_window_days > MAX_WINDOW_DAYS {
            return Err(format!(
                "the date window must be at most {MAX_WINDOW_DAYS} days, not {}",
                self.date_window_days
            ));
        }
        Ok(())
    }

    pub fn window_us(&self) -> i64 {
        i64::from(self.date_window_days) * 86_400 * 1_000_000
    }

    /// The stored form, also hashed into every snapshot's digest.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("rules serialize")
    }
}

const KEY: &str = "reconcile_rules";

pub fn rules(ws: &Workspace) -> Result<MatchRules, rusqlite::Error> {
    let stored = crate::workspace::setting(&ws.conn, KEY)?;
    Ok(stored
        .and_then(|s| serde_json::from_str::<MatchRules>(&s).ok())
        .filter(|r| r.validate().is_ok())
        .unwrap_or_default())
}

/// Changes the rules (recorded in the audit log). Snapshots already saved keep theirs.
pub fn set_rules(ws: &Workspace, rules: &MatchRules, ctx: &OpContext) -> Result<(), crate::Error> {
    rules.validate().map_err(crate::Error::InvalidInput)?;
    let write = || -> rusqlite::Result<()> {
        let tx = ws.conn.unchecked_transaction()?;
        crate::workspace::set_setting(&tx, KEY, &rules.to_json())?;
        let order: Vec<&str> = rules.order.iter().map(|r| r.name()).collect();
        audit::append(
            &tx,
            ctx.now,
            &ctx.actor,
            "settings.reconcile_rules",
            &format!(
                "matching rules set: {} ; tolerance {} minor units ; window {} days",
                if order.is_empty() {
                    "none".to_string()
                } else {
                    order.join(" → ")
                },
                rules.amount_tolerance_minor,
                rules.date_window_days
            ),
            &serde_json::to_value(rules).expect("rules serialize"),
        )?;
        tx.commit()
    };
    write().map_err(|e| crate::Error::Reconcile(e.into()))
}
