//! `closebook people` and `closebook payouts`: the roster and month-end payout batches.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Subcommand;
use closebook_app::api;
use closebook_app::api::payouts::SettingsChange;
use closebook_engine::Workspace;
use closebook_engine::money::{Money, Unit};
use closebook_engine::payouts::batch::{Batch, Preview};
use closebook_engine::payouts::execute::{ExecuteControl, ExecuteOptions, ExecuteProgress};

use crate::render::local_time;
use crate::{Ctx, Failure, print_json, stripe_key_from_env};

#[derive(Subcommand)]
pub enum PeopleCommand {
    /// Add a person: makes their Ed25519 key pair, keeps the private half in this computer's
    /// keychain and the public half on the roster.
    Add {
        name: String,
        /// preparer, approver, auditor or admin.
        #[arg(long)]
        role: String,
        /// The admin adding them (required once the roster has an admin).
        #[arg(long = "as")]
        as_: Option<String>,
    },
    /// The roster: who, which role, whether their key is on this computer, which admin
    /// vouched for them, and the signed roster's root.
    List,
    /// An admin vouches for people already on the roster whom no admin has signed for (added
    /// before signed rosters, or written by hand): each named, after comparing fingerprints.
    Vouch {
        #[arg(required = true)]
        names: Vec<String>,
        /// The admin signing.
        #[arg(long = "as")]
        as_: String,
    },
}

#[derive(Subcommand)]
pub enum PayoutsCommand {
    /// Lock a finished month into a draft batch, computed and signed by its preparer.
    Prepare {
        #[arg(long)]
        month: String,
        #[arg(long = "as")]
        as_: String,
        /// Platform fee in basis points for this batch (default: the workspace's setting).
        #[arg(long)]
        fee_bps: Option<u32>,
        /// Minimum payout in minor units (default: the workspace's setting).
        #[arg(long)]
        minimum: Option<i64>,
    },
    /// Every batch, newest first.
    List,
    /// A batch: lines, totals, month-on-month changes, coverage, drift, approvals.
    Show { batch: String },
    /// Recompute a batch with another fee or minimum, saving nothing.
    WhatIf {
        batch: String,
        #[arg(long)]
        fee_bps: Option<u32>,
        #[arg(long)]
        minimum: Option<i64>,
    },
    /// Approve a draft batch (signs its digest with your key).
    Approve {
        batch: String,
        #[arg(long = "as")]
        as_: String,
    },
    /// Reject a draft batch, with a reason.
    Reject {
        batch: String,
        #[arg(long = "as")]
        as_: String,
        #[arg(long)]
        reason: String,
    },
    /// Sign an approval (or a rejection, with --reject REASON) into a file for the
    /// preparer's desktop, recording nothing here.
    ExportApproval {
        batch: String,
        #[arg(long = "as")]
        as_: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        reject: Option<String>,
    },
    /// Record an approval file signed on another desktop.
    ImportApproval { file: PathBuf },
    /// Pay every payable line of an approved batch through Stripe, exactly once.
    Execute {
        batch: String,
        #[arg(long = "as")]
        as_: String,
        #[arg(long, env = "CLOSEBOOK_STRIPE_API_BASE", default_value = closebook_engine::stripe::STRIPE_API_BASE)]
        api_base: String,
        /// Requests per second the client allows itself.
        #[arg(long)]
        rate: Option<u32>,
    },
    /// Execution status per line.
    Status { batch: String },
    /// Send failed lines again (all, or --line N …): only when a person says so.
    Retry {
        batch: String,
        #[arg(long = "as")]
        as_: String,
        #[arg(long)]
        line: Vec<u32>,
    },
    /// The parameters new batches are prepared with.
    Settings {
        #[arg(long)]
        fee_bps: Option<u32>,
        #[arg(long)]
        minimum: Option<i64>,
        /// Batches paying at least this (minor units) need two approvers.
        #[arg(long)]
        dual_approval_at: Option<i64>,
        /// The admin changing them (required once the roster has an admin).
        #[arg(long = "as")]
        as_: Option<String>,
    },
}

fn usd(minor: i64) -> String {
    Money::new(minor, Unit::iso("usd").expect("usd is ISO 4217")).format_number()
}

