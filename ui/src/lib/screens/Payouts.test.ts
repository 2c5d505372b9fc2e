import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type {
  AddPersonArgs,
  VouchArgs,
  BatchView,
  DecisionArgs,
  ExecuteArgs,
  ExecuteReportView,
  ExportApprovalArgs,
  PayoutSettingsArgs,
  PayoutsOverview,
  PrepareArgs,
  ProgressEvent,
  RetryArgs,
  WhatIfArgs,
} from "../bindings";
import { PROGRESS_EVENT } from "../bindings";
import { adviceFor } from "../errors";
import { payoutExecution } from "../payouts/execution.svelte";
import { all, choose, maybe, q, type } from "../../test/dom";
import { amount, commandError, settle, workspace } from "../../test/fixtures";
import { batch, decision, heldLine, line, month, payoutsOverview, person, roster, summaryOf, whatIf } from "../../test/payoutFixtures";
import Payouts from "./Payouts.svelte";

afterEach(() => {
  clearMocks();
  payoutExecution.reset();
});

type Call = { cmd: string; args: Record<string, unknown> };

interface Engine {
  batch?: BatchView;
  overview?: (current: BatchView) => PayoutsOverview;
  /** Answers a command before the defaults do (throw to fail it). */
  handle?: (cmd: string, args: Record<string, unknown>) => unknown;
  execute?: (args: ExecuteArgs) => Promise<ExecuteReportView>;
}

/** The payouts commands served like the engine (approvals, rejections, retries change the batch), every call recorded. */
function servePayouts(engine: Engine = {}) {
  const calls: Call[] = [];
  const state = { batch: engine.batch ?? batch() };
  const overviewOf = engine.overview ?? ((b: BatchView) => payoutsOverview(b));
  const earlier = batch({ id: "pb_2026-09_v1", month: "2026-09", state: "done", approvals: 2, previous_batch: null });
  const setBatch = (b: BatchView) => {
    state.batch = b;
    return b;
  };
  mockIPC(
    async (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      if (engine.handle) {
        const answer = engine.handle(cmd, args);
        if (answer !== undefined) return answer;
      }
      switch (cmd) {
        case "payouts_overview":
          return overviewOf(state.batch);
        case "payouts_batch": {
          const id = args["id"] as string;
          if (id === state.batch.id) return state.batch;
          if (id === earlier.id) return earlier;
          throw commandError("not_found", `no batch ${id}`);
        }
        case "payouts_approve": {
          const a = args["args"] as DecisionArgs;
          const b = state.batch;
          const approvals = b.approvals + 1;
          return setBatch({
            ...b,
            approvals,
            state: approvals >= b.approvals_required ? "approved" : "draft",
            decisions: [...b.decisions, decision(a.as_person)],
          });
        }
        case "payouts_reject": {
          const a = args["args"] as DecisionArgs;
          return setBatch({ ...state.batch, state: "rejected", decisions: [...state.batch.decisions, decision(a.as_person, "reject", { reason: a.reason })] });
        }
        case "payouts_prepare": {
          const a = args["args"] as PrepareArgs;
          return setBatch(batch({ id: `pb_${a.month}_v1`, month: a.month, prepared_by: a.as_person }));
        }
        case "payouts_what_if":
          fakeDollars((args["args"] as WhatIfArgs).minimum, "The minimum payout");
          return whatIf({ fee_bps: (args["args"] as WhatIfArgs).fee_bps });
        case "payouts_export_approval":
          return (args["args"] as ExportApprovalArgs).path;
        case "payouts_import_approval":
          return setBatch({ ...state.batch, approvals: state.batch.approvals + 1, decisions: [...state.batch.decisions, decision("Sam Okafor", "approve", { via: "file" })] });
        case "payouts_execute":
          if (engine.execute) return engine.execute(args["args"] as ExecuteArgs);
          return { batch: state.batch.id, state: "done", paid_now: 2, adopted: 0, failed_now: 0, paid_total: 2, failed_total: 0, payable_lines: 2, nothing_left: false };
        case "payouts_retry":
          return setBatch({
            ...state.batch,
            lines: state.batch.lines.map((l) => (l.execution === "failed" ? { ...l, execution: "pending", failure: null } : l)),
            lines_failed: 0,
          });
        case "payouts_add_person": {
          const a = args["args"] as AddPersonArgs;
          const ov = overviewOf(state.batch);
          return { ...ov, people: [...ov.people, person(a.name, a.role)] };
        }
        case "payouts_vouch": {
          const a = args["args"] as VouchArgs;
          const ov = overviewOf(state.batch);
          return { ...ov, people: ov.people.map((p) => (a.names.includes(p.name) ? { ...p, vouched_by: a.as_person } : p)) };
        }
        case "payouts_set_settings":
          fakeDollars((args["args"] as PayoutSettingsArgs).minimum, "The minimum payout");
          return overviewOf(state.batch);
        case "plugin:dialog|save":
          return "/home/fin/approval-ari.json";
        case "plugin:dialog|open":
          return "/home/fin/approval-sam.json";
        case "cancel_operation":
          return true;
        default:
          throw commandError("internal", `unexpected command ${cmd}`);
      }
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    state,
    of: (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args),
    setBatch,
  };
}

function rowsOf(container: Element): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>('[data-testid^="payouts-line-row-"]'));
}

/** The fake engine's refusal of a typed dollar amount it would not read (the real one is `Money::parse`). */
function fakeDollars(typed: string, what: string): void {
  if (!/^\$?(\d{1,3}(,\d{3})*|\d+)?(\.\d{1,2})?$/.test(typed.trim())) {
    throw commandError("invalid_input", `${what}: cannot read \`${typed}\` as an amount of USD: USD has 2 decimal place(s); refusing to round`);
  }
}

