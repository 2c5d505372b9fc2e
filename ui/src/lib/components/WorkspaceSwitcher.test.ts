import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { overview, workspace } from "../../test/fixtures";
import WorkspaceSwitcher from "./WorkspaceSwitcher.svelte";

afterEach(() => clearMocks());

const recent = [
  { path: "/home/fin/acme", name: "Acme Creators", mode: "test", key_file: null, last_opened: "2026-11-02T09:00:00Z" },
  { path: "/srv/live", name: "Acme Live", mode: "live", key_file: "/k/live.key", last_opened: "2026-11-01T09:00:00Z" },
];

function props(extra: Record<string, unknown> = {}) {
  return {
    workspace: workspace(),
    recent,
    onOpened: vi.fn(),
    onKeyProblem: vi.fn(),
    onClosed: vi.fn(),
    onError: vi.fn(),
    ...extra,
  };
}

describe("WorkspaceSwitcher", () => {
  it("shows the workspace and its mode, and a menu of the other recent workspaces", async () => {
    mockIPC(() => null);
    const { container } = render(WorkspaceSwitcher, props());
    const button = container.querySelector<HTMLElement>('[data-testid="workspace-switcher"]')!;
    expect(button.textContent).toContain("Acme Creators");
    expect(container.querySelector('[data-testid="mode-badge"]')!.textContent).toBe("Test");
    expect(button.getAttribute("aria-expanded")).toBe("false");
    await fireEvent.click(button);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    const items = Array.from(container.querySelectorAll('[role="menuitem"]')).map((i) => i.textContent?.trim());
    // The open workspace is not offered again.
    expect(items[0]).toContain("Acme Live");
    expect(items.some((t) => t?.startsWith("Acme Creators"))).toBe(false);
    expect(document.activeElement?.getAttribute("role")).toBe("menuitem");
    await fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(container.querySelector('[role="menu"]')).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it("marks a live workspace unmistakably", () => {
    mockIPC(() => null);
    const { container } = render(WorkspaceSwitcher, props({ workspace: workspace({ mode: "live" }) }));
    const badge = container.querySelector('[data-testid="mode-badge"]')!;
    expect(badge.textContent).toBe("Live");
    expect(badge.classList.contains("mode-live")).toBe(true);
  });

  it("closes the workspace", async () => {
    const after = overview({ recent });
    mockIPC((cmd) => (cmd === "close_workspace" ? after : null));
    const p = props();
    const { container } = render(WorkspaceSwitcher, p);
    await fireEvent.click(container.querySelector('[data-testid="workspace-switcher"]')!);
    await fireEvent.click(container.querySelector('[data-testid="switcher-close"]')!);
    await waitFor(() => expect(p.onClosed).toHaveBeenCalledWith(after));
  });
});
