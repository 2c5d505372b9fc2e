// The Reconciliation screen's plain logic: words for the engine's names, the waterfall's
// steps, the minimum-amount filter in exact minor units, ages in days, and the resolutions
// several exceptions share. No money is computed for display here: amounts stay the engine's
// AmountView; only the waterfall's positions use exact integer (bigint) arithmetic.

import type { AmountView, ReconCurrencyView, ReconDayCurrencyView, WebhookDayView } from "../bindings";

// ---- words ----

const KIND_LABELS: Record<string, string> = {
  timing_difference: "Timing difference",
  missing_in_ledger: "Missing in ledger",
  missed_webhook: "Missed webhook",
  missing_in_stripe: "Missing in Stripe",
  amount_mismatch: "Amount mismatch",
  fee_mismatch: "Fee mismatch",
  duplicate: "Duplicate",
  data_changed: "Data changed",
};

const KIND_HINTS: Record<string, string> = {
  timing_difference: "Booked on different days on each side; usually clears on its own.",
  missing_in_ledger: "In Stripe, but the ledger has no entry for it.",
  missed_webhook: "In Stripe, and its webhook never reached the platform.",
  missing_in_stripe: "In the ledger, but Stripe has nothing for it.",
  amount_mismatch: "Paired, but the two sides' amounts differ.",
  fee_mismatch: "Paired, but the fee booked differs from Stripe's.",
  duplicate: "Booked more than once in the ledger.",
  data_changed: "A sealed day's figures changed after it was reconciled.",
};

const RESOLUTION_LABELS: Record<string, string> = {
  booked_adjustment: "Book an adjustment entry",
  timing: "Timing difference (clears later)",
  write_off: "Write off",
  duplicate_confirmed: "Duplicate confirmed",
  accepted: "Accept as it is",
};

const RESOLUTION_HINTS: Record<string, string> = {
  booked_adjustment: "Books a balanced entry of Closebook's own; review it below before submitting.",
  timing: "The difference clears on a later day; nothing is booked.",
  write_off: "The difference is written off; nothing is booked here.",
  duplicate_confirmed: "The duplicate booking is confirmed and will be reversed on the platform.",
  accepted: "Accepted as it is, for the reason given in the note.",
};

const RULE_LABELS: Record<string, string> = {
  exact_reference: "Exact reference",
  amount_date: "Amount and date",
  one_to_many: "One to many",
};

const RULE_HINTS: Record<string, string> = {
  exact_reference: "The entry's Stripe object id equals the balance transaction's source or id.",
  amount_date: "Same currency, amounts within the tolerance, dates within the window.",
  one_to_many: "One ledger entry for several Stripe items (a transfer group, or what a payout settled).",
};

function words(name: string): string {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? words(kind);
}

export function kindHint(kind: string): string {
  return KIND_HINTS[kind] ?? "";
}

export function resolutionLabel(resolution: string): string {
  return RESOLUTION_LABELS[resolution] ?? words(resolution);
}

export function resolutionHint(resolution: string): string {
  return RESOLUTION_HINTS[resolution] ?? "";
}

export function ruleLabel(rule: string): string {
  return RULE_LABELS[rule] ?? words(rule);
}

export function ruleHint(rule: string): string {
  return RULE_HINTS[rule] ?? "";
}

export type ReconStatus = "balanced" | "explained" | "unexplained";

export function isStatus(s: string): s is ReconStatus {
  return s === "balanced" || s === "explained" || s === "unexplained";
}

export function statusLabel(status: string): string {
  switch (status) {
    case "balanced":
      return "Balanced";
    case "explained":
      return "Explained";
    case "unexplained":
      return "Unexplained";
    default:
      return words(status);
  }
}

export function statusHint(status: string): string {
  switch (status) {
    case "balanced":
      return "Stripe and the ledger agree, and no exception is open.";
    case "explained":
      return "Every cent of the difference is explained by exceptions.";
    case "unexplained":
      return "Part of the difference is explained by nothing, or the Stripe mirror is incomplete.";
    default:
      return "";
  }
}

/**
 * A currency's status on a day from the overview's figures (the engine's rule without the
 * mirror check, which only the day's overall status carries).
 */
