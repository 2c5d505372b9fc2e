//! `ledger balances|trial-balance|entries`.

use super::*;

use closebook_engine::ledger;
use closebook_engine::workspace::Workspace;
use jiff::Timestamp;

/// Reads `--as-of` / `--from` / `--to` (the API's one reading of days and instants); a
/// value it refuses is a usage error.
pub(super) fn parse_when(
    ws: &Workspace,
    text: &str,
    end_of_day: bool,
) -> Result<Timestamp, Failure> {
    api::ledger::instant(ws, text, end_of_day).map_err(usage)
}

pub(super) fn cmd_ledger(ctx: &Ctx, cmd: LedgerCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    match cmd {
        LedgerCommand::Balances {
            as_of,
            account,
            flat,
        } => {
            let as_of = as_of.as_of.map(|t| parse_when(&ws, &t, true)).transpose()?;
            let (leaves, tree) = api::ledger::balances(&ws, as_of, account.as_deref())?;
            if flat {
                if ctx.json {
                    print_json(&serde_json::json!({"as_of": as_of, "balances": leaves}));
                } else {
                    render::flat_balances(&leaves);
                }
            } else {
                if ctx.json {
                    print_json(&serde_json::json!({"as_of": as_of, "accounts": tree}));
                } else {
                    render::as_of_line(&ws, as_of);
                    render::tree(&tree);
                }
            }
        }
        LedgerCommand::TrialBalance { as_of } => {
            let as_of = as_of.as_of.map(|t| parse_when(&ws, &t, true)).transpose()?;
            let tb = api::ledger::trial_balance(&ws, as_of)?;
            if ctx.json {
                print_json(&tb);
            } else {
                render::as_of_line(&ws, as_of);
                render::trial_balance(&tb);
            }
        }
        LedgerCommand::Entries {
            account,
            from,
            to,
            entry_type,
            entry,
            stripe_id,
            text,
            limit,
            after,
        } => {
            let after = after
                .map(|a| api::ledger::cursor(&a).map_err(usage))
                .transpose()?;
            let filter = ledger::PostingFilter {
                account,
                from: from.map(|t| parse_when(&ws, &t, false)).transpose()?,
                to: to.map(|t| parse_when(&ws, &t, true)).transpose()?,
                entry_type,
                entry_id: entry,
                stripe_object_id: stripe_id,
                text,
                after,
                limit,
            };
            let page = api::ledger::postings(&ws, &filter)?;
            if ctx.json {
                print_json(&page);
            } else {
                render::postings(&ws, &page);
            }
        }
        LedgerCommand::GeneralLedger {
            account,
            from,
            to,
            limit,
        } => {
            let from = from.map(|t| parse_when(&ws, &t, false)).transpose()?;
            let to = to.map(|t| parse_when(&ws, &t, true)).transpose()?;
            let gl = api::ledger::general_ledger(&ws, &account, from, to, limit)?;
            if ctx.json {
                print_json(&gl);
            } else {
                render::general_ledger(&ws, &gl);
            }
        }
    }
    Ok(())
}
