// Generated from the Rust types by `crates/app/src/bindings.rs`. Do not edit:
// run `UPDATE_BINDINGS=1 cargo test -p closebook-app bindings` after changing them.
/* eslint-disable */

import { invoke } from "@tauri-apps/api/core";

/** The closed set of error codes a command can fail with. */
export type ErrorCode =
  | "workspace_not_found"
  | "workspace_exists"
  | "workspace_damaged"
  | "key_missing"
  | "key_wrong"
  | "key_file_insecure"
  | "key_exists"
  | "keychain_unavailable"
  | "schema_too_new"
  | "invalid_input"
  | "import_rejected"
  | "source_unreachable"
  | "source_failed"
  | "ledger_invariant"
  | "mode_mismatch"
  | "stripe_key_missing"
  | "stripe_key_invalid"
  | "stripe_failed"
  | "stripe_unavailable"
  | "audit_broken"
  | "not_found"
  | "permission_denied"
  | "approval_invalid"
  | "invalid_state"
  | "cancelled"
  | "io"
  | "internal";

export type AmountView = { 
/**
 * Integer minor units, e.g. "-123456" for -1,234.56 USD.
 */
minor: string, 
/**
 * Upper-case code: "USD", "JPY", or a declared unit such as "AI_CREDIT".
 */
currency: string, exponent: number, 
/**
 * Grouped, with the currency's decimals and a leading minus: "-1,234.56".
 */
formatted: string, negative: boolean, zero: boolean, };

export type TimeView = { 
/**
 * "2026-10-31 14:03:22 EDT"
 */
local: string, 
/**
 * "2026-10-31" in the workspace's time zone.
 */
date: string, 
/**
 * RFC 3339 in UTC: "2026-10-31T18:03:22Z"
 */
utc: string, };

export type CommandError = { code: ErrorCode, message: string, 
/**
 * For a rejected import: every problem with its file, line and column.
 */
problems: Array<ProblemView>, 
/**
 * More problems exist than are listed.
 */
truncated: boolean, };

export type ProblemView = { file: string, line: number, column: string | null, message: string, };

export type MirrorSummaryView = { postings: number, entries: number, accounts: number, currencies: Array<string>, first_posting: TimeView | null, last_posting: TimeView | null, balances: number, allocations: number, connected_accounts: number, webhook_events: number, withdrawals: number, imports: number, };

export type WorkspaceView = { id: string, name: string, 
/**
 * "test" or "live".
 */
mode: string, timezone: string, path: string, created_at: TimeView, schema_version: number, demo: boolean, 
/**
 * Where its database key is kept, in words.
 */
key_source: string, summary: MirrorSummaryView, };

export type RecentWorkspace = { path: string, name: string, mode: string, 
/**
 * The key file it was opened with, when not the keychain.
 */
key_file: string | null, 
/**
 * RFC 3339, UTC.
 */
last_opened: string, };

export type KeychainStatus = { 
/**
 * "Secret Service", "macOS Keychain", "Windows Credential Manager".
 */
backend: string, available: boolean, 
/**
 * What the check found, in words.
 */
detail: string, };

export type AppOverview = { version: string, open: WorkspaceView | null, recent: Array<RecentWorkspace>, 
/**
 * Where the demo workspace lives.
 */
demo_path: string, keychain: KeychainStatus, };

export type OpenArgs = { path: string, 
/**
 * Use this key file instead of the keychain.
 */
key_file: string | null, };

export type CreateArgs = { path: string, name: string, 
/**
 * "test" or "live".
 */
mode: string, 
/**
 * IANA name, e.g. "Europe/Paris".
 */
timezone: string, key_file: string | null, };

export type TreeNodeView = { account: string, name: string, depth: number, has_children: boolean, 
/**
 * Balance of the account's own postings, per currency.
 */
own: Array<AmountView>, 
/**
 * Balance of the account and everything below it, per currency.
 */
total: Array<AmountView>, };

export type LedgerTreeView = { 
/**
 * The date asked for (YYYY-MM-DD), or none for all time.
 */
as_of: string | null, 
/**
 * "End of 2026-10-31, America/New_York" or "All postings".
 */
as_of_label: string, nodes: Array<TreeNodeView>, };

