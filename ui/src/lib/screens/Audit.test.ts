import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditPageView, AuditQuery, AuditRecordView, AuditVerifyView } from "../bindings";
import { auditRecord, auditVerify, commandError, digest, settle } from "../../test/fixtures";
import Audit from "./Audit.svelte";

/**
 * An audit log of records 1…`total` served like the engine: newest first, filtered, in keyset
 * pages (`seq < before_seq`), `next` set when a full page ended above record 1.
 */
function serveAudit(total: number, verify: AuditVerifyView | (() => never) = auditVerify(total)) {
  const queries: AuditQuery[] = [];
  const calls: string[] = [];
  const all: AuditRecordView[] = Array.from({ length: total }, (_, k) => auditRecord(total - k));
  mockIPC(
    (cmd, payload) => {
      calls.push(cmd);
      const args = (payload ?? {}) as Record<string, unknown>;
      switch (cmd) {
        case "audit_log": {
          const q = args["query"] as AuditQuery;
          queries.push(q);
          const limit = q.limit ?? 200;
          const rows = all
            .filter((r) => q.action_prefix === null || r.action.startsWith(q.action_prefix))
            .filter((r) => q.actor === null || r.actor === q.actor)
            .filter((r) => q.text === null || r.summary.toLowerCase().includes(q.text.toLowerCase()))
            .filter((r) => q.before_seq === null || r.seq < q.before_seq)
            .slice(0, limit);
          const last = rows[rows.length - 1];
          const page: AuditPageView = { rows, next: rows.length === limit && last && last.seq > 1 ? last.seq : null };
          return page;
        }
        case "audit_verify":
          return typeof verify === "function" ? verify() : verify;
        default:
          throw { code: "internal", message: `unexpected command ${cmd}`, problems: [], truncated: false };
      }
    },
    { shouldMockEvents: true },
  );
  return { queries, calls };
}

function testid(container: HTMLElement, id: string): HTMLElement | null {
  return container.querySelector<HTMLElement>(`[data-testid="${id}"]`);
}

function auditRows(container: HTMLElement) {
  return Array.from(container.querySelectorAll<HTMLElement>('[data-testid="audit-row"]'));
}

function seqs(container: HTMLElement): number[] {
  return auditRows(container).map((r) => Number(r.dataset["seq"]));
}

afterEach(() => {
  clearMocks();
});

