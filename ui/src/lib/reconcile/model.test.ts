import { describe, expect, it } from "vitest";
import { amount } from "../../test/fixtures";
import { reconCurrency, snapshot } from "../../test/reconFixtures";
import {
  addDays,
  ageInDays,
  dayOfStage,
  isDay,
  monthGrid,
  sharedResolutions,
  todayIn,
  waterfallGeometry,
  waterfallSteps,
  webhookTotals,
} from "./model";
import type { WebhookDayView } from "../bindings";

const KINDS = [
  "timing_difference",
  "missing_in_ledger",
  "missed_webhook",
  "missing_in_stripe",
  "amount_mismatch",
  "fee_mismatch",
  "duplicate",
  "data_changed",
];

describe("waterfallSteps", () => {
  it("goes Stripe → each explained kind in the waterfall's order → remainder → ledger, with the engine's figures", () => {
    const s = snapshot("2026-10-31", {
      currencies: [
        reconCurrency("USD", {
          stripe_total: amount("1,000.00"),
          ledger: amount("850.00"),
          difference: amount("150.00"),
          // Deliberately out of order: the waterfall follows `kinds`.
          explained: [
            { kind: "duplicate", amount: amount("-20.00") },
            { kind: "timing_difference", amount: amount("100.00") },
            { kind: "missing_in_ledger", amount: amount("50.00") },
          ],
          remainder: amount("20.00"),
          status: "unexplained",
        }),
      ],
    });
    const steps = waterfallSteps(s.currencies[0]!, KINDS);
    expect(steps.map((x) => x.type)).toEqual(["stripe", "explained", "explained", "explained", "remainder", "ledger"]);
    expect(steps.map((x) => x.kind)).toEqual([null, "timing_difference", "missing_in_ledger", "duplicate", null, null]);
    expect(steps.map((x) => x.label)).toEqual([
      "Stripe balance",
      "Timing difference",
      "Missing in ledger",
      "Duplicate",
      "Unexplained remainder",
      "Ledger balance",
    ]);
    // The figures are the engine's AmountViews, untouched.
    expect(steps.map((x) => x.amount.formatted)).toEqual(["1,000.00", "100.00", "50.00", "-20.00", "20.00", "850.00"]);
    // Each step lowers the running balance by its share of Stripe − ledger, exactly.
    expect(steps.map((x) => [x.from, x.to])).toEqual([
      [0n, 100000n],
      [100000n, 90000n],
      [90000n, 85000n],
      [85000n, 87000n],
      [87000n, 85000n],
      [0n, 85000n],
    ]);
    // The last explained step ends where the ledger bar ends once the remainder is taken off.
    expect(steps[4]!.to).toBe(steps[5]!.to);
  });

  it("keeps the engine's order for kinds it does not know, and always shows a zero remainder", () => {
    const line = reconCurrency("EUR", {
      stripe_total: amount("10.00", "EUR"),
      ledger: amount("10.00", "EUR"),
      difference: amount("0.00", "EUR"),
      explained: [
        { kind: "new_kind", amount: amount("1.00", "EUR") },
        { kind: "fee_mismatch", amount: amount("-1.00", "EUR") },
      ],
      remainder: amount("0.00", "EUR"),
    });
    const steps = waterfallSteps(line, KINDS);
    expect(steps.map((x) => x.kind)).toEqual([null, "fee_mismatch", "new_kind", null, null]);
    expect(steps[3]!.type).toBe("remainder");
    expect(steps[3]!.amount.zero).toBe(true);
  });

  it("places the bars on one scale that includes zero", () => {
    const line = reconCurrency("USD", {
      stripe_total: amount("-100.00"),
      ledger: amount("100.00"),
      difference: amount("-200.00"),
      explained: [{ kind: "missing_in_stripe", amount: amount("-200.00") }],
      remainder: amount("0.00"),
    });
    const { bars, zero } = waterfallGeometry(waterfallSteps(line, KINDS));
    expect(zero).toBe(50);
    expect(bars[0]).toEqual({ left: 0, width: 50, down: true, broken: false });
    expect(bars[1]).toEqual({ left: 0, width: 100, down: false, broken: false });
    expect(bars[3]).toEqual({ left: 50, width: 50, down: false, broken: false });
  });

  it("cuts the axis near the balances when they dwarf the differences, so every step shows", () => {
    const line = reconCurrency("USD", {
      stripe_total: amount("10,125.00"),
      ledger: amount("10,000.00"),
      difference: amount("125.00"),
      explained: [{ kind: "timing_difference", amount: amount("100.00") }],
      remainder: amount("25.00"),
    });
    const { bars, zero } = waterfallGeometry(waterfallSteps(line, KINDS));
    expect(zero).toBeNull();
    // Steps 1012500 → 1002500 → 1000000; the axis starts 60% of that range below the lowest.
    expect(bars.map((b) => b.broken)).toEqual([true, false, false, true]);
    expect(bars[0]!.left).toBe(0);
    expect(bars[0]!.width).toBe(100);
    expect(bars[1]!.width).toBeCloseTo(50);
    expect(bars[1]!.down).toBe(true);
    expect(bars[2]!.width).toBeCloseTo(12.5);
    expect(bars[3]!.width).toBeCloseTo(37.5);
  });
});

