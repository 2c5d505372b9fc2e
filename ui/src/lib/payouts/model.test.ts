import { describe, expect, it } from "vitest";
import { amount } from "../../test/fixtures";
import { batch, decision, heldLine, line, lines, month, person, summaryOf } from "../../test/payoutFixtures";
import {
  approvalBlockers,
  approvalFileName,
  approvalsText,
  bpsLabel,
  DEFAULT_QUERY,
  executeBlockers,
  heldLabel,
  monthLocked,
  nextSort,
  pageOf,
  parseBps,
  prepareBlockers,
  rejectBlockers,
  reportText,
  selectLines,
  type LineQuery,
} from "./model";

const q = (over: Partial<LineQuery>): LineQuery => ({ ...DEFAULT_QUERY, ...over });
const nos = (ls: { line_no: number }[]) => ls.map((l) => l.line_no);

describe("parseBps", () => {
  it("takes whole basis points from 0 to 10000", () => {
    expect(parseBps("1000")).toEqual({ ok: true, bps: 1000 });
    expect(parseBps(" 0 ")).toEqual({ ok: true, bps: 0 });
    expect(parseBps("10000")).toEqual({ ok: true, bps: 10000 });
    for (const bad of ["10001", "-1", "12.5", "", "ten"]) expect(parseBps(bad).ok, bad).toBe(false);
  });

  it("says a fee in percent and basis points", () => {
    expect(bpsLabel(1000)).toBe("10.00% (1,000 bps)");
    expect(bpsLabel(250)).toBe("2.50% (250 bps)");
  });
});

describe("selectLines", () => {
  const all = lines();

  it("filters by creator or reference, any case", () => {
    expect(nos(selectLines(all, q({ text: "CR_00001" })))).toEqual([1, 4]);
    expect(nos(selectLines(all, q({ text: "wd_0001" })))).toEqual([4]);
    expect(nos(selectLines(all, q({ text: "nobody" })))).toEqual([]);
  });

  it("filters by status: paid, held, failed", () => {
    const executed = [line(1, { execution: "paid" }), line(2, { execution: "failed", failure: "account closed" }), heldLine(3, "below_minimum")];
    expect(nos(selectLines(executed, q({ status: "paid" })))).toEqual([1, 2]);
    expect(nos(selectLines(executed, q({ status: "held" })))).toEqual([3]);
    expect(nos(selectLines(executed, q({ status: "failed" })))).toEqual([2]);
    expect(nos(selectLines(executed, q({ status: "all" })))).toEqual([1, 2, 3]);
  });

  it("sorts by exact amounts, either way, with lines lacking a value last", () => {
    expect(nos(selectLines(all, q({ sort: "gross", dir: "desc" })))).toEqual([1, 3, 2, 4]);
    expect(nos(selectLines(all, q({ sort: "gross", dir: "asc" })))).toEqual([4, 2, 3, 1]);
    expect(nos(selectLines(all, q({ sort: "payable", dir: "desc" })))).toEqual([1, 4, 2, 3]);
    // No change (nothing last month) stays last in both directions.
    expect(nos(selectLines(all, q({ sort: "change", dir: "desc" })))).toEqual([1, 2, 3, 4]);
    expect(nos(selectLines(all, q({ sort: "change", dir: "asc" })))).toEqual([2, 1, 3, 4]);
    // Ties keep line order.
    expect(nos(selectLines(all, q({ sort: "creator", dir: "asc" })))).toEqual([1, 4, 2, 3]);
  });

  it("compares amounts beyond what a float keeps", () => {
    const big = [line(1, { payable: amount("90,071,992,547,409.93") }), line(2, { payable: amount("90,071,992,547,409.92") })];
    expect(nos(selectLines(big, q({ sort: "payable", dir: "asc" })))).toEqual([2, 1]);
  });

  it("sorts a column the other way on a second click; amounts start with the largest", () => {
    expect(nextSort(DEFAULT_QUERY, "payable")).toEqual({ sort: "payable", dir: "desc" });
    expect(nextSort(q({ sort: "payable", dir: "desc" }), "payable")).toEqual({ sort: "payable", dir: "asc" });
    expect(nextSort(DEFAULT_QUERY, "creator")).toEqual({ sort: "creator", dir: "asc" });
  });
});

describe("pageOf", () => {
  it("cuts a list into pages and keeps the page in range", () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    expect(pageOf(items, 1, 100)).toMatchObject({ page: 1, pages: 3, first: 0 });
    expect(pageOf(items, 3, 100).rows).toHaveLength(50);
    expect(pageOf(items, 9, 100)).toMatchObject({ page: 3, first: 200 });
    expect(pageOf([], 2, 100)).toMatchObject({ page: 1, pages: 1, rows: [] });
  });
});

