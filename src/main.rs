//! `closebook`: the headless face of the Closebook engine.
//!
//! Conventions: every read command takes `--json` and then prints exactly one JSON document
//! on stdout (amounts as integer minor units with their currency). Exit codes: 0 ok,
//! 1 failure, 2 usage. Errors go to stderr: one line saying what failed and what to do,
//! then detail. Progress of long work goes to stderr.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::{Args, Parser, Subcommand};
use closebook_engine::ingest::postgres::{self, PullOptions};
use closebook_engine::ingest::{self, Format, Kind};
use closebook_engine::secrets::{OsKeychain, SecretStore};
use closebook_engine::workspace::{FreshIdentity, InitOptions, KeySource, Mode, Workspace};
use closebook_engine::{Error, OpContext, demo, generate, ledger};
use jiff::Timestamp;
use serde::Serialize;

mod accounts;
mod payouts;
mod recon;
mod render;
mod reports;
mod webhooks;

#[derive(Parser)]
#[command(
    name = "closebook",
    version,
    about = "Reconcile a Stripe platform's ledger, prepare month-end payouts, hand auditors spreadsheets they can trust."
)]
struct Cli {
    /// The workspace folder.
    #[arg(long, short = 'w', global = true, env = "CLOSEBOOK_WORKSPACE")]
    workspace: Option<PathBuf>,
    /// Keep the database key in this owner-only file instead of the OS keychain.
    #[arg(long, global = true, env = "CLOSEBOOK_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Log detail to stderr (-v info, -vv debug, -vvv trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an encrypted workspace for one company and one Stripe mode.
    Init {
        #[arg(long, default_value = "test", value_parser = ["test", "live"])]
        mode: String,
        /// IANA time zone whose end of day closes each reconciliation day.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// The company's name, as reports will show it.
        #[arg(long)]
        name: Option<String>,
        /// Map a role onto the platform's account (ROLE=ACCOUNT, repeatable), e.g.
        /// --map "stripe_balance=1010 Stripe Balance"; see `closebook accounts map --help`.
        #[arg(long = "map", value_name = "ROLE=ACCOUNT")]
        map: Vec<String>,
    },
    /// The platform's accounts for each role of the booking conventions (show, map).
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// What the workspace is and what it holds.
    Status,
    /// Delete the workspace: its files and every keychain entry it owns (database key,
    /// Stripe key, PostgreSQL password, signing keys). Irreversible.
    #[command(name = "delete-workspace")]
    DeleteWorkspace {
        /// The workspace's id (from `closebook status`), typed out to confirm.
        #[arg(long)]
        confirm: String,
    },
    /// Import a file of the platform's records (all or nothing).
    Import {
        /// ledger, balances, allocations, accounts, webhook_events or withdrawals.
        kind: String,
        file: PathBuf,
        /// csv or jsonl (default: from the file's extension).
        #[arg(long, value_parser = ["csv", "jsonl"])]
        format: Option<String>,
    },
    /// Mirror the platform's records from a source.
    #[command(subcommand)]
    Pull(PullCommand),
    /// Keep the PostgreSQL password in the OS keychain (read from stdin).
    #[command(name = "postgres-password")]
    PostgresPassword {
        /// Remove the stored password instead.
        #[arg(long)]
        forget: bool,
    },
    /// Ledger queries.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Declare a non-money unit (credits) with its exponent.
    DeclareUnit {
        code: String,
        #[arg(long)]
        exponent: u8,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Mirror from a remote source.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// The Stripe mirror: key, status.
    #[command(subcommand)]
    Stripe(StripeCommand),
    /// Stripe's available balance against creator obligations, with its history.
    Coverage {
        /// Change the risk thresholds: low risk at or above this ratio (basis points, 12000 = 120%).
        #[arg(long, requires = "medium_at")]
        low_at: Option<i64>,
        /// Medium risk at or above this ratio (basis points); high below.
        #[arg(long, requires = "low_at")]
        medium_at: Option<i64>,
        /// How many syncs of history to show.
        #[arg(long, default_value_t = 30)]
        history: u32,
    },
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Reconcile the ledger with Stripe at the end of a day (saved as an immutable snapshot),
    /// or every day missing since the last (`--catch-up`, for a daily schedule).
    Snapshot {
        /// The day (YYYY-MM-DD, in the workspace's time zone).
        #[arg(long, conflicts_with_all = ["catch_up", "list"])]
        date: Option<String>,
        /// Show the result without saving it.
        #[arg(long, requires = "date")]
        dry_run: bool,
        /// Reconcile every day since the last reconciled one, up to yesterday.
        #[arg(long, conflicts_with = "list")]
        catch_up: bool,
        /// The reconciled days with their status.
        #[arg(long)]
        list: bool,
    },
    /// Webhook health: per day and event type, what Stripe sent and what the platform's
    /// webhook table recorded, processed, failed or lacks.
    Webhooks {
        /// First day (YYYY-MM-DD; default 29 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// Last day (default today, in the workspace's time zone).
        #[arg(long)]
        to: Option<String>,
    },
    /// What reconciliation found: list, show, resolve, export adjustments.
    #[command(subcommand)]
    Exceptions(recon::ExceptionsCommand),
    /// The matching rules reconciliation applies, in priority order (show, or change).
    MatchRules {
        /// Comma-separated, in priority order: exact_reference,amount_date,one_to_many (`none` for none).
        #[arg(long, value_delimiter = ',')]
        order: Option<Vec<String>>,
        /// Largest net difference the amount and one-to-many rules accept, in minor units.
        #[arg(long)]
        tolerance: Option<i64>,
        /// Largest distance in days between the two sides' dates.
        #[arg(long)]
        window_days: Option<u32>,
    },
    /// The roster: the people who prepare, approve, audit and administer payouts.
    #[command(subcommand)]
    People(payouts::PeopleCommand),
    /// Month-end payout batches: prepare, show, approve, execute.
    #[command(subcommand)]
    Payouts(payouts::PayoutsCommand),
    /// Reports for auditors (XLSX or CSV with a manifest) and the ledger as a journal.
    #[command(subcommand)]
    Export(reports::ExportCommand),
    /// Check an export folder against its manifest (and, with --workspace, the audit log).
    VerifyExport { dir: PathBuf },
    /// Create (or reopen) the demo workspace from the embedded fixtures and show what it holds.
    Demo,
    /// Write a synthetic platform's files (deterministic for a given seed).
    Generate {
        #[arg(long)]
        out: PathBuf,
        /// The demo platform of fixtures/demo instead of a scaled one.
        #[arg(long)]
        demo: bool,
        /// Roughly how many ledger postings.
        #[arg(long, default_value_t = 10_000)]
        postings: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Mirror Stripe's balance, balance transactions, payouts, transfers, charges, refunds,
    /// disputes, connected accounts and events (incremental, resumable, rate-limited).
    Stripe {
        /// The API's base URL (the Stripe simulator's, for tests and the demo).
        #[arg(long, env = "CLOSEBOOK_STRIPE_API_BASE", default_value = closebook_engine::stripe::STRIPE_API_BASE)]
        api_base: String,
        /// First sync only: start this far back (YYYY-MM-DD); default 31 days before the ledger's first posting.
        #[arg(long)]
        since: Option<String>,
        /// Re-sync every object created from this date…
        #[arg(long, requires = "resync_to")]
        resync_from: Option<String>,
        /// …to this date (inclusive).
        #[arg(long, requires = "resync_from")]
        resync_to: Option<String>,
        /// Requests per second the client allows itself (default 20 in test mode, 80 live).
        #[arg(long)]
        rate: Option<u32>,
        /// Windows fetched at once (default 12).
        #[arg(long)]
        concurrency: Option<usize>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Prove the chain intact, or name the first broken record (exit code 1).
    Verify,
    /// The records, newest first.
    Log {
        /// Only actions starting with this (import., stripe., workspace.).
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        /// Words of the summary.
        #[arg(long)]
        text: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Records before this sequence number (the next page).
        #[arg(long)]
        before: Option<i64>,
    },
}

#[derive(Subcommand)]
enum StripeCommand {
    /// Keep the workspace's Stripe key in the OS keychain (read from stdin).
    SetKey,
    /// Remove the stored Stripe key.
    ForgetKey,
    /// What the Stripe mirror holds: objects per type, cursors, the last syncs.
    Status,
}

#[derive(Subcommand)]
enum PullCommand {
    /// From the platform's PostgreSQL database (read-only, incremental, resumable).
    Postgres {
        /// postgres://user@host:port/db (default: the URL of the last pull, or PGHOST/PGUSER/PGDATABASE/PGPORT).
        /// A password here is used once and never stored; prefer PGPASSWORD or `closebook postgres-password`.
        #[arg(long)]
        url: Option<String>,
        /// Rows per page.
        #[arg(long, default_value_t = postgres::DEFAULT_PAGE_SIZE)]
        page_size: i64,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Balances per account and currency, rolled up the account tree.
    Balances {
        #[command(flatten)]
        as_of: AsOf,
        /// Only this account and those below it.
        #[arg(long)]
        account: Option<String>,
        /// Leaf accounts only, no roll-up.
        #[arg(long)]
        flat: bool,
    },
    /// Debits and credits per account, with totals per currency.
    TrialBalance {
        #[command(flatten)]
        as_of: AsOf,
    },
    /// Postings, filtered, in time order.
    Entries {
        #[arg(long)]
        account: Option<String>,
        /// From this date (YYYY-MM-DD, start of day in the workspace's time zone) or instant.
        #[arg(long)]
        from: Option<String>,
        /// Up to this date (inclusive, end of day) or instant.
        #[arg(long)]
        to: Option<String>,
        #[arg(long = "type")]
        entry_type: Option<String>,
        #[arg(long)]
        entry: Option<String>,
        #[arg(long)]
        stripe_id: Option<String>,
        #[arg(long)]
        text: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this cursor (printed at the end of a page).
        #[arg(long)]
        after: Option<String>,
    },
    /// Opening balance, postings with running balance, closing balance of an account.
    GeneralLedger {
        #[arg(long)]
        account: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = ledger::MAX_PAGE)]
        limit: u32,
    },
}

#[derive(Args)]
struct AsOf {
    /// Balances at the end of this date (YYYY-MM-DD, workspace time zone) or at this RFC 3339 instant.
    #[arg(long)]
    as_of: Option<String>,
}

/// A failure with the exit code it deserves.
enum Failure {
    Usage(String),
    Engine(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Engine(e)
    }
}

macro_rules! engine_from {
    ($($t:ty),*) => {$(impl From<$t> for Failure { fn from(e: $t) -> Failure { Failure::Engine(e.into()) } })*};
}
engine_from!(
    closebook_engine::workspace::WorkspaceError,
    closebook_engine::ingest::ImportError,
    closebook_engine::ingest::postgres::PullError,
    closebook_engine::ledger::LedgerError,
    closebook_engine::secrets::SecretError,
    closebook_engine::payouts::PayoutError,
    closebook_engine::reconcile::ReconcileError,
    closebook_engine::reports::ReportError,
    closebook_engine::accounts::AccountsError,
    closebook_engine::stripe::StripeError,
    closebook_engine::money::MoneyError,
    closebook_engine::audit::AuditError
);

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
        Ok(Workspace::open(self.dir()?, &self.key, &self.secrets)?)
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
            let unit = ws.declare_unit(&code, exponent, &description, &ctx.op())?;
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

fn cmd_init(
    ctx: &Ctx,
    mode: &str,
    timezone: &str,
    name: Option<String>,
    map: &[String],
) -> Result<(), Failure> {
    use closebook_engine::accounts;
    let dir = ctx.dir()?;
    let mode = Mode::parse(mode)
        .ok_or_else(|| Failure::Usage(format!("--mode must be test or live, not {mode}")))?;
    // The map is checked before anything is created: a bad one leaves no workspace behind.
    let changes = map
        .iter()
        .map(|m| accounts::parse_assignment(m))
        .collect::<Result<Vec<_>, _>>()?;
    accounts::apply(&accounts::RoleMap::default(), &changes)?;
    let name = name.unwrap_or_else(|| {
        dir.file_name()
            .map_or("Workspace".into(), |n| n.to_string_lossy().into_owned())
    });
    let ws = Workspace::init(
        dir,
        InitOptions {
            name,
            mode,
            timezone: timezone.to_string(),
            demo: false,
        },
        &ctx.key,
        &ctx.secrets,
        FreshIdentity::generate()?,
        &ctx.op(),
    )?;
    if !changes.is_empty() {
        accounts::set(&ws, None, &changes, &ctx.op())?;
    }
    if ctx.json {
        print_json(ws.info());
    } else {
        let info = ws.info();
        println!(
            "Created workspace \"{}\" at {} ({} mode, time zone {}).",
            info.name,
            dir.display(),
            info.mode.as_str(),
            info.timezone
        );
        println!("Its database key is in {}.", ctx.key.describe(&ctx.secrets));
        println!(
            "Next: closebook -w {} import ledger FILE   or   closebook -w {} pull postgres --url URL",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

fn cmd_status(ctx: &Ctx) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let summary = ledger::summary(&ws)?;
    let recent = closebook_engine::audit::recent(ws.connection(), 5)?;
    if ctx.json {
        print_json(
            &serde_json::json!({"workspace": ws.info(), "mirror": summary, "recent_activity": recent}),
        );
    } else {
        render::workspace_header(&ws);
        render::summary(&ws, &summary);
        println!();
        println!("Recent activity:");
        for r in recent {
            println!(
                "  #{:<4} {}  {:<16} {}  ({})",
                r.seq,
                render::local_time(&ws, r.at),
                r.action,
                r.summary,
                r.actor
            );
        }
    }
    Ok(())
}

fn cmd_import(
    ctx: &Ctx,
    kind: &str,
    file: &std::path::Path,
    format: Option<&str>,
) -> Result<(), Failure> {
    let kind = Kind::parse(kind).ok_or_else(|| {
        Failure::Usage(format!(
            "unknown import kind `{kind}`; use one of {}",
            Kind::ALL
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let format = format
        .map(|f| {
            Format::parse(f)
                .ok_or_else(|| Failure::Usage(format!("--format is csv or jsonl, not {f}")))
        })
        .transpose()?;
    let mut ws = ctx.open()?;
    let cancel = AtomicBool::new(false);
    let show = !ctx.json || std::io::stderr().is_terminal();
    let mut progress = |p: ingest::ImportProgress| {
        if show {
            let stage = match p.stage {
                ingest::ImportStage::Reading => "read",
                ingest::ImportStage::Writing => "written",
            };
            match p.total {
                Some(t) => eprintln!("import: {} of {t} rows {stage}", p.rows),
                None => eprintln!("import: {} rows {stage}", p.rows),
            }
        }
    };
    let mut control = ingest::Control {
        progress: &mut progress,
        cancel: &cancel,
    };
    let report = ingest::import_file_with(&mut ws, kind, file, format, &ctx.op(), &mut control)?;
    if ctx.json {
        print_json(&report);
    } else if let Some(previous) = report.already_imported_as {
        println!(
            "{} was already imported (import #{previous}); nothing changed.",
            file.display()
        );
    } else {
        println!(
            "Imported {} ({}): {} rows read, {} added, {} updated, {} already present.",
            file.display(),
            kind,
            report.rows_read,
            report.rows_added,
            report.rows_updated,
            report.rows_unchanged
        );
        for gap in &report.role_gaps {
            println!("warning: {}", gap.message);
        }
    }
    Ok(())
}

fn cmd_delete_workspace(ctx: &Ctx, confirm: &str) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let info = ws.info().clone();
    if confirm != info.id {
        return Err(Failure::Usage(format!(
            "--confirm must be this workspace's id ({}): nothing was deleted",
            info.id
        )));
    }
    ws.destroy(&ctx.key, &ctx.secrets)?;
    if ctx.json {
        print_json(&serde_json::json!({ "deleted": info.id, "path": info.path }));
    } else {
        println!(
            "Deleted workspace {} ({}) at {} and its entries in {}.",
            info.name,
            info.id,
            info.path.display(),
            ctx.secrets.describe()
        );
    }
    Ok(())
}

fn postgres_password_entry(ws_id: &str) -> String {
    closebook_engine::secrets::entries::postgres_password(ws_id)
}

fn cmd_postgres_password(ctx: &Ctx, forget: bool) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let name = postgres_password_entry(&ws.info().id);
    if forget {
        ctx.secrets.delete(&name)?;
        println!(
            "Removed the PostgreSQL password from {}.",
            ctx.secrets.describe()
        );
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        eprintln!("Type the PostgreSQL password and press Enter (it is not echoed to any log):");
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        Failure::Engine(Error::InvalidInput(format!(
            "cannot read the password from stdin: {e}"
        )))
    })?;
    let password = text.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(Failure::Usage("no password on stdin".into()));
    }
    ctx.secrets.set(&name, password)?;
    println!(
        "Stored the PostgreSQL password in {}.",
        ctx.secrets.describe()
    );
    Ok(())
}

/// A libpq-style URL from the usual PG environment variables.
fn url_from_pg_env() -> Option<String> {
    let host = std::env::var("PGHOST").ok()?;
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "postgres".into());
    let db = std::env::var("PGDATABASE").unwrap_or_else(|_| user.clone());
    Some(format!("host={host} port={port} user={user} dbname={db}"))
}

fn cmd_pull_postgres(ctx: &Ctx, url: Option<String>, page_size: i64) -> Result<(), Failure> {
    let mut ws = ctx.open()?;
    let stored: Option<String> = ws
        .connection()
        .query_row(
            "SELECT value FROM workspace_meta WHERE key = 'postgres_url'",
            [],
            |r| r.get(0),
        )
        .ok();
    let url = url.or(stored).or_else(url_from_pg_env).ok_or_else(|| {
        Failure::Usage("no PostgreSQL source: pass --url postgres://user@host/db (or set PGHOST, PGUSER, PGDATABASE)".into())
    })?;
    if !(1..=100_000).contains(&page_size) {
        return Err(Failure::Usage(
            "--page-size must be between 1 and 100000".into(),
        ));
    }
    let password = match std::env::var("PGPASSWORD") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => ctx
            .secrets
            .get(&postgres_password_entry(&ws.info().id))
            .unwrap_or(None),
    };
    let mut options = PullOptions::new(url, password);
    options.page_size = page_size;
    let cancel = AtomicBool::new(false);
    let show = !ctx.json || std::io::stderr().is_terminal();
    let mut last = String::new();
    let report = postgres::pull(&mut ws, &options, &ctx.op(), &cancel, &mut |p| {
        if show && p.table != last {
            last = p.table.to_string();
        }
        if show {
            eprintln!("pull: {} — page {}, {} rows read", p.table, p.pages, p.rows);
        }
    })?;
    if ctx.json {
        print_json(&report);
    } else {
        println!("Pulled from {}:", report.source);
        for t in &report.tables {
            println!(
                "  {:<26} {:>9} read {:>9} added {:>9} updated {:>9} unchanged",
                t.table, t.rows_read, t.added, t.updated, t.unchanged
            );
        }
        if report.holes_open > 0 {
            println!(
                "  {} wallet_ledger id(s) skipped by the platform are watched in case a late transaction fills them.",
                report.holes_open
            );
        }
    }
    Ok(())
}

pub(crate) fn stripe_key_from_env() -> Option<String> {
    std::env::var("STRIPE_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
}

fn cmd_sync_stripe(
    ctx: &Ctx,
    api_base: &str,
    since: Option<&str>,
    resync: Option<(&str, &str)>,
    rate: Option<u32>,
    concurrency: Option<usize>,
) -> Result<(), Failure> {
    use closebook_engine::stripe::{self, SyncControl, SyncOptions};
    let mut ws = ctx.open()?;
    let key = stripe::keys::load(&ws, &ctx.secrets, stripe_key_from_env().as_deref())?;
    let mut options = SyncOptions::new(api_base, ws.info().mode.is_live());
    if let Some(s) = since {
        options.since = Some(parse_when(&ws, s, false)?);
    }
    if let Some((from, to)) = resync {
        options.resync = Some((
            parse_when(&ws, from, false)?,
            parse_when(&ws, to, true)? + jiff::SignedDuration::from_micros(1),
        ));
    }
    if let Some(r) = rate {
        if !(1..=100).contains(&r) {
            return Err(Failure::Usage(
                "--rate must be 1 to 100 requests per second".into(),
            ));
        }
        options.limits.requests_per_second = r;
    }
    if let Some(c) = concurrency {
        if !(1..=64).contains(&c) {
            return Err(Failure::Usage("--concurrency must be 1 to 64".into()));
        }
        options.limits.concurrency = c;
    }
    let cancel = AtomicBool::new(false);
    let mut last_errors = 0usize;
    let mut progress = |p: &stripe::SyncProgress| {
        eprintln!(
            "sync: {} — {} pages, {} objects, {} requests ({}/s), {} retries, windows {}/{}",
            p.phase,
            p.pages,
            p.objects,
            p.requests,
            p.requests_per_second,
            p.retries,
            p.windows_done,
            p.windows_total
        );
        for e in p.recent_errors.iter().skip(last_errors) {
            eprintln!("sync:   {e}");
        }
        last_errors = p.recent_errors.len();
    };
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let report = stripe::sync(&mut ws, &key, &options, &ctx.op(), &mut control)?;
    if ctx.json {
        print_json(&report);
        return Ok(());
    }
    println!(
        "Synced Stripe{} in {} ms: {} pages, {} requests, {} retries.",
        if report.resumed {
            " (continued an interrupted sync)"
        } else {
            ""
        },
        report.elapsed_ms,
        report.pages,
        report.requests,
        report.retries
    );
    for c in &report.counts {
        println!(
            "  {:<20} {:>8} added {:>8} changed {:>8} unchanged",
            c.object_type, c.added, c.changed, c.unchanged
        );
    }
    render::stripe_balance(&ws, &report.balance);
    render::coverage(&ws, &report.coverage);
    Ok(())
}

fn cmd_stripe(ctx: &Ctx, cmd: StripeCommand) -> Result<(), Failure> {
    use closebook_engine::stripe;
    let ws = ctx.open()?;
    match cmd {
        StripeCommand::SetKey => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::Usage(format!("cannot read the key from stdin: {e}")))?;
            let key = stripe::keys::store(&ws, &ctx.secrets, &text, &ctx.op())?;
            println!(
                "Stored the {} key in the OS keychain for this workspace{}.",
                key.kind_prefix(),
                if key.is_restricted() {
                    " (restricted)"
                } else {
                    ""
                }
            );
        }
        StripeCommand::ForgetKey => {
            stripe::keys::forget(&ws, &ctx.secrets, &ctx.op())?;
            println!("Removed this workspace's Stripe key from the OS keychain.");
        }
        StripeCommand::Status => {
            let status = stripe::status::status(&ws, 10)?;
            let source = stripe::keys::source(
                &ws.info().id,
                &ctx.secrets,
                stripe_key_from_env().as_deref(),
            );
            if ctx.json {
                print_json(
                    &serde_json::json!({"key": source.kind(), "key_source": source, "mirror": status}),
                );
            } else {
                render::stripe_status(&ws, &status, &source);
            }
        }
    }
    Ok(())
}

fn cmd_audit(ctx: &Ctx, cmd: AuditCommand) -> Result<(), Failure> {
    use closebook_engine::audit;
    let ws = ctx.open()?;
    match cmd {
        AuditCommand::Verify => {
            let v = audit::verify(ws.connection())?;
            if let Some(b) = v.broken {
                return Err(Failure::from(audit::AuditError::Broken {
                    seq: b.seq,
                    reason: b.reason,
                }));
            }
            let totals = ledger::prove_totals(&ws)?;
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
            let records = audit::list(
                ws.connection(),
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

fn cmd_coverage(ctx: &Ctx, set: Option<(i64, i64)>, history: u32) -> Result<(), Failure> {
    use closebook_engine::stripe::coverage;
    let ws = ctx.open()?;
    if let Some((low, medium)) = set {
        coverage::set_thresholds(
            &ws,
            coverage::Thresholds {
                low_min_bps: low,
                medium_min_bps: medium,
            },
            &ctx.op(),
        )?;
    }
    let thresholds = coverage::thresholds(&ws)?;
    let lines = coverage::history(&ws, history)?;
    if ctx.json {
        print_json(&serde_json::json!({"thresholds": thresholds, "history": lines}));
        return Ok(());
    }
    println!(
        "Risk: low at or above {}, medium at or above {}, high below (available ÷ obligations).",
        render::bps(thresholds.low_min_bps),
        render::bps(thresholds.medium_min_bps)
    );
    if lines.is_empty() {
        println!("No coverage recorded yet: it is computed at each `closebook sync stripe`.");
    } else {
        render::coverage(&ws, &lines);
    }
    Ok(())
}

/// Parses `--as-of` / `--from` / `--to`: a date means a whole day in the workspace's time
/// zone (its start for `from`, its end for `to` and `as_of`); otherwise an RFC 3339 instant.
fn parse_when(ws: &Workspace, text: &str, end_of_day: bool) -> Result<Timestamp, Failure> {
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

fn cmd_ledger(ctx: &Ctx, cmd: LedgerCommand) -> Result<(), Failure> {
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

/// Syncs the demo workspace with the Stripe simulator serving the demo's Stripe side.
fn demo_stripe_sync(
    ws: &mut Workspace,
    ctx: &Ctx,
) -> Result<closebook_engine::stripe::SyncReport, Failure> {
    use closebook_engine::stripe::{self, StripeKey, SyncControl};
    use closebook_stripe_sim::{Dataset, SimConfig, Simulator};
    let dataset = Dataset::demo();
    // The simulator's clock at the demo's last activity, as the desktop's demo: Stripe keeps
    // events for 30 days, and the demo's month is October 2026.
    let now = dataset.suggested_now();
    let sim = Simulator::spawn_thread(dataset, SimConfig::test().with_now(now)).map_err(|e| {
        Failure::Engine(Error::InvalidInput(format!(
            "cannot start the demo's Stripe simulator: {e}"
        )))
    })?;
    let key = StripeKey::parse(closebook_stripe_sim::DEFAULT_TEST_KEY)?;
    let options = demo::sync_options(&sim.url());
    let cancel = AtomicBool::new(false);
    let mut progress = |_: &stripe::SyncProgress| {};
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let report = stripe::sync(ws, &key, &options, &ctx.op(), &mut control).map_err(Error::from);
    sim.shutdown();
    Ok(report?)
}

fn default_demo_dir() -> Result<PathBuf, Failure> {
    directories::ProjectDirs::from("app", "Closebook", "Closebook")
        .map(|d| d.data_dir().join("demo"))
        .ok_or_else(|| {
            Failure::Usage("cannot find a data folder for the demo: pass --workspace PATH".into())
        })
}

fn cmd_demo(ctx: &Ctx) -> Result<(), Failure> {
    let dir = match &ctx.workspace {
        Some(d) => d.clone(),
        None => default_demo_dir()?,
    };
    if !ctx.json {
        eprintln!("demo: opening {} …", dir.display());
    }
    let (mut ws, outcome) = demo::open_or_create(&dir, &ctx.key, &ctx.secrets, &ctx.op())?;
    // Stripe's side of the demo comes from the Stripe simulator on a loopback port.
    if !ctx.json {
        eprintln!("demo: syncing with the demo's Stripe (the simulator on loopback) …");
    }
    let sync = demo_stripe_sync(&mut ws, ctx)?;
    let summary = ledger::summary(&ws)?;
    let tree = ledger::account_tree(&ledger::balances(&ws, None, None)?)?;
    let anomalies: serde_json::Value = serde_json::from_slice(demo::ANOMALIES).unwrap_or_default();
    if ctx.json {
        print_json(&serde_json::json!({
            "workspace": ws.info(),
            "created": outcome.created,
            "rebuilt": outcome.rebuilt,
            "imports": outcome.imports,
            "mirror": summary,
            "stripe": sync,
            "accounts": tree.iter().filter(|n| n.depth <= 1).collect::<Vec<_>>(),
            "planted_anomalies": anomalies,
        }));
        return Ok(());
    }
    if outcome.rebuilt {
        println!(
            "The demo workspace's key was gone (a fresh keychain?), so it was rebuilt from the fixtures."
        );
    }
    println!(
        "{} the demo workspace.",
        if outcome.created {
            "Created"
        } else {
            "Reopened"
        }
    );
    render::workspace_header(&ws);
    render::summary(&ws, &summary);
    println!();
    println!("Account tree (top two levels), all time:");
    let top: Vec<ledger::TreeNode> = tree.into_iter().filter(|n| n.depth <= 1).collect();
    render::tree(&top);
    let tb = ledger::trial_balance(&ws, None)?;
    for t in &tb.totals {
        println!(
            "Trial balance {}: debits {} = credits {} — balanced.",
            t.currency.to_uppercase(),
            t.debits.money(),
            t.credits.money()
        );
    }
    println!();
    println!(
        "Stripe (the demo's simulator): {} pages in {} ms, {} objects new, {} changed.",
        sync.pages,
        sync.elapsed_ms,
        sync.counts.iter().map(|c| c.added).sum::<u64>(),
        sync.counts.iter().map(|c| c.changed).sum::<u64>()
    );
    render::stripe_balance(&ws, &sync.balance);
    render::coverage(&ws, &sync.coverage);
    if let Some(list) = anomalies.as_array() {
        println!();
        println!(
            "The demo hides {} deliberate inconsistencies for reconciliation to find (fixtures/demo/README.md).",
            list.len()
        );
    }
    println!();
    println!(
        "Try:  closebook -w {} ledger balances --account assets",
        dir.display()
    );
    println!(
        "      closebook -w {} ledger entries --account liabilities:creators --limit 20",
        dir.display()
    );
    Ok(())
}
