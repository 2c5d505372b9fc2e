// The Payouts screen's plain logic: basis points,
// words for the engine's states and codes, the lines table's sorting and filtering, and who
// may do what to a batch (said in words, so that a disabled button always says why). No
// amount is computed for display: amounts stay the engine's AmountView; only sorting compares
// their exact minor units (bigint).

import type { AmountView, BatchLineView, BatchSummaryView, BatchView, ExecuteReportView, MonthView, PersonView } from "../bindings";
import { formatBps, formatCount, plural } from "../format";
import { minorOf as exactMinor } from "../reconcile/model";

// ---- basis points ----

export type BpsResult = { ok: true; bps: number } | { ok: false; message: string };

/** A whole number of basis points from 0 to 10,000 (100%): "1000" → 1000 (10.00%). */
export function parseBps(input: string, what = "The fee"): BpsResult {
  const text = input.trim();
  if (!/^\d{1,5}$/.test(text) || Number(text) > 10_000) {
    return { ok: false, message: `${what}: enter a whole number of basis points from 0 to 10000 (1000 = 10.00%).` };
  }
  return { ok: true, bps: Number(text) };
}

/** "1000" → "10.00% (1,000 bps)". */
export function bpsLabel(bps: number): string {
  return `${formatBps(bps)} (${formatCount(bps)} bps)`;
}

// ---- words ----

function words(name: string): string {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export const BATCH_STATES = ["draft", "approved", "executing", "done", "rejected", "superseded"] as const;

const STATE_HINTS: Record<string, string> = {
  draft: "Prepared and locked; awaiting sign-off.",
  approved: "Signed off by enough approvers; ready to execute.",
  executing: "Transfers are being sent (or some failed and wait for a retry).",
  done: "Every payable line is paid.",
  rejected: "An approver rejected it; prepare the month again.",
  superseded: "The month was prepared again; its approvals are void.",
};

export function stateLabel(state: string): string {
  return words(state);
}

export function stateHint(state: string): string {
  return STATE_HINTS[state] ?? "";
}

const HELD_LABELS: Record<string, string> = {
  no_connected_account: "No connected account",
  account_not_synced: "Account not synced",
  transfers_inactive: "Transfers inactive",
  payouts_disabled: "Payouts disabled",
  currency_unsupported: "Currency unsupported",
  below_minimum: "Below the minimum",
  nothing_payable: "Nothing payable",
  exceeds_owed: "Exceeds what is owed",
  other_currency: "Other currency",
};

/** A held code in a few words; the engine's `held_text` says it in full. */
export function heldLabel(code: string): string {
  return HELD_LABELS[code] ?? words(code);
}

const EXECUTION_LABELS: Record<string, string> = {
  pending: "Pending",
  sent: "Sent",
  paid: "Paid",
  failed: "Failed",
};

export function executionLabel(execution: string): string {
  return EXECUTION_LABELS[execution] ?? words(execution);
}

const ROLE_LABELS: Record<string, string> = {
  preparer: "Preparer",
  approver: "Approver",
  auditor: "Auditor",
  admin: "Admin",
};

export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? words(role);
}

// ---- the lines table ----

export type LineStatus = "all" | "paid" | "held" | "failed";
export type SortKey = "line" | "creator" | "gross" | "payable" | "change";
export type SortDir = "asc" | "desc";

export interface LineQuery {
  /** Words of the creator or the withdrawal's reference, any case. */
  text: string;
  status: LineStatus;
  sort: SortKey;
  dir: SortDir;
}

export const DEFAULT_QUERY: LineQuery = { text: "", status: "all", sort: "line", dir: "asc" };

export function isLineStatus(s: string): s is LineStatus {
  return s === "all" || s === "paid" || s === "held" || s === "failed";
}

/** Whether a line is listed under `status`: paid (not held), held (carried over) or failed. */
export function lineMatchesStatus(line: BatchLineView, status: LineStatus): boolean {
  switch (status) {
    case "paid":
      return line.held === null;
    case "held":
      return line.held !== null;
    case "failed":
      return line.execution === "failed";
    default:
      return true;
  }
}

