import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import App from "./App.svelte";
import type { CatchUpView, OpenArgs, ProgressEvent } from "./lib/bindings";
import { PROGRESS_EVENT } from "./lib/bindings";
import { catchUp } from "./lib/reconcile/catchUp.svelte";
import { stripeSync } from "./lib/stripeSync.svelte";
import { chart, commandError, overview, settle, workspace } from "./test/fixtures";
import { reconOverview } from "./test/reconFixtures";

afterEach(() => {
  clearMocks();
  catchUp.reset();
  stripeSync.reset();
});

const recent = [
  { path: "/w/acme", name: "Acme", mode: "test", key_file: "/k/acme.key", last_opened: "2026-11-02T09:00:00Z" },
  { path: "/w/other", name: "Other", mode: "live", key_file: null, last_opened: "2026-11-01T09:00:00Z" },
];

function testid(id: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
}

describe("App start", () => {
  it("shows the dashboard of the workspace already open", async () => {
    mockIPC((cmd) => (cmd === "app_overview" ? overview({ open: workspace(), recent }) : null), { shouldMockEvents: true });
    render(App);
    await waitFor(() => expect(testid("screen-dashboard")).not.toBeNull());
    expect(testid("sidebar")).not.toBeNull();
    expect(testid("workspace-switcher")!.textContent).toContain("Acme Creators");
    expect(testid("nav-dashboard")!.getAttribute("aria-current")).toBe("page");
    expect(testid("keychain-status")!.textContent).toContain("Secret Service");
  });

  it("reads the overview once when the workspace is already open (no redraw of the dashboard)", async () => {
    const calls: string[] = [];
    mockIPC(
      (cmd) => {
        calls.push(cmd);
        return cmd === "app_overview" ? overview({ open: workspace(), recent }) : null;
      },
      { shouldMockEvents: true },
    );
    render(App);
    await waitFor(() => expect(testid("screen-dashboard")).not.toBeNull());
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.filter((c) => c === "app_overview")).toHaveLength(1);
  });

  it("reopens the most recent workspace with its key file", async () => {
    const opened: OpenArgs[] = [];
    mockIPC(
      (cmd, payload) => {
        if (cmd === "app_overview") return overview({ recent });
        if (cmd === "open_workspace") {
          opened.push((payload as { args: OpenArgs }).args);
          return workspace({ name: "Acme" });
        }
        return null;
      },
      { shouldMockEvents: true },
    );
    render(App);
    await waitFor(() => expect(testid("screen-dashboard")).not.toBeNull());
    expect(opened).toEqual([{ path: "/w/acme", key_file: "/k/acme.key" }]);
  });

  it("shows the key problem page when the last workspace's key is wrong", async () => {
    mockIPC(
      (cmd) => {
        if (cmd === "app_overview") return overview({ recent });
        if (cmd === "open_workspace") throw commandError("key_wrong", "the key file /k/acme.key does not open /w/acme");
        return null;
      },
      { shouldMockEvents: true },
    );
    render(App);
    await waitFor(() => expect(testid("key-problem")).not.toBeNull());
    expect(testid("key-problem-message")!.textContent).toBe("the key file /k/acme.key does not open /w/acme");
    await fireEvent.click(testid("key-problem-back")!);
    await waitFor(() => expect(testid("welcome")).not.toBeNull());
  });

  it("shows Welcome with the error when the last workspace is gone", async () => {
    mockIPC(
      (cmd) => {
        if (cmd === "app_overview") return overview({ recent });
        if (cmd === "open_workspace") throw commandError("workspace_not_found", "/w/acme is not a Closebook workspace");
        return null;
      },
      { shouldMockEvents: true },
    );
    render(App);
    await waitFor(() => expect(testid("welcome")).not.toBeNull());
    expect(testid("error-banner")!.textContent).toContain("/w/acme is not a Closebook workspace");
    expect(document.querySelectorAll('[data-testid="recent-item"]')).toHaveLength(2);
  });

  it("shows Welcome when nothing was ever opened, and survives an engine that does not answer", async () => {
    mockIPC(() => {
      throw "no engine";
    });
    render(App);
    await waitFor(() => expect(testid("welcome")).not.toBeNull());
    expect(testid("error-banner")!.textContent).toContain("no engine");
  });

  it("switches screens from the sidebar and with Alt+digit", async () => {
    mockIPC(
      (cmd) => {
        switch (cmd) {
          case "app_overview":
            return overview({ open: workspace(), recent });
          case "ledger_tree":
            return { as_of: null, as_of_label: "All postings", nodes: chart() };
          case "entry_types":
            return [];
          case "ledger_postings":
            return { rows: [], next: null };
          default:
            return null;
        }
      },
      { shouldMockEvents: true },
    );
    render(App);
    await waitFor(() => expect(testid("screen-dashboard")).not.toBeNull());
    await fireEvent.click(testid("nav-ledger")!);
    await waitFor(() => expect(testid("screen-ledger")).not.toBeNull());
    expect(testid("nav-ledger")!.getAttribute("aria-current")).toBe("page");
    expect(testid("nav-dashboard")!.hasAttribute("aria-current")).toBe(false);

    await fireEvent.keyDown(window, { key: "3", code: "Digit3", altKey: true });
    await waitFor(() => expect(testid("screen-reconciliation")).not.toBeNull());
    await fireEvent.keyDown(window, { key: "™", code: "Digit7", altKey: true });
    await waitFor(() => expect(testid("screen-settings")).not.toBeNull());
    for (const id of ["payouts", "reports", "audit"]) {
      await fireEvent.click(testid(`nav-${id}`)!);
      await waitFor(() => expect(testid(`screen-${id}`)).not.toBeNull());
    }
  });
});

