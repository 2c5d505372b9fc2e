// Builders for the payouts commands' values, as the engine sends them.

import type {
  BatchLineView,
  BatchSummaryView,
  BatchTotalsView,
  BatchView,
  DecisionView,
  MonthView,
  PayoutSettingsView,
  PayoutsOverview,
  PersonView,
  WhatIfView,
} from "../lib/bindings";
import { amount, digest, time } from "./fixtures";

export const ROLES = ["preparer", "approver", "auditor", "admin"];

export const HELD_TEXT: Record<string, string> = {
  no_connected_account: "no Stripe connected account: carried over until one exists",
  below_minimum: "below the minimum payout: carried over to next month",
  exceeds_owed: "the withdrawal asks for more than the creator is owed",
};

export function person(name: string, role: string, overrides: Partial<PersonView> = {}): PersonView {
  return {
    name,
    role,
    public_key: digest(name.length, "e"),
    key_here: true,
    added_at: time("2026-07-01"),
    added_by: "fin",
    vouched_by: "Ops Admin",
    fingerprint: "3F9A 12C0 77B1 0E4D",
    ...overrides,
  };
}

/** The demo's roster: a preparer, two approvers, and an auditor whose key is elsewhere. */
export function roster(): PersonView[] {
  return [
    person("Dana Reyes", "preparer"),
    person("Ari Chen", "approver"),
    person("Sam Okafor", "approver"),
    person("Lee Park", "auditor", { key_here: false }),
  ];
}

export function payoutSettings(overrides: Partial<PayoutSettingsView> = {}): PayoutSettingsView {
  return {
    fee_bps: 1000,
    minimum_minor: "2500",
    dual_approval_at_minor: "100000",
    minimum: amount("25.00"),
    dual_approval_at: amount("1,000.00"),
    ...overrides,
  };
}

export function totals(overrides: Partial<BatchTotalsView> = {}): BatchTotalsView {
  return {
    subscriptions: amount("2,000.00"),
    allocated: amount("1,800.00"),
    unallocated: amount("200.00"),
    fees: amount("180.00"),
    net: amount("1,620.00"),
    carried_in: amount("100.00"),
    withdrawals: amount("200.00"),
    paid: amount("1,100.00"),
    carried_out: amount("620.00"),
    revenue: amount("380.00"),
    lines: 4,
    paid_lines: 2,
    held_lines: 2,
    creators: 3,
    subscribers: 40,
    ...overrides,
  };
}

export function line(line_no: number, overrides: Partial<BatchLineView> = {}): BatchLineView {
  const creator = `cr_${String(line_no).padStart(5, "0")}`;
  return {
    line_no,
    kind: "earnings",
    creator,
    reference: null,
    destination: `acct_${line_no}`,
    gross: amount("1,000.00"),
    fee: amount("100.00"),
    net: amount("900.00"),
    carried_in: amount("0.00"),
    withdrawn: amount("0.00"),
    requested: amount("0.00"),
    payable: amount("900.00"),
    allocations: 12,
    held: null,
    held_text: null,
    previous_payable: amount("800.00"),
    change: amount("100.00"),
    execution: null,
    transfer_id: null,
    failure: null,
    ...overrides,
  };
}

/** A held line: nothing paid, the reason in words. */
export function heldLine(line_no: number, held: string, overrides: Partial<BatchLineView> = {}): BatchLineView {
  return line(line_no, { payable: amount("0.00"), held, held_text: HELD_TEXT[held] ?? held, change: amount("-800.00"), ...overrides });
}

/** Four lines: two paid (one a withdrawal), two held for different reasons. */
export function lines(): BatchLineView[] {
  return [
    line(1, { gross: amount("1,200.00"), payable: amount("900.00"), change: amount("150.00") }),
    heldLine(2, "below_minimum", { gross: amount("20.00"), fee: amount("2.00"), net: amount("18.00") }),
    heldLine(3, "no_connected_account", { creator: "cr_00003", destination: null, gross: amount("600.00"), previous_payable: null, change: null }),
    line(4, {
      kind: "withdrawal",
      creator: "cr_00001",
      reference: "wd_0001",
      gross: amount("0.00"),
      fee: amount("0.00"),
      net: amount("0.00"),
      requested: amount("200.00"),
      payable: amount("200.00"),
      previous_payable: null,
      change: null,
    }),
  ];
}