export type PostingQuery = { account: string | null, from: string | null, to: string | null, entry_type: string | null, 
/**
 * Case-insensitive words of the description, entry id or account.
 */
text: string | null, 
/**
 * Exact Stripe object id (ch_, tr_, po_ ...).
 */
stripe_id: string | null, 
/**
 * The `next` cursor of the previous page.
 */
after: string | null, 
/**
 * Rows per page (1 to 10,000; default 200).
 */
limit: number | null, };

export type PostingView = { seq: number, 
/**
 * The platform's wallet_ledger id, when the source had one.
 */
platform_id: string | null, entry_id: string, account: string, amount: AmountView, entry_type: string, stripe_object_id: string | null, event_id: string | null, created_at: TimeView, description: string | null, 
/**
 * "mirror" (from the platform) or "closebook" (booked by Closebook).
 */
origin: string, import_id: number | null, };

export type PostingPageView = { rows: Array<PostingView>, 
/**
 * Pass as `after` for the next page; none after the last page.
 */
next: string | null, };

export type SourceView = { import_id: number, kind: string, 
/**
 * The file name, or the PostgreSQL table and page.
 */
source: string, sha256: string | null, rows_read: number, rows_added: number, at: TimeView, actor: string, };

export type EntryView = { entry_id: string, 
/**
 * The entry types of its postings (usually one).
 */
entry_types: Array<string>, postings: Array<PostingView>, 
/**
 * Sum of the postings per currency: zero in every currency for a balanced entry.
 */
totals: Array<AmountView>, balanced: boolean, sources: Array<SourceView>, };

export type ImportKindView = { 
/**
 * "ledger", "balances", ...
 */
name: string, 
/**
 * The platform table it mirrors.
 */
table: string, required_columns: Array<string>, };

export type ImportArgs = { 
/**
 * One of the import kinds' names.
 */
kind: string, path: string, 
/**
 * "csv" or "jsonl"; default from the file's extension.
 */
format: string | null, 
/**
 * Names this operation for progress events and `cancel_operation`.
 */
op_id: string, };

export type ImportReportView = { kind: string, source: string, sha256: string | null, rows_read: number, rows_added: number, rows_updated: number, rows_unchanged: number, 
/**
 * This exact file was imported before (as that import): nothing changed.
 */
already_imported_as: number | null, 
/**
 * After a ledger import: roles of the account map no account of the ledger plays,
 * each with what to do (Settings › Accounts).
 */
role_gaps: Array<string>, };

export type ProgressEvent = { op_id: string, 
/**
 * "reading", "writing", "importing <file>", ...
 */
stage: string, done: number, total: number | null, 
/**
 * For a Stripe sync: its counters.
 */
sync: SyncProgressView | null, };

export type SettingsView = { workspace: WorkspaceView, keychain: KeychainStatus, pragmas: Array<PragmaView>, data_dir: string, 
/**
 * Units declared in this workspace (credits and the like), beside ISO currencies.
 */
units: Array<UnitView>, };

export type UnitView = { 
/**
 * Upper-case, as amounts show it.
 */
code: string, exponent: number, };

export type DeclareUnitArgs = { code: string, exponent: number, description: string, };

export type DeletedView = { id: string, name: string, path: string, };

export type AdjustmentsExportView = { path: string, postings: number, };

export type TrialBalanceRowView = { account: string, debit: AmountView, credit: AmountView, balance: AmountView, };

export type CurrencyTotalsView = { currency: string, debits: AmountView, credits: AmountView, };

export type TrialBalanceView = { 
/**
 * The day it is at the end of (`None`: every posting).
 */
as_of: string | null, rows: Array<TrialBalanceRowView>, 
/**
 * Debits equal credits in every currency (the engine refuses to report otherwise).
 */
totals: Array<CurrencyTotalsView>, };

export type GeneralLedgerArgs = { 
/**
 * The account, and every account below it.
 */
account: string, 
/**
 * Days (YYYY-MM-DD) in the workspace's time zone; none: from the first, to the last.
 */
from: string | null, to: string | null, 
/**
 * Lines at most (the export has them all).
 */
limit: number | null, };

export type GeneralLedgerLineView = { posting: PostingView, 
/**
 * The account's balance after this posting.
 */
running: AmountView, };

