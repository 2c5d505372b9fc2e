//! The command line: every command, subcommand and option (clap), with its help.

use super::*;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use closebook_engine::ingest::postgres::{self};
use closebook_engine::ledger;

#[derive(Parser)]
#[command(
    name = "closebook",
    version,
    about = "Reconcile a Stripe platform's ledger, prepare month-end payouts, hand auditors spreadsheets they can trust."
)]
pub(super) struct Cli {
    /// The workspace folder.
    #[arg(long, short = 'w', global = true, env = "CLOSEBOOK_WORKSPACE")]
    pub(super) workspace: Option<PathBuf>,
    /// Keep the database key in this owner-only file instead of the OS keychain.
    #[arg(long, global = true, env = "CLOSEBOOK_KEY_FILE")]
    pub(super) key_file: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub(super) json: bool,
    /// Log detail to stderr (-v info, -vv debug, -vvv trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub(super) verbose: u8,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand)]
pub(super) enum Command {
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
    /// Your identities on this device: made here, their private keys never leave it.
    #[command(subcommand)]
    Identity(identity_cmds::IdentityCommand),
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
pub(super) enum SyncCommand {
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
pub(super) enum AuditCommand {
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
pub(super) enum StripeCommand {
    /// Keep the workspace's Stripe key in the OS keychain (read from stdin).
    SetKey,
    /// Remove the stored Stripe key.
    ForgetKey,
    /// What the Stripe mirror holds: objects per type, cursors, the last syncs.
    Status,
}

#[derive(Subcommand)]
pub(super) enum PullCommand {
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
pub(super) enum LedgerCommand {
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
pub(super) struct AsOf {
    /// Balances at the end of this date (YYYY-MM-DD, workspace time zone) or at this RFC 3339 instant.
    #[arg(long)]
    pub(super) as_of: Option<String>,
}
