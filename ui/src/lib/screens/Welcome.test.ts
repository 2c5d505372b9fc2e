import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PROGRESS_EVENT, type CreateArgs, type OpenArgs } from "../bindings";
import { commandError, overview, workspace } from "../../test/fixtures";
import Welcome from "./Welcome.svelte";

afterEach(() => clearMocks());

function q<T extends HTMLElement = HTMLElement>(container: HTMLElement, testid: string): T {
  const el = container.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid}`);
  return el;
}

async function type(el: HTMLInputElement, value: string) {
  el.value = value;
  await fireEvent.input(el);
}

describe("Welcome", () => {
  it("opens the demo with a fresh operation id and shows its progress", async () => {
    const opIds: string[] = [];
    let finish: (() => void) | null = null;
    const demo = workspace({ name: "Demo platform", demo: true });
    mockIPC(
      async (cmd, payload) => {
        if (cmd === "open_demo") {
          const id = (payload as { op_id: string }).op_id;
          opIds.push(id);
          await emit(PROGRESS_EVENT, { op_id: id, stage: "opening the demo workspace", done: 2, total: 8 });
          await new Promise<void>((r) => (finish = r));
          return demo;
        }
        return null;
      },
      { shouldMockEvents: true },
    );
    const onOpened = vi.fn();
    const { container } = render(Welcome, { overview: overview(), onOpened, onKeyProblem: () => {} });
    expect(q(container, "welcome")).toBeTruthy();
    await fireEvent.click(q(container, "open-demo"));
    await waitFor(() => expect(opIds).toHaveLength(1));
    expect(opIds[0]!.length).toBeGreaterThan(0);
    expect(opIds[0]!.length).toBeLessThanOrEqual(64);
    await waitFor(() => expect(q(container, "demo-progress").textContent).toContain("2 of 8"));
    finish!();
    await waitFor(() => expect(onOpened).toHaveBeenCalledWith(demo));

    // A second demo open uses a new operation id.
    await fireEvent.click(q(container, "open-demo"));
    await waitFor(() => expect(opIds).toHaveLength(2));
    expect(opIds[1]).not.toBe(opIds[0]);
  });

  it("opens a workspace folder with an optional key file", async () => {
    const calls: OpenArgs[] = [];
    mockIPC((cmd, payload) => {
      if (cmd === "open_workspace") {
        calls.push((payload as { args: OpenArgs }).args);
        return workspace();
      }
      return null;
    });
    const onOpened = vi.fn();
    const { container } = render(Welcome, { overview: overview(), onOpened, onKeyProblem: () => {} });
    expect(container.querySelector('[data-testid="open-path"]')).toBeNull();
    await fireEvent.click(q(container, "open-existing"));
    await type(q<HTMLInputElement>(container, "open-path"), " /home/fin/acme ");
    await fireEvent.click(q(container, "open-submit"));
    await waitFor(() => expect(onOpened).toHaveBeenCalled());
    expect(calls).toEqual([{ path: "/home/fin/acme", key_file: null }]);

    await type(q<HTMLInputElement>(container, "open-key-file"), "/keys/acme.key");
    await fireEvent.click(q(container, "open-submit"));
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]).toEqual({ path: "/home/fin/acme", key_file: "/keys/acme.key" });
  });

  it("takes values set by script with only a change event (as end-to-end tests do)", async () => {
    const calls: OpenArgs[] = [];
    mockIPC((cmd, payload) => {
      if (cmd === "open_workspace") calls.push((payload as { args: OpenArgs }).args);
      return workspace();
    });
    const { container } = render(Welcome, { overview: overview(), onOpened: () => {}, onKeyProblem: () => {} });
    await fireEvent.click(q(container, "open-existing"));
    const path = q<HTMLInputElement>(container, "open-path");
    path.value = "/w/by-script";
    await fireEvent.change(path);
    const key = q<HTMLInputElement>(container, "open-key-file");
    key.value = "/k/by-script.key";
    await fireEvent.change(key);
    await fireEvent.click(q(container, "open-submit"));
    await waitFor(() => expect(calls).toEqual([{ path: "/w/by-script", key_file: "/k/by-script.key" }]));
  });

  it("hands key problems to the KeyProblem page and shows other errors in place", async () => {
    let code: "key_wrong" | "workspace_not_found" = "key_wrong";
    mockIPC(() => {
      throw commandError(code, code === "key_wrong" ? "wrong key" : "/nope is not a Closebook workspace");
    });
    const onKeyProblem = vi.fn();
    const { container } = render(Welcome, { overview: overview(), onOpened: () => {}, onKeyProblem });
    await fireEvent.click(q(container, "open-existing"));
    await type(q<HTMLInputElement>(container, "open-path"), "/w");
    await fireEvent.click(q(container, "open-submit"));
    await waitFor(() => expect(onKeyProblem).toHaveBeenCalled());
    expect(onKeyProblem.mock.calls[0]![0]).toMatchObject({ code: "key_wrong" });
    expect(onKeyProblem.mock.calls[0]![1]).toMatchObject({ kind: "open", path: "/w", key_file: null });

    code = "workspace_not_found";
    await fireEvent.click(q(container, "open-submit"));
    await waitFor(() => expect(q(container, "error-banner").textContent).toContain("is not a Closebook workspace"));
    expect(onKeyProblem).toHaveBeenCalledTimes(1);
  });

  it("creates a workspace in test mode with this computer's time zone by default", async () => {
    const calls: CreateArgs[] = [];
    mockIPC((cmd, payload) => {
      if (cmd === "create_workspace") {
        calls.push((payload as { args: CreateArgs }).args);
        return workspace();
      }
      return null;
    });
    const onOpened = vi.fn();
    const { container } = render(Welcome, { overview: overview(), onOpened, onKeyProblem: () => {} });
    await fireEvent.click(q(container, "create-new"));
    await type(q<HTMLInputElement>(container, "create-path"), "/home/fin/new");
    await type(q<HTMLInputElement>(container, "create-name"), "Acme Creators");
    await fireEvent.click(q(container, "create-submit"));
    await waitFor(() => expect(onOpened).toHaveBeenCalled());
    expect(calls[0]).toMatchObject({
      path: "/home/fin/new",
      name: "Acme Creators",
      mode: "test",
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      key_file: null,
    });
  });

  it("reopens a recent workspace with its key file in one click, and can forget it", async () => {
    const calls: [string, unknown][] = [];
    const recent = [
      { path: "/w/acme", name: "Acme", mode: "live", key_file: "/k/acme.key", last_opened: "2026-11-02T09:00:00Z" },
    ];
    mockIPC((cmd, payload) => {
      calls.push([cmd, payload]);
      if (cmd === "open_workspace") return workspace();
      if (cmd === "forget_recent") return overview({ recent: [] });
      return null;
    });
    const onOpened = vi.fn();
    const onOverview = vi.fn();
    const { container } = render(Welcome, { overview: overview({ recent }), onOpened, onKeyProblem: () => {}, onOverview });
    const item = q(container, "recent-item");
    expect(item.textContent).toContain("Acme");
    await fireEvent.click(item);
    await waitFor(() => expect(onOpened).toHaveBeenCalled());
    expect(calls[0]).toEqual(["open_workspace", { args: { path: "/w/acme", key_file: "/k/acme.key" } }]);

    await fireEvent.click(q(container, "recent-forget"));
    await waitFor(() => expect(onOverview).toHaveBeenCalled());
    expect(calls[1]).toEqual(["forget_recent", { path: "/w/acme" }]);
  });

  it("shows whether the keychain is available", () => {
    const { container } = render(Welcome, {
      overview: overview({ keychain: { backend: "Secret Service", available: false, detail: "the collection is locked" } }),
      onOpened: () => {},
      onKeyProblem: () => {},
    });
    const status = q(container, "keychain-status");
    expect(status.dataset["available"]).toBe("false");
    expect(status.textContent).toContain("not available");
    expect(status.textContent).toContain("the collection is locked");
  });
});
