import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ImportArgs, ImportReportView } from "../bindings";
import { PROGRESS_EVENT } from "../bindings";
import { commandError } from "../../test/fixtures";
import ImportDialog from "./ImportDialog.svelte";

const KINDS = [
  { name: "ledger", table: "wallet_ledger", required_columns: ["id", "entry_id", "account", "amount_minor", "currency", "created_at"] },
  { name: "balances", table: "usd_balances", required_columns: ["user_id", "balance_cents"] },
];

afterEach(() => clearMocks());

function q<T extends Element = HTMLElement>(container: HTMLElement, testid: string): T {
  const el = container.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid}`);
  return el;
}

async function fillAndSubmit(container: HTMLElement, path: string) {
  await waitFor(() => expect(q<HTMLSelectElement>(container, "import-kind").options.length).toBe(2));
  const input = q<HTMLInputElement>(container, "import-path");
  input.value = path;
  await fireEvent.input(input);
  await fireEvent.click(q(container, "import-submit"));
}

describe("ImportDialog", () => {
  it("shows the required columns of the chosen kind", async () => {
    mockIPC((cmd) => (cmd === "import_kinds" ? KINDS : null), { shouldMockEvents: true });
    const { container } = render(ImportDialog, { onClose: () => {}, onImported: () => {} });
    await waitFor(() => expect(q(container, "import-kind-help").textContent).toContain("amount_minor"));
    const select = q<HTMLSelectElement>(container, "import-kind");
    select.value = "balances";
    await fireEvent.change(select);
    await waitFor(() => expect(q(container, "import-kind-help").textContent).toContain("balance_cents"));
  });

  it("lists every problem of a rejected file, says when the list is truncated, and imports nothing", async () => {
    const problems = [
      { file: "/x/ledger.csv", line: 2, column: "amount_minor", message: "`12.5` is not an integer number of minor units" },
      { file: "/x/ledger.csv", line: 7, column: "currency", message: "unknown currency `usx`" },
      { file: "/x/ledger.csv", line: 9, column: null, message: "entry je_9 does not balance in USD (off by 1)" },
    ];
    mockIPC(
      (cmd) => {
        if (cmd === "import_kinds") return KINDS;
        if (cmd === "import_file") {
          throw commandError("import_rejected", "ledger.csv was rejected: 3 problems", { problems, truncated: true });
        }
        return null;
      },
      { shouldMockEvents: true },
    );
    const onImported = vi.fn();
    const { container } = render(ImportDialog, { onClose: () => {}, onImported });
    await fillAndSubmit(container, "/x/ledger.csv");

    const table = await waitFor(() => q(container, "import-errors"));
    const rows = Array.from(table.querySelectorAll('[data-testid="import-error"]'));
    expect(rows).toHaveLength(3);
    expect(rows[0]!.textContent).toContain("ledger.csv");
    expect(rows[0]!.textContent).toContain("amount_minor");
    expect(rows[0]!.textContent).toContain("is not an integer");
    expect(rows[1]!.textContent).toContain("7");
    expect(rows[1]!.textContent).toContain("unknown currency");
    expect(rows[2]!.textContent).toContain("does not balance");
    expect(q(container, "import-truncated").textContent).toContain("More problems");
    expect(q(container, "error-banner").textContent).toContain("ledger.csv was rejected");
    expect(onImported).not.toHaveBeenCalled();
    expect(container.querySelector('[data-testid="import-result"]')).toBeNull();
    // The form is still there to fix and retry.
    expect(q<HTMLInputElement>(container, "import-path").value).toBe("/x/ledger.csv");
  });

  it("shows progress while importing, then the report, and tells the ledger", async () => {
    let args: ImportArgs | null = null;
    const report: ImportReportView = {
      kind: "ledger",
      source: "/x/ledger.csv",
      sha256: "ab".repeat(32),
      rows_read: 6900,
      rows_added: 6890,
      rows_updated: 0,
      rows_unchanged: 10,
      already_imported_as: null,
      role_gaps: ["no account of the ledger is the stripe_accounts role's `assets:stripe`: map it with `closebook accounts map --stripe-accounts ACCOUNT`"],
    };
    let finish: (() => void) | null = null;
    mockIPC(
      async (cmd, payload) => {
        if (cmd === "import_kinds") return KINDS;
        if (cmd === "import_file") {
          args = (payload as { args: ImportArgs }).args;
          await emit(PROGRESS_EVENT, { op_id: args.op_id, stage: "writing", done: 3450, total: 6900 });
          await emit(PROGRESS_EVENT, { op_id: "someone-else", stage: "reading", done: 1, total: 2 });
          await new Promise<void>((resolve) => (finish = resolve));
          return report;
        }
        return null;
      },
      { shouldMockEvents: true },
    );
    const onImported = vi.fn();
    const { container } = render(ImportDialog, { onClose: () => {}, onImported });
    await fillAndSubmit(container, "/x/ledger.csv");

    const progress = await waitFor(() => q(container, "import-progress"));
    await waitFor(() => expect(progress.textContent).toContain("3,450 of 6,900"));
    expect(args).toMatchObject({ kind: "ledger", path: "/x/ledger.csv", format: null });
    expect(q(container, "import-cancel")).toBeTruthy();

    finish!();
    const result = await waitFor(() => q(container, "import-result"));
    expect(q(result, "import-rows-read").textContent).toBe("6,900");
    expect(q(result, "import-rows-added").textContent).toBe("6,890");
    expect(q(result, "import-role-gaps").textContent).toContain("Settings › Accounts");
    expect(q(result, "import-role-gaps").textContent).toContain("stripe_accounts");
    expect(onImported).toHaveBeenCalledWith(report);
  });

  it("says when the same file was already imported", async () => {
    mockIPC(
      (cmd) => {
        if (cmd === "import_kinds") return KINDS;
        if (cmd === "import_file")
          return { kind: "ledger", source: "l.csv", sha256: null, rows_read: 5, rows_added: 0, rows_updated: 0, rows_unchanged: 5, already_imported_as: 4, role_gaps: [] };
        return null;
      },
      { shouldMockEvents: true },
    );
    const { container } = render(ImportDialog, { onClose: () => {}, onImported: () => {} });
    await fillAndSubmit(container, "l.csv");
    await waitFor(() => expect(q(container, "import-already").textContent).toContain("import #4"));
  });

  it("cancels a running import with its operation id", async () => {
    const cancelled: string[] = [];
    let opId = "";
    let fail: ((e: unknown) => void) | null = null;
    mockIPC(
      (cmd, payload) => {
        if (cmd === "import_kinds") return KINDS;
        if (cmd === "import_file") {
          opId = (payload as { args: ImportArgs }).args.op_id;
          return new Promise((_, reject) => (fail = reject));
        }
        if (cmd === "cancel_operation") {
          cancelled.push((payload as { op_id: string }).op_id);
          fail?.(commandError("cancelled", "the import was cancelled; nothing was written"));
          return true;
        }
        return null;
      },
      { shouldMockEvents: true },
    );
    const { container } = render(ImportDialog, { onClose: () => {}, onImported: () => {} });
    await fillAndSubmit(container, "/x/big.csv");
    await fireEvent.click(await waitFor(() => q(container, "import-cancel")));
    await waitFor(() => expect(cancelled).toEqual([opId]));
    await waitFor(() => expect(q(container, "error-banner").dataset["code"]).toBe("cancelled"));
    expect(container.querySelector('[data-testid="import-cancel"]')).toBeNull();
  });
});
