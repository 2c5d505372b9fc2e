//! `audit verify` and `audit log`.

use super::*;

use closebook_engine::ledger;
use serde::Serialize;

pub(super) fn cmd_audit(ctx: &Ctx, cmd: AuditCommand) -> Result<(), Failure> {
    use closebook_engine::audit;
    let ws = ctx.open()?;
    match cmd {
        AuditCommand::Verify => {
            let checked = api::audit::verify(&ws)?;
            let v = checked.chain;
            if let Some(b) = v.broken {
                return Err(Failure::from(Error::from(audit::AuditError::Broken {
                    seq: b.seq,
                    reason: b.reason,
                })));
            }
            let totals = checked.totals.map_err(|problem| {
                Failure::from(Error::from(ledger::LedgerError::Invariant(problem)))
            })?;
            if ctx.json {
                #[derive(Serialize)]
                struct Verified<'a> {
                    #[serde(flatten)]
                    audit: &'a audit::Verification,
                    ledger_totals: &'a ledger::TotalsProof,
                }
                print_json(&Verified {
                    audit: &v,
                    ledger_totals: &totals,
                });
            } else {
                println!(
                    "The audit log is intact: {} records, each holding the hash of the one before.",
                    v.records
                );
                println!(
                    "The ledger's kept totals agree with its {} postings in {} entries ({} account balances, {} entry types).",
                    totals.postings, totals.entries, totals.account_balances, totals.entry_types
                );
                if let Some(h) = v.head {
                    println!("Head {h} (note it: a shorter log later would end elsewhere).");
                }
                if !v.clock_went_back.is_empty() {
                    println!(
                        "Note: the computer's clock went back before record(s) {}: they are dated earlier than the record before them (the chain, not the time, gives the order).",
                        v.clock_went_back
                            .iter()
                            .map(i64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
        }
        AuditCommand::Log {
            action,
            actor,
            text,
            limit,
            before,
        } => {
            let records = api::audit::log(
                &ws,
                &audit::AuditFilter {
                    action_prefix: action,
                    actor,
                    text,
                    before_seq: before,
                    limit,
                },
            )?;
            if ctx.json {
                print_json(&records);
            } else {
                for r in &records {
                    println!(
                        "{:>6}  {}  {:<18} {:<22} {}",
                        r.seq,
                        render::local_time(&ws, r.at),
                        r.actor,
                        r.action,
                        r.summary
                    );
                }
            }
        }
    }
    Ok(())
}
