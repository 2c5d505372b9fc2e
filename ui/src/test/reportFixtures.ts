// Builders for the Reports screen's transport values, as the engine sends them.

import type {
  ExportedFileView,
  ExportRecordView,
  ExportReportView,
  JournalView,
  ReportKindView,
  ReportsOverview,
  VerifyExportView,
} from "../lib/bindings";
import { digest, time } from "./fixtures";

/** The engine's seven report kinds, in its order. */
export function reportKinds(): ReportKindView[] {
  return [
    { name: "reconciliation_snapshot", title: "Reconciliation snapshot", description: "A reconciled day: both sides, the difference explained.", needs: "day" },
    { name: "exceptions", title: "Exceptions", description: "Every exception reconciliation found, with its resolution.", needs: "none" },
    { name: "payout_batch", title: "Payout batch", description: "A batch's totals and lines, its approvals and each line's execution.", needs: "batch" },
    { name: "monthly_financials", title: "Monthly financials", description: "Every month: subscriptions, allocated, fees, payouts, revenue.", needs: "none" },
    { name: "trial_balance", title: "Trial balance", description: "Every account's debits, credits and balance, with totals per currency.", needs: "as_of" },
    { name: "general_ledger", title: "General ledger", description: "Every posting of a period with opening, running and closing balances.", needs: "period" },
    { name: "audit_log", title: "Audit log", description: "Every recorded action with its hash chain.", needs: "none" },
  ];
}

/** One export as the audit log recorded it. */
export function exportRecord(seq: number, overrides: Partial<ExportRecordView> = {}): ExportRecordView {
  return {
    seq,
    at: time("2026-11-02", `09:${String(seq % 60).padStart(2, "0")}:00`),
    actor: "fin",
    action: "export.report",
    summary: `Exported trial_balance (xlsx) to /home/fin/exports/tb-${seq}`,
    ...overrides,
  };
}

export function reportsOverview(overrides: Partial<ReportsOverview> = {}): ReportsOverview {
  return {
    kinds: reportKinds(),
    days: ["2026-11-01", "2026-10-31", "2026-10-30"],
    batches: [
      { id: "pb_2026-10_v2", month: "2026-10", state: "done" },
      { id: "pb_2026-10_v1", month: "2026-10", state: "superseded" },
      { id: "pb_2026-09_v1", month: "2026-09", state: "done" },
    ],
    recent: [exportRecord(41), exportRecord(40, { action: "export.journal", summary: "Exported the journal to /home/fin/ledger.journal" })],
    ...overrides,
  };
}

export function exportedFile(name: string, n: number, overrides: Partial<ExportedFileView> = {}): ExportedFileView {
  return { path: name, sha256: digest(n, "f"), bytes: 12_345 * n, rows: 40 * n, ...overrides };
}

/** A CSV export of a payout batch: two files, 120 rows. */
export function exportView(overrides: Partial<ExportReportView> = {}): ExportReportView {
  return {
    dir: "/home/fin/exports/payout_batch-pb_2026-10_v1",
    title: "Payout batch",
    scope: "pb_2026-10_v1 for 2026-10 (superseded), digest 9f2c",
    files: [exportedFile("lines.csv", 1), exportedFile("approvals.csv", 2)],
    rows: 120,
    manifest_sha256: digest(7, "e"),
    ...overrides,
  };
}

export function journalView(overrides: Partial<JournalView> = {}): JournalView {
  return { path: "/home/fin/exports/ledger.journal", entries: 3450, postings: 6900, sha256: digest(3, "c"), ...overrides };
}

/** The check of an export folder: intact and recorded unless `problems` are given. */
export function verifyView(problems: string[] = [], overrides: Partial<VerifyExportView> = {}): VerifyExportView {
  return {
    dir: "/home/fin/exports/payout_batch-pb_2026-10_v1",
    ok: problems.length === 0,
    manifest_sha256: digest(7, "e"),
    files_checked: 2,
    problems,
    recorded: true,
    ...overrides,
  };
}