/** Minor units as an exact integer; null for anything the engine would never send. */
function minorOf(amount: AmountView | null): bigint | null {
  return amount ? exactMinor(amount) : null;
}

function sortValue(line: BatchLineView, key: SortKey): bigint | string | null {
  switch (key) {
    case "creator":
      return line.creator.toLowerCase();
    case "gross":
      return minorOf(line.gross);
    case "payable":
      return minorOf(line.payable);
    case "change":
      return minorOf(line.change);
    default:
      return BigInt(line.line_no);
  }
}

/**
 * The lines listed: those matching the text and the status, sorted by `sort` (ties by line
 * number). Lines without a value (no change: nothing last month) come last either way.
 */
export function selectLines(lines: readonly BatchLineView[], query: LineQuery): BatchLineView[] {
  const needle = query.text.trim().toLowerCase();
  const keyed = lines
    .filter((l) => lineMatchesStatus(l, query.status))
    .filter((l) => !needle || l.creator.toLowerCase().includes(needle) || (l.reference ?? "").toLowerCase().includes(needle))
    .map((line) => ({ line, value: sortValue(line, query.sort) }));
  const sign = query.dir === "asc" ? 1 : -1;
  keyed.sort((a, b) => {
    if (a.value === null || b.value === null) {
      if (a.value !== b.value) return a.value === null ? 1 : -1;
    } else if (a.value !== b.value) {
      return (a.value < b.value ? -1 : 1) * sign;
    }
    return a.line.line_no - b.line.line_no;
  });
  return keyed.map((k) => k.line);
}

/** The direction a click on a column's header sorts in: the other way on the sorted column. */
export function nextSort(query: LineQuery, key: SortKey): Pick<LineQuery, "sort" | "dir"> {
  if (query.sort === key) return { sort: key, dir: query.dir === "asc" ? "desc" : "asc" };
  // Amounts start with the largest; names and line numbers from the start.
  return { sort: key, dir: key === "creator" || key === "line" ? "asc" : "desc" };
}

/** One page of `items` (1-based), and how many pages there are. */
export function pageOf<T>(items: readonly T[], page: number, size: number): { rows: T[]; page: number; pages: number; first: number } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(Math.max(1, Math.trunc(page) || 1), pages);
  const first = (p - 1) * size;
  return { rows: items.slice(first, first + size), page: p, pages, first };
}

// ---- who may do what ----

const MAY_PREPARE = new Set(["preparer", "admin"]);
const MAY_APPROVE = new Set(["approver", "admin"]);
const MAY_EXECUTE = new Set(["preparer", "admin"]);
/** Batches that lock their month: it cannot be prepared again. */
const LOCKING = new Set(["approved", "executing", "done"]);

/** Whether a month's batch is approved, executing or done (then the month stays as paid). */
export function monthLocked(month: string, batches: readonly BatchSummaryView[]): boolean {
  return batches.some((b) => b.month === month && LOCKING.has(b.state));
}

/** Why `person` cannot prepare `month` now; empty when they can. */
export function prepareBlockers(month: MonthView, batches: readonly BatchSummaryView[], person: PersonView | null): string[] {
  const out: string[] = [];
  if (!month.over) out.push(`${month.month} has not ended yet in the workspace's time zone: prepare it once it is over.`);
  if (monthLocked(month.month, batches)) out.push(`${month.month} already has an approved batch: it is paid from that one.`);
  if (!person) out.push("Choose who you are acting as.");
  else if (!MAY_PREPARE.has(person.role)) {
    out.push(`${person.name} is ${article(person.role)}: only preparers and admins prepare batches.`);
  }
  return out;
}

export interface ApprovalOptions {
  /** Whether Stripe's balance must cover the batch (approving here: yes; signing a file: it is checked where it is imported). */
  coverage: boolean;
}

