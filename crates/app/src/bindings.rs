//! The UI's TypeScript types and command wrappers, generated from the Rust types.
//!
//! [`for_each_command!`] is the one list of commands: the Tauri shell expands it into its
//! IPC handlers, and [`typescript`] expands it into `ui/src/lib/bindings.ts` (types and a
//! typed function per command). A test fails when the committed file differs from what the
//! Rust types generate; `UPDATE_BINDINGS=1 cargo test -p closebook-app bindings` rewrites it.

use ts_rs::{Config, TS};

use crate::accounts::*;
use crate::ledger_reports::*;
use crate::payouts::*;
use crate::pull::*;
use crate::reconcile::*;
use crate::reports::*;
use crate::views::*;
use closebook_engine::ErrorCode;

/// Calls `$callback!` with every command: `name(arg: Type, ...) -> Return;`. Each name is
/// a method of [`crate::App`] with the same arguments.
#[macro_export]
macro_rules! for_each_command {
    ($callback:ident) => {
        $callback! {
            app_overview() -> AppOverview;
            keychain_status() -> KeychainStatus;
            open_demo(op_id: String) -> WorkspaceView;
            open_workspace(args: OpenArgs) -> WorkspaceView;
            create_workspace(args: CreateArgs) -> WorkspaceView;
            close_workspace() -> AppOverview;
            forget_recent(path: String) -> AppOverview;
            settings() -> SettingsView;
            declare_unit(args: DeclareUnitArgs) -> SettingsView;
            delete_workspace(confirm: String) -> DeletedView;
            ledger_tree(as_of: Option<String>) -> LedgerTreeView;
            ledger_postings(query: PostingQuery) -> PostingPageView;
            ledger_entry(entry_id: String) -> EntryView;
            entry_types() -> Vec<String>;
            ledger_trial_balance(as_of: Option<String>) -> TrialBalanceView;
            ledger_general_ledger(args: GeneralLedgerArgs) -> GeneralLedgerView;
            import_kinds() -> Vec<ImportKindView>;
            import_file(args: ImportArgs) -> ImportReportView;
            pull_source() -> PullSourceView;
            pull_postgres(args: PullArgs) -> PullReportView;
            set_postgres_password(password: String) -> PullSourceView;
            forget_postgres_password() -> PullSourceView;
            cancel_operation(op_id: String) -> bool;
            stripe_overview() -> StripeOverview;
            sync_stripe(op_id: String) -> SyncReportView;
            set_stripe_key(key: String) -> StripeOverview;
            forget_stripe_key() -> StripeOverview;
            set_coverage_thresholds(low_min_bps: i32, medium_min_bps: i32) -> StripeOverview;
            audit_log(query: AuditQuery) -> AuditPageView;
            audit_verify() -> AuditVerifyView;
            recon_overview() -> ReconOverview;
            recon_catch_up(op_id: String) -> CatchUpView;
            recon_snapshot(args: SnapshotArgs) -> SnapshotView;
            recon_day(day: String) -> SnapshotView;
            recon_exceptions(query: ExceptionQuery) -> Vec<ExceptionView>;
            recon_exception(id: i32) -> ExceptionDetailView;
            recon_propose_adjustment(id: i32, counter_account: Option<String>) -> Vec<ProposedEntryView>;
            recon_resolve(args: ResolveArgs) -> Vec<ExceptionView>;
            recon_set_rules(args: MatchRulesArgs) -> MatchRulesView;
            recon_export_adjustments(dest: String) -> AdjustmentsExportView;
            recon_webhooks(from: String, to: String) -> Vec<WebhookDayView>;
            account_roles() -> AccountRolesView;
            set_account_roles(args: AccountRolesArgs) -> AccountMapResultView;
            payouts_overview() -> PayoutsOverview;
            payouts_add_person(args: AddPersonArgs) -> PayoutsOverview;
            payouts_vouch(args: VouchArgs) -> PayoutsOverview;
            payouts_set_settings(args: PayoutSettingsArgs) -> PayoutsOverview;
            payouts_prepare(args: PrepareArgs) -> BatchView;
            payouts_batch(id: String) -> BatchView;
            payouts_what_if(args: WhatIfArgs) -> WhatIfView;
            payouts_approve(args: DecisionArgs) -> BatchView;
            payouts_reject(args: DecisionArgs) -> BatchView;
            payouts_export_approval(args: ExportApprovalArgs) -> String;
            payouts_import_approval(path: String) -> BatchView;
            payouts_execute(args: ExecuteArgs) -> ExecuteReportView;
            payouts_retry(args: RetryArgs) -> BatchView;
            reports_overview() -> ReportsOverview;
            export_report(args: ExportReportArgs) -> ExportReportView;
            export_journal(args: ExportJournalArgs) -> JournalView;
            verify_export(dir: String) -> VerifyExportView;
        }
    };
}

/// The name of the progress event the shell emits.
pub const PROGRESS_EVENT: &str = "closebook://progress";

/// One command as the generator sees it.
pub struct CommandSpec {
    pub name: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub ret: String,
}

