//! Transport types: what crosses the IPC boundary to the UI, and nothing else.
//!
//! Every type here derives `ts_rs::TS`; `ui/src/lib/bindings.ts` is generated from them
//! (`cargo test -p closebook-app`, see `bindings.rs`), never written by hand. Amounts arrive
//! formatted by the engine in their currency's own decimals, times both in the workspace's
//! time zone and in UTC: the UI computes nothing the engine should compute.
//!
//! Integers that can exceed 2^53 (minor units) travel as decimal strings; counts travel as
//! numbers.

use closebook_engine::ingest::{ImportReport, Kind, Problem};
use closebook_engine::ledger::{Amount, MirrorSummary, Posting, TreeNode};
use closebook_engine::money::Money;
use closebook_engine::workspace::WorkspaceInfo;
use closebook_engine::{Error, ErrorCode, Workspace};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// An amount: exact minor units (as a string, so no JavaScript number rounds it), the
/// currency, and the engine's own rendering in the currency's decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AmountView {
    /// Integer minor units, e.g. "-123456" for -1,234.56 USD.
    pub minor: String,
    /// Upper-case code: "USD", "JPY", or a declared unit such as "AI_CREDIT".
    pub currency: String,
    pub exponent: u8,
    /// Grouped, with the currency's decimals and a leading minus: "-1,234.56".
    pub formatted: String,
    pub negative: bool,
    pub zero: bool,
}

/// An amount as a person typed it, in `unit`: read by the engine's one parser
/// ([`Money::parse`]), its refusal said with what the amount is for.
pub(crate) fn typed_amount(
    typed: &str,
    unit: closebook_engine::money::Unit,
    what: &str,
) -> Result<i64, CommandError> {
    Money::parse(typed, unit).map(|m| m.minor()).map_err(|e| {
        CommandError::new(
            closebook_engine::ErrorCode::InvalidInput,
            format!("{what}: {e}"),
        )
    })
}

impl From<Money> for AmountView {
    fn from(m: Money) -> AmountView {
        AmountView {
            minor: m.minor().to_string(),
            currency: m.unit().display_code(),
            exponent: m.unit().exponent(),
            formatted: m.format_number(),
            negative: m.minor() < 0,
            zero: m.minor() == 0,
        }
    }
}

impl From<Amount> for AmountView {
    fn from(a: Amount) -> AmountView {
        a.money().into()
    }
}

pub(crate) fn amounts(list: &[Amount]) -> Vec<AmountView> {
    list.iter().copied().map(AmountView::from).collect()
}

/// An instant, shown in the workspace's time zone, with UTC for the tooltip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TimeView {
    /// "2026-10-31 14:03:22 EDT"
    pub local: String,
    /// "2026-10-31" in the workspace's time zone.
    pub date: String,
    /// RFC 3339 in UTC: "2026-10-31T18:03:22Z"
    pub utc: String,
}

impl TimeView {
    pub fn new(ws: &Workspace, t: Timestamp) -> TimeView {
        let zoned = t.to_zoned(ws.time_zone().clone());
        TimeView {
            local: zoned.strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
            date: zoned.date().to_string(),
            utc: t.to_string(),
        }
    }
}

/// What went wrong, for the UI to branch on `code` (a closed set) and show `message`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandError {
    #[ts(type = "ErrorCode")]
    pub code: ErrorCode,
    pub message: String,
    /// For a rejected import: every problem with its file, line and column.
    pub problems: Vec<ProblemView>,
    /// More problems exist than are listed.
    pub truncated: bool,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> CommandError {
        CommandError {
            code,
            message: message.into(),
            problems: Vec::new(),
            truncated: false,
        }
    }
}

