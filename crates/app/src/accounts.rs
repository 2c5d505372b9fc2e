//! The Settings screen's account map (the platform's accounts for each booking role) and
//! the Reconciliation screen's webhook health: their commands and transport types.

use closebook_engine::accounts::{self, Role, RoleShape};
use closebook_engine::payouts::people;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{App, Result, lock};

#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountRoleView {
    /// `stripe_balance`, `creator_obligations`, …
    pub role: String,
    pub label: String,
    pub account: String,
    pub default_account: String,
    /// `subtree` (the account and below), `account` (exactly it) or `parent` (one account
    /// per person below it).
    pub shape: String,
    /// No account of the ledger plays this role yet: what to do, else none.
    pub gap: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountRolesView {
    pub roles: Vec<AccountRoleView>,
    /// The ledger's accounts (at most 500, by name), to choose from.
    pub accounts: Vec<String>,
    /// The roster has an admin: only an admin changes the map.
    pub has_admin: bool,
    /// Admins whose key is on this computer (who may act here).
    pub admins_here: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct AccountRoleChange {
    pub role: String,
    pub account: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct AccountRolesArgs {
    pub changes: Vec<AccountRoleChange>,
    /// The admin changing the map, once the roster has one.
    pub as_person: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountMapResultView {
    pub view: AccountRolesView,
    /// One line per role changed: "stripe_balance: a → b".
    pub changed: Vec<String>,
    /// Said when the reconciled accounts followed the Stripe balance, or a sealed day was
    /// flagged.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct WebhookDayView {
    pub day: String,
    pub event_type: String,
    pub sent: u32,
    pub recorded: u32,
    pub processed: u32,
    pub failed: u32,
    pub pending: u32,
    pub missing: u32,
    pub subscribed: bool,
}

/// The ledger's accounts offered to choose from: enough for any chart; more is a typo's list.
const MAX_ACCOUNTS_OFFERED: usize = 500;

fn shape_name(s: RoleShape) -> &'static str {
    match s {
        RoleShape::Subtree => "subtree",
        RoleShape::Account => "account",
        RoleShape::Parent => "parent",
    }
}

impl App {
    pub fn account_roles(&self) -> Result<AccountRolesView> {
        let session = self.session()?;
        let ws = lock(&session.reader);
        let (map, gaps) = crate::api::accounts::show(&ws)?;
        let ledger_accounts =
            accounts::ledger_accounts(ws.connection(), Some(MAX_ACCOUNTS_OFFERED))
                .map_err(accounts::AccountsError::from)?;
        let roster = people::list(&ws, Some(self.secrets.as_ref()))?;
        Ok(AccountRolesView {
            roles: map
                .entries()
                .map(|(role, account)| AccountRoleView {
                    role: role.name().into(),
                    label: role.label().into(),
                    account: account.into(),
                    default_account: role.default_account().into(),
                    shape: shape_name(role.shape()).into(),
                    gap: gaps
                        .iter()
                        .find(|g| g.role == role)
                        .map(|g| g.message.clone()),
                })
                .collect(),
            accounts: ledger_accounts,
            has_admin: roster.iter().any(|p| p.role == people::Role::Admin),
            admins_here: roster
                .iter()
                .filter(|p| p.role == people::Role::Admin && p.key_here)
                .map(|p| p.name.clone())
                .collect(),
        })
    }

    pub fn set_account_roles(&self, args: AccountRolesArgs) -> Result<AccountMapResultView> {
        let mut changes = Vec::with_capacity(args.changes.len());
        for c in &args.changes {
            let role = crate::api::accounts::role(&c.role)?;
            changes.push((role, c.account.clone()));
        }
        let session = self.session()?;
        let change = {
            let ws = lock(&session.writer);
            crate::api::accounts::map(
                &ws,
                self.secrets.as_ref(),
                &changes,
                args.as_person.as_deref(),
                &self.ctx(),
            )?
        };
        session.invalidate();
        let mut notes = Vec::new();
        if change.stripe_accounts_followed {
            notes.push(format!(
                "The accounts reconciled against Stripe are now “{}” and below: the Stripe balance lies outside the old ones.",
                change.map.get(Role::StripeAccounts)
            ));
        }
        if let Some(day) = &change.flagged_sealed_day {
            notes.push(format!(
                "{day} is already reconciled: the next snapshot reports this change as a change to sealed data."
            ));
        }
        Ok(AccountMapResultView {
            view: self.account_roles()?,
            changed: change
                .changed
                .iter()
                .map(|(r, o, n)| format!("{}: {o} → {n}", r.name()))
                .collect(),
            notes,
        })
    }

    /// Webhook health from `from` to `to` (YYYY-MM-DD, the workspace's time zone).
    pub fn recon_webhooks(&self, from: String, to: String) -> Result<Vec<WebhookDayView>> {
        let (from, to) = (
            crate::api::reconcile::day(&from)?,
            crate::api::reconcile::day(&to)?,
        );
        self.read(|ws| {
            let days = crate::api::reconcile::webhooks(ws, from, to)?;
            Ok(days
                .into_iter()
                .map(|d| WebhookDayView {
                    day: d.day.to_string(),
                    event_type: d.event_type,
                    sent: d.sent as u32,
                    recorded: d.recorded as u32,
                    processed: d.processed as u32,
                    failed: d.failed as u32,
                    pending: d.pending as u32,
                    missing: d.missing as u32,
                    subscribed: d.subscribed,
                })
                .collect())
        })
    }
}