describe("who may do what", () => {
  const dana = person("Dana Reyes", "preparer");
  const ari = person("Ari Chen", "approver");
  const lee = person("Lee Park", "auditor");
  const admin = person("Ops Admin", "admin");

  it("tells the preparer they cannot approve their own batch", () => {
    expect(approvalBlockers(batch(), dana)).toEqual([
      "Dana Reyes prepared this batch and cannot approve it: another approver must (maker–checker).",
    ]);
    expect(approvalBlockers(batch(), ari)).toEqual([]);
    expect(approvalBlockers(batch(), admin)).toEqual([]);
    expect(approvalBlockers(batch(), lee)[0]).toBe("Lee Park is an auditor: only approvers and admins approve.");
    expect(approvalBlockers(batch(), null)).toEqual(["Choose who you are acting as."]);
  });

  it("refuses a second approval by the same person, a batch not in draft, and an uncovered batch", () => {
    expect(approvalBlockers(batch({ decisions: [decision("Ari Chen")], approvals: 1 }), ari)[0]).toContain("has already approved");
    expect(approvalBlockers(batch({ state: "approved" }), ari)[0]).toBe("The batch is approved: only a draft is signed off.");
    const uncovered = batch({ coverage: { available: amount("500.00"), fetched_at: null, paid: amount("1,100.00"), covered: false } });
    expect(approvalBlockers(uncovered, ari)[0]).toContain("(500.00 USD) does not cover the 1,100.00 USD");
    // Signing into a file: coverage is checked where the file is imported.
    expect(approvalBlockers(uncovered, ari, { coverage: false })).toEqual([]);
    const unknown = batch({ coverage: { available: null, fetched_at: null, paid: amount("1,100.00"), covered: false } });
    expect(approvalBlockers(unknown, ari)[0]).toContain("No Stripe balance is known");
  });

  it("lets approvers and admins reject a draft, and preparers and admins execute an approved batch", () => {
    expect(rejectBlockers(batch(), ari)).toEqual([]);
    expect(rejectBlockers(batch(), dana)[0]).toBe("Dana Reyes is a preparer: only approvers and admins reject.");
    expect(executeBlockers(batch({ state: "approved" }), dana)).toEqual([]);
    expect(executeBlockers(batch({ state: "executing" }), admin)).toEqual([]);
    expect(executeBlockers(batch({ state: "approved" }), ari)[0]).toBe("Ari Chen is an approver: only preparers and admins execute batches.");
    expect(executeBlockers(batch({ state: "draft" }), dana)[0]).toBe("The batch is draft: only an approved batch is executed.");
    expect(executeBlockers(batch({ state: "done" }), dana)[0]).toBe("Every payable line of this batch is paid.");
  });

  it("prepares months that are over and not paid from an approved batch", () => {
    const done = batch({ id: "pb_2026-09_v1", month: "2026-09", state: "done" });
    const draft = batch();
    const summaries = [summaryOf(draft), summaryOf(done)];
    expect(monthLocked("2026-09", summaries)).toBe(true);
    expect(monthLocked("2026-10", summaries)).toBe(false);
    expect(prepareBlockers(month("2026-10", { latest_batch: draft.id, state: "draft" }), summaries, dana)).toEqual([]);
    expect(prepareBlockers(month("2026-09"), summaries, dana)[0]).toContain("already has an approved batch");
    expect(prepareBlockers(month("2026-11", { over: false }), summaries, dana)[0]).toContain("has not ended yet");
    expect(prepareBlockers(month("2026-10"), summaries, ari)[0]).toBe("Ari Chen is an approver: only preparers and admins prepare batches.");
  });

  it("says how an execution ended", () => {
    const r = { batch: "pb", state: "done", paid_now: 3, adopted: 1, failed_now: 0, paid_total: 4, failed_total: 0, payable_lines: 4, nothing_left: false };
    expect(reportText(r)).toBe("Done: 3 lines paid now (1 found already made at Stripe). 4 of 4 payable lines paid.");
    expect(reportText({ ...r, paid_now: 0, adopted: 0, nothing_left: true })).toBe(
      "Already done: all 4 payable lines were paid; nothing was left to pay and nothing was sent.",
    );
    expect(reportText({ ...r, state: "executing", paid_now: 1, adopted: 0, failed_now: 2, paid_total: 2 })).toBe(
      "Stopped: 1 line paid now, 2 failed. 2 of 4 payable lines paid.",
    );
  });

  it("words approvals, held codes and approval file names", () => {
    expect(approvalsText(1, 2)).toBe("1 of 2 approvals");
    expect(approvalsText(0, 1)).toBe("0 of 1 approval");
    expect(heldLabel("below_minimum")).toBe("Below the minimum");
    expect(heldLabel("something_new")).toBe("Something new");
    expect(approvalFileName("pb_2026-10_v1", "Ari Chen", "approve")).toBe("approval-pb_2026-10_v1-ari-chen.json");
    expect(approvalFileName("pb_2026-10_v1", "Zoë", "reject")).toBe("rejection-pb_2026-10_v1-zo.json");
  });
});
