import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type {
  CatchUpView,
  ExceptionQuery,
  ExceptionView,
  MatchRulesArgs,
  ProgressEvent,
  ProposedEntryView,
  ReconOverview,
  ResolveArgs,
  SnapshotArgs,
  SnapshotView,
} from "../bindings";
import { PROGRESS_EVENT } from "../bindings";
import { catchUp } from "../reconcile/catchUp.svelte";
import { choose, maybe, q, type } from "../../test/dom";
import { amount, commandError, settle, time, workspace } from "../../test/fixtures";
import {
  exception,
  exceptionDetail,
  reconDay,
  reconOverview,
  rules,
  snapshot,
  unexplainedSnapshot,
} from "../../test/reconFixtures";
import Reconciliation from "./Reconciliation.svelte";

afterEach(() => {
  clearMocks();
  catchUp.reset();
});

type Call = { cmd: string; args: Record<string, unknown> };

interface Engine {
  overview?: ReconOverview;
  snapshots?: Record<string, SnapshotView>;
  exceptions?: ExceptionView[];
  proposal?: (id: number, counter: string | null) => ProposedEntryView[];
  resolve?: (args: ResolveArgs) => ExceptionView[];
  snapshotFor?: (args: SnapshotArgs) => SnapshotView;
  setRules?: (args: MatchRulesArgs) => ReturnType<typeof rules>;
  catchUp?: (opId: string) => Promise<CatchUpView>;
}

/** The reconciliation commands served like the engine, every call recorded. */

/** The fake engine's reading of a typed amount in USD (the real one is `Money::parse`). */
function engineMinor(typed: string): bigint {
  const m = /^(\d*)(?:\.(\d{1,2}))?$/.exec(typed.trim());
  if (!m || (m[1] === "" && !m[2])) {
    throw commandError("invalid_input", `The minimum amount: cannot read \`${typed}\` as an amount of USD: USD has 2 decimal place(s); refusing to round`);
  }
  return BigInt(m[1] || "0") * 100n + BigInt((m[2] ?? "").padEnd(2, "0"));
}