export type GeneralLedgerView = { account: string, opening: Array<AmountView>, lines: Array<GeneralLedgerLineView>, closing: Array<AmountView>, 
/**
 * More lines than the limit: the export has them all.
 */
truncated: boolean, };

export type PullArgs = { 
/**
 * `postgres://user@host/db` or libpq's `host=… dbname=…`; none or blank: the source
 * last pulled from, else libpq's environment. A password written here is used once and
 * never stored: keep it in the keychain (`closebook postgres-password`) or PGPASSWORD.
 */
url: string | null, op_id: string, };

export type PullTableView = { table: string, rows_read: number, added: number, updated: number, unchanged: number, };

export type PullReportView = { 
/**
 * The source, rebuilt from the driver's settings (no password).
 */
source: string, tables: Array<PullTableView>, 
/**
 * Ids the platform's wallet ledger skipped, watched in case a late row fills them.
 */
holes_open: number, };

export type PullSourceView = { 
/**
 * The source last pulled from (no password), if any.
 */
last_source: string | null, 
/**
 * This computer's keychain holds the database password for this workspace.
 */
password_stored: boolean, };

export type PragmaView = { name: string, value: string, reason: string, };

export type SyncProgressView = { pages: number, objects: number, requests: number, retries: number, requests_per_second: number, 
/**
 * Retried failures, in plain words, newest last.
 */
recent_errors: Array<string>, };

export type BalanceView = { currency: string, available: AmountView, pending: AmountView, };

export type CoverageView = { currency: string, at: TimeView, available: AmountView, obligations: AmountView, ledger_owed: AmountView, open_month: AmountView, 
/**
 * Available ÷ obligations in basis points (10000 = 100%); none without obligations.
 */
ratio_bps: number | null, 
/**
 * "123.45%" or "—".
 */
ratio: string, 
/**
 * "low", "medium" or "high".
 */
risk: string, };

export type SyncRunView = { id: number, started_at: TimeView, finished_at: TimeView | null, 
/**
 * "running", "ok", "failed" or "cancelled".
 */
outcome: string, message: string | null, api_base: string, requests: number, retries: number, pages: number, objects_added: number, objects_changed: number, };

export type ObjectCountView = { object_type: string, objects: number, };

export type StripeOverview = { 
/**
 * "sk_test_", "rk_live_"… when a key is stored; none otherwise.
 */
key_kind: string | null, 
/**
 * Where a sync goes: Stripe, or the demo's simulator.
 */
api_base: string, balance: Array<BalanceView>, balance_fetched_at: TimeView | null, 
/**
 * The latest coverage per currency.
 */
coverage: Array<CoverageView>, 
/**
 * Coverage at each past sync, oldest first.
 */
coverage_history: Array<CoverageView>, low_min_bps: number, medium_min_bps: number, last_sync: SyncRunView | null, objects: Array<ObjectCountView>, 
/**
 * Windows of an interrupted sync that the next sync continues.
 */
open_windows: number, };

export type SyncReportView = { run_id: number, resumed: boolean, pages: number, requests: number, retries: number, elapsed_ms: number, added: number, changed: number, };

export type AuditRecordView = { seq: number, at: TimeView, actor: string, action: string, summary: string, payload_sha256: string, hash: string, };

export type AuditQuery = { 
/**
 * Actions starting with this: "import.", "stripe.", "workspace.".
 */
action_prefix: string | null, actor: string | null, text: string | null, 
/**
 * The `next` of the previous page.
 */
before_seq: number | null, 
/**
 * Rows per page (1 to 1,000; default 200).
 */
limit: number | null, };

export type AuditPageView = { rows: Array<AuditRecordView>, 
/**
 * Pass as `before_seq` for the next (older) page; none after the last.
 */
next: number | null, };

export type AuditVerifyView = { intact: boolean, records: number, 
/**
 * The last record's hash, when intact.
 */
head: string | null, 
/**
 * The first broken record and why.
 */
broken_seq: number | null, broken_reason: string | null, 
/**
 * The ledger's kept totals summed again from the postings: how many postings were
 * summed, and what differs when they do not agree (`None`: they agree).
 */
ledger_postings: number, ledger_problem: string | null, checked_at: TimeView, };

export type MatchRulesView = { 
/**
 * Applied in this order.
 */
order: Array<string>, 
/**
 * Every rule there is, in the default order.
 */
available: Array<string>, amount_tolerance_minor: number, date_window_days: number, };