async function renderLoaded(engine: Engine = {}, props: { pageSize?: number; mode?: string } = {}) {
  const served = servePayouts(engine);
  const view = render(Payouts, { workspace: workspace({ mode: props.mode ?? "test" }), ...(props.pageSize ? { pageSize: props.pageSize } : {}) });
  await waitFor(() => expect(maybe(view.container, "payouts-batch")).not.toBeNull());
  return { ...view, ...served };
}

describe("Payouts", () => {
  it("shows the months by state, who can act here, and the newest batch with its totals, coverage and settings", async () => {
    const { container, of } = await renderLoaded();
    expect(q(container, "screen-payouts")).toBeTruthy();

    // Only people whose key is on this computer can be acted as; the first is chosen.
    const acting = q<HTMLSelectElement>(container, "payouts-acting-as");
    expect(Array.from(acting.options).map((o) => o.value)).toEqual(["Dana Reyes", "Ari Chen", "Sam Okafor"]);
    expect(acting.value).toBe("Dana Reyes");

    const months = ["2026-11", "2026-10", "2026-09"].map((m) => q(container, `payouts-month-${m}`));
    expect(months.map((m) => m.dataset["state"])).toEqual(["", "draft", "done"]);
    expect(months[1]!.classList.contains("batch-draft")).toBe(true);
    expect(months[1]!.getAttribute("aria-pressed")).toBe("true");
    expect(months[0]!.textContent).toContain("November 2026");
    expect(months[0]!.textContent).toContain("In progress");

    expect(of("payouts_batch")).toEqual([{ id: "pb_2026-10_v1" }]);
    expect(q(container, "payouts-batch-id").textContent).toBe("pb_2026-10_v1");
    const state = q(container, "payouts-batch-state");
    expect(state.dataset["state"]).toBe("draft");
    expect(state.textContent).toBe("Draft");
    expect(q(container, "payouts-total-paid").textContent).toContain("1,100.00");
    expect(q(container, "payouts-total-paid").dataset["minor"]).toBe("110000");
    expect(q(container, "payouts-total-revenue").textContent).toContain("380.00");
    expect(q(container, "payouts-total-carried_in").textContent).toContain("100.00");
    const identity = q(container, "payouts-total-identity").textContent!.replace(/\s+/g, " ");
    expect(identity).toContain("subscriptions 2,000.00 = paid 1,100.00 + fees 180.00 + (carried out 620.00 − carried in 100.00) + unallocated 200.00");

    const coverage = q(container, "payouts-coverage");
    expect(coverage.dataset["covered"]).toBe("true");
    expect(coverage.textContent).toContain("9,550.00");
    expect(coverage.textContent).toContain("2026-11-02 09:01:05 EDT");
    const params = q(container, "payouts-params").textContent!;
    expect(params).toContain("10.00% (1,000 bps)");
    expect(params).toContain("25.00");
    expect(params).toContain("1,000.00");
    expect(q(container, "payouts-digest").getAttribute("title")).toHaveLength(64);
    expect(q(container, "payouts-digest").textContent!.endsWith("…")).toBe(true);
    expect(maybe(container, "payouts-drift")).toBeNull();

    // The history lists every batch with its approvals.
    const history = all(container, "payouts-history-row");
    expect(history.map((r) => r.dataset["batch"])).toEqual(["pb_2026-10_v1", "pb_2026-09_v1"]);
    expect(history[0]!.textContent).toContain("0 of 2 approvals");
    expect(history[0]!.textContent).toContain("Dana Reyes");
  });

  it("lists the lines with held reasons in words, changes and execution, right-aligned", async () => {
    const { container } = await renderLoaded();
    const rows = rowsOf(container);
    expect(rows.map((r) => r.dataset["testid"] ?? r.getAttribute("data-testid"))).toEqual([
      "payouts-line-row-1",
      "payouts-line-row-2",
      "payouts-line-row-3",
      "payouts-line-row-4",
    ]);
    expect(rows.map((r) => r.dataset["held"])).toEqual(["", "below_minimum", "no_connected_account", ""]);
    expect(rows.map((r) => r.dataset["execution"])).toEqual(["", "", "", ""]);
    expect(all(container, "payouts-held-reason").map((e) => e.textContent)).toEqual([
      "Below the minimum — below the minimum payout: carried over to next month",
      "No connected account — no Stripe connected account: carried over until one exists",
    ]);
    expect(rows[1]!.textContent).toContain("Below the minimum — below the minimum payout: carried over to next month");
    expect(rows[2]!.textContent).toContain("no Stripe connected account: carried over until one exists");
    expect(rows[3]!.textContent).toContain("Withdrawal");
    expect(rows[3]!.textContent).toContain("wd_0001");
    // Change against last month: a true minus for a drop, a dash when there was no line.
    expect(rows[1]!.textContent).toContain("−800.00");
    expect(rows[2]!.querySelector('td[title="No line for this creator last month"]')!.textContent!.trim()).toBe("—");
    const payable = rows[0]!.querySelector("td.payable")!;
    expect(payable.querySelector(".money")!.getAttribute("data-minor")).toBe("90000");
    expect(payable.classList.contains("num")).toBe(true);
  });

  it("filters the lines by words and status and sorts them by column", async () => {
    const { container } = await renderLoaded();
    const ids = () => rowsOf(container).map((r) => r.getAttribute("data-testid")!.replace("payouts-line-row-", ""));
    await choose(q<HTMLSelectElement>(container, "payouts-lines-filter-status"), "held");
    expect(ids()).toEqual(["2", "3"]);
    await choose(q<HTMLSelectElement>(container, "payouts-lines-filter-status"), "all");
    await type(q<HTMLInputElement>(container, "payouts-lines-filter-text"), "WD_");
    expect(ids()).toEqual(["4"]);
    await type(q<HTMLInputElement>(container, "payouts-lines-filter-text"), "zzz");
    expect(q(container, "payouts-lines-empty").textContent).toContain("No line matches these filters");
    await type(q<HTMLInputElement>(container, "payouts-lines-filter-text"), "");

    await fireEvent.click(q(container, "payouts-sort-gross"));
    expect(ids()).toEqual(["1", "3", "2", "4"]);
    expect(q(container, "payouts-sort-gross").closest("th")!.getAttribute("aria-sort")).toBe("descending");
    await fireEvent.click(q(container, "payouts-sort-gross"));
    expect(ids()).toEqual(["4", "2", "3", "1"]);
    expect(q(container, "payouts-sort-gross").closest("th")!.getAttribute("aria-sort")).toBe("ascending");
  });

  it("copes with thousands of lines: one page in the DOM at a time", async () => {
    const many = Array.from({ length: 2500 }, (_, i) => (i % 10 === 9 ? heldLine(i + 1, "below_minimum") : line(i + 1)));
    const { container } = await renderLoaded({ batch: batch({ lines: many }) }, { pageSize: 100 });
    expect(rowsOf(container)).toHaveLength(100);
    expect(q(container, "payouts-lines-count").textContent).toContain("Lines 1–100 of 2,500");
    await fireEvent.click(q(container, "payouts-lines-next"));
    expect(rowsOf(container)[0]!.getAttribute("data-testid")).toBe("payouts-line-row-101");
    await choose(q<HTMLSelectElement>(container, "payouts-lines-filter-status"), "held");
    expect(q(container, "payouts-lines-count").textContent).toContain("Lines 1–100 of 250 (of 2,500)");
    expect(rowsOf(container).every((r) => r.dataset["held"] === "below_minimum")).toBe(true);
  });

  it("walks the month-end path: prepare, what-if, two approvals, execute until done", async () => {
    let prepared = false;
    const months = (b: BatchView) => [
      month("2026-11", { over: false }),
      prepared ? month("2026-10", { latest_batch: b.id, state: b.state }) : month("2026-10"),
    ];
    const served = servePayouts({
      overview: (b) => payoutsOverview(b, { batches: prepared ? [summaryOf(b)] : [], months: months(b) }),
      handle: (cmd) => {
        if (cmd === "payouts_prepare") prepared = true;
        return undefined;
      },
      execute: async (args) => {
        const b = served.state.batch;
        served.setBatch({ ...b, state: "done", lines: b.lines.map((l) => (l.held ? l : { ...l, execution: "paid", transfer_id: `tr_${l.line_no}` })) });
        return { batch: args.batch_id, state: "done", paid_now: 2, adopted: 0, failed_now: 0, paid_total: 2, failed_total: 0, payable_lines: 2, nothing_left: false };
      },
    });
    const { container } = render(Payouts, { workspace: workspace() });
    const acting = await waitFor(() => q<HTMLSelectElement>(container, "payouts-acting-as"));
    await choose(acting, "Dana Reyes");
    // Nothing prepared yet: the newest month is shown, and October can be prepared.
    expect(maybe(container, "payouts-batch")).toBeNull();
    await fireEvent.click(q(container, "payouts-month-2026-10"));
    await fireEvent.click(q(container, "payouts-prepare"));
    await waitFor(() => expect(q(container, "payouts-batch-state").textContent!.toLowerCase()).toContain("draft"));
    expect(q(container, "payouts-batch-id").textContent).toContain("pb_2026-10_");
    expect(q(container, "payouts-coverage").getAttribute("data-covered")).toBe("true");
    expect(all(container, "payouts-held-reason").some((e) => e.textContent!.toLowerCase().includes("connected account"))).toBe(true);

    await type(q<HTMLInputElement>(container, "payouts-whatif-fee"), "500");
    await type(q<HTMLInputElement>(container, "payouts-whatif-minimum"), "10.00");
    await fireEvent.click(q(container, "payouts-whatif-run"));
    await waitFor(() => expect(q(container, "payouts-whatif-result").textContent!.trim()).not.toBe(""));
    expect(served.of("payouts_what_if")).toEqual([{ args: { batch_id: "pb_2026-10_v1", fee_bps: 500, minimum: "10.00" } }]);

    for (const [who, approvals] of [["Ari Chen", "1 of 2"], ["Sam Okafor", "2 of 2"]] as const) {
      await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), who);
      await fireEvent.click(q(container, "payouts-approve"));
      await waitFor(() => expect(q(container, "payouts-approvals").textContent).toContain(approvals));
    }
    expect(q(container, "payouts-batch-state").textContent!.toLowerCase()).toContain("approved");
    expect(all(container, "payouts-decision").map((d) => d.dataset["person"])).toEqual(["Ari Chen", "Sam Okafor"]);

    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Dana Reyes");
    await fireEvent.click(q(container, "payouts-execute"));
    await waitFor(() => expect(q(container, "payouts-batch-state").textContent!.toLowerCase()).toContain("done"));
    expect(served.of("payouts_execute")).toEqual([{ args: expect.objectContaining({ batch_id: "pb_2026-10_v1", as_person: "Dana Reyes" }) }]);
    expect(q(container, "payouts-line-row-1").dataset["execution"]).toBe("paid");
    expect(q(container, "payouts-month-2026-10").dataset["state"]).toBe("done");
  });

  it("tells the preparer they cannot approve their own batch", async () => {
    const { container, of } = await renderLoaded();
    expect(q<HTMLSelectElement>(container, "payouts-acting-as").value).toBe("Dana Reyes");
    const approve = q<HTMLButtonElement>(container, "payouts-approve");
    expect(approve.disabled).toBe(true);
    const blocked = q(container, "payouts-approve-blocked");
    expect(blocked.textContent).toContain("Dana Reyes cannot approve this batch here");
    expect(blocked.textContent).toContain("Dana Reyes prepared this batch and cannot approve it: another approver must (maker–checker).");
    expect(approve.getAttribute("title")).toContain("prepared this batch");
    expect(q<HTMLButtonElement>(container, "payouts-export-approval").disabled).toBe(true);
    await fireEvent.click(approve);
    await settle();
    expect(of("payouts_approve")).toEqual([]);
  });

  it("approves as the acting person, shows each signed decision, and counts the approvals", async () => {
    const { container, of } = await renderLoaded();
    expect(q(container, "payouts-approvals").textContent!.trim()).toBe("0 of 2 approvals");
    expect(q(container, "payouts-no-decisions")).toBeTruthy();
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    const approve = q<HTMLButtonElement>(container, "payouts-approve");
    expect(approve.disabled).toBe(false);
    expect(approve.textContent).toContain("Approve as Ari Chen");
    expect(maybe(container, "payouts-approve-blocked")).toBeNull();

    await fireEvent.click(approve);
    await waitFor(() => expect(of("payouts_approve")).toEqual([{ args: { batch_id: "pb_2026-10_v1", as_person: "Ari Chen", reason: null } }]));
    await waitFor(() => expect(q(container, "payouts-approvals").textContent!.trim()).toBe("1 of 2 approvals"));
    const decisions = all(container, "payouts-decision");
    expect(decisions.map((d) => [d.dataset["person"], d.dataset["decision"]])).toEqual([["Ari Chen", "approve"]]);
    expect(decisions[0]!.textContent).toContain("Approved");
    expect(decisions[0]!.textContent).toContain("on this computer");
    expect(decisions[0]!.textContent).toContain("2026-11-02 11:00:00 EDT");
    const signature = q(decisions[0]!, "payouts-decision-signature");
    expect(signature.getAttribute("title")).toHaveLength(128);
    expect(signature.textContent!.endsWith("…")).toBe(true);
    expect(q(container, "payouts-signoff-flash").textContent).toContain("Approved as Ari Chen. 1 of 2 approvals.");
    // Ari cannot approve twice; the months and history are read again.
    expect(q<HTMLButtonElement>(container, "payouts-approve").disabled).toBe(true);
    expect(q(container, "payouts-approve-blocked").textContent).toContain("has already approved");
    await waitFor(() => expect(of("payouts_overview").length).toBe(2));

    // The second approver approves it: it can be executed.
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Sam Okafor");
    await fireEvent.click(q(container, "payouts-approve"));
    await waitFor(() => expect(q(container, "payouts-batch-state").dataset["state"]).toBe("approved"));
    expect(q(container, "payouts-signoff-flash").textContent).toContain("The batch is approved: it can be executed.");
    expect(q(container, "payouts-approvals").textContent!.trim()).toBe("2 of 2 approvals");
  });

  it("cannot approve a batch Stripe's balance does not cover, and says so", async () => {
    const uncovered = batch({ coverage: { available: amount("500.00"), fetched_at: null, paid: amount("1,100.00"), covered: false } });
    const { container } = await renderLoaded({ batch: uncovered });
    const coverage = q(container, "payouts-coverage");
    expect(coverage.dataset["covered"]).toBe("false");
    expect(coverage.textContent).toContain("Not covered");
    expect(coverage.textContent).toContain("Never: sync with Stripe");
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    expect(q<HTMLButtonElement>(container, "payouts-approve").disabled).toBe(true);
    expect(q(container, "payouts-approve-blocked").textContent).toContain("does not cover the 1,100.00 USD this batch pays");
  });

  it("shows an approval the engine refuses with its error and advice", async () => {
    const { container } = await renderLoaded({
      handle: (cmd) => {
        if (cmd === "payouts_approve") throw commandError("approval_invalid", "approval refused: the batch changed since it was signed");
        return undefined;
      },
    });
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    await fireEvent.click(q(container, "payouts-approve"));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("approval_invalid");
    expect(banner.textContent).toContain("The approval was not recorded");
    expect(banner.textContent).toContain("the batch changed since it was signed");
    expect(banner.textContent).toContain(adviceFor("approval_invalid"));
  });

  it("rejects only with a reason, given in a dialog", async () => {
    const { container, of } = await renderLoaded();
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    await fireEvent.click(q(container, "payouts-reject"));
    const dialog = await waitFor(() => q(document.body, "payouts-reject-dialog"));
    await fireEvent.click(q(dialog, "payouts-reject-submit"));
    expect(q(dialog, "payouts-reject-reason-error").textContent).toContain("Say why");
    expect(of("payouts_reject")).toEqual([]);

    await type(q<HTMLTextAreaElement>(dialog, "payouts-reject-reason"), "  The fee is wrong this month ");
    await fireEvent.click(q(dialog, "payouts-reject-submit"));
    await waitFor(() =>
      expect(of("payouts_reject")).toEqual([{ args: { batch_id: "pb_2026-10_v1", as_person: "Ari Chen", reason: "The fee is wrong this month" } }]),
    );
    await waitFor(() => expect(maybe(document.body, "payouts-reject-dialog")).toBeNull());
    expect(q(container, "payouts-batch-state").dataset["state"]).toBe("rejected");
    const d = q(container, "payouts-decision");
    expect(d.dataset["decision"]).toBe("reject");
    expect(d.textContent).toContain("“The fee is wrong this month”");
    expect(q(container, "payouts-signoff-closed").textContent).toContain("Prepare the month again");
  });

  it("signs an approval into a chosen file, and imports one signed elsewhere", async () => {
    const { container, of } = await renderLoaded();
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    await fireEvent.click(q(container, "payouts-export-approval"));
    await waitFor(() =>
      expect(of("payouts_export_approval")).toEqual([
        { args: { batch_id: "pb_2026-10_v1", as_person: "Ari Chen", path: "/home/fin/approval-ari.json", reject_reason: null } },
      ]),
    );
    const save = of("plugin:dialog|save")[0]!["options"] as { defaultPath: string };
    expect(save.defaultPath).toBe("approval-pb_2026-10_v1-ari-chen.json");
    await waitFor(() => expect(q(container, "payouts-signoff-flash").textContent).toContain("into approval-ari.json. Nothing is recorded here"));
    // Nothing changed here.
    expect(q(container, "payouts-approvals").textContent!.trim()).toBe("0 of 2 approvals");

    await fireEvent.click(q(container, "payouts-import-approval"));
    await waitFor(() => expect(of("payouts_import_approval")).toEqual([{ path: "/home/fin/approval-sam.json" }]));
    await waitFor(() => expect(q(container, "payouts-approvals").textContent!.trim()).toBe("1 of 2 approvals"));
    const d = q(container, "payouts-decision");
    expect(d.dataset["person"]).toBe("Sam Okafor");
    expect(d.textContent).toContain("from a signed file");
  });

  it("does nothing when the save dialog is closed without a file", async () => {
    const { container, of } = await renderLoaded({ handle: (cmd) => (cmd === "plugin:dialog|save" ? null : undefined) });
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    await fireEvent.click(q(container, "payouts-export-approval"));
    await waitFor(() => expect(of("plugin:dialog|save")).toHaveLength(1));
    await settle();
    expect(of("payouts_export_approval")).toEqual([]);
    expect(maybe(container, "payouts-signoff-flash")).toBeNull();
    expect(maybe(container, "error-banner")).toBeNull();
  });

  it("runs a what-if with the fee in basis points and the minimum as typed (the engine reads it), saving nothing", async () => {
    const { container, of } = await renderLoaded();
    const fee = q<HTMLInputElement>(container, "payouts-whatif-fee");
    const minimum = q<HTMLInputElement>(container, "payouts-whatif-minimum");
    expect(fee.value).toBe("1000");
    expect(minimum.value).toBe("25.00");
    expect(q(container, "payouts-whatif").textContent).toContain("Nothing is saved");

    // More than two decimals: the engine refuses to round, and says so.
    await type(minimum, "12.345");
    await fireEvent.click(q(container, "payouts-whatif-run"));
    await waitFor(() => expect(q(container, "error-banner").textContent).toContain("refusing to round"));
    expect(of("payouts_what_if")).toEqual([{ args: { batch_id: "pb_2026-10_v1", fee_bps: 1000, minimum: "12.345" } }]);
    // An empty field is not sent.
    await type(minimum, " ");
    await fireEvent.click(q(container, "payouts-whatif-run"));
    expect(q(container, "payouts-whatif-error").textContent).toContain("Enter the minimum payout");
    expect(minimum.getAttribute("aria-invalid")).toBe("true");

    await type(fee, "1500");
    await type(minimum, "25.00");
    await fireEvent.click(q(container, "payouts-whatif-run"));
    await waitFor(() => expect(of("payouts_what_if")).toHaveLength(2));
    expect(of("payouts_what_if")[1]).toEqual({ args: { batch_id: "pb_2026-10_v1", fee_bps: 1500, minimum: "25.00" } });
    const result = await waitFor(() => q(container, "payouts-whatif-result"));
    expect(maybe(container, "payouts-whatif-error")).toBeNull();
    expect(result.textContent).toContain("Nothing is saved");
    expect(result.textContent).toContain("15.00% (1,500 bps)");
    expect(q(result, "payouts-whatif-fees-change").textContent).toContain("90.00");
    expect(q(result, "payouts-whatif-paid-change").textContent).toContain("−90.00");
    expect(q(result, "payouts-whatif-total-paid").textContent).toContain("1,010.00");
    // The batch itself is unchanged.
    expect(q(container, "payouts-total-paid").textContent).toContain("1,100.00");
  });

  it("prepares a month as the acting person, and says why a month cannot be prepared", async () => {
    const current = batch();
    const { container, of } = await renderLoaded({
      batch: current,
      overview: (b) =>
        payoutsOverview(b, {
          months: [
            { month: "2026-11", over: false, allocations: 300, latest_batch: null, state: null },
            { month: "2026-10", over: true, allocations: 1407, latest_batch: b.month === "2026-10" ? b.id : current.id, state: b.month === "2026-10" ? b.state : "draft" },
            { month: "2026-08", over: true, allocations: 900, latest_batch: b.month === "2026-08" ? b.id : null, state: b.month === "2026-08" ? b.state : null },
          ],
          batches: [summaryOf(b)],
        }),
    });
    // The month in progress cannot be prepared yet.
    await fireEvent.click(q(container, "payouts-month-2026-11"));
    expect(q<HTMLButtonElement>(container, "payouts-prepare").disabled).toBe(true);
    expect(q(container, "payouts-prepare-blocked").textContent).toContain("has not ended yet");
    expect(q(container, "payouts-empty").textContent).toContain("not over yet");

    await fireEvent.click(q(container, "payouts-month-2026-08"));
    expect(q(container, "payouts-empty").textContent).toContain("Not prepared yet");
    const prepare = q<HTMLButtonElement>(container, "payouts-prepare");
    expect(prepare.disabled).toBe(false);
    expect(prepare.textContent!.trim()).toBe("Prepare");
    await fireEvent.click(prepare);
    await waitFor(() => expect(of("payouts_prepare")).toEqual([{ args: { month: "2026-08", as_person: "Dana Reyes" } }]));
    await waitFor(() => expect(q(container, "payouts-batch-id").textContent).toBe("pb_2026-08_v1"));
    expect(q(container, "payouts-flash").textContent).toContain("Prepared pb_2026-08_v1 for August 2026 as Dana Reyes");
    await waitFor(() => expect(q(container, "payouts-month-2026-08").dataset["state"]).toBe("draft"));

    // An approver may not prepare.
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    expect(q<HTMLButtonElement>(container, "payouts-prepare").disabled).toBe(true);
    expect(q(container, "payouts-prepare-blocked").textContent).toContain("only preparers and admins prepare batches");
  });

  it("shows why preparing failed, with advice for the new error codes", async () => {
    const { container } = await renderLoaded({
      handle: (cmd) => {
        if (cmd === "payouts_prepare") throw commandError("permission_denied", "not allowed: Dana Reyes may not prepare payout batches");
        return undefined;
      },
    });
    await fireEvent.click(q(container, "payouts-prepare"));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("permission_denied");
    expect(banner.textContent).toContain("The month was not prepared");
    expect(banner.textContent).toContain("Dana Reyes may not prepare payout batches");
    expect(banner.textContent).toContain("Acting as");
  });

  it("executes an approved batch with progress, Cancel, then the lines as they stand, and retries the failed ones", async () => {
    const approved = batch({ state: "approved", approvals: 2, decisions: [decision("Ari Chen"), decision("Sam Okafor")] });
    let opId = "";
    let finish: (() => void) | null = null;
    const served = await renderLoaded({
      batch: approved,
      execute: async (args) => {
        opId = args.op_id;
        expect(args).toMatchObject({ batch_id: approved.id, as_person: "Dana Reyes" });
        const event: ProgressEvent = { op_id: opId, stage: "sending transfers", done: 1, total: 2, sync: null };
        await emit(PROGRESS_EVENT, event);
        await emit(PROGRESS_EVENT, { ...event, op_id: "someone-else", stage: "not ours", done: 7, total: 9 });
        await new Promise<void>((resolve) => (finish = resolve));
        served.setBatch({
          ...approved,
          state: "executing",
          lines: approved.lines.map((l) =>
            l.line_no === 1
              ? { ...l, execution: "paid", transfer_id: "tr_0001" }
              : l.line_no === 4
                ? { ...l, execution: "failed", failure: "Stripe: the destination account's capabilities are inactive" }
                : l,
          ),
          lines_paid: 1,
          lines_failed: 1,
        });
        return { batch: approved.id, state: "executing", paid_now: 1, adopted: 0, failed_now: 1, paid_total: 1, failed_total: 1, payable_lines: 2, nothing_left: false };
      },
    });
    const { container, of } = served;
    expect(q(container, "payouts-signoff-closed").textContent).toContain("Sign-off is complete");
    expect(q<HTMLButtonElement>(container, "payouts-approve").disabled).toBe(true);
    const execute = q<HTMLButtonElement>(container, "payouts-execute");
    expect(execute.disabled).toBe(false);
    expect(maybe(container, "payouts-execute-progress")).toBeNull();

    await fireEvent.click(execute);
    const progress = await waitFor(() => q(container, "payouts-execute-progress"));
    await waitFor(() => expect(progress.textContent).toContain("1 of 2 lines"));
    expect(progress.textContent).toContain("sending transfers");
    expect(progress.textContent).not.toContain("not ours");
    expect(opId.startsWith("payout-")).toBe(true);
    expect(q<HTMLButtonElement>(container, "payouts-execute").disabled).toBe(true);
    expect(q(container, "payouts-execute").textContent!.trim()).toBe("Executing…");
    expect(q(container, "payouts-execute-cancel")).toBeTruthy();

    await waitFor(() => expect(finish).not.toBeNull());
    finish!();
    const result = await waitFor(() => q(container, "payouts-execute-result"));
    expect(result.textContent).toContain("Stopped: 1 line paid now, 1 failed. 1 of 2 payable lines paid.");
    expect(maybe(container, "payouts-execute-progress")).toBeNull();
    // The lines are read again: paid and failed, with Stripe's reason.
    await waitFor(() => expect(q(container, "payouts-line-row-1").dataset["execution"]).toBe("paid"));
    expect(q(container, "payouts-line-row-1").textContent).toContain("tr_0001");
    const failedRow = q(container, "payouts-line-row-4");
    expect(failedRow.dataset["execution"]).toBe("failed");
    expect(q(failedRow, "payouts-line-failure").textContent).toContain("capabilities are inactive");
    const failed = q(container, "payouts-failed-lines");
    expect(failed.textContent).toContain("1 line failed");
    expect(failed.textContent).toContain("capabilities are inactive");
    expect(q(container, "payouts-batch-state").dataset["state"]).toBe("executing");
    expect(q(container, "payouts-execute").textContent!.trim()).toBe("Continue execution");

    await fireEvent.click(q(container, "payouts-retry"));
    await waitFor(() => expect(of("payouts_retry")).toEqual([{ args: { batch_id: approved.id, as_person: "Dana Reyes", lines: [] } }]));
    await waitFor(() => expect(maybe(container, "payouts-failed-lines")).toBeNull());
    expect(q(container, "payouts-retry-flash").textContent).toContain("1 failed line will be sent again (line 4)");
    expect(q(container, "payouts-line-row-4").dataset["execution"]).toBe("pending");
  });

  it("cancels an execution with its operation id, and says nothing is paid twice", async () => {
    let opId = "";
    let fail: ((e: unknown) => void) | null = null;
    const cancelled: string[] = [];
    const { container } = await renderLoaded({
      batch: batch({ state: "approved", approvals: 2 }),
      execute: (args) => {
        opId = args.op_id;
        return new Promise((_, reject) => (fail = reject));
      },
      handle: (cmd, args) => {
        if (cmd !== "cancel_operation") return undefined;
        cancelled.push(args["op_id"] as string);
        fail?.(commandError("cancelled", "execution was cancelled; run it again to continue (no line is paid twice)"));
        return true;
      },
    });
    await fireEvent.click(q(container, "payouts-execute"));
    await fireEvent.click(await waitFor(() => q(container, "payouts-execute-cancel")));
    await waitFor(() => expect(cancelled).toEqual([opId]));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("cancelled");
    expect(banner.textContent).toContain("The execution was cancelled");
    expect(banner.textContent).toContain("no line is paid twice");
    expect(maybe(container, "payouts-execute-progress")).toBeNull();
  });

  it("asks before paying real money in a live workspace, and lets only preparers and admins execute", async () => {
    const { container, of } = await renderLoaded({ batch: batch({ state: "approved", approvals: 2 }) }, { mode: "live" });
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Ari Chen");
    expect(q<HTMLButtonElement>(container, "payouts-execute").disabled).toBe(true);
    expect(q(container, "payouts-execute-blocked").textContent).toContain("only preparers and admins execute batches");
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Dana Reyes");
    await fireEvent.click(q(container, "payouts-execute"));
    const confirm = await waitFor(() => q(document.body, "payouts-execute-confirm"));
    expect(confirm.textContent).toContain("1,100.00");
    expect(of("payouts_execute")).toEqual([]);
    await fireEvent.click(q(confirm, "payouts-execute-confirm-submit"));
    await waitFor(() => expect(of("payouts_execute")).toHaveLength(1));
  });

  it("reports drift after the lock", async () => {
    const drifted = batch({
      drift_count: 3,
      drift: [{ kind: "allocation", key: "u_000285 → cr_00001", change: "changed", locked: amount("5.00"), current: amount("7.50"), updated_at: batch().prepared_at }],
    });
    const { container } = await renderLoaded({ batch: drifted });
    const drift = q(container, "payouts-drift");
    expect(drift.textContent).toContain("3 allocations changed after the lock");
    expect(drift.textContent).toContain("not in this batch");
    expect(drift.textContent).toContain("u_000285 → cr_00001");
    expect(drift.textContent).toContain("the first 1");
  });

  it("shows who vouched for each person and lets the acting admin vouch for someone no admin signed for", async () => {
    const unsigned = (b: BatchView) =>
      payoutsOverview(b, {
        people: [person("Ops Admin", "admin", { vouched_by: "Ops Admin" }), person("Dana Reyes", "preparer", { vouched_by: null, fingerprint: "AAAA BBBB CCCC DDDD" })],
      });
    const { container, of } = await renderLoaded({ overview: unsigned });
    expect(q(container, "payouts-roster-root").textContent).toContain("Ops Admin");
    expect(q(container, "payouts-roster-root").textContent).toContain("9C41 0B7E 55D2 A613");
    const cells = all(container, "payouts-person-vouched").map((c) => c.textContent?.trim());
    expect(cells[0]).toContain("Ops Admin (the root)");
    expect(cells[1]).toContain("No one");
    expect(all(container, "payouts-person-vouch")).toHaveLength(1);
    await fireEvent.click(q(container, "payouts-person-vouch"));
    await waitFor(() => expect(of("payouts_vouch")).toEqual([{ args: { names: ["Dana Reyes"], as_person: "Ops Admin" } satisfies VouchArgs }]));
    await waitFor(() => expect(q(container, "payouts-person-vouched-flash").textContent).toContain("AAAA BBBB CCCC DDDD"));
    expect(all(container, "payouts-person-vouch")).toHaveLength(0);
    // A preparer acting sees no vouch button; a roster with no root says no one can act.
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Dana Reyes");
    expect(all(container, "payouts-person-vouch")).toHaveLength(0);
  });

  it("says plainly when no admin has signed the roster", async () => {
    const { container } = await renderLoaded({
      overview: (b: BatchView) => payoutsOverview(b, { roster_root: null, roster_root_fingerprint: null, people: roster().map((p) => ({ ...p, vouched_by: null })) }),
    });
    expect(q(container, "payouts-roster-unsigned").textContent).toContain("No admin has signed the roster yet");
  });

  it("lists the roster and adds a person as the acting admin; saves settings in exact cents", async () => {
    const withAdmin = (b: BatchView) => payoutsOverview(b, { people: [person("Ops Admin", "admin"), ...roster()] });
    const { container, of } = await renderLoaded({ overview: withAdmin });
    const people = all(container, "payouts-person");
    expect(people.map((p) => [p.dataset["person"], p.dataset["keyHere"]])).toEqual([
      ["Ops Admin", "true"],
      ["Dana Reyes", "true"],
      ["Ari Chen", "true"],
      ["Sam Okafor", "true"],
      ["Lee Park", "false"],
    ]);
    expect(people[4]!.textContent).toContain("Auditor");
    expect(q<HTMLSelectElement>(container, "payouts-acting-as").value).toBe("Ops Admin");

    await type(q<HTMLInputElement>(container, "payouts-person-name"), " Kim Lee ");
    await choose(q<HTMLSelectElement>(container, "payouts-person-role"), "approver");
    await fireEvent.click(q(container, "payouts-person-add"));
    await waitFor(() => expect(of("payouts_add_person")).toEqual([{ args: { name: "Kim Lee", role: "approver", as_person: "Ops Admin" } }]));
    await waitFor(() => expect(Array.from(q<HTMLSelectElement>(container, "payouts-acting-as").options).map((o) => o.value)).toContain("Kim Lee"));

    await type(q<HTMLInputElement>(container, "payouts-settings-minimum"), "30.5");
    await type(q<HTMLInputElement>(container, "payouts-settings-dual"), "2,000");
    await type(q<HTMLInputElement>(container, "payouts-settings-fee"), "1200");
    await fireEvent.click(q(container, "payouts-settings-save"));
    await waitFor(() =>
      expect(of("payouts_set_settings")).toEqual([
        { args: { fee_bps: 1200, minimum: "30.5", dual_approval_at: "2,000", as_person: "Ops Admin" } satisfies PayoutSettingsArgs },
      ]),
    );

    // A bad amount goes as typed; the engine refuses it, and the refusal is shown.
    await type(q<HTMLInputElement>(container, "payouts-settings-minimum"), "1.999");
    await fireEvent.click(q(container, "payouts-settings-save"));
    await waitFor(() => expect(q(container, "error-banner").textContent).toContain("The minimum payout"));
    expect(of("payouts_set_settings")).toHaveLength(2);

    // Once the roster has an admin, only an admin changes the settings: a preparer is told so.
    await type(q<HTMLInputElement>(container, "payouts-settings-minimum"), "25");
    await choose(q<HTMLSelectElement>(container, "payouts-acting-as"), "Dana Reyes");
    await fireEvent.click(q(container, "payouts-settings-save"));
    expect(q(container, "payouts-settings-error").textContent).toContain("only an admin changes the payout settings");
    await settle();
    expect(of("payouts_set_settings")).toHaveLength(2);
  });

  it("adds the first person without an acting admin", async () => {
    const { container, of } = await renderLoaded({ overview: (b) => payoutsOverview(b, { people: [] }) });
    const acting = q<HTMLSelectElement>(container, "payouts-acting-as");
    expect(acting.disabled).toBe(true);
    expect(q(container, "payouts-no-actor").textContent).toContain("No one on the roster has a key on this computer");
    await type(q<HTMLInputElement>(container, "payouts-person-name"), "Ops Admin");
    await choose(q<HTMLSelectElement>(container, "payouts-person-role"), "admin");
    await fireEvent.click(q(container, "payouts-person-add"));
    await waitFor(() => expect(of("payouts_add_person")).toEqual([{ args: { name: "Ops Admin", role: "admin", as_person: null } }]));
  });

  it("says when the payouts cannot be read, and tries again", async () => {
    let attempts = 0;
    servePayouts({
      handle: (cmd) => {
        if (cmd !== "payouts_overview") return undefined;
        attempts += 1;
        if (attempts === 1) throw commandError("io", "cannot read the workspace database");
        return undefined;
      },
    });
    const { container } = render(Payouts, { workspace: workspace() });
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.textContent).toContain("The payouts could not be read");
    expect(banner.textContent).toContain("cannot read the workspace database");
    await fireEvent.click(Array.from(banner.querySelectorAll("button")).find((b) => b.textContent === "Try again")!);
    await waitFor(() => q(container, "payouts-batch"));
    expect(maybe(container, "error-banner")).toBeNull();
  });

  it("shows a batch that cannot be read, with the engine's error", async () => {
    let attempts = 0;
    servePayouts({
      handle: (cmd) => {
        if (cmd !== "payouts_batch") return undefined;
        attempts += 1;
        if (attempts === 1) throw commandError("internal", "payout batch integrity check failed: line 3 does not recompute");
        return undefined;
      },
    });
    const { container } = render(Payouts, { workspace: workspace() });
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.textContent).toContain("The batch could not be read");
    expect(banner.textContent).toContain("line 3 does not recompute");
    await fireEvent.click(Array.from(banner.querySelectorAll("button")).find((b) => b.textContent === "Try again")!);
    await waitFor(() => q(container, "payouts-batch"));
  });

  it("shows another month's batch when it is chosen, in the months and the history", async () => {
    const { container } = await renderLoaded();
    await fireEvent.click(q(container, "payouts-month-2026-09"));
    await waitFor(() => expect(q(container, "payouts-batch-id").textContent).toBe("pb_2026-09_v1"));
    expect(q(container, "payouts-batch-state").dataset["state"]).toBe("done");
    expect(q(container, "payouts-history-row").closest("tbody")!.querySelector("tr.selected")!.getAttribute("data-batch")).toBe("pb_2026-09_v1");
  });
});
