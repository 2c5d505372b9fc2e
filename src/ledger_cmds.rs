//! `ledger balances|trial-balance|entries`.

use super::*;

use closebook_engine::ledger;
use closebook_engine::workspace::Workspace;
use jiff::Timestamp;

/// Parses `--as-of` / `--from` / `--to`: a date means a whole day in the workspace's time
/// zone (its start for `from`, its end for `to` and `as_of`); otherwise an RFC 3339 instant.
pub(super) fn parse_when(
    ws: &Workspace,
    text: &str,
    end_of_day: bool,
) -> Result<Timestamp, Failure> {
    if let Ok(date) = text.parse::<jiff::civil::Date>()
        && !text.contains('T')
    {
        let bound = if end_of_day {
            ws.end_of_day(date)
        } else {
            ws.start_of_day(date)
        };
        return bound.map_err(|e| Failure::Usage(format!("{text}: {e}")));
    }
    text.parse::<Timestamp>().map_err(|_| {
        Failure::Usage(format!(
            "`{text}` is neither a date (YYYY-MM-DD) nor an RFC 3339 instant (2026-10-31T23:59:59Z)"
        ))
    })
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
            let leaves = ledger::balances(&ws, as_of, account.as_deref())?;
            if flat {
                if ctx.json {
                    print_json(&serde_json::json!({"as_of": as_of, "balances": leaves}));
                } else {
                    render::flat_balances(&leaves);
                }
            } else {
                let tree = ledger::account_tree(&leaves)?;
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
            let tb = ledger::trial_balance(&ws, as_of)?;
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
                .map(|a| {
                    a.split_once('/')
                        .and_then(|(t, s)| Some((t.parse().ok()?, s.parse().ok()?)))
                        .ok_or_else(|| {
                            Failure::Usage(format!(
                                "--after `{a}` is not a cursor printed by a previous page"
                            ))
                        })
                })
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
            let page = ledger::postings(&ws, &filter)?;
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
            let gl = ledger::general_ledger(&ws, &account, from, to, limit)?;
            if ctx.json {
                print_json(&gl);
            } else {
                render::general_ledger(&ws, &gl);
            }
        }
    }
    Ok(())
}