export function currencyStatus(c: ReconDayCurrencyView): ReconStatus {
  if (!c.remainder.zero) return "unexplained";
  if (c.difference.zero && c.open_exceptions === 0) return "balanced";
  return "explained";
}

// ---- the waterfall ----

export type StepType = "stripe" | "explained" | "remainder" | "ledger";

export interface WaterfallStep {
  key: string;
  type: StepType;
  /** The exception kind of an explained step. */
  kind: string | null;
  label: string;
  /** The engine's figure for the step: a balance, or a share of Stripe − ledger. */
  amount: AmountView;
  /** Where the bar starts and ends, in minor units (exact; for drawing only). */
  from: bigint;
  to: bigint;
}

/** Minor units as an exact integer; 0 for anything the engine would never send. */
export function minorOf(amount: AmountView): bigint {
  try {
    return BigInt(amount.minor);
  } catch {
    return 0n;
  }
}

/**
 * Stripe's balance, then each explained kind (in the waterfall's order, `kinds`), then the
 * unexplained remainder, then the ledger's balance. Each kind's amount is its share of
 * Stripe − ledger, so each step goes down by it: Stripe − Σ kinds − remainder = ledger.
 */
export function waterfallSteps(line: ReconCurrencyView, kinds: readonly string[] = []): WaterfallStep[] {
  const rank = (kind: string) => {
    const i = kinds.indexOf(kind);
    return i < 0 ? kinds.length : i;
  };
  const explained = line.explained
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e.kind) - rank(b.e.kind) || a.i - b.i)
    .map(({ e }) => e);

  const stripe = minorOf(line.stripe_total);
  const steps: WaterfallStep[] = [
    { key: "stripe", type: "stripe", kind: null, label: "Stripe balance", amount: line.stripe_total, from: 0n, to: stripe },
  ];
  let level = stripe;
  for (const e of explained) {
    const next = level - minorOf(e.amount);
    steps.push({ key: `kind-${e.kind}`, type: "explained", kind: e.kind, label: kindLabel(e.kind), amount: e.amount, from: level, to: next });
    level = next;
  }
  const afterRemainder = level - minorOf(line.remainder);
  steps.push({ key: "remainder", type: "remainder", kind: null, label: "Unexplained remainder", amount: line.remainder, from: level, to: afterRemainder });
  steps.push({ key: "ledger", type: "ledger", kind: null, label: "Ledger balance", amount: line.ledger, from: 0n, to: minorOf(line.ledger) });
  return steps;
}

export interface StepGeometry {
  /** Left edge and width, in percent of the track. */
  left: number;
  width: number;
  /** Whether the step lowers the running balance. */
  down: boolean;
  /** A balance bar drawn from a cut axis, not from zero. */
  broken: boolean;
}

export interface WaterfallGeometry {
  bars: StepGeometry[];
  /** Where zero is, in percent of the track; null when the axis is cut. */
  zero: number | null;
}

/**
 * Bar positions for the steps. Pixels only. On one scale that includes zero, unless the
 * balances dwarf the differences (a difference under a fifth of the balance, both balances on
 * one side of zero): then the axis is cut near the balances so every step stays visible, and
 * the two balance bars are drawn broken from the cut.
 */