export function decision(personName: string, kind: "approve" | "reject" = "approve", overrides: Partial<DecisionView> = {}): DecisionView {
  return {
    person: personName,
    decision: kind,
    reason: kind === "reject" ? "The fee is wrong this month" : null,
    signed_at: time("2026-11-02", "11:00:00"),
    signature: `${digest(personName.length, "f")}${digest(personName.length + 1, "9")}`,
    public_key: digest(personName.length, "e"),
    via: "here",
    ...overrides,
  };
}

export function batch(overrides: Partial<BatchView> = {}): BatchView {
  const ls = overrides.lines ?? lines();
  const count = (state: string) => ls.filter((l) => l.execution === state).length;
  return {
    id: "pb_2026-10_v1",
    month: "2026-10",
    version: 1,
    state: "draft",
    settings: payoutSettings(),
    digest: digest(10, "d"),
    inputs_digest: digest(11, "c"),
    prepared_by: "Dana Reyes",
    prepared_at: time("2026-11-02", "09:30:00"),
    preparer_signature: digest(12, "b"),
    totals: totals(),
    lines: ls,
    decisions: [],
    approvals: 0,
    approvals_required: 2,
    coverage: { available: amount("9,550.00"), fetched_at: time("2026-11-02", "09:01:05"), paid: amount("1,100.00"), covered: true },
    drift: [],
    drift_count: 0,
    previous_batch: "pb_2026-09_v1",
    lines_paid: count("paid"),
    lines_failed: count("failed"),
    lines_sent: count("sent"),
    ...overrides,
  };
}

/** The summary the overview lists for `b`. */
export function summaryOf(b: BatchView): BatchSummaryView {
  return {
    id: b.id,
    month: b.month,
    version: b.version,
    state: b.state,
    paid: b.totals.paid,
    carried_out: b.totals.carried_out,
    paid_lines: b.totals.paid_lines,
    held_lines: b.totals.held_lines,
    prepared_by: b.prepared_by,
    prepared_at: b.prepared_at,
    state_changed_at: b.prepared_at,
    approvals: b.approvals,
    approvals_required: b.approvals_required,
    lines_done: b.lines_paid,
    lines_failed: b.lines_failed,
  };
}

export function month(m: string, overrides: Partial<MonthView> = {}): MonthView {
  return { month: m, over: true, allocations: 1407, latest_batch: null, state: null, ...overrides };
}

/** November in progress, October prepared (its draft `current`), September done. */
export function payoutsOverview(current: BatchView = batch(), overrides: Partial<PayoutsOverview> = {}): PayoutsOverview {
  const september = batch({ id: "pb_2026-09_v1", month: "2026-09", state: "done", approvals: 2, previous_batch: null });
  return {
    people: roster(),
    roster_root: "Ops Admin",
    roster_root_fingerprint: "9C41 0B7E 55D2 A613",
    roles: ROLES,
    batches: [summaryOf(current), summaryOf(september)],
    months: [
      month("2026-11", { over: false, allocations: 300 }),
      month(current.month, { latest_batch: current.id, state: current.state }),
      month("2026-09", { latest_batch: september.id, state: "done" }),
    ],
    settings: payoutSettings(),
    ...overrides,
  };
}

export function whatIf(overrides: Partial<WhatIfView> = {}): WhatIfView {
  return {
    fee_bps: 1500,
    minimum: amount("25.00"),
    totals: totals({ fees: amount("270.00"), paid: amount("1,010.00"), revenue: amount("470.00") }),
    fees_change: amount("90.00"),
    paid_change: amount("-90.00"),
    lines_newly_held: 0,
    lines_newly_paid: 0,
    ...overrides,
  };
}
