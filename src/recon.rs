//! `closebook snapshot`, `closebook exceptions` and `closebook match-rules`: daily
//! reconciliation from the command line (scheduling: run `snapshot --catch-up` daily).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Subcommand;
use closebook_engine::Workspace;
use closebook_engine::reconcile::exceptions::{ExceptionFilter, ExceptionRow, ResolveRequest};
use closebook_engine::reconcile::rules::MatchRules;
use closebook_engine::reconcile::snapshot::{Snapshot, SnapshotException};

use crate::render::{local_time, money};
use crate::{Ctx, Failure, print_json, usage};
use closebook_app::api;

#[derive(Subcommand)]
pub enum ExceptionsCommand {
    /// Exceptions found by reconciliation (default: the open ones), oldest first.
    List {
        /// Only this kind: missing_in_ledger, missing_in_stripe, amount_mismatch,
        /// fee_mismatch, timing_difference, duplicate, missed_webhook, data_changed.
        #[arg(long)]
        kind: Option<String>,
        /// open, resolved or all.
        #[arg(long, default_value = "open")]
        state: String,
        /// Only this currency (usd, eur, …).
        #[arg(long)]
        currency: Option<String>,
        /// Only exceptions whose effect is at least this many minor units (absolute).
        #[arg(long)]
        min_amount: Option<i64>,
    },
    /// One exception: both sides' evidence, the days it appeared, its resolution.
    Show { id: i64 },
    /// Resolve one or more exceptions (all or none), with a note.
    Resolve {
        #[arg(required = true, num_args = 1..)]
        ids: Vec<i64>,
        /// booked_adjustment, timing, write_off, duplicate_confirmed or accepted.
        #[arg(long)]
        resolution: String,
        /// Why (required).
        #[arg(long)]
        note: String,
        /// For booked_adjustment: the account the difference goes to (default: the fee
        /// account for a fee, liabilities:reconciliation_suspense otherwise).
        #[arg(long)]
        counter_account: Option<String>,
        /// Show the adjustment entry that would be booked, and book nothing.
        #[arg(long)]
        propose: bool,
    },
    /// Write Closebook's adjustment entries in the platform's ledger file format.
    ExportAdjustments {
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn cmd_snapshot(
    ctx: &Ctx,
    date: Option<String>,
    dry_run: bool,
    catch_up: bool,
    list: bool,
) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let op = ctx.op();
    if list {
        let days = api::reconcile::history(&ws)?;
        if ctx.json {
            print_json(&days);
        } else if days.is_empty() {
            println!("No day reconciled yet: run `closebook snapshot --catch-up`.");
        } else {
            for d in &days {
                let figures: Vec<String> = d
                    .currencies
                    .iter()
                    .map(|c| {
                        format!(
                            "{} difference {:>14} open {}",
                            c.currency.to_uppercase(),
                            money(&ws, c.difference, &c.currency),
                            c.open_exceptions
                        )
                    })
                    .collect();
                println!(
                    "{}  v{}  {:<11}  {}",
                    d.day,
                    d.version,
                    d.status.name(),
                    figures.join("   ")
                );
            }
        }
        return Ok(());
    }
    if catch_up {
        let (days, last) = api::reconcile::missing(&ws, &op)?;
        if !ctx.json {
            if days.is_empty() {
                println!(
                    "Nothing to catch up: every day up to yesterday is reconciled{}.",
                    last.map(|d| format!(" (last: {d})")).unwrap_or_default()
                );
                return Ok(());
            }
            eprintln!(
                "Reconciling {} day(s), {} to {} …",
                days.len(),
                days[0],
                days[days.len() - 1]
            );
        }
        let cancel = AtomicBool::new(false);
        let report = api::reconcile::catch_up(&ws, &op, &mut |_| {}, &cancel)?;
        if ctx.json {
            print_json(&report);
        } else {
            for d in &report.days {
                let diff: Vec<String> = d
                    .currencies
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}",
                            c.currency.to_uppercase(),
                            money(&ws, c.difference, &c.currency)
                        )
                    })
                    .collect();
                println!(
                    "{}  {:<11}  difference {}",
                    d.day,
                    d.status.name(),
                    diff.join(", ")
                );
            }
            println!(
                "Reconciled {} day(s); last reconciled day {}.",
                report.days.len(),
                report
                    .last_day
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "none".into())
            );
        }
        return Ok(());
    }
    let Some(date) = date else {
        return Err(Failure::Usage(
            "give --date YYYY-MM-DD, --catch-up or --list".into(),
        ));
    };
    let day = api::reconcile::day(&date).map_err(usage)?;
    let s = api::reconcile::snapshot(&ws, day, dry_run, &op).map_err(usage)?;
    if ctx.json {
        print_json(&s);
    } else {
        render_snapshot(&ws, &s, dry_run);
    }
    Ok(())
}

