import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { PullArgs, PullReportView } from "../bindings";
import { commandError } from "../../test/fixtures";
import PullDialog from "./PullDialog.svelte";

afterEach(() => clearMocks());

const REPORT: PullReportView = {
  source: "postgres://reader@db.example.com:5432/platform",
  tables: [
    { table: "wallet_ledger", rows_read: 8502, added: 8502, updated: 0, unchanged: 0 },
    { table: "subscription_allocations", rows_read: 1407, added: 1407, updated: 0, unchanged: 0 },
  ],
  holes_open: 2,
};

function serve(fail: ReturnType<typeof commandError> | null = null) {
  const pulls: PullArgs[] = [];
  const passwords: string[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      switch (cmd) {
        case "pull_source":
          return { last_source: "postgres://reader@db.example.com:5432/platform", password_stored: false };
        case "set_postgres_password":
          passwords.push(String(args["password"]));
          return { last_source: "postgres://reader@db.example.com:5432/platform", password_stored: true };
        case "pull_postgres":
          pulls.push(args["args"] as PullArgs);
          if (fail) throw fail;
          return REPORT;
        default:
          return null;
      }
    },
    { shouldMockEvents: true },
  );
  return Object.assign(pulls, { passwords });
}

function q<T extends Element = HTMLElement>(container: Element, testid: string): T {
  const el = container.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid}`);
  return el;
}

describe("PullDialog", () => {
  it("pulls from the source last pulled from when none is typed, and shows each table", async () => {
    const pulls = serve();
    const pulled: PullReportView[] = [];
    const { container } = render(PullDialog, { onClose: () => {}, onPulled: (r: PullReportView) => pulled.push(r) });
    await waitFor(() => expect(q(container, "pull-source-hint").textContent).toContain("db.example.com"));
    await fireEvent.click(q(container, "pull-start"));
    await waitFor(() => expect(container.querySelectorAll('[data-testid="pull-table"]')).toHaveLength(2));
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.url).toBeNull();
    expect(pulled).toHaveLength(1);
    expect(q(container, "pull-result").textContent).toContain("8,502");
  });

  it("keeps the password in the keychain and clears the field", async () => {
    const served = serve();
    const { container } = render(PullDialog, { onClose: () => {}, onPulled: () => {} });
    await waitFor(() => expect(q(container, "pull-password-stored").textContent).toBe("None"));
    const pw = q<HTMLInputElement>(container, "pull-password");
    pw.value = "s3cret pass";
    await fireEvent.input(pw);
    await fireEvent.click(q(container, "pull-password-keep"));
    await waitFor(() => expect(q(container, "pull-password-stored").textContent).toBe("Stored"));
    expect(served.passwords).toEqual(["s3cret pass"]);
    expect(pw.value).toBe("");
  });

  it("says why a pull failed and keeps the form", async () => {
    serve(commandError("source_unreachable", "cannot reach db.example.com:5432: connection refused; check the host and port"));
    const { container } = render(PullDialog, { onClose: () => {}, onPulled: () => {} });
    const url = q<HTMLInputElement>(container, "pull-url");
    url.value = "postgres://reader@db.example.com/platform";
    await fireEvent.input(url);
    await fireEvent.click(q(container, "pull-start"));
    await waitFor(() => expect(container.textContent).toContain("connection refused"));
    expect(q(container, "pull-start")).toBeTruthy();
  });
});