describe("days", () => {
  it("counts an exception's age in whole days, never negative", () => {
    expect(ageInDays("2026-10-01", "2026-10-31")).toBe(30);
    expect(ageInDays("2026-10-31", "2026-10-31")).toBe(0);
    expect(ageInDays("2026-02-27", "2026-03-01")).toBe(2);
    expect(ageInDays("2024-02-27", "2024-03-01")).toBe(3);
    // Across a DST change: still whole days.
    expect(ageInDays("2026-03-07", "2026-03-09")).toBe(2);
    expect(ageInDays("2026-11-01", "2026-10-31")).toBe(0);
    expect(ageInDays("not a day", "2026-10-31")).toBeNull();
  });

  it("reads and moves days", () => {
    expect(isDay("2026-02-29")).toBe(false);
    expect(isDay("2024-02-29")).toBe(true);
    expect(addDays("2026-10-31", 1)).toBe("2026-11-01");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(dayOfStage("reconciling 2026-10-03")).toBe("2026-10-03");
    expect(dayOfStage(null)).toBeNull();
  });

  it("says what today is in the workspace's time zone", () => {
    const now = new Date("2026-11-01T02:30:00Z");
    expect(todayIn("America/New_York", now)).toBe("2026-10-31");
    expect(todayIn("Europe/Paris", now)).toBe("2026-11-01");
  });

  it("lays a month out in weeks starting on Monday", () => {
    const weeks = monthGrid("2026-10");
    // 1 October 2026 is a Thursday.
    expect(weeks[0]).toEqual([null, null, null, "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]);
    expect(weeks.flat().filter(Boolean)).toHaveLength(31);
    expect(weeks.every((w) => w.length === 7)).toBe(true);
  });
});

describe("sharedResolutions", () => {
  it("intersects what each selected exception allows, and offers an adjustment for one exception only", () => {
    const timing = ["timing", "write_off", "accepted"];
    const missing = ["booked_adjustment", "write_off", "accepted"];
    const duplicate = ["booked_adjustment", "write_off", "duplicate_confirmed", "accepted"];
    expect(sharedResolutions([missing])).toEqual(missing);
    expect(sharedResolutions([missing, duplicate])).toEqual(["write_off", "accepted"]);
    expect(sharedResolutions([timing, missing, duplicate])).toEqual(["write_off", "accepted"]);
    expect(sharedResolutions([duplicate, duplicate])).toEqual(["write_off", "duplicate_confirmed", "accepted"]);
    expect(sharedResolutions([["timing"], ["duplicate_confirmed"]])).toEqual([]);
    expect(sharedResolutions([])).toEqual([]);
  });
});

describe("webhookTotals", () => {
  const row = (over: Partial<WebhookDayView>): WebhookDayView => ({
    day: "2026-10-01",
    event_type: "charge.succeeded",
    sent: 0,
    recorded: 0,
    processed: 0,
    failed: 0,
    pending: 0,
    missing: 0,
    subscribed: true,
    ...over,
  });

  it("sums what was sent, and what was lost of the subscribed types only", () => {
    const rows = [
      row({ sent: 10, recorded: 9, processed: 8, failed: 1, missing: 1 }),
      row({ day: "2026-10-02", sent: 3, recorded: 3, processed: 3 }),
      row({ event_type: "customer.created", sent: 4, missing: 4, subscribed: false }),
    ];
    expect(webhookTotals(rows)).toEqual({ sent: 17, missing: 1, failed: 1 });
    expect(webhookTotals([])).toEqual({ sent: 0, missing: 0, failed: 0 });
  });
});
