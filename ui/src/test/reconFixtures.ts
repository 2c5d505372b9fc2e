// Builders for the reconciliation commands' values, as the engine sends them.

import type {
  ExceptionDetailView,
  ExceptionView,
  MatchRulesView,
  ReconCurrencyView,
  ReconDayView,
  ReconOverview,
  SnapshotView,
} from "../lib/bindings";
import { amount, digest, time } from "./fixtures";

export const KINDS = [
  "timing_difference",
  "missing_in_ledger",
  "missed_webhook",
  "missing_in_stripe",
  "amount_mismatch",
  "fee_mismatch",
  "duplicate",
  "data_changed",
];

export const RESOLUTIONS = ["booked_adjustment", "timing", "write_off", "duplicate_confirmed", "accepted"];

/** What the engine allows per kind (Resolution::fits). */
export function allowedFor(kind: string): string[] {
  return RESOLUTIONS.filter((r) => {
    switch (r) {
      case "timing":
        return kind === "timing_difference";
      case "duplicate_confirmed":
        return kind === "duplicate";
      case "booked_adjustment":
        return kind !== "timing_difference" && kind !== "data_changed";
      default:
        return true;
    }
  });
}

export function rules(overrides: Partial<MatchRulesView> = {}): MatchRulesView {
  return {
    order: ["exact_reference", "amount_date", "one_to_many"],
    available: ["exact_reference", "amount_date", "one_to_many"],
    amount_tolerance_minor: 0,
    date_window_days: 3,
    ...overrides,
  };
}

export function reconCurrency(currency = "USD", overrides: Partial<ReconCurrencyView> = {}): ReconCurrencyView {
  return {
    currency,
    stripe_available: amount("9,000.00", currency),
    stripe_pending: amount("1,000.00", currency),
    stripe_total: amount("10,000.00", currency),
    ledger: amount("10,000.00", currency),
    difference: amount("0.00", currency),
    explained: [],
    remainder: amount("0.00", currency),
    matched: 120,
    unmatched_stripe: 0,
    unmatched_ledger: 0,
    open_exceptions: 0,
    status: "balanced",
    ...overrides,
  };
}

export function reconDay(day: string, status: string, overrides: Partial<ReconDayView> = {}): ReconDayView {
  const unexplained = status === "unexplained";
  const explained = status === "explained";
  return {
    day,
    version: 1,
    status,
    computed_at: time(day, "23:59:00"),
    currencies: [
      {
        currency: "USD",
        difference: unexplained ? amount("125.00") : explained ? amount("50.00") : amount("0.00"),
        remainder: unexplained ? amount("25.00") : amount("0.00"),
        open_exceptions: unexplained || explained ? 1 : 0,
      },
    ],
    ...overrides,
  };
}

export function reconOverview(overrides: Partial<ReconOverview> = {}): ReconOverview {
  const days = [
    reconDay("2026-10-29", "balanced"),
    reconDay("2026-10-30", "explained"),
    reconDay("2026-10-31", "unexplained"),
  ];
  return {
    last_day: days[days.length - 1]?.day ?? null,
    days,
    missing_days: 0,
    open_exceptions: 3,
    rules: rules(),
    kinds: KINDS,
    resolutions: RESOLUTIONS,
    ...overrides,
  };
}

export function exception(id: number, kind: string, overrides: Partial<ExceptionView> = {}): ExceptionView {
  return {
    id,
    key: `${kind}:usd:${id}`,
    kind,
    currency: "USD",
    stripe_object: `ch_${String(id).padStart(6, "0")}`,
    effect: amount("25.00"),
    stripe_amount: amount("25.00"),
    ledger_amount: null,
    stripe_ids: [`txn_${id}`],
    ledger_entries: [],
    stripe_date: time("2026-10-20"),
    ledger_date: null,
    event_id: `evt_${id}`,
    webhook_status: "processed",
    matched_by: null,
    note: "Stripe has a charge the ledger does not",
    first_day: "2026-10-20",
    last_day: "2026-10-31",
    appearances: 12,
    current: true,
    resolution: null,
    ...overrides,
  };
}

export function exceptionDetail(e: ExceptionView): ExceptionDetailView {
  return {
    exception: e,
    history: [
      { day: "2026-10-20", version: 1, effect: e.effect },
      { day: "2026-10-31", version: 1, effect: e.effect },
    ],
    allowed: allowedFor(e.kind),
  };
}

export function snapshot(day: string, overrides: Partial<SnapshotView> = {}): SnapshotView {
  return {
    id: 31,
    day,
    version: 1,
    dry_run: false,
    unchanged: false,
    computed_at: time(day, "23:59:00"),
    actor: "fin",
    status: "balanced",
    digest: digest(7, "c"),
    stripe_rows: 410,
    ledger_rows: 398,
    matched: 380,
    rules: rules(),
    currencies: [reconCurrency("USD")],
    exceptions: [],
    mirror: [],
    ...overrides,
  };
}

/** The snapshot of an unexplained day: two kinds explain part of the difference. */
export function unexplainedSnapshot(day: string, overrides: Partial<SnapshotView> = {}): SnapshotView {
  return snapshot(day, {
    status: "unexplained",
    currencies: [
      reconCurrency("USD", {
        stripe_total: amount("10,125.00"),
        ledger: amount("10,000.00"),
        difference: amount("125.00"),
        explained: [
          { kind: "timing_difference", amount: amount("75.00") },
          { kind: "missing_in_ledger", amount: amount("25.00") },
        ],
        remainder: amount("25.00"),
        unmatched_stripe: 2,
        unmatched_ledger: 1,
        open_exceptions: 2,
        status: "unexplained",
      }),
    ],
    exceptions: [exception(1, "timing_difference", { effect: amount("75.00") }), exception(2, "missing_in_ledger")],
    ...overrides,
  });
}