function serveRecon(engine: Engine = {}) {
  const calls: Call[] = [];
  const state = {
    overview: engine.overview ?? reconOverview(),
    exceptions: engine.exceptions ?? [
      exception(1, "timing_difference", { effect: amount("75.00"), stripe_object: "po_000001" }),
      exception(2, "missing_in_ledger", { first_day: "2026-10-01" }),
      exception(3, "duplicate", { effect: amount("-12.00") }),
    ],
  };
  const snapshots = engine.snapshots ?? {
    "2026-10-29": snapshot("2026-10-29"),
    "2026-10-30": snapshot("2026-10-30", { status: "explained" }),
    "2026-10-31": unexplainedSnapshot("2026-10-31"),
  };
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      switch (cmd) {
        case "recon_overview":
          return state.overview;
        case "recon_day": {
          const s = snapshots[args["day"] as string];
          if (!s) throw commandError("not_found", `no snapshot of ${String(args["day"])}`);
          return s;
        }
        case "recon_exceptions": {
          const q = args["query"] as ExceptionQuery;
          return state.exceptions
            .filter((e) => q.kind === null || e.kind === q.kind)
            .filter((e) => (q.state === "resolved" ? !!e.resolution : q.state === "all" ? true : !e.resolution))
            .filter((e) => q.currency === null || e.currency === q.currency)
            .filter((e) => q.min_amount === null || BigInt(e.effect.minor.replace("-", "")) >= engineMinor(q.min_amount));
        }
        case "recon_exception": {
          const e = state.exceptions.find((x) => x.id === args["id"]);
          if (!e) throw commandError("not_found", `no exception ${String(args["id"])}`);
          return exceptionDetail(e);
        }
        case "recon_propose_adjustment":
          return (engine.proposal ?? defaultProposal)(args["id"] as number, args["counter_account"] as string | null);
        case "recon_resolve": {
          const a = args["args"] as ResolveArgs;
          if (engine.resolve) return engine.resolve(a);
          const resolved = state.exceptions
            .filter((e) => e.id !== null && a.ids.includes(e.id))
            .map((e) => ({
              ...e,
              resolution: { resolution: a.resolution, note: a.note, actor: "fin", at: time("2026-11-02"), adjustment_entry: null },
            }));
          state.exceptions = state.exceptions.map((e) => resolved.find((r) => r.id === e.id) ?? e);
          state.overview = { ...state.overview, open_exceptions: state.overview.open_exceptions - resolved.length };
          return resolved;
        }
        case "recon_snapshot": {
          const a = args["args"] as SnapshotArgs;
          if (engine.snapshotFor) return engine.snapshotFor(a);
          return snapshot(a.day, { dry_run: a.dry_run, id: a.dry_run ? null : 40 });
        }
        case "recon_set_rules": {
          const a = args["args"] as MatchRulesArgs;
          if (engine.setRules) return engine.setRules(a);
          const r = rules({ order: a.order, amount_tolerance_minor: a.amount_tolerance_minor, date_window_days: a.date_window_days });
          state.overview = { ...state.overview, rules: r };
          return r;
        }
        case "recon_catch_up":
          if (engine.catchUp) return engine.catchUp(args["op_id"] as string);
          return { days_added: 0, last_day: null, cancelled: false };
        case "cancel_operation":
          return true;
        case "plugin:dialog|save":
          return "/home/fin/closebook-adjustments.csv";
        case "recon_export_adjustments":
          if (args["dest"] !== "/home/fin/closebook-adjustments.csv") throw commandError("io", "cannot write it");
          return { path: args["dest"], postings: 4 };
        case "recon_webhooks":
          if (args["from"] === "2026-13-01") throw commandError("invalid_input", "`2026-13-01` is not a day: use YYYY-MM-DD");
          return [
            { day: "2026-10-01", event_type: "charge.succeeded", sent: 12, recorded: 11, processed: 11, failed: 0, pending: 0, missing: 1, subscribed: true },
            { day: "2026-10-01", event_type: "customer.created", sent: 3, recorded: 0, processed: 0, failed: 0, pending: 0, missing: 3, subscribed: false },
            { day: "2026-10-04", event_type: "charge.succeeded", sent: 9, recorded: 9, processed: 8, failed: 1, pending: 0, missing: 0, subscribed: true },
          ];
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
  };
}

function defaultProposal(id: number, counter: string | null): ProposedEntryView[] {
  const account = counter ?? "liabilities:reconciliation_suspense";
  return [
    {
      entry_id: `cb_adj_${id}`,
      entry_type: "reconciliation_adjustment",
      stripe_object_id: `ch_${String(id).padStart(6, "0")}`,
      description: `Adjustment for exception ${id}`,
      postings: [
        { account: "assets:stripe:payments", amount: amount("-25.00") },
        { account, amount: amount("25.00") },
      ],
    },
  ];
}

function rowsOf(container: Element): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>('[data-testid^="recon-exception-row-"]'));
}

async function renderLoaded(engine: Engine = {}) {
  const served = serveRecon(engine);
  const view = render(Reconciliation, { workspace: workspace(), debounceMs: 0 });
  await waitFor(() => expect(maybe(view.container, "recon-snapshot")).not.toBeNull());
  await waitFor(() => expect(rowsOf(view.container).length).toBeGreaterThan(0));
  return { ...view, ...served };
}