describe("Audit", () => {
  it("lists the records audit_log returns, newest first, with time, actor, action, summary and digest", async () => {
    const { queries } = serveAudit(3);
    const { container } = render(Audit);
    await waitFor(() => expect(auditRows(container)).toHaveLength(3));

    expect(testid(container, "screen-audit")).not.toBeNull();
    expect(queries).toHaveLength(1);
    expect(queries[0]).toEqual({ action_prefix: null, actor: null, text: null, before_seq: null, limit: 200 });
    expect(seqs(container)).toEqual([3, 2, 1]);

    const row = auditRows(container)[0]!;
    const cells = Array.from(row.querySelectorAll("td"));
    expect(cells).toHaveLength(6);
    expect(cells[0]!.textContent!.trim()).toBe("3");
    const when = cells[1]!.querySelector("time")!;
    expect(when.textContent).toBe("2026-11-01 09:00:00 EDT");
    expect(when.getAttribute("title")).toBe("UTC 2026-11-01T14:12:26Z");
    expect(cells[2]!.textContent).toBe("ops");
    expect(cells[3]!.querySelector(".action")!.textContent).toBe("settings.coverage_thresholds");
    expect(cells[4]!.textContent).toBe("Record 3: imported ledger.csv");
    expect(cells[5]!.getAttribute("title")).toBe(digest(3, "a"));
    expect(cells[5]!.textContent).toBe(`${digest(3, "a").slice(0, 12)}…`);

    // A short log ends on the first page: no "Load older", an end-of-log state.
    expect(testid(container, "audit-more")).toBeNull();
    expect(testid(container, "audit-end")!.textContent).toContain("End of the log — 3 records shown");

    // Keyboard: the rows are a roving-focus list.
    row.focus();
    await fireEvent.keyDown(row, { key: "ArrowDown" });
    await settle();
    expect(document.activeElement).toBe(auditRows(container)[1]);
    await fireEvent.keyDown(document.activeElement!, { key: "End" });
    await settle();
    expect(document.activeElement).toBe(auditRows(container)[2]);
  });

  it("loads older records with before_seq = the previous page's next, then says the log ended", async () => {
    const { queries } = serveAudit(450);
    const { container } = render(Audit);
    await waitFor(() => expect(auditRows(container)).toHaveLength(200));
    expect(seqs(container)[0]).toBe(450);
    expect(seqs(container)[199]).toBe(251);
    expect(testid(container, "audit-end")).toBeNull();

    await fireEvent.click(testid(container, "audit-more")!);
    await waitFor(() => expect(auditRows(container)).toHaveLength(400));
    expect(queries).toHaveLength(2);
    expect(queries[1]).toEqual({ action_prefix: null, actor: null, text: null, before_seq: 251, limit: 200 });
    expect(seqs(container)[200]).toBe(250);

    await fireEvent.click(testid(container, "audit-more")!);
    await waitFor(() => expect(auditRows(container)).toHaveLength(450));
    expect(queries[2]).toMatchObject({ before_seq: 51, limit: 200 });
    expect(seqs(container)[449]).toBe(1);
    expect(testid(container, "audit-more")).toBeNull();
    expect(testid(container, "audit-end")!.textContent).toContain("450 records shown");
  });

  it("sends the action prefix, the actor and the text (debounced), and clears them", async () => {
    const { queries } = serveAudit(12);
    const { container } = render(Audit);
    await waitFor(() => expect(queries).toHaveLength(1));

    const action = testid(container, "audit-filter-action") as HTMLSelectElement;
    expect(Array.from(action.options).map((o) => o.textContent)).toEqual([
      "All actions",
      "workspace.",
      "import.",
      "pull.",
      "stripe.",
      "unit.",
      "settings.",
    ]);
    action.value = "import.";
    await fireEvent.change(action);
    await waitFor(() => expect(queries).toHaveLength(2));
    expect(queries[1]).toEqual({ action_prefix: "import.", actor: null, text: null, before_seq: null, limit: 200 });
    await waitFor(() => expect(seqs(container)).toEqual([9, 5, 1]));

    const actor = testid(container, "audit-filter-actor") as HTMLInputElement;
    actor.value = "o";
    await fireEvent.input(actor);
    actor.value = "ops";
    await fireEvent.input(actor);
    // Debounced: nothing yet, then one query with the last value.
    expect(queries).toHaveLength(2);
    await waitFor(() => expect(queries).toHaveLength(3), { timeout: 1000 });
    expect(queries[2]).toMatchObject({ action_prefix: "import.", actor: "ops", text: null });

    const text = testid(container, "audit-filter-text") as HTMLInputElement;
    text.value = "RECORD 9";
    await fireEvent.input(text);
    await waitFor(() => expect(queries).toHaveLength(4), { timeout: 1000 });
    expect(queries[3]).toMatchObject({ action_prefix: "import.", actor: "ops", text: "RECORD 9", before_seq: null });
    await waitFor(() => expect(seqs(container)).toEqual([9]));

    // Nothing matches: the empty state offers to clear.
    text.value = "nothing like this";
    await fireEvent.change(text);
    await waitFor(() => expect(testid(container, "audit-empty")?.textContent).toContain("No records match these filters"));
    expect(auditRows(container)).toHaveLength(0);

    await fireEvent.click(testid(container, "audit-filter-clear")!);
    await waitFor(() =>
      expect(queries[queries.length - 1]).toEqual({ action_prefix: null, actor: null, text: null, before_seq: null, limit: 200 }),
    );
    await waitFor(() => expect(auditRows(container)).toHaveLength(12));
    expect(action.value).toBe("");
    expect(actor.value).toBe("");
    expect(text.value).toBe("");
    expect(testid(container, "audit-empty")).toBeNull();
  });

  it("verifies the chain: intact, with the record count, the head hash and when", async () => {
    const { calls } = serveAudit(1234);
    const { container } = render(Audit);
    await waitFor(() => expect(auditRows(container)).toHaveLength(200));
    expect(testid(container, "audit-verify-result")).toBeNull();
    expect(calls).not.toContain("audit_verify");

    await fireEvent.click(testid(container, "audit-verify")!);
    const result = await waitFor(() => {
      const r = testid(container, "audit-verify-result");
      expect(r).not.toBeNull();
      return r!;
    });
    expect(calls.filter((c) => c === "audit_verify")).toHaveLength(1);
    expect(result.dataset["intact"]).toBe("true");
    expect(result.getAttribute("role")).toBe("status");
    expect(result.textContent).toContain("Intact: 1,234 records, each holding the hash of the one before");
    expect(result.textContent).not.toContain("Broken");
    const head = testid(container, "audit-verify-head")!;
    expect(head.getAttribute("title")).toBe(digest(1234, "b"));
    expect(head.textContent).toBe(`${digest(1234, "b").slice(0, 16)}…`);
    expect(testid(container, "audit-verify-head-full")!.textContent).toBe(digest(1234, "b"));
    const checked = testid(container, "audit-verify-checked")!.querySelector("time")!;
    expect(checked.textContent).toBe("2026-11-02 08:30:00 EDT");
    expect(checked.getAttribute("title")).toContain("UTC");
    expect(container.querySelector('[data-testid="audit-row"][data-broken]')).toBeNull();
  });

  it("shows a broken chain: the record, the reason, what to do, and the row highlighted", async () => {
    const reason = "record 2's hash does not match its content";
    serveAudit(5, auditVerify(5, { seq: 2, reason }));
    const { container } = render(Audit);
    await waitFor(() => expect(auditRows(container)).toHaveLength(5));

    await fireEvent.click(testid(container, "audit-verify")!);
    const result = await waitFor(() => {
      const r = testid(container, "audit-verify-result");
      expect(r).not.toBeNull();
      return r!;
    });
    expect(result.dataset["intact"]).toBe("false");
    expect(result.getAttribute("role")).toBe("alert");
    expect(result.textContent).toContain("Broken at record 2");
    expect(testid(container, "audit-verify-reason")!.textContent).toBe(reason);
    expect(result.textContent).toContain("Keep the file as evidence and restore the workspace from a backup.");
    expect(result.textContent).not.toContain("Intact");

    const broken = container.querySelector<HTMLElement>('[data-testid="audit-row"][data-seq="2"]')!;
    expect(broken.dataset["broken"]).toBe("true");
    expect(broken.classList.contains("broken")).toBe(true);
    expect(container.querySelectorAll('[data-testid="audit-row"][data-broken="true"]')).toHaveLength(1);

    await fireEvent.click(testid(container, "audit-show-broken")!);
    await settle();
    expect(document.activeElement).toBe(broken);
  });

  it("says the ledger's kept totals agree with every posting, or shows what differs", async () => {
    const problem =
      "the kept ledger totals disagree with the postings for 1 account(s): assets:stripe:payments (USD): the postings sum to $10.00 in 2 posting(s), the kept totals say $10.01 in 2 posting(s)";
    let verify = auditVerify(3);
    serveAudit(3, () => verify as never);
    const { container } = render(Audit);
    await waitFor(() => expect(auditRows(container)).toHaveLength(3));

    await fireEvent.click(testid(container, "audit-verify")!);
    const proven = await waitFor(() => {
      const r = testid(container, "audit-ledger-result");
      expect(r).not.toBeNull();
      return r!;
    });
    expect(proven.dataset["proven"]).toBe("true");
    expect(proven.textContent).toContain("951,780 postings");

    verify = { ...auditVerify(3), ledger_postings: 0, ledger_problem: problem };
    await fireEvent.click(testid(container, "audit-verify")!);
    const bad = await waitFor(() => {
      const r = testid(container, "audit-ledger-result")!;
      expect(r.dataset["proven"]).toBe("false");
      return r;
    });
    expect(bad.getAttribute("role")).toBe("alert");
    expect(testid(container, "audit-ledger-reason")!.textContent).toBe(problem);
    expect(bad.textContent!.replace(/\s+/g, " ")).toContain("keep a copy of the workspace");
    // The chain's own result is unaffected: it is intact.
    expect(testid(container, "audit-verify-result")!.dataset["intact"]).toBe("true");
  });

  it("says when the broken record is not loaded, and when verifying failed", async () => {
    let fail = false;
    const broken = auditVerify(5, { seq: 2, reason: "record 3 does not hold the hash of record 2" });
    serveAudit(5, () => {
      if (fail) throw commandError("io", "the workspace file could not be read");
      return broken as never;
    });
    const { container } = render(Audit);
    await waitFor(() => expect(auditRows(container)).toHaveLength(5));

    // Filter record 2 out of the list: the result says how to reach it.
    const actor = testid(container, "audit-filter-actor") as HTMLInputElement;
    actor.value = "ops";
    await fireEvent.change(actor);
    await waitFor(() => expect(seqs(container)).toEqual([5, 3, 1]));
    await fireEvent.click(testid(container, "audit-verify")!);
    await waitFor(() => expect(testid(container, "audit-verify-result")?.textContent).toContain("Broken at record 2"));
    expect(testid(container, "audit-show-broken")).toBeNull();
    expect(testid(container, "audit-broken-not-loaded")!.textContent).toContain("clear the filters");

    fail = true;
    await fireEvent.click(testid(container, "audit-verify")!);
    const banner = await waitFor(() => {
      const b = testid(container, "error-banner");
      expect(b).not.toBeNull();
      return b!;
    });
    expect(banner.dataset["code"]).toBe("io");
    expect(banner.textContent).toContain("The chain could not be verified");
    expect(testid(container, "audit-verify-result")).toBeNull();
  });

  it("says so when the log is empty", async () => {
    serveAudit(0);
    const { container } = render(Audit);
    await waitFor(() => expect(testid(container, "audit-empty")?.textContent).toContain("The audit log is empty"));
    expect(testid(container, "audit-more")).toBeNull();
    expect(testid(container, "audit-end")).toBeNull();
  });
});