/// Every engine module's error becomes a command error the way `Error` does, so that `?`
/// converts it (no hand-written mapping per call).
macro_rules! command_error_from {
    ($($t:ty),*) => {$(impl From<$t> for CommandError {
        fn from(e: $t) -> CommandError {
            Error::from(e).into()
        }
    })*};
}
command_error_from!(
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

impl From<Error> for CommandError {
    fn from(e: Error) -> CommandError {
        use closebook_engine::ingest::ImportError;
        use closebook_engine::ingest::postgres::PullError;
        let (problems, truncated) = match &e {
            Error::Import(ImportError::Rejected {
                problems,
                truncated,
                ..
            })
            | Error::Pull(PullError::Rejected {
                problems,
                truncated,
                ..
            }) => (problems.iter().map(ProblemView::from).collect(), *truncated),
            _ => (Vec::new(), false),
        };
        CommandError {
            code: e.code(),
            message: e.message(),
            problems,
            truncated,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ProblemView {
    pub file: String,
    #[ts(type = "number")]
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl From<&Problem> for ProblemView {
    fn from(p: &Problem) -> ProblemView {
        ProblemView {
            file: p.file.clone(),
            line: p.line,
            column: p.column.clone(),
            message: p.message.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct MirrorSummaryView {
    #[ts(type = "number")]
    pub postings: u64,
    #[ts(type = "number")]
    pub entries: u64,
    #[ts(type = "number")]
    pub accounts: u64,
    pub currencies: Vec<String>,
    pub first_posting: Option<TimeView>,
    pub last_posting: Option<TimeView>,
    #[ts(type = "number")]
    pub balances: u64,
    #[ts(type = "number")]
    pub allocations: u64,
    #[ts(type = "number")]
    pub connected_accounts: u64,
    #[ts(type = "number")]
    pub webhook_events: u64,
    #[ts(type = "number")]
    pub withdrawals: u64,
    #[ts(type = "number")]
    pub imports: u64,
}

impl MirrorSummaryView {
    pub fn new(ws: &Workspace, s: MirrorSummary) -> MirrorSummaryView {
        MirrorSummaryView {
            postings: s.postings,
            entries: s.entries,
            accounts: s.accounts,
            currencies: s.currencies.iter().map(|c| c.to_uppercase()).collect(),
            first_posting: s.first_posting.map(|t| TimeView::new(ws, t)),
            last_posting: s.last_posting.map(|t| TimeView::new(ws, t)),
            balances: s.balances,
            allocations: s.allocations,
            connected_accounts: s.connected_accounts,
            webhook_events: s.webhook_events,
            withdrawals: s.withdrawals,
            imports: s.imports,
        }
    }
}

/// The open workspace.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
    /// "test" or "live".
    pub mode: String,
    pub timezone: String,
    pub path: String,
    pub created_at: TimeView,
    pub schema_version: u32,
    pub demo: bool,
    /// Where its database key is kept, in words.
    pub key_source: String,
    pub summary: MirrorSummaryView,
}

impl WorkspaceView {
    pub(crate) fn new(
        ws: &Workspace,
        demo: bool,
        key_source: String,
        summary: MirrorSummary,
    ) -> WorkspaceView {
        let info: &WorkspaceInfo = ws.info();
        WorkspaceView {
            id: info.id.clone(),
            name: info.name.clone(),
            mode: info.mode.as_str().to_string(),
            timezone: info.timezone.clone(),
            path: info.path.display().to_string(),
            created_at: TimeView::new(ws, info.created_at),
            schema_version: info.schema_version,
            demo,
            key_source,
            summary: MirrorSummaryView::new(ws, summary),
        }
    }
}

/// A workspace opened before on this computer (kept in the app's data folder; no secret).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RecentWorkspace {
    pub path: String,
    pub name: String,
    pub mode: String,
    /// The key file it was opened with, when not the keychain.
    pub key_file: Option<String>,
    /// RFC 3339, UTC.
    pub last_opened: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct KeychainStatus {
    /// "Secret Service", "macOS Keychain", "Windows Credential Manager".
    pub backend: String,
    pub available: bool,
    /// What the check found, in words.
    pub detail: String,
}

/// Everything the first screen needs.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppOverview {
    pub version: String,
    pub open: Option<WorkspaceView>,
    pub recent: Vec<RecentWorkspace>,
    /// Where the demo workspace lives.
    pub demo_path: String,
    pub keychain: KeychainStatus,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct OpenArgs {
    pub path: String,
    /// Use this key file instead of the keychain.
    pub key_file: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct CreateArgs {
    pub path: String,
    pub name: String,
    /// "test" or "live".
    pub mode: String,
    /// IANA name, e.g. "Europe/Paris".
    pub timezone: String,
    pub key_file: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TreeNodeView {
    pub account: String,
    pub name: String,
    pub depth: u32,
    pub has_children: bool,
    /// Balance of the account's own postings, per currency.
    pub own: Vec<AmountView>,
    /// Balance of the account and everything below it, per currency.
    pub total: Vec<AmountView>,
}

impl From<TreeNode> for TreeNodeView {
    fn from(n: TreeNode) -> TreeNodeView {
        TreeNodeView {
            account: n.account,
            name: n.name,
            depth: u32::try_from(n.depth).unwrap_or(u32::MAX),
            has_children: n.has_children,
            own: amounts(&n.own),
            total: amounts(&n.total),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LedgerTreeView {
    /// The date asked for (YYYY-MM-DD), or none for all time.
    pub as_of: Option<String>,
    /// "End of 2026-10-31, America/New_York" or "All postings".
    pub as_of_label: String,
    pub nodes: Vec<TreeNodeView>,
}

/// Which postings to list. Dates are YYYY-MM-DD in the workspace's time zone (inclusive).
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct PostingQuery {
    pub account: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub entry_type: Option<String>,
    /// Case-insensitive words of the description, entry id or account.
    pub text: Option<String>,
    /// Exact Stripe object id (ch_, tr_, po_ ...).
    pub stripe_id: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Rows per page (1 to 10,000; default 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PostingView {
    #[ts(type = "number")]
    pub seq: i64,
    /// The platform's wallet_ledger id, when the source had one.
    pub platform_id: Option<String>,
    pub entry_id: String,
    pub account: String,
    pub amount: AmountView,
    pub entry_type: String,
    pub stripe_object_id: Option<String>,
    pub event_id: Option<String>,
    pub created_at: TimeView,
    pub description: Option<String>,
    /// "mirror" (from the platform) or "closebook" (booked by Closebook).
    pub origin: String,
    #[ts(type = "number | null")]
    pub import_id: Option<i64>,
}

impl PostingView {
    pub fn new(ws: &Workspace, p: Posting) -> PostingView {
        PostingView {
            seq: p.seq,
            platform_id: p.platform_id.map(|i| i.to_string()),
            entry_id: p.entry_id,
            account: p.account,
            amount: p.amount.into(),
            entry_type: p.entry_type,
            stripe_object_id: p.stripe_object_id,
            event_id: p.event_id,
            created_at: TimeView::new(ws, p.created_at),
            description: p.description,
            origin: p.origin,
            import_id: p.import_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PostingPageView {
    pub rows: Vec<PostingView>,
    /// Pass as `after` for the next page; none after the last page.
    pub next: Option<String>,
}

/// Where rows came from: one file import or one pulled page.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceView {
    #[ts(type = "number")]
    pub import_id: i64,
    pub kind: String,
    /// The file name, or the PostgreSQL table and page.
    pub source: String,
    pub sha256: Option<String>,
    #[ts(type = "number")]
    pub rows_read: i64,
    #[ts(type = "number")]
    pub rows_added: i64,
    pub at: TimeView,
    pub actor: String,
}

/// One journal entry with all its postings and where they came from.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EntryView {
    pub entry_id: String,
    /// The entry types of its postings (usually one).
    pub entry_types: Vec<String>,
    pub postings: Vec<PostingView>,
    /// Sum of the postings per currency: zero in every currency for a balanced entry.
    pub totals: Vec<AmountView>,
    pub balanced: bool,
    pub sources: Vec<SourceView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportKindView {
    /// "ledger", "balances", ...
    pub name: String,
    /// The platform table it mirrors.
    pub table: String,
    pub required_columns: Vec<String>,
}

impl From<Kind> for ImportKindView {
    fn from(k: Kind) -> ImportKindView {
        ImportKindView {
            name: k.name().to_string(),
            table: k.platform_table().to_string(),
            required_columns: k.required_columns().iter().map(|c| c.to_string()).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ImportArgs {
    /// One of the import kinds' names.
    pub kind: String,
    pub path: String,
    /// "csv" or "jsonl"; default from the file's extension.
    pub format: Option<String>,
    /// Names this operation for progress events and `cancel_operation`.
    pub op_id: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportReportView {
    pub kind: String,
    pub source: String,
    pub sha256: Option<String>,
    #[ts(type = "number")]
    pub rows_read: u64,
    #[ts(type = "number")]
    pub rows_added: u64,
    #[ts(type = "number")]
    pub rows_updated: u64,
    #[ts(type = "number")]
    pub rows_unchanged: u64,
    /// This exact file was imported before (as that import): nothing changed.
    #[ts(type = "number | null")]
    pub already_imported_as: Option<i64>,
    /// After a ledger import: roles of the account map no account of the ledger plays,
    /// each with what to do (Settings › Accounts).
    pub role_gaps: Vec<String>,
}

impl From<ImportReport> for ImportReportView {
    fn from(r: ImportReport) -> ImportReportView {
        ImportReportView {
            kind: r.kind.name().to_string(),
            source: r.source,
            sha256: r.sha256,
            rows_read: r.rows_read,
            rows_added: r.rows_added,
            rows_updated: r.rows_updated,
            rows_unchanged: r.rows_unchanged,
            already_imported_as: r.already_imported_as,
            role_gaps: r.role_gaps.into_iter().map(|g| g.message).collect(),
        }
    }
}

/// Progress of a long operation, sent as the `closebook://progress` event.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ProgressEvent {
    pub op_id: String,
    /// "reading", "writing", "importing <file>", ...
    pub stage: String,
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    /// For a Stripe sync: its counters.
    pub sync: Option<SyncProgressView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncProgressView {
    #[ts(type = "number")]
    pub pages: u64,
    #[ts(type = "number")]
    pub objects: u64,
    #[ts(type = "number")]
    pub requests: u64,
    #[ts(type = "number")]
    pub retries: u64,
    #[ts(type = "number")]
    pub requests_per_second: u64,
    /// Retried failures, in plain words, newest last.
    pub recent_errors: Vec<String>,
}

impl From<&closebook_engine::stripe::SyncProgress> for SyncProgressView {
    fn from(p: &closebook_engine::stripe::SyncProgress) -> SyncProgressView {
        SyncProgressView {
            pages: p.pages,
            objects: p.objects,
            requests: p.requests,
            retries: p.retries,
            requests_per_second: p.requests_per_second,
            recent_errors: p.recent_errors.clone(),
        }
    }
}

/// Stripe's balance in one currency.
#[derive(Debug, Clone, Serialize, TS)]
pub struct BalanceView {
    pub currency: String,
    pub available: AmountView,
    pub pending: AmountView,
}

/// Coverage of creator obligations in one currency at one sync.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CoverageView {
    pub currency: String,
    pub at: TimeView,
    pub available: AmountView,
    pub obligations: AmountView,
    pub ledger_owed: AmountView,
    pub open_month: AmountView,
    /// Available ÷ obligations in basis points (10000 = 100%); none without obligations.
    #[ts(type = "number | null")]
    pub ratio_bps: Option<i64>,
    /// "123.45%" or "—".
    pub ratio: String,
    /// "low", "medium" or "high".
    pub risk: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncRunView {
    #[ts(type = "number")]
    pub id: i64,
    pub started_at: TimeView,
    pub finished_at: Option<TimeView>,
    /// "running", "ok", "failed" or "cancelled".
    pub outcome: String,
    pub message: Option<String>,
    pub api_base: String,
    #[ts(type = "number")]
    pub requests: i64,
    #[ts(type = "number")]
    pub retries: i64,
    #[ts(type = "number")]
    pub pages: i64,
    #[ts(type = "number")]
    pub objects_added: i64,
    #[ts(type = "number")]
    pub objects_changed: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ObjectCountView {
    pub object_type: String,
    #[ts(type = "number")]
    pub objects: u64,
}

/// The Dashboard's Stripe half.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StripeOverview {
    /// "sk_test_", "rk_live_"… when a key is stored; none otherwise.
    pub key_kind: Option<String>,
    /// Where a sync goes: Stripe, or the demo's simulator.
    pub api_base: String,
    pub balance: Vec<BalanceView>,
    pub balance_fetched_at: Option<TimeView>,
    /// The latest coverage per currency.
    pub coverage: Vec<CoverageView>,
    /// Coverage at each past sync, oldest first.
    pub coverage_history: Vec<CoverageView>,
    #[ts(type = "number")]
    pub low_min_bps: i64,
    #[ts(type = "number")]
    pub medium_min_bps: i64,
    pub last_sync: Option<SyncRunView>,
    pub objects: Vec<ObjectCountView>,
    /// Windows of an interrupted sync that the next sync continues.
    #[ts(type = "number")]
    pub open_windows: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncReportView {
    #[ts(type = "number")]
    pub run_id: i64,
    pub resumed: bool,
    #[ts(type = "number")]
    pub pages: u64,
    #[ts(type = "number")]
    pub requests: u64,
    #[ts(type = "number")]
    pub retries: u64,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    #[ts(type = "number")]
    pub added: u64,
    #[ts(type = "number")]
    pub changed: u64,
}

/// Settings screen: the workspace's storage facts.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SettingsView {
    pub workspace: WorkspaceView,
    pub keychain: KeychainStatus,
    pub pragmas: Vec<PragmaView>,
    pub data_dir: String,
    /// Units declared in this workspace (credits and the like), beside ISO currencies.
    pub units: Vec<UnitView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct UnitView {
    /// Upper-case, as amounts show it.
    pub code: String,
    pub exponent: u8,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DeclareUnitArgs {
    pub code: String,
    pub exponent: u8,
    pub description: String,
}

/// What deleting a workspace did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeletedView {
    pub id: String,
    pub name: String,
    pub path: String,
}

/// Closebook's adjustment entries written in the platform's ledger file format.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AdjustmentsExportView {
    pub path: String,
    #[ts(type = "number")]
    pub postings: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PragmaView {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// One audit record.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditRecordView {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: TimeView,
    pub actor: String,
    pub action: String,
    pub summary: String,
    pub payload_sha256: String,
    pub hash: String,
}

/// Which audit records to list, newest first.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct AuditQuery {
    /// Actions starting with this: "import.", "stripe.", "workspace.".
    pub action_prefix: Option<String>,
    pub actor: Option<String>,
    pub text: Option<String>,
    /// The `next` of the previous page.
    #[ts(type = "number | null")]
    pub before_seq: Option<i64>,
    /// Rows per page (1 to 1,000; default 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditPageView {
    pub rows: Vec<AuditRecordView>,
    /// Pass as `before_seq` for the next (older) page; none after the last.
    #[ts(type = "number | null")]
    pub next: Option<i64>,
}

/// The result of verifying the chain.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditVerifyView {
    pub intact: bool,
    #[ts(type = "number")]
    pub records: u64,
    /// The last record's hash, when intact.
    pub head: Option<String>,
    /// The first broken record and why.
    #[ts(type = "number | null")]
    pub broken_seq: Option<i64>,
    pub broken_reason: Option<String>,
    /// The ledger's kept totals summed again from the postings: how many postings were
    /// summed, and what differs when they do not agree (`None`: they agree).
    #[ts(type = "number")]
    pub ledger_postings: u64,
    pub ledger_problem: Option<String>,
    pub checked_at: TimeView,
}
