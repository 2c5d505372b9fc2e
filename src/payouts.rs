//! `closebook people` and `closebook payouts`: the roster and month-end payout batches.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Subcommand;
use closebook_engine::Workspace;
use closebook_engine::money::{Money, Unit};
use closebook_engine::payouts::batch::{self, Batch, Preview};
use closebook_engine::payouts::execute::{self, ExecuteControl, ExecuteOptions, ExecuteProgress};
use closebook_engine::payouts::people::{self, Role};
use closebook_engine::payouts::{Params, PayoutError};

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

/// The named person, proven by their key on this computer; nobody when no name is given.
fn signer_if_named(
    ws: &closebook_engine::Workspace,
    ctx: &Ctx,
    name: Option<String>,
) -> Result<Option<people::Signer>, Failure> {
    name.map(|n| people::authenticate(ws, &ctx.secrets, &n).map_err(Into::into))
        .transpose()
}

fn usd(minor: i64) -> String {
    Money::new(minor, Unit::iso("usd").expect("usd is ISO 4217")).format_number()
}

pub fn cmd_people(ctx: &Ctx, cmd: PeopleCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    match cmd {
        PeopleCommand::Add { name, role, as_ } => {
            let role = Role::parse(&role)?;
            let by = signer_if_named(&ws, ctx, as_)?;
            let seed = people::fresh_seed()?;
            let p = people::add(&ws, &ctx.secrets, &name, role, seed, by.as_ref(), &ctx.op())?;
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
            let list = people::list(&ws, Some(&ctx.secrets))?;
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
                let root = people::signed_roster(&ws)?;
                match root.root().and_then(|r| list.iter().find(|p| p.name == r)) {
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
            let admin = people::authenticate(&ws, &ctx.secrets, &as_)?;
            let done = people::vouch(&ws, &admin, &names, &ctx.op())?;
            if ctx.json {
                print_json(&serde_json::json!({ "vouched": done }));
            } else if done.is_empty() {
                println!("Nothing to do: everyone named is already vouched for.");
            } else {
                println!("{} vouched for {}.", admin.person.name, done.join(", "));
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
            let signer = people::authenticate(&ws, &ctx.secrets, &as_)?;
            let params = override_params(&ws, fee_bps, minimum)?;
            let b = batch::prepare(&ws, &signer, &month, params, &op)?;
            let p = batch::preview(&ws, &b.id)?;
            show(&ws, ctx.json, &p);
        }
        PayoutsCommand::List => {
            let list = batch::list(&ws)?;
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
            let p = batch::preview(&ws, &id)?;
            show(&ws, ctx.json, &p);
        }
        PayoutsCommand::WhatIf {
            batch: id,
            fee_bps,
            minimum,
        } => {
            let b = batch::load(&ws, &id)?;
            let params = Params {
                fee_bps: fee_bps.unwrap_or(b.params.fee_bps),
                minimum_minor: minimum.unwrap_or(b.params.minimum_minor),
                ..b.params
            };
            let c = batch::what_if(&ws, &id, params)?;
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
            let signer = people::authenticate(&ws, &ctx.secrets, &as_)?;
            let b = batch::approve(&ws, &signer, &id, &op)?;
            decided(ctx.json, &b);
        }
        PayoutsCommand::Reject {
            batch: id,
            as_,
            reason,
        } => {
            let signer = people::authenticate(&ws, &ctx.secrets, &as_)?;
            let b = batch::reject(&ws, &signer, &id, &reason, &op)?;
            decided(ctx.json, &b);
        }
        PayoutsCommand::ExportApproval {
            batch: id,
            as_,
            out,
            reject,
        } => {
            let signer = people::authenticate(&ws, &ctx.secrets, &as_)?;
            let file = batch::export_approval(&ws, &signer, &id, reject.as_deref(), &op)?;
            let text = serde_json::to_string_pretty(&file).expect("approval serializes");
            write_new(&out, &text)?;
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
            let bytes = batch::read_approval_file(&file)?;
            let b = batch::import_approval(&ws, &bytes, &op)?;
            decided(ctx.json, &b);
        }
        PayoutsCommand::Execute {
            batch: id,
            as_,
            api_base,
            rate,
        } => {
            let signer = people::authenticate(&ws, &ctx.secrets, &as_)?;
            let key = closebook_engine::stripe::keys::load(
                &ws,
                &ctx.secrets,
                stripe_key_from_env().as_deref(),
            )?;
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
            let report = execute::execute(&ws, &signer, &key, &id, &options, &op, &mut control)?;
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
            let b = batch::load(&ws, &id)?;
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
            let signer = people::authenticate(&ws, &ctx.secrets, &as_)?;
            let lines = (!line.is_empty()).then_some(line.as_slice());
            let done = execute::retry_failed(&ws, &signer, &id, lines, &op)?;
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
            let mut p = batch::settings(&ws)?;
            if fee_bps.is_some() || minimum.is_some() || dual_approval_at.is_some() {
                p.fee_bps = fee_bps.unwrap_or(p.fee_bps);
                p.minimum_minor = minimum.unwrap_or(p.minimum_minor);
                p.dual_approval_at_minor = dual_approval_at.unwrap_or(p.dual_approval_at_minor);
                let by = signer_if_named(&ws, ctx, as_)?;
                batch::set_settings(&ws, by.as_ref(), p, &op)?;
            }
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

fn override_params(
    ws: &Workspace,
    fee_bps: Option<u32>,
    minimum: Option<i64>,
) -> Result<Option<Params>, Failure> {
    if fee_bps.is_none() && minimum.is_none() {
        return Ok(None);
    }
    let mut p = batch::settings(ws)?;
    p.fee_bps = fee_bps.unwrap_or(p.fee_bps);
    p.minimum_minor = minimum.unwrap_or(p.minimum_minor);
    Ok(Some(p))
}

/// Writes a new file whole or not at all (never over an existing one).
fn write_new(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    closebook_engine::files::write_new(path, text.as_bytes())
        .map_err(|e| Failure::from(PayoutError::Io(path.display().to_string(), e.to_string())))
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
