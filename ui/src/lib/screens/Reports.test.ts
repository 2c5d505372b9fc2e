import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { ExportJournalArgs, ExportReportArgs, ExportReportView, JournalView, ReportsOverview } from "../bindings";
import { PROGRESS_EVENT } from "../bindings";
import { journalExport, reportExport } from "../reports/exports.svelte";
import { all, choose, maybe, q, type } from "../../test/dom";
import { commandError, digest, workspace } from "../../test/fixtures";
import { exportRecord, exportView, journalView, reportsOverview, verifyView } from "../../test/reportFixtures";
import Reports from "./Reports.svelte";

afterEach(() => {
  clearMocks();
  reportExport.reset();
  journalExport.reset();
});

type Call = { cmd: string; args: Record<string, unknown> };

interface Engine {
  /** The overview of each call of `reports_overview` (the last one repeats). */
  overviews?: (ReportsOverview | (() => never))[];
  /** Answers a command before the defaults do (throw or reject to fail it). */
  handle?: (cmd: string, args: Record<string, unknown>) => unknown;
}

/** The reports commands and the dialogs served like the engine, every call recorded. */
function serveReports(engine: Engine = {}) {
  const calls: Call[] = [];
  const overviews = engine.overviews ?? [reportsOverview()];
  let overviewCalls = 0;
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      const answer = engine.handle?.(cmd, args);
      if (answer !== undefined) return answer;
      switch (cmd) {
        case "reports_overview": {
          const next = overviews[Math.min(overviewCalls++, overviews.length - 1)]!;
          return typeof next === "function" ? next() : next;
        }
        case "export_report":
          return exportView({ dir: (args["args"] as ExportReportArgs).dest });
        case "export_journal":
          return journalView({ path: (args["args"] as ExportJournalArgs).dest });
        case "verify_export":
          return verifyView([], { dir: args["dir"] as string });
        case "cancel_operation":
          return true;
        case "plugin:dialog|save":
          return "/home/fin/exports/chosen";
        case "plugin:dialog|open":
          return "/home/fin/exports/picked";
        default:
          throw commandError("internal", `unexpected command ${cmd}`);
      }
    },
    { shouldMockEvents: true },
  );
  return { calls, of: (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args) };
}

