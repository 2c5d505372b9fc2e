import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EntryView, PostingPageView, PostingQuery } from "../bindings";
import { amount, chart, posting, settle, time } from "../../test/fixtures";
import Ledger from "./Ledger.svelte";

/** A ledger of `total` postings served in keyset pages, like the engine. */
function serveLedger(total: number) {
  const queries: PostingQuery[] = [];
  const calls: string[] = [];
  mockIPC(
    (cmd, payload) => {
      calls.push(cmd);
      const args = (payload ?? {}) as Record<string, unknown>;
      switch (cmd) {
        case "ledger_tree":
          return { as_of: args["as_of"] ?? null, as_of_label: args["as_of"] ? `End of ${String(args["as_of"])}, America/New_York` : "All postings", nodes: chart() };
        case "entry_types":
          return ["stripe_fee", "subscription_payment"];
        case "ledger_trial_balance":
          return {
            as_of: args["as_of"] ?? null,
            rows: [
              { account: "assets:stripe:payments", debit: amount("1,250.00"), credit: amount("0.00"), balance: amount("1,250.00") },
              { account: "liabilities:creators:cr_1", debit: amount("0.00"), credit: amount("-1,250.00"), balance: amount("-1,250.00") },
            ],
            totals: [{ currency: "USD", debits: amount("1,250.00"), credits: amount("-1,250.00") }],
          };
        case "ledger_general_ledger": {
          const a = args["args"] as { account: string };
          return {
            account: a.account,
            opening: [amount("100.00")],
            lines: [{ posting: posting(0, { account: a.account }), running: amount("112.50") }],
            closing: [amount("112.50")],
            truncated: false,
          };
        }
        case "ledger_postings": {
          const q = args["query"] as PostingQuery;
          queries.push(q);
          const start = q.after ? Number(q.after.split(".")[1]) : 0;
          const limit = q.limit ?? 200;
          const n = Math.max(0, Math.min(limit, total - start));
          const rows = Array.from({ length: n }, (_, k) => posting(start + k));
          const page: PostingPageView = { rows, next: start + n < total ? `1785000000.${start + n}` : null };
          return page;
        }
        case "ledger_entry": {
          const id = String(args["entry_id"]);
          const entry: EntryView = {
            entry_id: id,
            entry_types: ["subscription_payment"],
            postings: [posting(0, { entry_id: id }), posting(1, { entry_id: id })],
            totals: [amount("0.00")],
            balanced: true,
            sources: [
              {
                import_id: 1,
                kind: "ledger",
                source: "ledger.csv",
                sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                rows_read: 6900,
                rows_added: 6900,
                at: time("2026-11-01"),
                actor: "fin",
              },
            ],
          };
          return entry;
        }
        default:
          throw { code: "internal", message: `unexpected command ${cmd}`, problems: [], truncated: false };
      }
    },
    { shouldMockEvents: true },
  );
  return { queries, calls };
}

function entryRows(container: HTMLElement) {
  return Array.from(container.querySelectorAll<HTMLElement>('[data-testid="entry-row"]'));
}

function scroller(container: HTMLElement) {
  return container.querySelector<HTMLElement>('[data-testid="entries-table"]')!;
}

async function scrollTo(container: HTMLElement, top: number) {
  const s = scroller(container);
  s.scrollTop = top;
  await fireEvent.scroll(s);
  await settle();
}

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

