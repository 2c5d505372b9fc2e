import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OpenArgs } from "../bindings";
import { commandError, workspace } from "../../test/fixtures";
import KeyProblem from "./KeyProblem.svelte";

afterEach(() => clearMocks());

const attempt = { kind: "open" as const, path: "/home/fin/acme", key_file: "/home/fin/acme.key", name: "Acme" };

function q(container: HTMLElement, testid: string): HTMLElement {
  const el = container.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid}`);
  return el;
}

describe("KeyProblem", () => {
  it("titles a wrong key as such and shows the engine's message verbatim", () => {
    const message = "the key /home/fin/acme.key does not open the workspace at /home/fin/acme";
    const { container } = render(KeyProblem, {
      error: commandError("key_wrong", message),
      attempt,
      onOpened: () => {},
      onBack: () => {},
    });
    expect(q(container, "key-problem").dataset["code"]).toBe("key_wrong");
    expect(q(container, "key-problem-title").textContent).toBe("The key does not open this workspace");
    expect(q(container, "key-problem-message").textContent).toBe(message);
    expect(container.textContent).toContain("Choose the key file that belongs to this workspace");
  });

  it("titles a missing key differently", () => {
    const { container } = render(KeyProblem, {
      error: commandError("key_missing", "no key for workspace ws_01 in the keychain"),
      attempt: { kind: "open", path: "/home/fin/acme", key_file: null },
      onOpened: () => {},
      onBack: () => {},
    });
    expect(q(container, "key-problem-title").textContent).toBe("This workspace's key is missing");
    expect(container.textContent).toContain("restore it there");
  });

  it.each([
    ["key_file_insecure", "The key file is readable by other users", "chmod 600"],
    ["keychain_unavailable", "The keychain is locked or unavailable", "Unlock your keychain"],
  ] as const)("titles %s and says what to do", (code, title, advice) => {
    const { container } = render(KeyProblem, {
      error: commandError(code, "engine says so"),
      attempt,
      onOpened: () => {},
      onBack: () => {},
    });
    expect(q(container, "key-problem-title").textContent).toBe(title);
    expect(container.textContent).toContain(advice);
  });

  it("tries again with the same workspace and key file, and reports success", async () => {
    const calls: OpenArgs[] = [];
    const ws = workspace();
    mockIPC((cmd, payload) => {
      if (cmd === "open_workspace") {
        calls.push((payload as { args: OpenArgs }).args);
        return ws;
      }
      return null;
    });
    const onOpened = vi.fn();
    const { container } = render(KeyProblem, {
      error: commandError("keychain_unavailable", "the keychain is locked"),
      attempt,
      onOpened,
      onBack: () => {},
    });
    await fireEvent.click(q(container, "key-problem-retry"));
    await waitFor(() => expect(onOpened).toHaveBeenCalledWith(ws));
    expect(calls).toEqual([{ path: "/home/fin/acme", key_file: "/home/fin/acme.key" }]);
  });

  it("stays on the page with the new message when trying again fails the same way", async () => {
    mockIPC(() => {
      throw commandError("key_wrong", "still the wrong key");
    });
    const { container } = render(KeyProblem, {
      error: commandError("key_wrong", "the wrong key"),
      attempt,
      onOpened: () => {},
      onBack: () => {},
    });
    await fireEvent.click(q(container, "key-problem-retry"));
    await waitFor(() => expect(q(container, "key-problem-message").textContent).toBe("still the wrong key"));
  });

  it("retries with a chosen key file", async () => {
    const calls: OpenArgs[] = [];
    mockIPC((cmd, payload) => {
      if (cmd === "plugin:dialog|open") return "/media/usb/acme.key";
      if (cmd === "open_workspace") {
        calls.push((payload as { args: OpenArgs }).args);
        return workspace();
      }
      return null;
    });
    const onOpened = vi.fn();
    const { container } = render(KeyProblem, {
      error: commandError("key_missing", "no key"),
      attempt: { kind: "open", path: "/home/fin/acme", key_file: null },
      onOpened,
      onBack: () => {},
    });
    await fireEvent.click(q(container, "key-problem-choose"));
    await waitFor(() => expect(onOpened).toHaveBeenCalled());
    expect(calls).toEqual([{ path: "/home/fin/acme", key_file: "/media/usb/acme.key" }]);
  });

  it("goes back", async () => {
    const onBack = vi.fn();
    const { container } = render(KeyProblem, {
      error: commandError("key_missing", "no key"),
      attempt,
      onOpened: () => {},
      onBack,
    });
    expect(q(container, "key-problem-back").textContent).toContain("Back to start");
    await fireEvent.click(q(container, "key-problem-back"));
    expect(onBack).toHaveBeenCalledOnce();
  });
});