describe("Reconciliation", () => {
  it("shows the last day, the open count, the days coloured by status, and the newest day's snapshot", async () => {
    const { container, of } = await renderLoaded();
    expect(q(container, "recon-last-day").textContent).toBe("2026-10-31");
    expect(q(container, "recon-open-count").textContent).toBe("3");
    expect(q(container, "recon-catch-up").hasAttribute("disabled")).toBe(true);
    expect(q(container, "recon-catch-up").textContent).toContain("Up to date");

    const days = ["2026-10-29", "2026-10-30", "2026-10-31"].map((d) => q(container, `recon-day-${d}`));
    expect(days.map((d) => d.dataset["status"])).toEqual(["balanced", "explained", "unexplained"]);
    expect(days[0]!.classList.contains("status-balanced")).toBe(true);
    expect(days[2]!.classList.contains("status-unexplained")).toBe(true);
    expect(days[2]!.getAttribute("aria-label")).toContain("2026-10-31: Unexplained");
    // The newest day is selected and loaded.
    expect(days[2]!.getAttribute("aria-pressed")).toBe("true");
    expect(days[0]!.getAttribute("aria-pressed")).toBe("false");
    expect(of("recon_day")).toEqual([{ day: "2026-10-31" }]);
    // Days of October not reconciled are not buttons.
    expect(maybe(container, "recon-day-2026-10-28")).toBeNull();

    const snap = q(container, "recon-snapshot");
    expect(q(snap, "recon-snapshot-status").textContent).toBe("unexplained");
    expect(snap.textContent).toContain("Snapshot of 2026-10-31");
    expect(q(snap, "recon-snapshot-version").textContent).toBe("Version 1");
    expect(q(snap, "recon-snapshot-rows").textContent).toBe("410 Stripe · 398 ledger");
    expect(q(snap, "recon-snapshot-matched").textContent).toBe("380");
    expect(q(snap, "recon-snapshot-unmatched").textContent).toBe("2 in Stripe · 1 in the ledger");
    const dig = q(snap, "recon-snapshot-digest");
    expect(dig.getAttribute("title")!.length).toBe(64);
    expect(dig.textContent!.endsWith("…")).toBe(true);
    expect(q(snap, "recon-snapshot-rules").textContent).toContain("Exact reference → Amount and date → One to many");
    expect(maybe(snap, "recon-dry-run")).toBeNull();
    expect(maybe(snap, "recon-mirror-warning")).toBeNull();

    // The waterfall: Stripe → timing → missing in ledger → remainder → ledger, each with its amount.
    const wf = q(snap, "recon-waterfall");
    const steps = Array.from(wf.querySelectorAll<HTMLElement>('[data-testid="recon-waterfall-step"]'));
    expect(steps.map((s) => s.dataset["step"])).toEqual(["stripe", "explained", "explained", "remainder", "ledger"]);
    expect(steps.map((s) => s.dataset["kind"] ?? null)).toEqual([null, "timing_difference", "missing_in_ledger", null, null]);
    expect(steps.map((s) => s.querySelector(".money")!.textContent)).toEqual([
      "10,125.00USD",
      "75.00USD",
      "25.00USD",
      "25.00USD",
      "10,000.00USD",
    ]);
    expect(steps[3]!.classList.contains("nonzero")).toBe(true);
    const table = q(wf, "recon-waterfall-table");
    expect(table.textContent).toContain("Explained: Timing difference");
    expect(table.textContent).toContain("Difference (Stripe − ledger)");

    // The trend chart: one point per day, with a text alternative.
    const trend = q(container, "recon-trend-USD");
    expect(trend.getAttribute("role")).toBe("img");
    expect(trend.querySelectorAll("circle")).toHaveLength(3);
    expect(trend.querySelector("desc")!.textContent).toContain("over 3 reconciled days");
    expect(trend.querySelector("desc")!.textContent).toContain("latest 125.00 USD on 2026-10-31");
  });

  it("exports Closebook's adjustment entries to the file chosen in the save dialog", async () => {
    const { container, of } = await renderLoaded();
    await fireEvent.click(q(container, "recon-export-adjustments"));
    await waitFor(() => expect(q(container, "recon-adjustments-written").textContent).toContain("4 adjustment postings"));
    expect(q(container, "recon-adjustments-written").textContent).toContain("/home/fin/closebook-adjustments.csv");
    expect(of("recon_export_adjustments")).toEqual([{ dest: "/home/fin/closebook-adjustments.csv" }]);
  });

  it("loads a day when it is clicked", async () => {
    const { container, of } = await renderLoaded();
    await fireEvent.click(q(container, "recon-day-2026-10-29"));
    await waitFor(() => expect(q(container, "recon-snapshot").dataset["day"]).toBe("2026-10-29"));
    expect(of("recon_day")).toEqual([{ day: "2026-10-31" }, { day: "2026-10-29" }]);
    expect(q(container, "recon-snapshot-status").textContent).toBe("balanced");
    expect(q(container, "recon-day-2026-10-29").getAttribute("aria-pressed")).toBe("true");

    // The keyboard moves between reconciled days.
    const day = q(container, "recon-day-2026-10-29");
    day.focus();
    await fireEvent.keyDown(day, { key: "ArrowRight" });
    await settle();
    expect(document.activeElement).toBe(q(container, "recon-day-2026-10-30"));
  });

  it("lists the exceptions with age and status, and filters them by kind, state, currency and minimum amount", async () => {
    const { container, of } = await renderLoaded();
    const queries = () => of("recon_exceptions").map((a) => a["query"] as ExceptionQuery);
    expect(queries()[0]).toEqual({ kind: null, state: "open", currency: null, min_amount: null });
    expect(rowsOf(container).map((r) => r.dataset["kind"])).toEqual(["timing_difference", "missing_in_ledger", "duplicate"]);

    const row = q(container, "recon-exception-row-2");
    const cells = Array.from(row.querySelectorAll("td"));
    expect(cells[1]!.textContent).toBe("Missing in ledger");
    expect(cells[2]!.textContent).toBe("ch_000002");
    expect(cells[3]!.querySelector(".money")!.getAttribute("data-minor")).toBe("2500");
    expect(cells[4]!.textContent).toBe("2026-10-01");
    // From the first day to the last reconciled day.
    expect(cells[5]!.textContent).toBe("30");
    expect(cells[6]!.textContent).toBe("Open");

    await choose(q<HTMLSelectElement>(container, "recon-filter-kind"), "duplicate");
    await waitFor(() => expect(queries()).toHaveLength(2));
    expect(queries()[1]).toEqual({ kind: "duplicate", state: "open", currency: null, min_amount: null });
    await waitFor(() => expect(rowsOf(container).map((r) => r.dataset["kind"])).toEqual(["duplicate"]));

    await choose(q<HTMLSelectElement>(container, "recon-filter-state"), "all");
    await waitFor(() => expect(queries()[queries().length - 1]).toMatchObject({ kind: "duplicate", state: "all" }));
    await choose(q<HTMLSelectElement>(container, "recon-filter-currency"), "USD");
    await waitFor(() => expect(queries()[queries().length - 1]).toMatchObject({ currency: "USD" }));

    // The minimum amount is sent as typed, with its currency: the engine reads it.
    const min = q<HTMLInputElement>(container, "recon-filter-min");
    await type(min, "12.5");
    await fireEvent.change(min);
    await waitFor(() => expect(queries()[queries().length - 1]).toMatchObject({ currency: "USD", min_amount: "12.5" }));

    // What the engine refuses is said beside the field.
    await type(min, "0.001");
    await fireEvent.change(min);
    await waitFor(() => expect(q(container, "recon-filter-min-error").textContent).toContain("refusing to round"));
    expect(min.getAttribute("aria-invalid")).toBe("true");

    // Nothing matches: the empty state offers to clear the filters.
    await type(min, "1000");
    await fireEvent.change(min);
    await waitFor(() => expect(q(container, "recon-exceptions-empty").textContent).toContain("No exceptions match these filters"));
    await fireEvent.click(q(container, "recon-filter-clear"));
    await waitFor(() =>
      expect(queries()[queries().length - 1]).toEqual({ kind: null, state: "open", currency: null, min_amount: null }),
    );
    await waitFor(() => expect(rowsOf(container)).toHaveLength(3));
  });

  it("shows an exception's evidence and history, refuses to resolve without a note, then resolves it", async () => {
    const { container, of } = await renderLoaded();
    await fireEvent.click(q(container, "recon-exception-row-2"));
    const detail = await waitFor(() => q(container, "recon-exception-detail"));
    await waitFor(() => expect(of("recon_exception")).toEqual([{ id: 2 }]));
    await waitFor(() => expect(q(detail, "recon-evidence-stripe").textContent).toContain("evt_2"));
    expect(q(detail, "recon-evidence-stripe").textContent).toContain("txn_2");
    expect(q(detail, "recon-evidence-stripe").textContent).toContain("processed");
    expect(q(detail, "recon-evidence-ledger").textContent).toContain("Not paired");
    expect(q(detail, "recon-exception-note").textContent).toBe("Stripe has a charge the ledger does not");
    expect(q(detail, "recon-exception-history").querySelectorAll("tbody tr")).toHaveLength(2);
    expect(maybe(detail, "recon-exception-resolution")).toBeNull();

    const select = q<HTMLSelectElement>(detail, "recon-resolution-select");
    expect(Array.from(select.options).filter((o) => !o.disabled).map((o) => o.value)).toEqual(["booked_adjustment", "write_off", "accepted"]);

    // No note: refused, nothing sent.
    await choose(select, "write_off");
    await fireEvent.click(q(detail, "recon-resolve-submit"));
    await waitFor(() => expect(q(detail, "recon-note-error").textContent).toContain("Write a note"));
    expect(q(detail, "recon-note").getAttribute("aria-invalid")).toBe("true");
    expect(of("recon_resolve")).toHaveLength(0);

    await type(q<HTMLTextAreaElement>(detail, "recon-note"), "  Refunded outside Stripe, ticket FIN-42  ");
    await fireEvent.click(q(detail, "recon-resolve-submit"));
    await waitFor(() => expect(of("recon_resolve")).toHaveLength(1));
    expect(of("recon_resolve")[0]).toEqual({
      args: { ids: [2], resolution: "write_off", note: "Refunded outside Stripe, ticket FIN-42", counter_account: null },
    });

    // The table, the detail and the overview are refreshed.
    await waitFor(() => expect(maybe(container, "recon-exception-row-2")).toBeNull());
    await waitFor(() => expect(q(container, "recon-exception-resolution").textContent).toContain("Write off"));
    expect(q(container, "recon-exception-resolution").textContent).toContain("Refunded outside Stripe, ticket FIN-42");
    await waitFor(() => expect(q(container, "recon-open-count").textContent).toBe("2"));
    expect(q(container, "recon-flash").textContent).toContain("Resolved 1 exception: Write off.");
  });

  it("previews the adjustment entry, again when the counter-account changes, and books it", async () => {
    const { container, of } = await renderLoaded();
    await fireEvent.click(q(container, "recon-exception-row-2"));
    const detail = await waitFor(() => q(container, "recon-exception-detail"));
    const select = await waitFor(() => q<HTMLSelectElement>(detail, "recon-resolution-select"));
    expect(maybe(detail, "recon-proposal")).toBeNull();

    await choose(select, "booked_adjustment");
    await waitFor(() => expect(of("recon_propose_adjustment")).toEqual([{ id: 2, counter_account: null }]));
    const proposal = q(detail, "recon-proposal");
    await waitFor(() => expect(proposal.querySelectorAll('[data-testid="recon-proposal-posting"]')).toHaveLength(2));
    expect(proposal.textContent).toContain("liabilities:reconciliation_suspense");
    expect(proposal.textContent).toContain("cb_adj_2");
    expect(Array.from(proposal.querySelectorAll(".money")).map((m) => m.textContent)).toEqual(["−25.00USD", "25.00USD"]);

    const counter = q<HTMLInputElement>(detail, "recon-counter-account");
    await type(counter, "expenses:write");
    await type(counter, "expenses:writeoffs");
    await waitFor(() => expect(of("recon_propose_adjustment").slice(-1)[0]).toEqual({ id: 2, counter_account: "expenses:writeoffs" }));
    await waitFor(() => expect(proposal.textContent).toContain("expenses:writeoffs"));

    await type(q<HTMLTextAreaElement>(detail, "recon-note"), "Booked to write-offs");
    await fireEvent.click(q(detail, "recon-resolve-submit"));
    await waitFor(() => expect(of("recon_resolve")).toHaveLength(1));
    expect(of("recon_resolve")[0]).toEqual({
      args: { ids: [2], resolution: "booked_adjustment", note: "Booked to write-offs", counter_account: "expenses:writeoffs" },
    });
  });

  it("explains a refused resolution with the engine's message and what to do", async () => {
    const { container } = await renderLoaded({
      resolve: () => {
        throw commandError("not_found", "no exception 2");
      },
    });
    await fireEvent.click(q(container, "recon-exception-row-2"));
    const detail = await waitFor(() => q(container, "recon-exception-detail"));
    await choose(await waitFor(() => q<HTMLSelectElement>(detail, "recon-resolution-select")), "accepted");
    await type(q<HTMLTextAreaElement>(detail, "recon-note"), "ok");
    await fireEvent.click(q(detail, "recon-resolve-submit"));
    const banner = await waitFor(() => q(detail, "error-banner"));
    expect(banner.dataset["code"]).toBe("not_found");
    expect(banner.textContent).toContain("no exception 2");
    expect(banner.textContent).toContain("refresh the list");
  });

  it("resolves several exceptions at once with the resolutions they all allow", async () => {
    const { container, of } = await renderLoaded();
    expect(q(container, "recon-bulk-resolve").hasAttribute("disabled")).toBe(true);
    await fireEvent.click(q(container, "recon-select-2"));
    await fireEvent.click(q(container, "recon-select-3"));
    const bulk = q(container, "recon-bulk-resolve");
    expect(bulk.hasAttribute("disabled")).toBe(false);
    expect(bulk.textContent).toContain("(2)");
    // Selecting does not open the detail.
    expect(maybe(container, "recon-exception-detail")).toBeNull();

    await fireEvent.click(bulk);
    const dialog = await waitFor(() => q(document.body, "recon-bulk-dialog"));
    const select = await waitFor(() => q<HTMLSelectElement>(dialog, "recon-resolution-select"));
    // missing_in_ledger ∩ duplicate, without the adjustment (several exceptions).
    expect(Array.from(select.options).filter((o) => !o.disabled).map((o) => o.value)).toEqual(["write_off", "accepted"]);
    expect(of("recon_exception").map((a) => a["id"]).sort()).toEqual([2, 3]);

    // Refused without a note.
    await choose(select, "accepted");
    await fireEvent.click(q(dialog, "recon-resolve-submit"));
    await waitFor(() => expect(maybe(dialog, "recon-note-error")).not.toBeNull());
    expect(of("recon_resolve")).toHaveLength(0);

    await type(q<HTMLTextAreaElement>(dialog, "recon-note"), "Accepted after review with ops");
    await fireEvent.click(q(dialog, "recon-resolve-submit"));
    await waitFor(() => expect(of("recon_resolve")).toHaveLength(1));
    expect(of("recon_resolve")[0]).toEqual({
      args: { ids: [2, 3], resolution: "accepted", note: "Accepted after review with ops", counter_account: null },
    });
    await waitFor(() => expect(maybe(document.body, "recon-bulk-dialog")).toBeNull());
    await waitFor(() => expect(rowsOf(container).map((r) => r.dataset["kind"])).toEqual(["timing_difference"]));
    expect(q(container, "recon-flash").textContent).toContain("Resolved 2 exceptions: Accept as it is.");
  });

  it("says when the selected exceptions share no resolution", async () => {
    const { container } = await renderLoaded({
      exceptions: [exception(1, "timing_difference"), exception(5, "data_changed")],
    });
    // timing allows timing/write_off/accepted; data_changed write_off/accepted: shared.
    await fireEvent.click(q(container, "recon-select-all"));
    await fireEvent.click(q(container, "recon-bulk-resolve"));
    const dialog = await waitFor(() => q(document.body, "recon-bulk-dialog"));
    const select = await waitFor(() => q<HTMLSelectElement>(dialog, "recon-resolution-select"));
    expect(Array.from(select.options).filter((o) => !o.disabled).map((o) => o.value)).toEqual(["write_off", "accepted"]);
  });

  it("previews a day without saving, then reconciles it", async () => {
    const { container, of } = await renderLoaded();
    const input = q<HTMLInputElement>(container, "recon-day-input");
    await type(input, "2026-10-15");
    await fireEvent.click(q(container, "recon-preview"));
    await waitFor(() => expect(q(container, "recon-snapshot").dataset["dryRun"]).toBe("true"));
    expect(of("recon_snapshot")).toEqual([{ args: { day: "2026-10-15", dry_run: true } }]);
    expect(q(container, "recon-dry-run").textContent).toContain("nothing was saved");
    expect(q(container, "recon-snapshot").textContent).toContain("Preview of 2026-10-15");

    await fireEvent.click(q(container, "recon-reconcile"));
    await waitFor(() => expect(of("recon_snapshot")).toHaveLength(2));
    expect(of("recon_snapshot")[1]).toEqual({ args: { day: "2026-10-15", dry_run: false } });
    await waitFor(() => expect(q(container, "recon-snapshot").dataset["dryRun"]).toBe("false"));
    expect(q(container, "recon-flash").textContent).toContain("Reconciled 2026-10-15");
    await waitFor(() => expect(of("recon_overview").length).toBeGreaterThanOrEqual(2));

    // A day in the future is refused before asking the engine.
    await type(input, "2999-01-01");
    await fireEvent.click(q(container, "recon-preview"));
    await waitFor(() => expect(q(container, "recon-day-error").textContent).toContain("has not happened yet"));
    expect(of("recon_snapshot")).toHaveLength(2);
  });

  it("says when a snapshot was unchanged, and warns when the mirror is incomplete", async () => {
    const s = snapshot("2026-10-31", {
      unchanged: true,
      status: "unexplained",
      mirror: [
        {
          currency: "USD",
          live: amount("10,000.00"),
          mirrored: amount("9,900.00"),
          missing: amount("100.00"),
          complete: false,
          fetched_at: time("2026-11-01"),
        },
      ],
    });
    const { container } = await renderLoaded({ snapshots: { "2026-10-31": s } });
    expect(q(container, "recon-unchanged").textContent).toContain("already reconciled from the same rows");
    const warning = q(container, "recon-mirror-warning");
    expect(warning.textContent).toContain("The Stripe mirror is incomplete");
    expect(warning.textContent).toContain("9,900.00");
  });

  it("offers to catch up when nothing is reconciled, with progress and Cancel, then shows the days", async () => {
    let finish: ((r: CatchUpView) => void) | null = null;
    let opId = "";
    const empty = reconOverview({ days: [], last_day: null, missing_days: 92, open_exceptions: 0 });
    const { container, of, state } = (() => {
      const served = serveRecon({
        overview: empty,
        exceptions: [],
        catchUp: (id) => {
          opId = id;
          return new Promise((resolve) => (finish = resolve));
        },
      });
      return { ...render(Reconciliation, { workspace: workspace(), debounceMs: 0 }), ...served };
    })();
    const emptyState = await waitFor(() => q(container, "recon-empty"));
    expect(emptyState.textContent).toContain("Catch up to reconcile 92 days");
    expect(q(container, "recon-last-day").textContent).toBe("None yet");
    const button = q(container, "recon-catch-up");
    expect(button.textContent).toContain("92 days");
    await waitFor(() => expect(q(container, "recon-exceptions-empty").textContent).toContain("No open exceptions"));

    await fireEvent.click(button);
    const progress = await waitFor(() => q(container, "recon-catch-up-progress"));
    await waitFor(() => expect(opId).not.toBe(""));
    const event: ProgressEvent = { op_id: opId, stage: "reconciling 2026-10-03", done: 12, total: 92, sync: null };
    await emit(PROGRESS_EVENT, event);
    await waitFor(() => expect(progress.textContent).toContain("Reconciling 2026-10-03"));
    expect(progress.textContent).toContain("12 of 92 days");
    expect(q(container, "recon-catch-up").hasAttribute("disabled")).toBe(true);
    expect(q(container, "recon-reconcile").hasAttribute("disabled")).toBe(true);

    await fireEvent.click(q(container, "recon-catch-up-cancel"));
    await waitFor(() => expect(of("cancel_operation")).toEqual([{ op_id: opId }]));

    // It ends (here: having reconciled everything before the cancel arrived): the days show.
    state.overview = reconOverview({ missing_days: 0 });
    finish!({ days_added: 92, last_day: "2026-10-31", cancelled: false });
    await waitFor(() => expect(maybe(container, "recon-catch-up-progress")).toBeNull());
    await waitFor(() => expect(q(container, "recon-day-2026-10-31").getAttribute("aria-pressed")).toBe("true"));
    expect(q(container, "recon-catch-up-result").textContent).toContain("Reconciled 92 days, up to 2026-10-31");
    expect(maybe(container, "recon-empty")).toBeNull();
    await waitFor(() => expect(q(container, "recon-snapshot").dataset["day"]).toBe("2026-10-31"));
  });

  it("shows webhook health per day and type, lost ones standing out, from the last reconciled day back", async () => {
    const { container, of } = await renderLoaded();
    const panel = q(container, "recon-webhooks");
    expect(of("recon_webhooks")).toEqual([]);
    expect(q<HTMLInputElement>(panel, "recon-webhooks-to").value).toBe("2026-10-31");
    expect(q<HTMLInputElement>(panel, "recon-webhooks-from").value).toBe("2026-10-02");
    await fireEvent.click(q(panel, "recon-webhooks-show"));
    const rows = await waitFor(() => {
      const r = panel.querySelectorAll<HTMLElement>("[data-testid='recon-webhooks-row']");
      expect(r.length).toBe(3);
      return r;
    });
    expect(rows[0]!.classList.contains("lost")).toBe(true);
    expect(rows[1]!.classList.contains("unsubscribed")).toBe(true);
    expect(rows[1]!.textContent).toContain("not subscribed");
    expect(rows[2]!.classList.contains("lost")).toBe(true);
    expect(panel.querySelector("summary")!.textContent).toContain("24 events · 1 never reached the platform · 1 failed");
    await type(q<HTMLInputElement>(panel, "recon-webhooks-from"), "2026-13-01");
    await fireEvent.click(q(panel, "recon-webhooks-show"));
    expect(panel.textContent).toContain("Give both days as YYYY-MM-DD.");
    expect(of("recon_webhooks")).toEqual([{ from: "2026-10-02", to: "2026-10-31" }]);
  });

  it("saves the matching rules in the order chosen, and shows the engine's validation error", async () => {
    let refuse = true;
    const { container, of } = await renderLoaded({
      setRules: (a) => {
        if (refuse) throw commandError("invalid_input", "the date window must be at most 31 days, not 40");
        return rules({ order: a.order, amount_tolerance_minor: a.amount_tolerance_minor, date_window_days: a.date_window_days });
      },
    });
    const panel = q(container, "recon-rules");
    const save = q(panel, "recon-rules-save");
    expect(save.hasAttribute("disabled")).toBe(true);

    await fireEvent.click(q(panel, "recon-rule-up-one_to_many"));
    await fireEvent.click(q(panel, "recon-rule-enabled-exact_reference"));
    expect(Array.from(panel.querySelectorAll<HTMLElement>("li[data-rule]")).map((l) => l.dataset["rule"])).toEqual([
      "exact_reference",
      "one_to_many",
      "amount_date",
    ]);
    await type(q<HTMLInputElement>(panel, "recon-rule-tolerance"), "50");
    await type(q<HTMLInputElement>(panel, "recon-rule-window"), "40");
    expect(save.hasAttribute("disabled")).toBe(false);

    await fireEvent.click(save);
    const banner = await waitFor(() => q(panel, "error-banner"));
    expect(banner.textContent).toContain("at most 31 days");
    expect(banner.dataset["code"]).toBe("invalid_input");
    expect(of("recon_set_rules")[0]).toEqual({
      args: { order: ["one_to_many", "amount_date"], amount_tolerance_minor: 50, date_window_days: 40 },
    });

    refuse = false;
    await type(q<HTMLInputElement>(panel, "recon-rule-window"), "5");
    await fireEvent.click(save);
    await waitFor(() => expect(q(panel, "recon-rules-saved").textContent).toContain("Saved"));
    expect(of("recon_set_rules")[1]).toEqual({
      args: { order: ["one_to_many", "amount_date"], amount_tolerance_minor: 50, date_window_days: 5 },
    });
    expect(panel.querySelector("summary")!.textContent).toContain("One to many → Amount and date");
  });

  it("keeps working on another day's error: not found, with what to do", async () => {
    const { container } = await renderLoaded({
      overview: reconOverview({ days: [reconDay("2026-10-30", "balanced"), reconDay("2026-10-31", "balanced")] }),
      snapshots: { "2026-10-31": snapshot("2026-10-31") },
    });
    await fireEvent.click(q(container, "recon-day-2026-10-30"));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("not_found");
    expect(banner.textContent).toContain("no snapshot of 2026-10-30");
  });
});