describe("Ledger", () => {
  beforeEach(() => {
    vi.useRealTimers();
  });

  it("renders only a window of rows and asks for the next page with the `after` cursor at the end", async () => {
    const { queries } = serveLedger(1_000_000);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(queries.length).toBe(1));
    await settle();

    // First page: no cursor, 200 rows asked for.
    expect(queries[0]).toMatchObject({ after: null, limit: 200, account: null });
    expect(scroller(container).dataset["rows"]).toBe("200");
    // 640px viewport at 32px rows: about 19 rows visible, plus overscan; far fewer than 200.
    const windowed = entryRows(container).length;
    expect(windowed).toBeGreaterThan(15);
    expect(windowed).toBeLessThan(60);
    expect(container.querySelector('[data-testid="entries-status"]')!.textContent).toContain("200 shown");

    // Scrolling to the middle renders other rows, still only a window.
    await scrollTo(container, 50 * 32);
    const ids = entryRows(container).map((r) => Number(r.dataset["seq"]));
    expect(Math.min(...ids)).toBeGreaterThan(30);
    expect(entryRows(container).length).toBeLessThan(60);
    expect(queries).toHaveLength(1);

    // Near the end: the next page is requested with the previous page's cursor.
    await scrollTo(container, 200 * 32 - 640);
    await waitFor(() => expect(queries).toHaveLength(2));
    expect(queries[1]).toMatchObject({ after: "1785000000.200", limit: 200 });
    await waitFor(() => expect(scroller(container).dataset["rows"]).toBe("400"));
    expect(entryRows(container).length).toBeLessThan(60);
  });

  it("asks for the entries first, then the account tree and the entry types", async () => {
    const { calls } = serveLedger(10);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(container.querySelectorAll('[data-testid="tree-node"]').length).toBeGreaterThan(0));
    await settle();
    const first = (cmd: string) => calls.indexOf(cmd);
    expect(first("ledger_postings")).toBeGreaterThanOrEqual(0);
    expect(first("ledger_postings")).toBeLessThan(first("ledger_tree"));
    expect(first("ledger_postings")).toBeLessThan(first("entry_types"));
  });

  it("says when the end is reached", async () => {
    serveLedger(3);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(entryRows(container)).toHaveLength(3));
    const status = container.querySelector('[data-testid="entries-status"]')!;
    expect(status.textContent).toContain("End of entries");
    expect(status.textContent).toContain("3 shown");
  });

  it("filters by the selected account and by debounced text, and clears filters", async () => {
    const { queries } = serveLedger(10);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(container.querySelectorAll('[data-testid="tree-node"]').length).toBeGreaterThan(0));
    await waitFor(() => expect(queries).toHaveLength(1));

    const node = container.querySelector<HTMLElement>('[data-testid="tree-node"][data-account="assets:stripe"]')!;
    await fireEvent.click(node.querySelector(".name")!);
    await waitFor(() => expect(queries[queries.length - 1]).toMatchObject({ account: "assets:stripe", after: null }));
    expect(node.getAttribute("aria-selected")).toBe("true");

    const text = container.querySelector<HTMLInputElement>('[data-testid="filter-text"]')!;
    const before = queries.length;
    text.value = "u_000";
    await fireEvent.input(text);
    text.value = "u_0002";
    await fireEvent.input(text);
    // Debounced: nothing yet, then one query with the last value.
    expect(queries.length).toBe(before);
    await waitFor(() => expect(queries.length).toBe(before + 1), { timeout: 1000 });
    expect(queries[queries.length - 1]).toMatchObject({ text: "u_0002", account: "assets:stripe" });

    const type = container.querySelector<HTMLSelectElement>('[data-testid="filter-type"]')!;
    await waitFor(() => expect(type.options.length).toBe(3));
    type.value = "stripe_fee";
    await fireEvent.change(type);
    await waitFor(() => expect(queries[queries.length - 1]).toMatchObject({ entry_type: "stripe_fee", text: "u_0002" }));

    const from = container.querySelector<HTMLInputElement>('[data-testid="filter-from"]')!;
    from.value = "2026-09-01";
    await fireEvent.change(from);
    await waitFor(() => expect(queries[queries.length - 1]).toMatchObject({ from: "2026-09-01" }));

    const stripe = container.querySelector<HTMLInputElement>('[data-testid="filter-stripe-id"]')!;
    stripe.value = "ch_00000001";
    await fireEvent.change(stripe);
    await waitFor(() => expect(queries[queries.length - 1]).toMatchObject({ stripe_id: "ch_00000001" }));

    await fireEvent.click(container.querySelector('[data-testid="filter-clear"]')!);
    await waitFor(() =>
      expect(queries[queries.length - 1]).toMatchObject({ from: null, to: null, entry_type: null, text: null, stripe_id: null, account: "assets:stripe" }),
    );
    expect(text.value).toBe("");
  });

  it("shows the trial balance at the tree's date, and the chosen account's general ledger", async () => {
    const { calls } = serveLedger(10);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(container.querySelectorAll('[data-testid="tree-node"]').length).toBeGreaterThan(0));

    await fireEvent.click(container.querySelector('[data-testid="ledger-view-trial"]')!);
    await waitFor(() => expect(container.querySelectorAll('[data-testid="ledger-tb-row"]')).toHaveLength(2));
    expect(container.querySelector('[data-testid="ledger-tb-total"]')!.textContent).toContain("1,250.00");
    expect(container.querySelector('[data-testid="entries-table"]')).toBeNull();

    await fireEvent.click(container.querySelector('[data-testid="ledger-view-gl"]')!);
    expect(container.querySelector('[data-testid="ledger-gl-choose"]')!.textContent).toContain("Choose an account");
    const node = container.querySelector<HTMLElement>('[data-testid="tree-node"][data-account="assets:stripe"]')!;
    await fireEvent.click(node.querySelector(".name")!);
    await waitFor(() => expect(container.querySelectorAll('[data-testid="ledger-gl-line"]')).toHaveLength(1));
    expect(container.querySelector('[data-testid="ledger-gl-closing"]')!.textContent).toContain("112.50");
    expect(calls).toContain("ledger_general_ledger");

    await fireEvent.click(container.querySelector('[data-testid="ledger-view-postings"]')!);
    await waitFor(() => expect(container.querySelector('[data-testid="entries-table"]')).not.toBeNull());
  });

  it("asks the tree for the as-of date and shows its label", async () => {
    const { calls } = serveLedger(1);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(container.querySelector('[data-testid="as-of-label"]')!.textContent).toContain("All postings"));
    const asOf = container.querySelector<HTMLInputElement>('[data-testid="as-of"]')!;
    asOf.value = "2026-10-31";
    await fireEvent.change(asOf);
    await waitFor(() =>
      expect(container.querySelector('[data-testid="as-of-label"]')!.textContent).toContain("End of 2026-10-31, America/New_York"),
    );
    expect(calls.filter((c) => c === "ledger_tree")).toHaveLength(2);
  });

  it("opens the entry detail on click or Enter, and closes it with Escape", async () => {
    serveLedger(6);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(entryRows(container)).toHaveLength(6));

    await fireEvent.click(entryRows(container)[2]!);
    const detail = await waitFor(() => {
      const d = container.querySelector<HTMLElement>('[data-testid="entry-detail"]');
      expect(d).not.toBeNull();
      return d!;
    });
    expect(detail.dataset["entryId"]).toBe("je_00000002");
    await waitFor(() => expect(detail.querySelectorAll('[data-testid="entry-posting"]')).toHaveLength(2));
    expect(detail.querySelectorAll('[data-testid="entry-source"]')).toHaveLength(1);
    const sha = detail.querySelector('[data-testid="entry-source"] td.sha')!;
    expect(sha.getAttribute("title")).toHaveLength(64);
    expect(sha.textContent).toBe("9f86d081884c…");
    expect(detail.querySelector('[data-testid="entry-balanced"]')!.textContent).toBe("Balanced");

    await fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(container.querySelector('[data-testid="entry-detail"]')).toBeNull());

    // Keyboard: focus a row, move down, Enter opens that row's entry.
    const firstRow = entryRows(container)[0]!;
    firstRow.focus();
    await fireEvent.keyDown(firstRow, { key: "ArrowDown" });
    await settle();
    expect(document.activeElement).toBe(entryRows(container)[1]);
    await fireEvent.keyDown(document.activeElement!, { key: "Enter" });
    await waitFor(() =>
      expect(container.querySelector<HTMLElement>('[data-testid="entry-detail"]')?.dataset["entryId"]).toBe("je_00000001"),
    );
    await fireEvent.click(container.querySelector('[data-testid="entry-detail-close"]')!);
    await waitFor(() => expect(container.querySelector('[data-testid="entry-detail"]')).toBeNull());
  });

  it("says what to do when there is no ledger, and when filters match nothing", async () => {
    serveLedger(0);
    const { container } = render(Ledger, { viewportHeight: 640 });
    await waitFor(() => expect(container.querySelector('[data-testid="entries-empty"]')?.textContent).toContain("no ledger yet"));
    const text = container.querySelector<HTMLInputElement>('[data-testid="filter-text"]')!;
    text.value = "nothing";
    await fireEvent.change(text);
    await waitFor(() => expect(container.querySelector('[data-testid="entries-empty"]')?.textContent).toContain("No postings match these filters"));
  });
});