pub fn cmd_people(ctx: &Ctx, cmd: PeopleCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    match cmd {
        PeopleCommand::Add { name, role, as_ } => {
            let p = api::people::add(&ws, &ctx.secrets, &name, &role, as_.as_deref(), &ctx.op())?;
            if ctx.json {
                print_json(&p);
            } else {
                println!(
                    "Added {} as {}; public key {}. The private key is in this computer's keychain.",
                    p.name,
                    p.role.as_str(),
                    p.public_key
                );
            }
        }
        PeopleCommand::List => {
            let (list, root) = api::people::list(&ws, &ctx.secrets)?;
            if ctx.json {
                print_json(&list);
            } else if list.is_empty() {
                println!("The roster is empty: `closebook people add NAME --role admin` first.");
            } else {
                println!(
                    "{:<24} {:<9} {:<9} {:<20} {:<24} public key",
                    "name", "role", "key here", "fingerprint", "vouched for by"
                );
                for p in &list {
                    println!(
                        "{:<24} {:<9} {:<9} {:<20} {:<24} {}",
                        p.name,
                        p.role.as_str(),
                        if p.key_here { "yes" } else { "no" },
                        p.fingerprint,
                        p.vouched_by.as_deref().unwrap_or("NO ONE: acts on nothing"),
                        p.public_key
                    );
                }
                match root.and_then(|r| list.iter().find(|p| p.name == r)) {
                    Some(r) => println!(
                        "\nThe signed roster begins with {} (fingerprint {}): compare it with what your admin told you.",
                        r.name, r.fingerprint
                    ),
                    None => println!(
                        "\nNo admin has signed the roster yet: no one can prepare or approve until an admin is added (or vouches: `closebook people vouch NAME --as ADMIN`)."
                    ),
                }
            }
        }
        PeopleCommand::Vouch { names, as_ } => {
            let (admin, done) = api::people::vouch(&ws, &ctx.secrets, &names, &as_, &ctx.op())?;
            if ctx.json {
                print_json(&serde_json::json!({ "vouched": done }));
            } else if done.is_empty() {
                println!("Nothing to do: everyone named is already vouched for.");
            } else {
                println!("{admin} vouched for {}.", done.join(", "));
            }
        }
    }
    Ok(())
}

