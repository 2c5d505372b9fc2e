//! `closebook`: the headless face of the Closebook engine.
//!
//! Conventions: every read command takes `--json` and then prints exactly one JSON document
//! on stdout (amounts as integer minor units with their currency). Exit codes: 0 ok,
//! 1 failure, 2 usage. Errors go to stderr: one line saying what failed and what to do,
//! then detail. Progress of long work goes to stderr.
//!
//! Here: the entry point, failures and their exit codes, the context every command gets,
//! and the dispatch. `args` is the command line; each area's commands are a file of their own.

mod accounts;
mod args;
mod audit_cmds;
mod demo_cmd;
mod identity_cmds;
mod imports;
mod ledger_cmds;
mod payouts;
mod recon;
mod render;
mod reports;
mod setup;
mod stripe_cmds;
mod webhooks;

use args::*;
use audit_cmds::*;
use demo_cmd::*;
use imports::*;
use ledger_cmds::*;
use setup::*;
use stripe_cmds::*;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use closebook_app::api;
use closebook_engine::ingest::{self, postgres};
use closebook_engine::secrets::OsKeychain;
use closebook_engine::workspace::{KeySource, Workspace};
use closebook_engine::{Error, OpContext};
use closebook_generate as generate;
use jiff::Timestamp;
use serde::Serialize;

/// A failure with the exit code it deserves.
enum Failure {
    Usage(String),
    Engine(Error),
}

/// An argument the API refused (`Error::InvalidInput`: a kind, a mode, a confirmation):
/// a usage error, exit 2; anything else fails as the engine's error.
fn usage(e: Error) -> Failure {
    match e {
        Error::InvalidInput(m) => Failure::Usage(m),
        e => Failure::Engine(e),
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Engine(e)
    }
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            eprintln!("Run `closebook --help` for usage.");
            ExitCode::from(2)
        }
        Err(Failure::Engine(e)) => {
            report_error(&e, json);
            ExitCode::from(1)
        }
    }
}

/// Rust ignores SIGPIPE, so `closebook ... | head` would panic on a closed pipe. A
/// command-line tool should simply stop, as every Unix tool does.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLOSEBOOK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn report_error(e: &Error, json: bool) {
    let problems = match e {
        Error::Import(ingest::ImportError::Rejected { problems, .. })
        | Error::Pull(postgres::PullError::Rejected { problems, .. }) => problems.as_slice(),
        _ => &[],
    };
    eprintln!("error: {}", e.message());
    for p in problems {
        eprintln!("  {p}");
    }
    if json {
        let doc = serde_json::json!({"error": {"code": e.code(), "message": e.message(), "problems": problems}});
        println!("{doc}");
    }
}

fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("output serializes")
    );
}

struct Ctx {
    workspace: Option<PathBuf>,
    key: KeySource,
    secrets: OsKeychain,
    json: bool,
    /// The clock: the wall clock, or `CLOSEBOOK_NOW` (an RFC 3339 instant) so that a run
    /// replays exactly (the golden tests of the `--json` output use it).
    now: Timestamp,
}

impl Ctx {
    fn dir(&self) -> Result<&PathBuf, Failure> {
        self.workspace.as_ref().ok_or_else(|| {
            Failure::Usage(
                "no workspace given: pass --workspace PATH or set CLOSEBOOK_WORKSPACE".into(),
            )
        })
    }

    fn open(&self) -> Result<Workspace, Failure> {
        Ok(api::workspace::open(self.dir()?, &self.key, &self.secrets)?)
    }