export type MatchRulesArgs = { order: Array<string>, amount_tolerance_minor: number, date_window_days: number, };

export type ReconDayCurrencyView = { currency: string, difference: AmountView, remainder: AmountView, open_exceptions: number, };

export type ReconDayView = { 
/**
 * "2026-10-31"
 */
day: string, version: number, 
/**
 * "balanced" | "explained" | "unexplained"
 */
status: string, computed_at: TimeView, currencies: Array<ReconDayCurrencyView>, };

export type ReconOverview = { last_day: string | null, 
/**
 * Every reconciled day, oldest first.
 */
days: Array<ReconDayView>, 
/**
 * Days a catch-up would reconcile now (up to yesterday).
 */
missing_days: number, open_exceptions: number, rules: MatchRulesView, 
/**
 * Every exception kind, in the waterfall's order.
 */
kinds: Array<string>, 
/**
 * Every resolution.
 */
resolutions: Array<string>, };

export type ExplainedView = { kind: string, amount: AmountView, };

export type ReconCurrencyView = { currency: string, stripe_available: AmountView, stripe_pending: AmountView, stripe_total: AmountView, ledger: AmountView, 
/**
 * Stripe − ledger.
 */
difference: AmountView, 
/**
 * Σ per exception kind (the waterfall's steps).
 */
explained: Array<ExplainedView>, remainder: AmountView, matched: number, unmatched_stripe: number, unmatched_ledger: number, open_exceptions: number, status: string, };

export type ResolutionView = { resolution: string, note: string, actor: string, at: TimeView, adjustment_entry: string | null, };

export type ExceptionView = { 
/**
 * `null` only in a dry run, for an exception never saved.
 */
id: number | null, key: string, kind: string, currency: string, stripe_object: string | null, 
/**
 * This exception's share of Stripe − ledger.
 */
effect: AmountView, stripe_amount: AmountView | null, ledger_amount: AmountView | null, stripe_ids: Array<string>, ledger_entries: Array<string>, stripe_date: TimeView | null, ledger_date: TimeView | null, event_id: string | null, webhook_status: string | null, matched_by: string | null, note: string, first_day: string, 
/**
 * The last reconciled day that found it (lists only).
 */
last_day: string | null, appearances: number | null, 
/**
 * Whether the latest snapshot still finds it (lists only).
 */
current: boolean | null, resolution: ResolutionView | null, };

export type MirrorView = { currency: string, live: AmountView, mirrored: AmountView, missing: AmountView, complete: boolean, fetched_at: TimeView, };

export type SnapshotView = { id: number | null, day: string, version: number, dry_run: boolean, 
/**
 * Already reconciled from the same rows: the saved snapshot, nothing new written.
 */
unchanged: boolean, computed_at: TimeView, actor: string, status: string, digest: string, stripe_rows: number, ledger_rows: number, matched: number, rules: MatchRulesView, currencies: Array<ReconCurrencyView>, exceptions: Array<ExceptionView>, mirror: Array<MirrorView>, };

export type SnapshotArgs = { 
/**
 * "YYYY-MM-DD" in the workspace's time zone.
 */
day: string, dry_run: boolean, };

export type CatchUpView = { days_added: number, last_day: string | null, cancelled: boolean, };

export type ExceptionQuery = { 
/**
 * One of the overview's `kinds`; absent: every kind.
 */
kind: string | null, 
/**
 * "open" (default), "resolved" or "all".
 */
state: string | null, currency: string | null, 
/**
 * Only exceptions whose effect is at least this much (absolute), as the person typed
 * it in the chosen `currency`'s units ("12.50"): the engine reads it.
 */
min_amount: string | null, };

export type AppearanceView = { day: string, version: number, effect: AmountView, };

export type ProposedPostingView = { account: string, amount: AmountView, };

export type ProposedEntryView = { entry_id: string, entry_type: string, stripe_object_id: string | null, description: string, postings: Array<ProposedPostingView>, };

export type ExceptionDetailView = { exception: ExceptionView, history: Array<AppearanceView>, 
/**
 * The resolutions that fit this exception's kind.
 */
allowed: Array<string>, };

export type ResolveArgs = { ids: number[], resolution: string, note: string, counter_account: string | null, };