/** A command that runs until the test settles it. */
function pending<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (reason: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function renderLoaded(engine: Engine = {}) {
  const served = serveReports(engine);
  const view = render(Reports, { workspace: workspace() });
  await waitFor(() => expect(maybe(view.container, "reports-kind-trial_balance")).not.toBeNull());
  return { ...view, ...served };
}

async function pick(container: Element, kind: string) {
  await fireEvent.click(q(container, `reports-kind-${kind}`));
}

describe("Reports", () => {
  it("lists the report kinds and shows the scope inputs the picked one needs", async () => {
    const { container } = await renderLoaded();
    expect(maybe(container, "screen-reports")).not.toBeNull();

    const cards = Array.from(container.querySelectorAll<HTMLElement>('[data-testid^="reports-kind-"]'));
    expect(cards.map((c) => c.dataset["testid"])).toEqual([
      "reports-kind-reconciliation_snapshot",
      "reports-kind-exceptions",
      "reports-kind-payout_batch",
      "reports-kind-monthly_financials",
      "reports-kind-trial_balance",
      "reports-kind-general_ledger",
      "reports-kind-audit_log",
    ]);
    expect(cards[4]!.textContent).toContain("Trial balance");
    expect(cards[4]!.textContent).toContain("Every account's debits, credits and balance");
    expect(cards[4]!.textContent).toContain("As of a date");
    // One radio group: arrow keys move between the kinds.
    const radios = cards.map((c) => c.querySelector<HTMLInputElement>('input[type="radio"]')!);
    expect(new Set(radios.map((r) => r.name)).size).toBe(1);

    // Nothing picked yet: no scope, no export.
    const scopeInputs = () => ["reports-day", "reports-batch", "reports-as-of", "reports-from", "reports-to", "reports-account"].filter((id) => maybe(container, id));
    expect(scopeInputs()).toEqual([]);
    expect(q<HTMLButtonElement>(container, "reports-export").disabled).toBe(true);

    await pick(container, "reconciliation_snapshot");
    expect(radios[0]!.checked).toBe(true);
    expect(scopeInputs()).toEqual(["reports-day"]);
    const day = q<HTMLSelectElement>(container, "reports-day");
    expect(Array.from(day.options).map((o) => o.value)).toEqual(["2026-11-01", "2026-10-31", "2026-10-30"]);
    expect(day.value).toBe("2026-11-01");
    expect(q<HTMLButtonElement>(container, "reports-export").disabled).toBe(false);

    await pick(container, "payout_batch");
    expect(scopeInputs()).toEqual(["reports-batch"]);
    const batch = q<HTMLSelectElement>(container, "reports-batch");
    expect(Array.from(batch.options).map((o) => o.textContent)).toEqual([
      "2026-10 · done — pb_2026-10_v2",
      "2026-10 · superseded — pb_2026-10_v1",
      "2026-09 · done — pb_2026-09_v1",
    ]);
    expect(batch.value).toBe("pb_2026-10_v2");

    await pick(container, "trial_balance");
    expect(scopeInputs()).toEqual(["reports-as-of"]);
    const asOf = q<HTMLInputElement>(container, "reports-as-of");
    expect(asOf.type).toBe("date");
    expect(asOf.value).toBe("");

    await pick(container, "general_ledger");
    expect(scopeInputs()).toEqual(["reports-from", "reports-to", "reports-account"]);

    await pick(container, "exceptions");
    expect(scopeInputs()).toEqual([]);
    expect(q(container, "reports-scope").textContent).toContain("nothing to choose");

    const format = q<HTMLSelectElement>(container, "reports-format");
    expect(format.value).toBe("xlsx");
    expect(Array.from(format.options).map((o) => o.value)).toEqual(["xlsx", "csv"]);
  });

  it("says when there is no reconciled day or batch to export", async () => {
    const { container } = await renderLoaded({ overviews: [reportsOverview({ days: [], batches: [] })] });
    await pick(container, "reconciliation_snapshot");
    expect(maybe(container, "reports-day")).toBeNull();
    expect(q(container, "reports-scope-missing").textContent).toContain("No day is reconciled yet");
    await pick(container, "payout_batch");
    expect(q(container, "reports-scope-missing").textContent).toContain("No payout batch is prepared yet");
    await type(q<HTMLInputElement>(container, "reports-dest"), "/x/batch");
    await fireEvent.click(q(container, "reports-export"));
    expect(q(container, "error-banner").textContent).toContain("No payout batch chosen");
  });

  it("exports with the chosen scope, format and destination under a fresh operation id: progress, then what was written", async () => {
    const running = pending<ExportReportView>();
    let first = true;
    const { container, of } = await renderLoaded({
      overviews: [reportsOverview(), reportsOverview({ recent: [exportRecord(42), exportRecord(41), exportRecord(40)] })],
      handle: (cmd, args) => {
        if (cmd !== "export_report" || !first) return undefined;
        first = false;
        const a = args["args"] as ExportReportArgs;
        return (async () => {
          await emit(PROGRESS_EVENT, { op_id: a.op_id, stage: "writing lines", done: 1234, total: null, sync: null });
          await emit(PROGRESS_EVENT, { op_id: "someone-else", stage: "writing other", done: 9, total: null, sync: null });
          return running.promise;
        })();
      },
    });
    expect(all(container, "reports-recent-row")).toHaveLength(2);

    await pick(container, "payout_batch");
    await choose(q<HTMLSelectElement>(container, "reports-batch"), "pb_2026-10_v1");
    await choose(q<HTMLSelectElement>(container, "reports-format"), "csv");
    await type(q<HTMLInputElement>(container, "reports-dest"), "  /home/fin/exports/oct-batch ");
    await fireEvent.click(q(container, "reports-export"));

    const progress = await waitFor(() => q(container, "reports-progress"));
    await waitFor(() => expect(progress.textContent).toContain("1,234 rows"));
    expect(progress.textContent).toContain("writing lines");
    expect(progress.textContent).toContain("Exporting Payout batch");
    expect(progress.querySelector("progress")!.hasAttribute("value")).toBe(false);
    expect(q<HTMLButtonElement>(container, "reports-export").disabled).toBe(true);

    const args = of("export_report")[0]!["args"] as ExportReportArgs;
    expect(args).toEqual({
      kind: "payout_batch",
      format: "csv",
      dest: "/home/fin/exports/oct-batch",
      day: null,
      batch: "pb_2026-10_v1",
      as_of: null,
      from: null,
      to: null,
      account: null,
      op_id: expect.stringMatching(/^report-/),
    });

    running.resolve(exportView());
    const result = await waitFor(() => q(container, "reports-result"));
    expect(maybe(container, "reports-progress")).toBeNull();
    expect(result.dataset["rows"]).toBe("120");
    expect(q(result, "reports-result-dir").textContent).toBe("/home/fin/exports/payout_batch-pb_2026-10_v1");
    expect(q(result, "reports-result-scope").textContent).toBe("pb_2026-10_v1 for 2026-10 (superseded), digest 9f2c");
    expect(result.textContent).toContain("Exported Payout batch: 120 rows in 2 files");
    const files = all(result, "reports-result-file");
    expect(files).toHaveLength(2);
    expect(files[0]!.dataset["path"]).toBe("lines.csv");
    const sha = q(files[0]!, "reports-result-file-sha");
    expect(sha.textContent).toBe(`${digest(1, "f").slice(0, 16)}…`);
    expect(sha.getAttribute("title")).toBe(digest(1, "f"));
    const cells = Array.from(files[1]!.querySelectorAll("td")).map((td) => td.textContent?.trim());
    expect(cells[0]).toBe("approvals.csv");
    expect(cells.slice(2)).toEqual(["24,690", "80"]);
    expect(q(result, "reports-result-manifest").getAttribute("title")).toBe(digest(7, "e"));

    // The folder exists now: the destination is emptied, and the recent list read again.
    expect(q<HTMLInputElement>(container, "reports-dest").value).toBe("");
    await waitFor(() => expect(all(container, "reports-recent-row")).toHaveLength(3));
    expect(of("reports_overview")).toHaveLength(2);

    // Another export gets its own operation id.
    await pick(container, "trial_balance");
    await type(q<HTMLInputElement>(container, "reports-as-of"), "2026-10-31");
    await type(q<HTMLInputElement>(container, "reports-dest"), "/home/fin/exports/tb");
    await fireEvent.click(q(container, "reports-export"));
    await waitFor(() => expect(q(container, "reports-result").dataset["rows"]).toBe("120"));
    await waitFor(() => expect(of("export_report")).toHaveLength(2));
    const second = of("export_report")[1]!["args"] as ExportReportArgs;
    expect(second).toMatchObject({ kind: "trial_balance", format: "csv", dest: "/home/fin/exports/tb", as_of: "2026-10-31", batch: null, day: null });
    expect(second.op_id).toMatch(/^report-/);
    expect(second.op_id).not.toBe(args.op_id);
  });

  it("sends the period and account of the general ledger, only what is given", async () => {
    const { container, of } = await renderLoaded();
    await pick(container, "general_ledger");
    await type(q<HTMLInputElement>(container, "reports-from"), "2026-10-01");
    await type(q<HTMLInputElement>(container, "reports-account"), " liabilities:creators ");
    await type(q<HTMLInputElement>(container, "reports-dest"), "/x/gl");
    await fireEvent.click(q(container, "reports-export"));
    await waitFor(() => expect(maybe(container, "reports-result")).not.toBeNull());
    expect(of("export_report")[0]!["args"]).toMatchObject({
      kind: "general_ledger",
      format: "xlsx",
      from: "2026-10-01",
      to: null,
      account: "liabilities:creators",
      as_of: null,
    });
  });

  it("chooses the destination with the save dialog, proposing <kind>-<scope>", async () => {
    const { container, of } = await renderLoaded();
    await pick(container, "trial_balance");
    await type(q<HTMLInputElement>(container, "reports-as-of"), "2026-10-31");
    const chooseDest = q(container, "reports-dest-choose");
    expect(chooseDest.textContent).toBe("Choose destination…");
    await fireEvent.click(chooseDest);
    await waitFor(() => expect(q<HTMLInputElement>(container, "reports-dest").value).toBe("/home/fin/exports/chosen"));
    expect(of("plugin:dialog|save")[0]!["options"]).toEqual({ title: "Export to a new folder", defaultPath: "trial_balance-2026-10-31" });

    await pick(container, "reconciliation_snapshot");
    await type(q<HTMLInputElement>(container, "reports-dest"), "");
    await fireEvent.click(chooseDest);
    await waitFor(() => expect(of("plugin:dialog|save")).toHaveLength(2));
    expect(of("plugin:dialog|save")[1]!["options"]).toMatchObject({ defaultPath: "reconciliation_snapshot-2026-11-01" });
  });

  it("shows the engine's refusal and keeps the form; a missing destination is asked for first", async () => {
    const { container, of } = await renderLoaded({
      handle: (cmd) => {
        if (cmd === "export_report") {
          throw commandError("invalid_input", "/home/fin/exports/tb already exists: exports go to a new folder, so that nothing is overwritten");
        }
        return undefined;
      },
    });
    await pick(container, "trial_balance");
    await fireEvent.click(q(container, "reports-export"));
    const missing = q(container, "error-banner");
    expect(missing.dataset["code"]).toBe("invalid_input");
    expect(missing.textContent).toContain("No destination given");
    expect(of("export_report")).toHaveLength(0);

    await type(q<HTMLInputElement>(container, "reports-dest"), "/home/fin/exports/tb");
    await fireEvent.click(q(container, "reports-export"));
    await waitFor(() => expect(q(container, "error-banner").textContent).toContain("already exists"));
    const banners = all(container, "error-banner");
    expect(banners).toHaveLength(1);
    expect(banners[0]!.textContent).toContain("The report was not exported");
    expect(maybe(container, "reports-result")).toBeNull();
    expect(q<HTMLInputElement>(container, "reports-dest").value).toBe("/home/fin/exports/tb");
    expect(q<HTMLButtonElement>(container, "reports-export").disabled).toBe(false);
  });

  it("cancels a running export with its operation id; nothing is left", async () => {
    const running = pending<ExportReportView>();
    const { container, of } = await renderLoaded({
      handle: (cmd, args) => {
        if (cmd === "export_report") return running.promise;
        if (cmd === "cancel_operation") {
          running.reject(commandError("cancelled", "the export was cancelled; nothing was written"));
          return true;
        }
        return undefined;
      },
    });
    await pick(container, "audit_log");
    await type(q<HTMLInputElement>(container, "reports-dest"), "/x/audit");
    await fireEvent.click(q(container, "reports-export"));
    const cancel = await waitFor(() => q(container, "reports-cancel"));
    await fireEvent.click(cancel);

    await waitFor(() => expect(maybe(container, "reports-progress")).toBeNull());
    const opId = (of("export_report")[0]!["args"] as ExportReportArgs).op_id;
    expect(of("cancel_operation")).toEqual([{ op_id: opId }]);
    const banner = q(container, "error-banner");
    expect(banner.dataset["code"]).toBe("cancelled");
    expect(banner.textContent).toContain("The export was cancelled");
    expect(banner.textContent).toContain("leaves nothing behind");
    expect(maybe(container, "reports-result")).toBeNull();
    // The recent list is read again however the export ended.
    await waitFor(() => expect(of("reports_overview")).toHaveLength(2));
  });

  it("keeps an export running while the screen is away and shows how it ended on return", async () => {
    const running = pending<ExportReportView>();
    const first = await renderLoaded({ handle: (cmd) => (cmd === "export_report" ? running.promise : undefined) });
    await pick(first.container, "exceptions");
    await type(q<HTMLInputElement>(first.container, "reports-dest"), "/x/exceptions");
    await fireEvent.click(q(first.container, "reports-export"));
    await waitFor(() => q(first.container, "reports-progress"));
    first.unmount();

    const again = render(Reports, { workspace: workspace() });
    await waitFor(() => expect(maybe(again.container, "reports-progress")).not.toBeNull());
    running.resolve(exportView({ rows: 7 }));
    await waitFor(() => expect(q(again.container, "reports-result").dataset["rows"]).toBe("7"));

    // Another workspace's screen does not show it.
    again.unmount();
    const other = render(Reports, { workspace: workspace({ path: "/home/fin/other" }) });
    await waitFor(() => expect(maybe(other.container, "reports-kind-exceptions")).not.toBeNull());
    expect(maybe(other.container, "reports-result")).toBeNull();
  });

  it("verifies a folder: every problem listed, or intact and recorded; Verify now checks an export's folder", async () => {
    let answer = verifyView(["lines.csv: SHA-256 differs from the manifest", "approvals.csv is missing"], { recorded: false });
    const { container, of } = await renderLoaded({ handle: (cmd) => (cmd === "verify_export" ? answer : undefined) });

    await fireEvent.click(q(container, "reports-verify"));
    expect(q(container, "error-banner").textContent).toContain("No folder given");
    expect(of("verify_export")).toHaveLength(0);

    await fireEvent.click(q(container, "reports-verify-choose"));
    await waitFor(() => expect(q<HTMLInputElement>(container, "reports-verify-dir").value).toBe("/home/fin/exports/picked"));
    expect(of("plugin:dialog|open")[0]!["options"]).toMatchObject({ directory: true, multiple: false });

    await type(q<HTMLInputElement>(container, "reports-verify-dir"), "/home/fin/exports/oct");
    await fireEvent.click(q(container, "reports-verify"));
    const bad = await waitFor(() => q(container, "reports-verify-result"));
    expect(of("verify_export")).toEqual([{ dir: "/home/fin/exports/oct" }]);
    expect(bad.dataset["ok"]).toBe("false");
    expect(all(bad, "reports-verify-problem").map((p) => p.textContent)).toEqual([
      "lines.csv: SHA-256 differs from the manifest",
      "approvals.csv is missing",
    ]);
    expect(bad.textContent).toContain("2 problems");
    expect(maybe(container, "error-banner")).toBeNull();

    answer = verifyView([], { dir: "/home/fin/exports/oct" });
    await fireEvent.click(q(container, "reports-verify"));
    await waitFor(() => expect(q(container, "reports-verify-result").dataset["ok"]).toBe("true"));
    const ok = q(container, "reports-verify-result");
    expect(ok.textContent).toContain("Intact: 2 files match the manifest");
    expect(q(ok, "reports-verify-recorded").textContent).toBe("Recorded by this workspace's audit log.");
    expect(q(ok, "reports-verify-manifest").getAttribute("title")).toBe(digest(7, "e"));

    // Verify now: the exported folder, checked in the verify panel.
    await pick(container, "exceptions");
    await type(q<HTMLInputElement>(container, "reports-dest"), "/home/fin/exports/exc");
    await fireEvent.click(q(container, "reports-export"));
    await fireEvent.click(await waitFor(() => q(container, "reports-result-verify")));
    await waitFor(() => expect(of("verify_export")).toHaveLength(3));
    expect(of("verify_export")[2]).toEqual({ dir: "/home/fin/exports/exc" });
    expect(q<HTMLInputElement>(container, "reports-verify-dir").value).toBe("/home/fin/exports/exc");
  });

  it("exports the journal as of a day into a chosen file, with progress and the command to recompute", async () => {
    const running = pending<JournalView>();
    const { container, of } = await renderLoaded({
      handle: (cmd, args) => {
        if (cmd === "plugin:dialog|save") return "/home/fin/my exports/ledger.journal";
        if (cmd !== "export_journal") return undefined;
        const a = args["args"] as ExportJournalArgs;
        return (async () => {
          await emit(PROGRESS_EVENT, { op_id: a.op_id, stage: "writing the journal", done: 6900, total: null, sync: null });
          return running.promise;
        })();
      },
    });
    await type(q<HTMLInputElement>(container, "reports-journal-as-of"), "2026-10-31");
    await fireEvent.click(q(container, "reports-journal-dest-choose"));
    await waitFor(() => expect(q<HTMLInputElement>(container, "reports-journal-dest").value).toBe("/home/fin/my exports/ledger.journal"));
    expect(of("plugin:dialog|save")[0]!["options"]).toMatchObject({ defaultPath: "ledger.journal" });

    await fireEvent.click(q(container, "reports-journal-export"));
    const progress = await waitFor(() => q(container, "reports-journal-progress"));
    await waitFor(() => expect(progress.textContent).toContain("6,900 rows"));
    expect(progress.textContent).toContain("writing the journal");
    expect(q(container, "reports-journal-cancel")).toBeTruthy();
    // The report export is not busy meanwhile.
    expect(maybe(container, "reports-progress")).toBeNull();
    const args = of("export_journal")[0]!["args"] as ExportJournalArgs;
    expect(args).toEqual({ dest: "/home/fin/my exports/ledger.journal", as_of: "2026-10-31", op_id: expect.stringMatching(/^journal-/) });

    running.resolve(journalView({ path: "/home/fin/my exports/ledger.journal" }));
    const result = await waitFor(() => q(container, "reports-journal-result"));
    expect(result.dataset["entries"]).toBe("3450");
    expect(result.textContent).toContain("3,450 entries, 6,900 postings");
    expect(q(result, "reports-journal-sha").getAttribute("title")).toBe(digest(3, "c"));
    expect(q(result, "reports-journal-hint").textContent).toBe("hledger -f '/home/fin/my exports/ledger.journal' balance");
    expect(q<HTMLInputElement>(container, "reports-journal-dest").value).toBe("");
  });

  it("cancels a running journal export with its operation id", async () => {
    const running = pending<JournalView>();
    const { container, of } = await renderLoaded({
      handle: (cmd) => {
        if (cmd === "export_journal") return running.promise;
        if (cmd === "cancel_operation") {
          running.reject(commandError("cancelled", "the journal export was cancelled"));
          return true;
        }
        return undefined;
      },
    });
    await type(q<HTMLInputElement>(container, "reports-journal-dest"), "/x/ledger.journal");
    await fireEvent.click(q(container, "reports-journal-export"));
    await fireEvent.click(await waitFor(() => q(container, "reports-journal-cancel")));
    await waitFor(() => expect(q(container, "error-banner").dataset["code"]).toBe("cancelled"));
    const opId = (of("export_journal")[0]!["args"] as ExportJournalArgs).op_id;
    expect(of("cancel_operation")).toEqual([{ op_id: opId }]);
    expect(of("export_journal")[0]!["args"]).toMatchObject({ as_of: null });
  });

  it("lists the recent exports with time, actor and summary", async () => {
    const { container } = await renderLoaded();
    const rows = all(container, "reports-recent-row");
    expect(rows).toHaveLength(2);
    const cells = Array.from(rows[1]!.querySelectorAll("td"));
    expect(cells[0]!.querySelector("time")!.textContent).toBe("2026-11-02 09:40:00 EDT");
    expect(cells[1]!.textContent).toBe("fin");
    expect(cells[2]!.textContent).toBe("Exported the journal to /home/fin/ledger.journal");
  });

  it("says when nothing was exported yet, and when the reports cannot be listed (Try again)", async () => {
    const { of } = serveReports({
      overviews: [
        () => {
          throw commandError("io", "the workspace file could not be read");
        },
        reportsOverview({ recent: [] }),
      ],
    });
    const { container } = render(Reports, { workspace: workspace() });
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.textContent).toContain("The reports could not be listed");
    expect(banner.textContent).toContain("the workspace file could not be read");
    expect(maybe(container, "reports-kind-trial_balance")).toBeNull();

    await fireEvent.click(Array.from(banner.querySelectorAll("button")).find((b) => b.textContent === "Try again")!);
    await waitFor(() => expect(maybe(container, "reports-kind-trial_balance")).not.toBeNull());
    expect(of("reports_overview")).toHaveLength(2);
    expect(maybe(container, "error-banner")).toBeNull();
    expect(q(container, "reports-recent-empty").textContent).toContain("No exports yet");
  });
});