describe("Reconciliation catch-up on opening a workspace", () => {
  it("starts once in the background when a workspace opens, shows its progress in the sidebar, and never blocks", async () => {
    const opIds: string[] = [];
    let finish: ((r: CatchUpView) => void) | null = null;
    mockIPC(
      (cmd, payload) => {
        switch (cmd) {
          case "app_overview":
            return overview({ recent });
          case "open_workspace":
            return workspace({ name: "Acme", path: "/w/acme" });
          case "recon_catch_up":
            opIds.push((payload as { op_id: string }).op_id);
            return new Promise<CatchUpView>((resolve) => (finish = resolve));
          case "recon_overview":
            return reconOverview({ days: [], last_day: null, missing_days: 92, open_exceptions: 0 });
          case "recon_exceptions":
            return [];
          default:
            return null;
        }
      },
      { shouldMockEvents: true },
    );
    render(App);
    // The workspace is usable while the catch-up runs.
    await waitFor(() => expect(testid("screen-dashboard")).not.toBeNull());
    await waitFor(() => expect(opIds).toHaveLength(1));
    expect(opIds[0]!.startsWith("recon-")).toBe(true);

    const event: ProgressEvent = { op_id: opIds[0]!, stage: "reconciling 2026-10-03", done: 12, total: 92, sync: null };
    await emit(PROGRESS_EVENT, event);
    const indicator = await waitFor(() => {
      const el = testid("catch-up-indicator");
      expect(el?.textContent).toContain("Reconciling… 12/92");
      return el!;
    });
    expect(indicator.dataset["state"]).toBe("running");

    // Moving around does not start it again.
    await fireEvent.click(testid("nav-ledger")!);
    await fireEvent.click(testid("nav-dashboard")!);
    await settle();
    expect(opIds).toHaveLength(1);

    // The indicator opens the Reconciliation screen, which shows the same catch-up.
    await fireEvent.click(indicator);
    await waitFor(() => expect(testid("screen-reconciliation")).not.toBeNull());
    const progress = await waitFor(() => testid("recon-catch-up-progress")!);
    expect(progress.textContent).toContain("12 of 92 days");
    expect(opIds).toHaveLength(1);

    finish!({ days_added: 92, last_day: "2026-10-31", cancelled: false });
    await waitFor(() => expect(testid("catch-up-indicator")).toBeNull());
    await waitFor(() => expect(testid("recon-catch-up-result")?.textContent).toContain("Reconciled 92 days"));
    expect(opIds).toHaveLength(1);
  });

  it("starts for the workspace already open when the app starts", async () => {
    const opIds: string[] = [];
    mockIPC(
      (cmd, payload) => {
        if (cmd === "app_overview") return overview({ open: workspace(), recent });
        if (cmd === "recon_catch_up") {
          opIds.push((payload as { op_id: string }).op_id);
          return { days_added: 0, last_day: "2026-10-31", cancelled: false };
        }
        return null;
      },
      { shouldMockEvents: true },
    );
    render(App);
    await waitFor(() => expect(testid("screen-dashboard")).not.toBeNull());
    await waitFor(() => expect(opIds).toHaveLength(1));
    await settle();
    expect(opIds).toHaveLength(1);
    expect(catchUp.workspace).toBe("/home/fin/acme");
    expect(testid("catch-up-indicator")).toBeNull();
  });

  it("catches up again after a successful sync, not after a failed one", async () => {
    const opIds: string[] = [];
    let failSync = false;
    mockIPC(
      (cmd, payload) => {
        if (cmd === "app_overview") return overview({ open: workspace(), recent });
        if (cmd === "recon_catch_up") {
          opIds.push((payload as { op_id: string }).op_id);
          return { days_added: 0, last_day: "2026-10-31", cancelled: false };
        }
        if (cmd === "sync_stripe") {
          if (failSync) throw commandError("stripe_unavailable", "Stripe did not answer");
          return { run_id: 2, resumed: false, pages: 1, requests: 1, retries: 0, elapsed_ms: 10, added: 5, changed: 0 };
        }
        return null;
      },
      { shouldMockEvents: true },
    );
    render(App);
    await waitFor(() => expect(opIds).toHaveLength(1));
    await settle();
    await stripeSync.start("/home/fin/acme");
    await waitFor(() => expect(opIds).toHaveLength(2));
    failSync = true;
    await stripeSync.start("/home/fin/acme");
    await settle();
    expect(opIds).toHaveLength(2);
  });
});