pub fn cmd_payouts(ctx: &Ctx, cmd: PayoutsCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let op = ctx.op();
    match cmd {
        PayoutsCommand::Prepare {
            month,
            as_,
            fee_bps,
            minimum,
        } => {
            let overrides = SettingsChange {
                fee_bps,
                minimum_minor: minimum,
                ..SettingsChange::default()
            };
            let p = api::payouts::prepare(&ws, &ctx.secrets, &month, &as_, overrides, &op)?;
            show(&ws, ctx.json, &p);
        }
        PayoutsCommand::List => {
            let list = api::payouts::list(&ws)?;
            if ctx.json {
                print_json(&list);
                return Ok(());
            }
            if list.is_empty() {
                println!("No batches yet: `closebook payouts prepare --month YYYY-MM --as NAME`.");
            }
            for b in list {
                println!(
                    "{:<16} {:<8} {:<10} {:>14} paid in {:>5} lines, {:>14} carried over; approvals {}/{}; prepared by {} {}",
                    b.id,
                    b.month,
                    b.state.as_str(),
                    usd(b.totals.paid),
                    b.totals.paid_lines,
                    usd(b.totals.carried_out),
                    b.approvals,
                    b.approvals_required,
                    b.prepared_by,
                    local_time(&ws, b.prepared_at)
                );
            }
        }
        PayoutsCommand::Show { batch: id } => {
            let p = api::payouts::show(&ws, &id)?;
            show(&ws, ctx.json, &p);
        }
        PayoutsCommand::WhatIf {
            batch: id,
            fee_bps,
            minimum,
        } => {
            let (b, params, c) = api::payouts::what_if(&ws, &id, fee_bps, minimum)?;
            if ctx.json {
                print_json(
                    &serde_json::json!({"batch": id, "params": params, "totals": c.totals, "lines": c.lines}),
                );
            } else {
                println!(
                    "What if {id} had a fee of {} bps and a minimum of {} (nothing saved):",
                    params.fee_bps,
                    usd(params.minimum_minor)
                );
                totals(&c.totals);
                println!(
                    "  against the batch: fees {} → {}, paid {} → {}",
                    usd(b.totals.fees),
                    usd(c.totals.fees),
                    usd(b.totals.paid),
                    usd(c.totals.paid)
                );
            }
        }
        PayoutsCommand::Approve { batch: id, as_ } => {
            let b = api::payouts::decide(&ws, &ctx.secrets, &id, &as_, None, &op)?;
            decided(ctx.json, &b);
        }
        PayoutsCommand::Reject {
            batch: id,
            as_,
            reason,
        } => {
            let b = api::payouts::decide(&ws, &ctx.secrets, &id, &as_, Some(&reason), &op)?;
            decided(ctx.json, &b);
        }
        PayoutsCommand::ExportApproval {
            batch: id,
            as_,
            out,
            reject,
        } => {
            let file = api::payouts::export_approval(
                &ws,
                &ctx.secrets,
                &id,
                &as_,
                reject.as_deref(),
                &out,
                &op,
            )?;
            if ctx.json {
                print_json(&file);
            } else {
                println!(
                    "Wrote {}'s signed {} of {} to {}: send it to the preparer, who runs `closebook payouts import-approval`.",
                    file.person,
                    file.decision,
                    file.batch_id,
                    out.display()
                );
            }
        }
        PayoutsCommand::ImportApproval { file } => {
            let b = api::payouts::import_approval(&ws, &file, &op)?;
            decided(ctx.json, &b);
        }
        PayoutsCommand::Execute {
            batch: id,
            as_,
            api_base,
            rate,
        } => {
            let key = api::stripe::key(&ws, &ctx.secrets, stripe_key_from_env().as_deref())?;
            let mut options = ExecuteOptions::new(&api_base, ws.info().mode.is_live());
            if let Some(r) = rate {
                if !(1..=100).contains(&r) {
                    return Err(Failure::Usage(
                        "--rate must be 1 to 100 requests per second".into(),
                    ));
                }
                options.limits.requests_per_second = r;
            }
            let cancel = AtomicBool::new(false);
            let mut last_errors = 0usize;
            let mut progress = |p: &ExecuteProgress| {
                eprintln!(
                    "execute: {} — {}/{} lines paid, {} failed{}, {} requests, {} retries",
                    p.phase,
                    p.lines_paid,
                    p.lines_total,
                    p.lines_failed,
                    p.current_line
                        .map(|l| format!(", sending line {l}"))
                        .unwrap_or_default(),
                    p.requests,
                    p.retries
                );
                for e in p.recent_errors.iter().skip(last_errors) {
                    eprintln!("execute:   {e}");
                }
                last_errors = p.recent_errors.len();
            };
            let mut control = ExecuteControl {
                progress: &mut progress,
                cancel: &cancel,
            };
            let report = api::payouts::execute(
                &ws,
                &ctx.secrets,
                &id,
                &as_,
                &key,
                &options,
                &mut control,
                &op,
            )?;
            if ctx.json {
                print_json(&report);
            } else if report.nothing_left {
                println!(
                    "{} is already done: all {} payable lines were paid; nothing was left to pay and nothing was sent.",
                    report.batch, report.payable_lines
                );
            } else {
                println!(
                    "{}: {} — {} of {} lines paid ({} now, {} found at Stripe from an earlier run), {} failed.",
                    report.batch,
                    report.state.as_str(),
                    report.paid_total,
                    report.payable_lines,
                    report.paid_now,
                    report.adopted,
                    report.failed_total
                );
                if report.failed_total > 0 {
                    println!(
                        "Failed lines are not retried by themselves: see `closebook payouts status {}`, fix the cause, then `closebook payouts retry {} --as NAME`.",
                        report.batch, report.batch
                    );
                }
            }
        }
        PayoutsCommand::Status { batch: id } => {
            let b = api::payouts::status(&ws, &id)?;
            if ctx.json {
                print_json(
                    &serde_json::json!({"batch": b.id, "state": b.state, "lines": b.lines.iter().filter(|l| l.is_paid()).map(|l| {
                    let e = b.execution(l.line_no);
                    serde_json::json!({"line_no": l.line_no, "creator": l.creator, "payable": l.payable,
                        "status": e.map_or("pending", |e| e.state.as_str()), "transfer_id": e.and_then(|e| e.transfer_id.clone()),
                        "failure": e.and_then(|e| e.failure.clone()), "idempotency_key": e.map(|e| e.idempotency_key.clone())})
                }).collect::<Vec<_>>()}),
                );
                return Ok(());
            }
            println!("{} — {}", b.id, b.state.as_str());
            for l in b.lines.iter().filter(|l| l.is_paid()) {
                let e = b.execution(l.line_no);
                println!(
                    "  line {:>5} {:<20} {:>14}  {:<8} {}",
                    l.line_no,
                    l.creator,
                    usd(l.payable),
                    e.map_or("pending", |e| e.state.as_str()),
                    e.and_then(|e| e.transfer_id.clone().or(e.failure.clone()))
                        .unwrap_or_default()
                );
            }
        }
        PayoutsCommand::Retry {
            batch: id,
            as_,
            line,
        } => {
            let done = api::payouts::retry(&ws, &ctx.secrets, &id, &as_, &line, &op)?;
            if ctx.json {
                print_json(&serde_json::json!({"batch": id, "retry": done}));
            } else {
                println!(
                    "Lines {done:?} of {id} will be sent again by the next `closebook payouts execute`."
                );
            }
        }
        PayoutsCommand::Settings {
            fee_bps,
            minimum,
            dual_approval_at,
            as_,
        } => {
            let change = SettingsChange {
                fee_bps,
                minimum_minor: minimum,
                dual_approval_at_minor: dual_approval_at,
            };
            let p = api::payouts::settings(&ws, &ctx.secrets, change, as_.as_deref(), &op)?;
            if ctx.json {
                print_json(&p);
            } else {
                println!(
                    "Platform fee {} bps; minimum payout {}; two approvers from {}.",
                    p.fee_bps,
                    usd(p.minimum_minor),
                    usd(p.dual_approval_at_minor)
                );
            }
        }
    }
    Ok(())
}