export type PersonView = { name: string, 
/**
 * preparer | approver | auditor | admin
 */
role: string, public_key: string, 
/**
 * The person's private key is in this computer's keychain: they can act here.
 */
key_here: boolean, added_at: TimeView, added_by: string, 
/**
 * The admin whose signed record vouches for them (themselves, for the roster's root);
 * none: no admin has, and they act on nothing until one does.
 */
vouched_by: string | null, 
/**
 * Their public key's fingerprint, to read aloud and compare.
 */
fingerprint: string, };

export type PayoutSettingsView = { fee_bps: number, 
/**
 * Minor units, as a string of digits.
 */
minimum_minor: string, dual_approval_at_minor: string, minimum: AmountView, dual_approval_at: AmountView, };

export type PayoutSettingsArgs = { fee_bps: number, 
/**
 * In dollars, as the person typed it ("25", "$1,250.00"): the engine reads it.
 */
minimum: string, dual_approval_at: string, 
/**
 * The admin changing them, once the roster has one.
 */
as_person: string | null, };

export type BatchTotalsView = { subscriptions: AmountView, allocated: AmountView, unallocated: AmountView, fees: AmountView, net: AmountView, carried_in: AmountView, withdrawals: AmountView, paid: AmountView, carried_out: AmountView, 
/**
 * Platform revenue: fees + unallocated.
 */
revenue: AmountView, lines: number, paid_lines: number, held_lines: number, creators: number, subscribers: number, };

export type BatchSummaryView = { id: string, month: string, version: number, 
/**
 * draft | approved | executing | done | rejected | superseded
 */
state: string, paid: AmountView, carried_out: AmountView, paid_lines: number, held_lines: number, prepared_by: string, prepared_at: TimeView, state_changed_at: TimeView, approvals: number, approvals_required: number, lines_done: number, lines_failed: number, };

export type MonthView = { month: string, 
/**
 * The month has ended in the workspace's time zone (it can be prepared).
 */
over: boolean, allocations: number, latest_batch: string | null, state: string | null, };

export type PayoutsOverview = { people: Array<PersonView>, 
/**
 * The admin whose self-signed record begins the signed roster, and their fingerprint
 * (whoever holds the database key could put another root in its place: compare it).
 */
roster_root: string | null, roster_root_fingerprint: string | null, roles: Array<string>, 
/**
 * Every batch, newest month first.
 */
batches: Array<BatchSummaryView>, 
/**
 * Months with allocations, newest first, each with its latest batch's state (or none).
 */
months: Array<MonthView>, settings: PayoutSettingsView, };

export type BatchLineView = { line_no: number, 
/**
 * earnings | withdrawal
 */
kind: string, creator: string, reference: string | null, destination: string | null, gross: AmountView, fee: AmountView, net: AmountView, carried_in: AmountView, withdrawn: AmountView, requested: AmountView, payable: AmountView, allocations: number, 
/**
 * Why the line is carried over (a closed set of codes), or null when it is paid.
 */
held: string | null, held_text: string | null, 
/**
 * The same creator's payable in the previous month's batch.
 */
previous_payable: AmountView | null, 
/**
 * payable − previous payable.
 */
change: AmountView | null, 
/**
 * For paid lines: pending | sent | paid | failed.
 */
execution: string | null, transfer_id: string | null, failure: string | null, };

export type DecisionView = { person: string, 
/**
 * approve | reject
 */
decision: string, reason: string | null, signed_at: TimeView, signature: string, public_key: string, 
/**
 * here | file
 */
via: string, };

export type DriftView = { kind: string, key: string, change: string, locked: AmountView | null, current: AmountView, updated_at: TimeView, };

export type BatchCoverageView = { available: AmountView | null, fetched_at: TimeView | null, paid: AmountView, covered: boolean, };

export type BatchView = { id: string, month: string, version: number, state: string, settings: PayoutSettingsView, digest: string, inputs_digest: string, prepared_by: string, prepared_at: TimeView, preparer_signature: string, totals: BatchTotalsView, lines: Array<BatchLineView>, decisions: Array<DecisionView>, approvals: number, approvals_required: number, coverage: BatchCoverageView, drift: Array<DriftView>, drift_count: number, previous_batch: string | null, lines_paid: number, lines_failed: number, lines_sent: number, };