macro_rules! specs {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        /// Every command with its argument and return types in TypeScript.
        pub fn commands(cfg: &Config) -> Vec<CommandSpec> {
            vec![$(CommandSpec {
                name: stringify!($name),
                args: vec![$((stringify!($arg), <$ty as TS>::name(cfg))),*],
                ret: <$ret as TS>::name(cfg),
            }),*]
        }
    };
}
for_each_command!(specs);

fn declarations(cfg: &Config) -> Vec<String> {
    macro_rules! decls {
        ($($t:ty),* $(,)?) => { vec![$(format!("export {}", <$t as TS>::decl(cfg))),*] };
    }
    decls![
        AmountView,
        TimeView,
        CommandError,
        ProblemView,
        MirrorSummaryView,
        WorkspaceView,
        RecentWorkspace,
        KeychainStatus,
        AppOverview,
        OpenArgs,
        CreateArgs,
        TreeNodeView,
        LedgerTreeView,
        PostingQuery,
        PostingView,
        PostingPageView,
        SourceView,
        EntryView,
        ImportKindView,
        ImportArgs,
        ImportReportView,
        ProgressEvent,
        SettingsView,
        UnitView,
        DeclareUnitArgs,
        DeletedView,
        AdjustmentsExportView,
        TrialBalanceRowView,
        CurrencyTotalsView,
        TrialBalanceView,
        GeneralLedgerArgs,
        GeneralLedgerLineView,
        GeneralLedgerView,
        PullArgs,
        PullTableView,
        PullReportView,
        PullSourceView,
        PragmaView,
        SyncProgressView,
        BalanceView,
        CoverageView,
        SyncRunView,
        ObjectCountView,
        StripeOverview,
        SyncReportView,
        AuditRecordView,
        AuditQuery,
        AuditPageView,
        AuditVerifyView,
        MatchRulesView,
        MatchRulesArgs,
        ReconDayCurrencyView,
        ReconDayView,
        ReconOverview,
        ExplainedView,
        ReconCurrencyView,
        ResolutionView,
        ExceptionView,
        MirrorView,
        SnapshotView,
        SnapshotArgs,
        CatchUpView,
        ExceptionQuery,
        AppearanceView,
        ProposedPostingView,
        ProposedEntryView,
        ExceptionDetailView,
        ResolveArgs,
        PersonView,
        PayoutSettingsView,
        PayoutSettingsArgs,
        BatchTotalsView,
        BatchSummaryView,
        MonthView,
        PayoutsOverview,
        BatchLineView,
        DecisionView,
        DriftView,
        BatchCoverageView,
        BatchView,
        AddPersonArgs,
        VouchArgs,
        PrepareArgs,
        WhatIfArgs,
        WhatIfView,
        DecisionArgs,
        ExportApprovalArgs,
        ExecuteArgs,
        ExecuteReportView,
        AccountRoleView,
        AccountRolesView,
        AccountRoleChange,
        AccountRolesArgs,
        AccountMapResultView,
        WebhookDayView,
        RetryArgs,
        ReportKindView,
        ReportBatchView,
        ExportRecordView,
        ReportsOverview,
        ExportReportArgs,
        ExportedFileView,
        ExportReportView,
        ExportJournalArgs,
        JournalView,
        VerifyExportView,
    ]
}

/// The whole of `ui/src/lib/bindings.ts`.
pub fn typescript() -> String {
    let cfg = Config::default();
    let mut out = String::from(
        "// Generated from the Rust types by `crates/app/src/bindings.rs`. Do not edit:\n\
         // run `UPDATE_BINDINGS=1 cargo test -p closebook-app bindings` after changing them.\n\
         /* eslint-disable */\n\n\
         import { invoke } from \"@tauri-apps/api/core\";\n\n",
    );
    out.push_str("/** The closed set of error codes a command can fail with. */\n");
    out.push_str("export type ErrorCode =\n");
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        let sep = if i + 1 == ErrorCode::ALL.len() {
            ";"
        } else {
            ""
        };
        out.push_str(&format!("  | \"{}\"{sep}\n", code.as_str()));
    }
    out.push('\n');
    for d in declarations(&cfg) {
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "/** Event carrying a ProgressEvent while a long command runs. */\nexport const PROGRESS_EVENT = \"{PROGRESS_EVENT}\";\n\n"
    ));
    out.push_str(
        "/** Every command; each rejects with a CommandError. */\nexport const commands = {\n",
    );
    for c in commands(&cfg) {
        let params: Vec<String> = c.args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let names: Vec<&str> = c.args.iter().map(|(n, _)| *n).collect();
        let payload = if names.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", names.join(", "))
        };
        out.push_str(&format!(
            "  {name}: ({params}): Promise<{ret}> => invoke<{ret}>(\"{name}\"{payload}),\n",
            name = c.name,
            params = params.join(", "),
            ret = c.ret,
        ));
    }
    out.push_str("};\n\nexport type Commands = typeof commands;\n");
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn bindings_match_the_rust_types() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings.ts");
        let generated = super::typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).expect("write bindings");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/bindings.ts is out of date: run `UPDATE_BINDINGS=1 cargo test -p closebook-app bindings`"
        );
    }

    #[test]
    fn every_command_is_declared_once() {
        let cfg = ts_rs::Config::default();
        let names: Vec<&str> = super::commands(&cfg).iter().map(|c| c.name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "duplicate command in {names:?}");
    }
}