    fn op(&self) -> OpContext {
        OpContext::os_user(self.now)
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let now = match std::env::var("CLOSEBOOK_NOW") {
        Ok(s) => s.trim().parse::<Timestamp>().map_err(|e| {
            Failure::Usage(format!(
                "CLOSEBOOK_NOW=`{s}` is not an instant ({e}): use RFC 3339, e.g. 2026-11-03T12:00:00Z"
            ))
        })?,
        Err(_) => Timestamp::now(),
    };
    let ctx = Ctx {
        workspace: cli.workspace,
        key: cli.key_file.map_or(KeySource::Keychain, KeySource::File),
        secrets: OsKeychain,
        json: cli.json,
        now,
    };
    match cli.command {
        Command::Init {
            mode,
            timezone,
            name,
            map,
        } => cmd_init(&ctx, &mode, &timezone, name, &map),
        Command::Accounts(cmd) => accounts::cmd_accounts(&ctx, cmd),
        Command::Status => cmd_status(&ctx),
        Command::DeleteWorkspace { confirm } => cmd_delete_workspace(&ctx, &confirm),
        Command::Import { kind, file, format } => cmd_import(&ctx, &kind, &file, format.as_deref()),
        Command::Pull(PullCommand::Postgres { url, page_size }) => {
            cmd_pull_postgres(&ctx, url, page_size)
        }
        Command::PostgresPassword { forget } => cmd_postgres_password(&ctx, forget),
        Command::Ledger(cmd) => cmd_ledger(&ctx, cmd),
        Command::DeclareUnit {
            code,
            exponent,
            description,
        } => {
            let mut ws = ctx.open()?;
            let unit =
                api::workspace::declare_unit(&mut ws, &code, exponent, &description, &ctx.op())?;
            if ctx.json {
                print_json(&serde_json::json!({"code": unit.code(), "exponent": unit.exponent()}));
            } else {
                println!(
                    "Declared unit {} with exponent {}.",
                    unit.code(),
                    unit.exponent()
                );
            }
            Ok(())
        }
        Command::Demo => cmd_demo(&ctx),
        Command::Sync(SyncCommand::Stripe {
            api_base,
            since,
            resync_from,
            resync_to,
            rate,
            concurrency,
        }) => cmd_sync_stripe(
            &ctx,
            &api_base,
            since.as_deref(),
            resync_from.as_deref().zip(resync_to.as_deref()),
            rate,
            concurrency,
        ),
        Command::Stripe(cmd) => cmd_stripe(&ctx, cmd),
        Command::Audit(cmd) => cmd_audit(&ctx, cmd),
        Command::Snapshot {
            date,
            dry_run,
            catch_up,
            list,
        } => recon::cmd_snapshot(&ctx, date, dry_run, catch_up, list),
        Command::Exceptions(cmd) => recon::cmd_exceptions(&ctx, cmd),
        Command::Webhooks { from, to } => webhooks::cmd_webhooks(&ctx, from, to),
        Command::People(cmd) => payouts::cmd_people(&ctx, cmd),
        Command::Identity(cmd) => identity_cmds::cmd_identity(&ctx, cmd),
        Command::Export(cmd) => reports::cmd_export(&ctx, cmd),
        Command::VerifyExport { dir } => reports::cmd_verify_export(&ctx, dir),
        Command::Payouts(cmd) => payouts::cmd_payouts(&ctx, cmd),
        Command::MatchRules {
            order,
            tolerance,
            window_days,
        } => recon::cmd_match_rules(&ctx, order, tolerance, window_days),
        Command::Coverage {
            low_at,
            medium_at,
            history,
        } => cmd_coverage(&ctx, low_at.zip(medium_at), history),
        Command::Generate {
            out,
            demo,
            postings,
            seed,
        } => {
            let spec = if demo {
                generate::PlatformSpec::demo()
            } else {
                generate::PlatformSpec::scale(postings, seed)
            };
            let platform = generate::generate(&spec);
            generate::write_files(&platform, &out).map_err(|e| {
                Failure::Engine(Error::InvalidInput(format!(
                    "cannot write {}: {e}",
                    out.display()
                )))
            })?;
            if ctx.json {
                print_json(
                    &serde_json::json!({"out": out, "postings": platform.ledger.len(), "allocations": platform.allocations.len(), "stripe_transactions": platform.stripe.len()}),
                );
            } else {
                println!(
                    "Wrote {} ledger postings, {} allocations, {} Stripe balance transactions to {}.",
                    platform.ledger.len(),
                    platform.allocations.len(),
                    platform.stripe.len(),
                    out.display()
                );
            }
            Ok(())
        }
    }
}
