//! `closebook accounts`: the workspace's accounts for each role of `contracts/BOOKING.md`.

use clap::{Args, Subcommand};
use closebook_engine::accounts::{Role, RoleMap};

use crate::{Ctx, Failure, print_json, usage};
use closebook_app::api;

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// The account each role maps to, and the roles no account of the ledger plays yet.
    Show,
    /// Map roles onto the platform's own account names (only the roles given change).
    Map {
        #[command(flatten)]
        roles: Box<RoleArgs>,
        /// The admin changing the map (required once the roster has an admin).
        #[arg(long = "as")]
        as_: Option<String>,
    },
}

/// One option per role.
#[derive(Args, Default)]
pub struct RoleArgs {
    /// Reconciled against Stripe: this account and every account below it.
    #[arg(long)]
    stripe_accounts: Option<String>,
    /// Where Closebook books Stripe money (within the reconciled accounts; moves them along
    /// when given outside them without --stripe-accounts).
    #[arg(long)]
    stripe_balance: Option<String>,
    #[arg(long)]
    bank: Option<String>,
    /// The parent of one account per subscriber.
    #[arg(long)]
    subscriber_funds: Option<String>,
    /// The parent of one account per creator.
    #[arg(long)]
    creator_obligations: Option<String>,
    #[arg(long)]
    stripe_fees: Option<String>,
    #[arg(long)]
    disputes: Option<String>,
    #[arg(long)]
    platform_fees: Option<String>,
    #[arg(long)]
    unallocated: Option<String>,
}

impl RoleArgs {
    fn changes(self) -> Vec<(Role, String)> {
        [
            (Role::StripeAccounts, self.stripe_accounts),
            (Role::StripeBalance, self.stripe_balance),
            (Role::Bank, self.bank),
            (Role::SubscriberFunds, self.subscriber_funds),
            (Role::CreatorObligations, self.creator_obligations),
            (Role::StripeFees, self.stripe_fees),
            (Role::Disputes, self.disputes),
            (Role::PlatformFees, self.platform_fees),
            (Role::Unallocated, self.unallocated),
        ]
        .into_iter()
        .filter_map(|(r, a)| a.map(|a| (r, a)))
        .collect()
    }
}

fn print_map(map: &RoleMap) {
    for (role, account) in map.entries() {
        let default = if account == role.default_account() {
            ""
        } else {
            "  (default "
        };
        println!(
            "  {:<20} {account}{default}{}",
            role.name(),
            if default.is_empty() {
                String::new()
            } else {
                format!("{})", role.default_account())
            }
        );
    }
}

pub fn cmd_accounts(ctx: &Ctx, cmd: AccountsCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    match cmd {
        AccountsCommand::Show => {
            let (map, gaps) = api::accounts::show(&ws)?;
            if ctx.json {
                let roles: Vec<serde_json::Value> = map
                    .entries()
                    .map(|(r, a)| {
                        serde_json::json!({"role": r, "account": a, "default": r.default_account(), "label": r.label()})
                    })
                    .collect();
                print_json(&serde_json::json!({"roles": roles, "gaps": gaps}));
            } else {
                println!("Accounts per role (contracts/BOOKING.md):");
                print_map(&map);
                for g in &gaps {
                    println!("warning: {}", g.message);
                }
            }
        }
        AccountsCommand::Map { roles, as_ } => {
            let changes = (*roles).changes();
            let change = api::accounts::map(&ws, &ctx.secrets, &changes, as_.as_deref(), &ctx.op())
                .map_err(usage)?;
            if ctx.json {
                print_json(&change);
            } else if change.changed.is_empty() {
                println!("The account map already says that; nothing changed.");
            } else {
                for (role, old, new) in &change.changed {
                    println!("{}: {old} → {new}", role.name());
                }
                if change.stripe_accounts_followed {
                    println!(
                        "The accounts reconciled against Stripe are now `{}` and below (the Stripe balance lies outside the old ones).",
                        change.map.get(Role::StripeAccounts)
                    );
                }
                if let Some(day) = &change.flagged_sealed_day {
                    println!(
                        "{day} is already reconciled: the next snapshot reports this change as a change to sealed data."
                    );
                }
            }
        }
    }
    Ok(())
}