export type AddPersonArgs = { name: string, role: string, 
/**
 * The admin adding them, once the roster has one.
 */
as_person: string | null, };

export type VouchArgs = { 
/**
 * The people the admin vouches for, each confirmed by name.
 */
names: Array<string>, 
/**
 * The admin signing.
 */
as_person: string, };

export type PrepareArgs = { month: string, as_person: string, };

export type WhatIfArgs = { batch_id: string, fee_bps: number, 
/**
 * In dollars, as the person typed it.
 */
minimum: string, };

export type WhatIfView = { fee_bps: number, minimum: AmountView, totals: BatchTotalsView, 
/**
 * What changes against the batch as prepared.
 */
fees_change: AmountView, paid_change: AmountView, lines_newly_held: number, lines_newly_paid: number, };

export type DecisionArgs = { batch_id: string, as_person: string, 
/**
 * Required to reject.
 */
reason: string | null, };

export type ExportApprovalArgs = { batch_id: string, as_person: string, 
/**
 * Where the signed file goes (chosen in the native save dialog).
 */
path: string, 
/**
 * Sign a rejection with this reason instead of an approval.
 */
reject_reason: string | null, };

export type ExecuteArgs = { batch_id: string, as_person: string, op_id: string, };

export type ExecuteReportView = { batch: string, state: string, paid_now: number, adopted: number, failed_now: number, paid_total: number, failed_total: number, payable_lines: number, 
/**
 * The batch was already done: nothing was left to pay and nothing was sent.
 */
nothing_left: boolean, };

export type AccountRoleView = { 
/**
 * `stripe_balance`, `creator_obligations`, …
 */
role: string, label: string, account: string, default_account: string, 
/**
 * `subtree` (the account and below), `account` (exactly it) or `parent` (one account
 * per person below it).
 */
shape: string, 
/**
 * No account of the ledger plays this role yet: what to do, else none.
 */
gap: string | null, };

export type AccountRolesView = { roles: Array<AccountRoleView>, 
/**
 * The ledger's accounts (at most 500, by name), to choose from.
 */
accounts: Array<string>, 
/**
 * The roster has an admin: only an admin changes the map.
 */
has_admin: boolean, 
/**
 * Admins whose key is on this computer (who may act here).
 */
admins_here: Array<string>, };

export type AccountRoleChange = { role: string, account: string, };

export type AccountRolesArgs = { changes: Array<AccountRoleChange>, 
/**
 * The admin changing the map, once the roster has one.
 */
as_person: string | null, };

export type AccountMapResultView = { view: AccountRolesView, 
/**
 * One line per role changed: "stripe_balance: a → b".
 */
changed: Array<string>, 
/**
 * Said when the reconciled accounts followed the Stripe balance, or a sealed day was
 * flagged.
 */
notes: Array<string>, };

export type WebhookDayView = { day: string, event_type: string, sent: number, recorded: number, processed: number, failed: number, pending: number, missing: number, subscribed: boolean, };

export type RetryArgs = { batch_id: string, as_person: string, 
/**
 * Empty: every failed line.
 */
lines: Array<number>, };

export type ReportKindView = { 
/**
 * reconciliation_snapshot | exceptions | payout_batch | monthly_financials |
 * trial_balance | general_ledger | audit_log
 */
name: string, title: string, description: string, 
/**
 * What it is over: none | day | batch | as_of | period
 */
needs: string, };

export type ReportBatchView = { id: string, month: string, state: string, };

export type ExportRecordView = { seq: number, at: TimeView, actor: string, action: string, summary: string, };

export type ReportsOverview = { kinds: Array<ReportKindView>, 
/**
 * Reconciled days, newest first.
 */
days: Array<string>, batches: Array<ReportBatchView>, 
/**
 * The latest exports, newest first (from the audit log).
 */
recent: Array<ExportRecordView>, };

export type ExportReportArgs = { kind: string, 
/**
 * xlsx | csv
 */
format: string, 
/**
 * The folder to create.
 */
dest: string, day: string | null, batch: string | null, as_of: string | null, from: string | null, to: string | null, account: string | null, op_id: string, };

export type ExportedFileView = { path: string, sha256: string, bytes: number, rows: number, };

export type ExportReportView = { dir: string, title: string, scope: string, files: Array<ExportedFileView>, rows: number, manifest_sha256: string, };