fn render_snapshot(ws: &Workspace, s: &Snapshot, dry_run: bool) {
    let head = if dry_run {
        "Dry run (nothing saved)".to_string()
    } else if s.unchanged {
        format!(
            "already reconciled from the same rows (version {}, {})",
            s.version,
            local_time(ws, s.computed_at)
        )
    } else {
        format!("Saved as version {}", s.version)
    };
    println!(
        "Reconciliation of {} — {}: {}",
        s.day,
        s.status.name().to_uppercase(),
        head
    );
    println!(
        "Read {} Stripe balance transactions and {} ledger postings; {} Stripe items matched. Digest {}",
        s.stripe_rows, s.ledger_rows, s.matched, s.digest
    );
    let order: Vec<&str> = s.rules.order.iter().map(|r| r.name()).collect();
    println!(
        "Rules: {} (tolerance {} minor units, window {} days)",
        order.join(" → "),
        s.rules.amount_tolerance_minor,
        s.rules.date_window_days
    );
    for m in s.mirror.iter().filter(|m| !m.complete()) {
        println!(
            "WARNING: the Stripe mirror is incomplete in {}: the live balance at {} was {} but the mirror holds {} (missing {}). Re-sync before trusting this snapshot.",
            m.currency.to_uppercase(),
            local_time(ws, m.fetched_at),
            money(ws, m.live, &m.currency),
            money(ws, m.mirrored, &m.currency),
            money(ws, m.missing, &m.currency)
        );
    }
    for c in &s.currencies {
        let m = |v: i64| money(ws, v, &c.currency);
        println!();
        println!("{}  {}", c.currency.to_uppercase(), c.status.name());
        println!("  {:<28}{:>18}", "Stripe available", m(c.stripe_available));
        println!("  {:<28}{:>18}", "Stripe pending", m(c.stripe_pending));
        println!("  {:<28}{:>18}", "Stripe balance", m(c.stripe_total));
        println!("  {:<28}{:>18}", "Ledger (assets:stripe)", m(c.ledger));
        println!(
            "  {:<28}{:>18}",
            "Difference (Stripe − ledger)",
            m(c.difference)
        );
        for (k, v) in &c.explained {
            println!("    {:<26}{:>18}", k.name(), m(*v));
        }
        println!("    {:<26}{:>18}", "unexplained remainder", m(c.remainder));
        println!(
            "  matched {}, unmatched Stripe {}, unmatched ledger {}, open exceptions {}",
            c.matched, c.unmatched_stripe, c.unmatched_ledger, c.open_exceptions
        );
    }
    if !s.exceptions.is_empty() {
        println!();
        println!("Exceptions:");
        for e in &s.exceptions {
            println!("  {}", exception_line(ws, e));
        }
    }
}

fn exception_line(ws: &Workspace, e: &SnapshotException) -> String {
    format!(
        "{:>5}  {:<18} {:<30} {:>14}  {}{}",
        e.id.map(|i| format!("#{i}"))
            .unwrap_or_else(|| "new".into()),
        e.kind.name(),
        e.stripe_object.as_deref().unwrap_or("-"),
        money(ws, e.effect, &e.currency),
        e.evidence.note,
        e.resolution
            .as_ref()
            .map(|r| format!(" [resolved: {}]", r.resolution))
            .unwrap_or_default()
    )
}