/** Why `person` cannot approve `batch`; empty when they can. */
export function approvalBlockers(batch: BatchView, person: PersonView | null, options: ApprovalOptions = { coverage: true }): string[] {
  const out: string[] = [];
  if (batch.state !== "draft") out.push(`The batch is ${batch.state}: only a draft is signed off.`);
  if (!person) {
    out.push("Choose who you are acting as.");
    return out;
  }
  if (person.name === batch.prepared_by) {
    out.push(`${person.name} prepared this batch and cannot approve it: another approver must (maker–checker).`);
  } else if (!MAY_APPROVE.has(person.role)) {
    out.push(`${person.name} is ${article(person.role)}: only approvers and admins approve.`);
  } else if (batch.decisions.some((d) => d.person === person.name && d.decision === "approve")) {
    out.push(`${person.name} has already approved this batch: the next approval must come from someone else.`);
  }
  if (options.coverage && !batch.coverage.covered) out.push(coverageProblem(batch));
  return out;
}

/** Why `person` cannot reject `batch`; empty when they can. */
export function rejectBlockers(batch: BatchView, person: PersonView | null): string[] {
  const out: string[] = [];
  if (batch.state !== "draft") out.push(`The batch is ${batch.state}: only a draft can be rejected.`);
  if (!person) out.push("Choose who you are acting as.");
  else if (!MAY_APPROVE.has(person.role)) out.push(`${person.name} is ${article(person.role)}: only approvers and admins reject.`);
  return out;
}

/** Why `person` cannot execute `batch`; empty when they can. */
export function executeBlockers(batch: BatchView, person: PersonView | null): string[] {
  const out: string[] = [];
  if (batch.state !== "approved" && batch.state !== "executing") {
    out.push(
      batch.state === "done"
        ? "Every payable line of this batch is paid."
        : `The batch is ${batch.state}: only an approved batch is executed.`,
    );
  }
  if (!person) out.push("Choose who you are acting as.");
  else if (!MAY_EXECUTE.has(person.role)) out.push(`${person.name} is ${article(person.role)}: only preparers and admins execute batches.`);
  return out;
}

/** Why an uncovered batch cannot be approved, in words. */
export function coverageProblem(batch: BatchView): string {
  const c = batch.coverage;
  if (!c.available) return "No Stripe balance is known: sync with Stripe (Dashboard) before approving.";
  return `Stripe's available balance (${c.available.formatted} ${c.available.currency}) does not cover the ${c.paid.formatted} ${c.paid.currency} this batch pays: it cannot be approved until it does.`;
}

/** "an admin", "a preparer". */
function article(role: string): string {
  return `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
}

/** "1 of 2 approvals". */
export function approvalsText(approvals: number, required: number): string {
  return `${approvals} of ${required} approval${required === 1 ? "" : "s"}`;
}

/** How an execution ended, in a sentence. */
export function reportText(r: ExecuteReportView): string {
  if (r.nothing_left) {
    return `Already done: all ${plural(r.payable_lines, "payable line")} were paid; nothing was left to pay and nothing was sent.`;
  }
  const adopted = r.adopted > 0 ? ` (${formatCount(r.adopted)} found already made at Stripe)` : "";
  const failed = r.failed_now > 0 ? `, ${formatCount(r.failed_now)} failed` : "";
  const head = r.state === "done" ? "Done" : "Stopped";
  return `${head}: ${plural(r.paid_now, "line")} paid now${adopted}${failed}. ${formatCount(r.paid_total)} of ${plural(r.payable_lines, "payable line")} paid.`;
}

/** A file name for a signed decision: "approval-pb_2026-10_v1-ari-chen.json". */
export function approvalFileName(batchId: string, person: string, decision: "approve" | "reject"): string {
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, "-")
      .replace(/^-+|-+$/g, "");
  return `${decision === "approve" ? "approval" : "rejection"}-${slug(batchId)}-${slug(person) || "person"}.json`;
}