export type ExportJournalArgs = { dest: string, as_of: string | null, op_id: string, };

export type JournalView = { path: string, entries: number, postings: number, sha256: string, };

export type VerifyExportView = { dir: string, ok: boolean, manifest_sha256: string, files_checked: number, problems: Array<string>, 
/**
 * Whether the open workspace's audit log records this export.
 */
recorded: boolean | null, };

/** Event carrying a ProgressEvent while a long command runs. */
export const PROGRESS_EVENT = "closebook://progress";

/** Every command; each rejects with a CommandError. */
export const commands = {
  app_overview: (): Promise<AppOverview> => invoke<AppOverview>("app_overview"),
  keychain_status: (): Promise<KeychainStatus> => invoke<KeychainStatus>("keychain_status"),
  open_demo: (op_id: string): Promise<WorkspaceView> => invoke<WorkspaceView>("open_demo", { op_id }),
  open_workspace: (args: OpenArgs): Promise<WorkspaceView> => invoke<WorkspaceView>("open_workspace", { args }),
  create_workspace: (args: CreateArgs): Promise<WorkspaceView> => invoke<WorkspaceView>("create_workspace", { args }),
  close_workspace: (): Promise<AppOverview> => invoke<AppOverview>("close_workspace"),
  forget_recent: (path: string): Promise<AppOverview> => invoke<AppOverview>("forget_recent", { path }),
  settings: (): Promise<SettingsView> => invoke<SettingsView>("settings"),
  declare_unit: (args: DeclareUnitArgs): Promise<SettingsView> => invoke<SettingsView>("declare_unit", { args }),
  delete_workspace: (confirm: string): Promise<DeletedView> => invoke<DeletedView>("delete_workspace", { confirm }),
  ledger_tree: (as_of: string | null): Promise<LedgerTreeView> => invoke<LedgerTreeView>("ledger_tree", { as_of }),
  ledger_postings: (query: PostingQuery): Promise<PostingPageView> => invoke<PostingPageView>("ledger_postings", { query }),
  ledger_entry: (entry_id: string): Promise<EntryView> => invoke<EntryView>("ledger_entry", { entry_id }),
  entry_types: (): Promise<Array<string>> => invoke<Array<string>>("entry_types"),
  ledger_trial_balance: (as_of: string | null): Promise<TrialBalanceView> => invoke<TrialBalanceView>("ledger_trial_balance", { as_of }),
  ledger_general_ledger: (args: GeneralLedgerArgs): Promise<GeneralLedgerView> => invoke<GeneralLedgerView>("ledger_general_ledger", { args }),
  import_kinds: (): Promise<Array<ImportKindView>> => invoke<Array<ImportKindView>>("import_kinds"),
  import_file: (args: ImportArgs): Promise<ImportReportView> => invoke<ImportReportView>("import_file", { args }),
  pull_source: (): Promise<PullSourceView> => invoke<PullSourceView>("pull_source"),
  pull_postgres: (args: PullArgs): Promise<PullReportView> => invoke<PullReportView>("pull_postgres", { args }),
  set_postgres_password: (password: string): Promise<PullSourceView> => invoke<PullSourceView>("set_postgres_password", { password }),
  forget_postgres_password: (): Promise<PullSourceView> => invoke<PullSourceView>("forget_postgres_password"),
  cancel_operation: (op_id: string): Promise<boolean> => invoke<boolean>("cancel_operation", { op_id }),
  stripe_overview: (): Promise<StripeOverview> => invoke<StripeOverview>("stripe_overview"),
  sync_stripe: (op_id: string): Promise<SyncReportView> => invoke<SyncReportView>("sync_stripe", { op_id }),
  set_stripe_key: (key: string): Promise<StripeOverview> => invoke<StripeOverview>("set_stripe_key", { key }),
  forget_stripe_key: (): Promise<StripeOverview> => invoke<StripeOverview>("forget_stripe_key"),
  set_coverage_thresholds: (low_min_bps: number, medium_min_bps: number): Promise<StripeOverview> => invoke<StripeOverview>("set_coverage_thresholds", { low_min_bps, medium_min_bps }),
  audit_log: (query: AuditQuery): Promise<AuditPageView> => invoke<AuditPageView>("audit_log", { query }),
  audit_verify: (): Promise<AuditVerifyView> => invoke<AuditVerifyView>("audit_verify"),
  recon_overview: (): Promise<ReconOverview> => invoke<ReconOverview>("recon_overview"),
  recon_catch_up: (op_id: string): Promise<CatchUpView> => invoke<CatchUpView>("recon_catch_up", { op_id }),
  recon_snapshot: (args: SnapshotArgs): Promise<SnapshotView> => invoke<SnapshotView>("recon_snapshot", { args }),
  recon_day: (day: string): Promise<SnapshotView> => invoke<SnapshotView>("recon_day", { day }),
  recon_exceptions: (query: ExceptionQuery): Promise<Array<ExceptionView>> => invoke<Array<ExceptionView>>("recon_exceptions", { query }),
  recon_exception: (id: number): Promise<ExceptionDetailView> => invoke<ExceptionDetailView>("recon_exception", { id }),
  recon_propose_adjustment: (id: number, counter_account: string | null): Promise<Array<ProposedEntryView>> => invoke<Array<ProposedEntryView>>("recon_propose_adjustment", { id, counter_account }),
  recon_resolve: (args: ResolveArgs): Promise<Array<ExceptionView>> => invoke<Array<ExceptionView>>("recon_resolve", { args }),
  recon_set_rules: (args: MatchRulesArgs): Promise<MatchRulesView> => invoke<MatchRulesView>("recon_set_rules", { args }),
  recon_export_adjustments: (dest: string): Promise<AdjustmentsExportView> => invoke<AdjustmentsExportView>("recon_export_adjustments", { dest }),
  recon_webhooks: (from: string, to: string): Promise<Array<WebhookDayView>> => invoke<Array<WebhookDayView>>("recon_webhooks", { from, to }),
  account_roles: (): Promise<AccountRolesView> => invoke<AccountRolesView>("account_roles"),
  set_account_roles: (args: AccountRolesArgs): Promise<AccountMapResultView> => invoke<AccountMapResultView>("set_account_roles", { args }),
  payouts_overview: (): Promise<PayoutsOverview> => invoke<PayoutsOverview>("payouts_overview"),
  payouts_add_person: (args: AddPersonArgs): Promise<PayoutsOverview> => invoke<PayoutsOverview>("payouts_add_person", { args }),
  payouts_vouch: (args: VouchArgs): Promise<PayoutsOverview> => invoke<PayoutsOverview>("payouts_vouch", { args }),
  payouts_set_settings: (args: PayoutSettingsArgs): Promise<PayoutsOverview> => invoke<PayoutsOverview>("payouts_set_settings", { args }),
  payouts_prepare: (args: PrepareArgs): Promise<BatchView> => invoke<BatchView>("payouts_prepare", { args }),
  payouts_batch: (id: string): Promise<BatchView> => invoke<BatchView>("payouts_batch", { id }),
  payouts_what_if: (args: WhatIfArgs): Promise<WhatIfView> => invoke<WhatIfView>("payouts_what_if", { args }),
  payouts_approve: (args: DecisionArgs): Promise<BatchView> => invoke<BatchView>("payouts_approve", { args }),
  payouts_reject: (args: DecisionArgs): Promise<BatchView> => invoke<BatchView>("payouts_reject", { args }),
  payouts_export_approval: (args: ExportApprovalArgs): Promise<string> => invoke<string>("payouts_export_approval", { args }),
  payouts_import_approval: (path: string): Promise<BatchView> => invoke<BatchView>("payouts_import_approval", { path }),
  payouts_execute: (args: ExecuteArgs): Promise<ExecuteReportView> => invoke<ExecuteReportView>("payouts_execute", { args }),
  payouts_retry: (args: RetryArgs): Promise<BatchView> => invoke<BatchView>("payouts_retry", { args }),
  reports_overview: (): Promise<ReportsOverview> => invoke<ReportsOverview>("reports_overview"),
  export_report: (args: ExportReportArgs): Promise<ExportReportView> => invoke<ExportReportView>("export_report", { args }),
  export_journal: (args: ExportJournalArgs): Promise<JournalView> => invoke<JournalView>("export_journal", { args }),
  verify_export: (dir: string): Promise<VerifyExportView> => invoke<VerifyExportView>("verify_export", { dir }),
};

export type Commands = typeof commands;