export function waterfallGeometry(steps: readonly WaterfallStep[]): WaterfallGeometry {
  const levels: bigint[] = [];
  for (const s of steps) {
    if (s.type === "stripe" || s.type === "ledger") levels.push(s.to);
    else levels.push(s.from, s.to);
  }
  let loL = levels[0] ?? 0n;
  let hiL = levels[0] ?? 0n;
  for (const v of levels) {
    if (v < loL) loL = v;
    if (v > hiL) hiL = v;
  }
  const range = hiL - loL;
  const positive = loL > 0n;
  const negative = hiL < 0n;
  const biggest = positive ? hiL : -loL;
  const cut = range > 0n && (positive || negative) && range * 5n < biggest;

  let lo = 0n;
  let hi = 0n;
  if (cut) {
    // Room beyond the steps for the balance bars' broken ends: 60% of the steps' range.
    const room = (range * 3n) / 5n;
    lo = positive ? loL - room : loL;
    hi = positive ? hiL : hiL + room;
  } else {
    for (const s of steps) {
      for (const v of [s.from, s.to]) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  const span = hi - lo === 0n ? 1 : Number(hi - lo);
  const pct = (v: bigint) => Math.min(100, Math.max(0, (Number(v - lo) / span) * 100));
  const bars = steps.map((s) => {
    const balance = s.type === "stripe" || s.type === "ledger";
    const broken = cut && balance;
    const a = broken ? (positive ? 0 : 100) : pct(s.from);
    const b = pct(s.to);
    return { left: Math.min(a, b), width: Math.abs(b - a), down: s.to < s.from, broken };
  });
  return { bars, zero: cut ? null : pct(0n) };
}

// ---- days ----

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `s` is a real calendar day written YYYY-MM-DD. */
export function isDay(s: string): boolean {
  const m = DAY.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Days since 1970-01-01 of a YYYY-MM-DD day; NaN when it is not one. */
export function dayNumber(day: string): number {
  if (!isDay(day)) return Number.NaN;
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

/** The YYYY-MM-DD day `n` days after `day` (before when negative). */
export function addDays(day: string, n: number): string {
  const base = dayNumber(day);
  if (Number.isNaN(base)) return day;
  return new Date((base + n) * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Whole days from `firstDay` to `until` (both YYYY-MM-DD), never negative: an exception first
 * found on 2026-10-01 is 30 days old on 2026-10-31. Null when a day is not readable.
 */
export function ageInDays(firstDay: string, until: string): number | null {
  const a = dayNumber(firstDay);
  const b = dayNumber(until);
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return Math.max(0, b - a);
}

/** Today as YYYY-MM-DD in `timeZone` (the workspace's), or in this computer's zone. */
export function todayIn(timeZone: string | null | undefined, now: Date = new Date()): string {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: timeZone || undefined,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).formatToParts(now);
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
    const day = `${get("year")}-${get("month")}-${get("day")}`;
    if (isDay(day)) return day;
  } catch {
    // An unknown zone: this computer's date below.
  }
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, "0");
  const d = String(now.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}

/** The day a catch-up progress stage names ("reconciling 2026-10-03" → "2026-10-03"). */
export function dayOfStage(stage: string | null | undefined): string | null {
  const m = /(\d{4}-\d{2}-\d{2})/.exec(stage ?? "");
  return m ? (m[1] ?? null) : null;
}

// ---- resolving several exceptions at once ----

/**
 * The resolutions that fit every one of the selected exceptions: the intersection of what
 * each kind allows, in the first list's order. An adjustment books one exception's entry,
 * so it is offered for a single exception only.
 */
export function sharedResolutions(allowedPerException: readonly (readonly string[])[]): string[] {
  const [first, ...rest] = allowedPerException;
  if (!first) return [];
  const shared = first.filter((r) => rest.every((list) => list.includes(r)));
  return allowedPerException.length > 1 ? shared.filter((r) => r !== "booked_adjustment") : shared;
}

/** Months of the days, newest first, as "YYYY-MM". */
export function monthsOf(days: readonly string[]): string[] {
  return [...new Set(days.map((d) => d.slice(0, 7)))].sort().reverse();
}

const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "2026-10" → "October 2026". */
export function monthLabel(month: string): string {
  const [y, m] = month.split("-");
  return `${MONTH_NAMES[Number(m) - 1] ?? m} ${y}`;
}

/**
 * A month's calendar, weeks starting on Monday: `null` for the blank cells before the 1st
 * and after the last day.
 */
export function monthGrid(month: string): (string | null)[][] {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const first = new Date(Date.UTC(y, m - 1, 1));
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const offset = (first.getUTCDay() + 6) % 7;
  const cells: (string | null)[] = Array.from({ length: offset }, () => null);
  for (let d = 1; d <= daysInMonth; d++) cells.push(`${month}-${String(d).padStart(2, "0")}`);
  while (cells.length % 7 !== 0) cells.push(null);
  const weeks: (string | null)[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

/** Webhook health summed over its rows, subscribed types only for what was lost. */
export function webhookTotals(rows: readonly WebhookDayView[]): { sent: number; missing: number; failed: number } {
  let sent = 0;
  let missing = 0;
  let failed = 0;
  for (const r of rows) {
    sent += r.sent;
    if (r.subscribed) {
      missing += r.missing;
      failed += r.failed;
    }
  }
  return { sent, missing, failed };
}
