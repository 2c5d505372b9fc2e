// The Reports screen's choices turned into the engine's arguments: which scope a report kind
// needs, what is missing before it can run, and the names proposed for what it writes.

import type { CommandError, ExportReportArgs, ReportKindView } from "../bindings";
import { blankToNull } from "../workspace";

/** What a report is over (ReportKindView.needs). */
export type Needs = "none" | "day" | "batch" | "as_of" | "period";

export type ExportFormat = "xlsx" | "csv";

/** The scope inputs as typed or chosen (empty when not given). */
export interface ScopeInput {
  day: string;
  batch: string;
  asOf: string;
  from: string;
  to: string;
  account: string;
}

/** An export as asked for: everything but its operation id. */
export type ReportRequest = Omit<ExportReportArgs, "op_id">;

const NEEDS: readonly Needs[] = ["none", "day", "batch", "as_of", "period"];

/** The kind's scope; a scope this screen does not know is treated as none (the engine checks). */
export function needsOf(kind: ReportKindView): Needs {
  return (NEEDS as readonly string[]).includes(kind.needs) ? (kind.needs as Needs) : "none";
}

/** What the kind covers, in a few words (on its card). */
export function needsLabel(needs: Needs): string {
  switch (needs) {
    case "day":
      return "One reconciled day";
    case "batch":
      return "One payout batch";
    case "as_of":
      return "As of a date";
    case "period":
      return "A period";
    case "none":
      return "Everything";
  }
}

/** The arguments of `export_report`: only the scope the kind needs, the rest null. */
export function reportRequest(kind: ReportKindView, format: ExportFormat, dest: string, scope: ScopeInput): ReportRequest {
  const needs = needsOf(kind);
  const period = needs === "period";
  return {
    kind: kind.name,
    format,
    dest: dest.trim(),
    day: needs === "day" ? blankToNull(scope.day) : null,
    batch: needs === "batch" ? blankToNull(scope.batch) : null,
    as_of: needs === "as_of" ? blankToNull(scope.asOf) : null,
    from: period ? blankToNull(scope.from) : null,
    to: period ? blankToNull(scope.to) : null,
    account: period ? blankToNull(scope.account) : null,
  };
}

/** Why the scope cannot be exported yet, or null when it can. */
export function scopeProblem(kind: ReportKindView, scope: ScopeInput): string | null {
  switch (needsOf(kind)) {
    case "day":
      return scope.day.trim() ? null : "No reconciled day chosen: reconcile a day first, then choose it.";
    case "batch":
      return scope.batch.trim() ? null : "No payout batch chosen: prepare a batch first, then choose it.";
    case "period": {
      const from = scope.from.trim();
      const to = scope.to.trim();
      return from && to && from > to ? `The period starts (${from}) after it ends (${to}): swap the dates.` : null;
    }
    default:
      return null;
  }
}

/** The proposed name of the export's new folder: "<kind>-<scope>", e.g. "trial_balance-2026-10-31". */
export function defaultFolderName(kind: ReportKindView, scope: ScopeInput): string {
  const part = (s: string, fallback: string) => s.trim() || fallback;
  let what: string | null;
  switch (needsOf(kind)) {
    case "day":
      what = part(scope.day, "day");
      break;
    case "batch":
      what = part(scope.batch, "batch");
      break;
    case "as_of":
      what = part(scope.asOf, "all");
      break;
    case "period":
      what = `${part(scope.from, "start")}_${part(scope.to, "end")}`;
      break;
    case "none":
      what = null;
  }
  return what === null ? kind.name : `${kind.name}-${what}`;
}

/** A value refused before reaching the engine, shown like the engine's own refusals. */
export function invalidInput(message: string): CommandError {
  return { code: "invalid_input", message, problems: [], truncated: false };
}

/** A path as one shell word: as it is when plain, else in single quotes. */
export function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