fn decided(json: bool, b: &Batch) {
    if json {
        print_json(
            &serde_json::json!({"batch": b.id, "state": b.state, "digest": b.digest,
            "approvals": b.approvals().count(), "approvals_required": b.approvals_required, "decisions": b.decisions}),
        );
        return;
    }
    println!(
        "{} is {} ({} of {} approvals).",
        b.id,
        b.state.as_str(),
        b.approvals().count(),
        b.approvals_required
    );
    for d in &b.decisions {
        println!(
            "  {} {}{} — signature {}",
            d.person,
            d.decision,
            d.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
            d.signature
        );
    }
}

fn totals(t: &closebook_engine::payouts::Totals) {
    println!(
        "  subscriptions {:>14}   allocated {:>14}   unallocated {:>14}",
        usd(t.subscriptions),
        usd(t.allocated),
        usd(t.unallocated)
    );
    println!(
        "  platform fees {:>14}   net       {:>14}   carried in  {:>14}",
        usd(t.fees),
        usd(t.net),
        usd(t.carried_in)
    );
    println!(
        "  to pay        {:>14}   in {} lines; carried over {} in {} lines; platform revenue {}",
        usd(t.paid),
        t.paid_lines,
        usd(t.carried_out),
        t.held_lines,
        usd(t.revenue().unwrap_or(i64::MAX))
    );
}

fn show(ws: &Workspace, json: bool, p: &Preview) {
    if json {
        print_json(p);
        return;
    }
    let b = &p.batch;
    println!(
        "{} — {} {} (version {}), prepared by {} at {}",
        b.id,
        b.month,
        b.state.as_str(),
        b.version,
        b.prepared_by,
        local_time(ws, b.prepared_at)
    );
    println!(
        "  fee {} bps, minimum {}, two approvers from {}; digest {}",
        b.params.fee_bps,
        usd(b.params.minimum_minor),
        usd(b.params.dual_approval_at_minor),
        b.digest
    );
    totals(&b.totals);
    println!(
        "{:>5} {:<10} {:<18} {:>12} {:>10} {:>12} {:>12} {:>12}  {:<12} status",
        "line", "kind", "creator", "gross", "fee", "net", "carried in", "payable", "vs last"
    );
    for (l, c) in b
        .lines
        .iter()
        .zip(p.changes.iter().map(Some).chain(std::iter::repeat(None)))
    {
        let vs = c
            .filter(|c| c.line_no == l.line_no)
            .and_then(|c| c.previous_payable)
            .map_or("new".to_string(), |prev| usd(l.payable - prev));
        let status = match l.held {
            Some(h) => format!("held: {}", h.describe()),
            None => "pay".into(),
        };
        println!(
            "{:>5} {:<10} {:<18} {:>12} {:>10} {:>12} {:>12} {:>12}  {:<12} {}",
            l.line_no,
            l.kind.as_str(),
            l.creator,
            usd(l.gross),
            usd(l.fee),
            usd(l.net),
            usd(l.carried_in),
            usd(
                if l.kind == closebook_engine::payouts::LineKind::Withdrawal {
                    l.requested
                } else {
                    l.payable
                }
            ),
            if l.kind == closebook_engine::payouts::LineKind::Earnings {
                vs
            } else {
                String::new()
            },
            status
        );
    }
    match p.coverage.available {
        Some(a) => println!(
            "Coverage: Stripe available {} against {} to pay — {}",
            usd(a),
            usd(p.coverage.paid),
            if p.coverage.covered {
                "covered"
            } else {
                "NOT covered: cannot be approved"
            }
        ),
        None => println!("Coverage: no Stripe balance known yet — sync Stripe before approving"),
    }
    if p.drift_count > 0 {
        println!(
            "Drift: {} allocation or balance rows of {} changed after the lock (not included):",
            p.drift_count, b.month
        );
        for d in &p.drift {
            println!(
                "  {} {} {}: locked {:?}, now {}",
                d.kind, d.key, d.change, d.locked_amount, d.current_amount
            );
        }
    }
    println!(
        "Approvals {}/{}",
        b.approvals().count(),
        b.approvals_required
    );
    for d in &b.decisions {
        println!(
            "  {} {} at {} — signature {}",
            d.person,
            d.decision,
            local_time(ws, d.signed_at),
            d.signature
        );
    }
}
