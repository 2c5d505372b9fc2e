import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import App from "./App.svelte";
import type { OpenArgs } from "./lib/bindings";
import { chart, commandError, overview, workspace } from "./test/fixtures";

afterEach(() => clearMocks());

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