pub fn cmd_exceptions(ctx: &Ctx, cmd: ExceptionsCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    match cmd {
        ExceptionsCommand::List {
            kind,
            state,
            currency,
            min_amount,
        } => {
            let kind = kind
                .map(|k| api::reconcile::kind(&k).map_err(usage))
                .transpose()?;
            let state = api::reconcile::state(Some(&state)).map_err(usage)?;
            let rows = api::reconcile::exceptions(
                &ws,
                &ExceptionFilter {
                    kind,
                    state,
                    currency: currency.map(|c| c.to_lowercase()),
                    min_amount,
                },
            )?;
            if ctx.json {
                print_json(&rows);
            } else if rows.is_empty() {
                println!("No exceptions match.");
            } else {
                for x in &rows {
                    println!(
                        "{}  since {} (last {})",
                        exception_line(&ws, &x.exception),
                        x.exception.first_day,
                        x.last_day
                    );
                }
            }
        }
        ExceptionsCommand::Show { id } => {
            let d = api::reconcile::exception(&ws, id)?;
            if ctx.json {
                print_json(&d);
            } else {
                render_detail(&ws, &d.row);
                println!("Found on:");
                // Consecutive days with the same effect on one line.
                let mut runs: Vec<(jiff::civil::Date, jiff::civil::Date, u64, i64)> = Vec::new();
                for a in &d.history {
                    match runs.last_mut() {
                        Some(r) if r.3 == a.effect && r.1.tomorrow().ok() == Some(a.day) => {
                            r.1 = a.day;
                            r.2 += 1;
                        }
                        Some(r) if r.3 == a.effect && r.1 == a.day => {}
                        _ => runs.push((a.day, a.day, 1, a.effect)),
                    }
                }
                for (from, to, n, effect) in runs {
                    let span = if from == to {
                        from.to_string()
                    } else {
                        format!("{from} … {to} ({n} days)")
                    };
                    println!(
                        "  {span:<36}{:>14}",
                        money(&ws, effect, &d.row.exception.currency)
                    );
                }
            }
        }
        ExceptionsCommand::Resolve {
            ids,
            resolution,
            note,
            counter_account,
            propose,
        } => {
            let resolution = api::reconcile::resolution(&resolution).map_err(usage)?;
            if propose {
                let all = api::reconcile::propose(&ws, &ids, counter_account.as_deref())?;
                if ctx.json {
                    print_json(&all);
                } else {
                    for e in &all {
                        println!("{}  {}  {}", e.entry_id, e.entry_type, e.description);
                        for p in &e.postings {
                            println!(
                                "    {:<40}{:>16}",
                                p.account,
                                money(&ws, p.amount_minor, &e.currency)
                            );
                        }
                    }
                }
                return Ok(());
            }
            let rows = api::reconcile::resolve(
                &ws,
                &ResolveRequest {
                    ids,
                    resolution,
                    note,
                    counter_account,
                },
                &ctx.op(),
            )?;
            if ctx.json {
                print_json(&rows);
            } else {
                for x in &rows {
                    let r = x.exception.resolution.as_ref();
                    println!(
                        "Resolved #{} ({}) as {}{}.",
                        x.exception.id.unwrap_or_default(),
                        x.exception.kind.name(),
                        resolution.name(),
                        r.and_then(|r| r.adjustment_entry.as_ref())
                            .map(|a| format!("; adjustment {a} booked"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        ExceptionsCommand::ExportAdjustments { out } => {
            let n = api::reconcile::export_adjustments(&ws, &out)?;
            if ctx.json {
                print_json(&serde_json::json!({"out": out, "postings": n}));
            } else {
                println!("Wrote {n} adjustment postings to {}.", out.display());
            }
        }
    }
    Ok(())
}

fn render_detail(ws: &Workspace, x: &ExceptionRow) {
    let e = &x.exception;
    let m = |v: Option<i64>| {
        v.map(|v| money(ws, v, &e.currency))
            .unwrap_or_else(|| "—".into())
    };
    let t = |v: Option<i64>| {
        v.and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
            .map(|t| local_time(ws, t))
            .unwrap_or_else(|| "—".into())
    };
    println!(
        "Exception #{}  {}  {}  effect {}",
        e.id.unwrap_or_default(),
        e.kind.name(),
        e.currency.to_uppercase(),
        money(ws, e.effect, &e.currency)
    );
    println!("  {}", e.evidence.note);
    println!(
        "  first found {}, last found {}, {} snapshot(s){}",
        e.first_day,
        x.last_day,
        x.appearances,
        if x.current { ", still current" } else { "" }
    );
    println!("  {:<10}{:<44}Ledger", "", "Stripe");
    println!(
        "  {:<10}{:<44}{}",
        "ids",
        e.evidence.stripe_ids.join(", "),
        e.evidence.ledger_entries.join(", ")
    );
    println!(
        "  {:<10}{:<44}{}",
        "amount",
        m(e.stripe_amount),
        m(e.ledger_amount)
    );
    println!(
        "  {:<10}{:<44}{}",
        "date",
        t(e.evidence.stripe_date),
        t(e.evidence.ledger_date)
    );
    if let Some(ev) = &e.evidence.event_id {
        println!(
            "  event {ev}: platform webhook {}",
            e.evidence
                .webhook_status
                .as_deref()
                .unwrap_or("never received")
        );
    }
    match &e.resolution {
        Some(r) => println!(
            "  Resolved as {} by {} at {}: {}{}",
            r.resolution,
            r.actor,
            local_time(ws, r.at),
            r.note,
            r.adjustment_entry
                .as_ref()
                .map(|a| format!(" (adjustment {a})"))
                .unwrap_or_default()
        ),
        None => println!("  Open."),
    }
}

pub fn cmd_match_rules(
    ctx: &Ctx,
    order: Option<Vec<String>>,
    tolerance: Option<i64>,
    window_days: Option<u32>,
) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let order = order
        .map(|order| {
            order
                .iter()
                .filter(|s| !s.is_empty() && s.as_str() != "none")
                .map(|s| api::reconcile::rule(s).map_err(usage))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let change = api::reconcile::RulesChange {
        order,
        amount_tolerance_minor: tolerance,
        date_window_days: window_days,
    };
    let r = api::reconcile::rules(&ws, change, &ctx.op())?;
    if ctx.json {
        print_json(&r);
    } else {
        show_rules(&r);
    }
    Ok(())
}

fn show_rules(r: &MatchRules) {
    println!("Matching rules, in priority order:");
    if r.order.is_empty() {
        println!("  none: every item is unmatched");
    }
    for (i, rule) in r.order.iter().enumerate() {
        println!("  {}. {}", i + 1, rule.name());
    }
    println!(
        "Amount tolerance {} minor units; date window {} days.",
        r.amount_tolerance_minor, r.date_window_days
    );
}
