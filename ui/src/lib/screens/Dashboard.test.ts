import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { ProgressEvent, StripeOverview, SyncReportView } from "../bindings";
import { PROGRESS_EVENT } from "../bindings";
import { adviceFor } from "../errors";
import { stripeSync } from "../stripeSync.svelte";
import { commandError, coverage, stripeOverview, syncRun, workspace } from "../../test/fixtures";
import Dashboard from "./Dashboard.svelte";

afterEach(() => {
  clearMocks();
  stripeSync.reset();
});

function q<T extends Element = HTMLElement>(container: Element, testid: string): T {
  const el = container.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid}`);
  return el;
}

function all(container: Element, testid: string): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>(`[data-testid="${testid}"]`));
}

/** The engine answering stripe_overview with `ov`; counts the calls. */
function serveOverview(ov: StripeOverview = stripeOverview()) {
  const calls: string[] = [];
  mockIPC(
    (cmd) => {
      calls.push(cmd);
      if (cmd === "stripe_overview") return ov;
      throw commandError("internal", `unexpected command ${cmd}`);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

async function renderLoaded(ov?: StripeOverview) {
  const calls = serveOverview(ov);
  const view = render(Dashboard, { workspace: workspace() });
  await waitFor(() => q(view.container, "stripe-balance"));
  return { ...view, calls };
}

describe("Dashboard", () => {
  it("shows the workspace, its mode and the mirror's counts", async () => {
    const { container } = await renderLoaded();
    const root = q(container, "screen-dashboard");
    expect(root.textContent).toContain("Acme Creators");
    expect(root.textContent).toContain("America/New_York");
    expect(q(container, "dashboard-mode").textContent).toBe("Test mode");
    expect(q(container, "stat-postings").textContent).toContain("6,900");
    expect(q(container, "stat-withdrawals").textContent).toContain("5");
    expect(q(container, "stat-currencies").textContent).toContain("USD");
    expect(root.textContent).not.toContain("arrive with the Stripe mirror");
    // Stripe comes first on the page.
    const stripe = q(container, "stripe-status");
    const mirror = q(container, "stat-postings");
    expect(stripe.compareDocumentPosition(mirror) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it("says where the key is and whether the keychain answers", async () => {
    serveOverview();
    const { container } = render(Dashboard, {
      workspace: workspace(),
      keychain: { backend: "Secret Service", available: true, detail: "answers" },
    });
    const status = q(container, "keychain-status");
    expect(status.dataset["available"]).toBe("true");
    expect(status.textContent).toContain("Secret Service");
    expect(q(container, "dashboard-key-source").textContent).toContain("OS keychain");
  });

  it("sets a live workspace apart", async () => {
    serveOverview();
    const { container } = render(Dashboard, { workspace: workspace({ mode: "live" }) });
    const badge = q(container, "dashboard-mode");
    expect(badge.textContent).toBe("Live mode");
    expect(badge.classList.contains("mode-live")).toBe(true);
    expect(container.textContent).toContain("real money");
  });

  it("shows Stripe's available and pending balance per currency, as of when it was fetched", async () => {
    const { container } = await renderLoaded();
    const block = q(container, "stripe-balance");
    const rows = Array.from(block.querySelectorAll<HTMLElement>("tbody tr"));
    expect(rows.map((r) => r.dataset["currency"])).toEqual(["EUR", "USD"]);
    const usd = rows[1]!;
    const money = Array.from(usd.querySelectorAll<HTMLElement>(".money"));
    expect(money.map((m) => m.dataset["minor"])).toEqual(["955000", "-1234"]);
    expect(money[0]!.textContent).toContain("9,550.00");
    // The engine's figure, with a true minus sign: nothing recomputed.
    expect(money[1]!.textContent).toContain("−12.34");
    expect(block.textContent).toContain("As of 2026-11-02 09:01:05 EDT");
    expect(block.querySelector("time")!.getAttribute("title")).toBe("UTC 2026-11-02T14:12:26Z");
  });

  it("shows coverage per currency with the ratio, the risk in words and the thresholds", async () => {
    const { container } = await renderLoaded();
    const block = q(container, "coverage");
    const ratios = all(block, "coverage-ratio").map((r) => r.textContent);
    expect(ratios).toEqual(["95.50%", "200.00%"]);
    const risks = all(block, "coverage-risk");
    expect(risks.map((r) => r.textContent)).toEqual(["High risk", "Low risk"]);
    expect(risks[0]!.classList.contains("risk-high")).toBe(true);
    expect(risks[1]!.classList.contains("risk-low")).toBe(true);
    const usd = block.querySelector<HTMLElement>('[data-currency="USD"]')!;
    expect(usd.textContent).toContain("9,550.00");
    expect(usd.textContent).toContain("10,000.00");
    // Obligations explained: owed in the ledger + the open month's allocations.
    expect(usd.textContent).toContain("Owed in the ledger 8,000.00");
    expect(usd.textContent).toContain("open month's allocations 2,000.00");
    expect(usd.querySelector(".explained")!.getAttribute("title")).toContain("8,000.00 USD");
    expect(q(block, "coverage-thresholds").textContent).toContain("Low risk at ≥ 120.00%");
    expect(q(block, "coverage-thresholds").textContent).toContain("medium at ≥ 100.00%");
  });

  it("shows the thresholds the workspace set, formatted from basis points", async () => {
    const { container } = await renderLoaded(stripeOverview({ low_min_bps: 13050, medium_min_bps: 10005 }));
    const text = q(container, "coverage-thresholds").textContent;
    expect(text).toContain("≥ 130.50%");
    expect(text).toContain("≥ 100.05%");
  });

  it("draws the coverage trend: one point per history entry, a line per currency, dashed thresholds", async () => {
    const ov = stripeOverview();
    const { container } = await renderLoaded(ov);
    const svg = q<SVGSVGElement>(container, "coverage-chart");
    const points = svg.querySelectorAll("circle.point");
    expect(points).toHaveLength(ov.coverage_history.length);
    // USD has four points (one line); EUR has one point (no line).
    expect(svg.querySelectorAll("polyline")).toHaveLength(1);
    expect(svg.querySelector('[data-currency="USD"] polyline')!.getAttribute("points")!.split(" ")).toHaveLength(4);
    const titles = Array.from(points, (p) => p.querySelector("title")!.textContent);
    expect(titles[0]).toContain("150.00%");
    expect(titles[0]).toContain("2026-10-30 09:00:00 EDT");
    expect(titles).toContainEqual(expect.stringContaining("EUR: 200.00% (low risk)"));
    // Higher ratios are drawn higher (smaller y); the points run left to right in sync order.
    const usd = Array.from(svg.querySelectorAll<SVGCircleElement>('[data-currency="USD"] circle'));
    const ys = usd.map((c) => Number(c.getAttribute("cy")));
    const xs = usd.map((c) => Number(c.getAttribute("cx")));
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(xs).size).toBe(4);
    const low = svg.querySelector('[data-testid="coverage-threshold-low"] line')!;
    const medium = svg.querySelector('[data-testid="coverage-threshold-medium"] line')!;
    expect(low.getAttribute("stroke-dasharray")).toBeTruthy();
    expect(medium.getAttribute("stroke-dasharray")).toBeTruthy();
    expect(Number(low.getAttribute("y1"))).toBeLessThan(Number(medium.getAttribute("y1")));
    expect(svg.textContent).toContain("low risk ≥ 120.00%");
    // The x labels are the sync dates.
    expect(svg.textContent).toContain("2026-10-30");
    expect(svg.textContent).toContain("2026-11-02");
    // The text alternative says the latest value and the trend.
    const label = svg.getAttribute("aria-label")!;
    expect(svg.getAttribute("role")).toBe("img");
    expect(label).toContain("over 4 syncs");
    expect(label).toContain("USD latest 95.50% (high risk) on 2026-11-02, down from 150.00%");
    expect(label).toContain("EUR latest 200.00% (low risk)");
  });

  it("draws a point without obligations and a ratio far above the thresholds", async () => {
    const history = [coverage("2026-10-30", null), coverage("2026-10-31", 950_000)];
    const { container } = await renderLoaded(stripeOverview({ coverage_history: history, coverage: [history[1]!] }));
    const svg = q(container, "coverage-chart");
    expect(svg.querySelectorAll("circle.point")).toHaveLength(2);
    expect(svg.querySelector("circle.open title")!.textContent).toContain("no obligations");
    expect(svg.querySelector("circle.clipped title")!.textContent).toContain("9500.00%");
  });

  it("invites a first sync when there is no coverage history", async () => {
    const { container } = await renderLoaded(
      stripeOverview({ coverage: [], coverage_history: [], last_sync: null, objects: [], balance: [], balance_fetched_at: null }),
    );
    expect(container.querySelector('[data-testid="coverage-chart"]')).toBeNull();
    expect(q(container, "coverage-chart-empty").textContent).toContain("Sync with Stripe to start the coverage history");
    expect(q(container, "last-sync").textContent).toContain("Never synced");
    expect(q(container, "stripe-balance").textContent).toContain("Not fetched yet");
    expect(q(container, "stripe-objects").textContent).toContain("Nothing mirrored yet");
  });

  it("shows the last sync: when, outcome, counters, and the objects mirrored", async () => {
    const { container } = await renderLoaded();
    const last = q(container, "last-sync");
    expect(last.textContent).toContain("2026-11-02 09:00:00 EDT");
    expect(last.querySelector("time")!.getAttribute("title")).toContain("UTC");
    expect(q(last, "last-sync-outcome").textContent).toBe("Succeeded");
    expect(q(last, "last-sync-added").textContent).toBe("12,345");
    expect(last.textContent).toContain("420");
    expect(container.querySelector('[data-testid="open-windows"]')).toBeNull();
    const objects = q(container, "stripe-objects");
    expect(objects.querySelectorAll("tbody tr")).toHaveLength(3);
    expect(objects.textContent).toContain("balance_transaction");
    expect(objects.textContent).toContain("9,000");
  });

  it("shows a failed sync as an error with what to do, and that the next sync continues", async () => {
    const { container } = await renderLoaded(
      stripeOverview({
        last_sync: syncRun({ outcome: "failed", message: "GET /v1/charges failed after 5 attempts: connection reset", finished_at: null }),
        open_windows: 7,
      }),
    );
    const last = q(container, "last-sync");
    expect(q(last, "last-sync-outcome").textContent).toBe("Failed");
    expect(q(last, "last-sync-outcome").classList.contains("bad")).toBe(true);
    expect(q(last, "last-sync-message").textContent).toContain("connection reset");
    expect(q(last, "last-sync-message").textContent).toContain("sync again");
    expect(q(last, "open-windows").textContent).toContain("An interrupted sync will continue where it stopped");
    expect(q(last, "open-windows").textContent).toContain("7 windows");
  });

  it("syncs with progress from the engine's events, then shows the result and reloads", async () => {
    const calls: string[] = [];
    let opId = "";
    let finish: (() => void) | null = null;
    const report: SyncReportView = { run_id: 5, resumed: false, pages: 12, requests: 15, retries: 2, elapsed_ms: 4269, added: 340, changed: 5 };
    mockIPC(
      async (cmd, payload) => {
        calls.push(cmd);
        if (cmd === "stripe_overview") return stripeOverview();
        if (cmd === "sync_stripe") {
          opId = (payload as { op_id: string }).op_id;
          const event: ProgressEvent = {
            op_id: opId,
            stage: "listing objects",
            done: 3,
            total: 8,
            sync: {
              pages: 12,
              objects: 1234,
              requests: 15,
              retries: 2,
              requests_per_second: 24,
              recent_errors: ["Stripe asked to slow down (429) on GET /v1/charges; retried after 1.2 s"],
            },
          };
          await emit(PROGRESS_EVENT, event);
          await emit(PROGRESS_EVENT, { ...event, op_id: "someone-else", stage: "not ours", done: 99, total: 100 });
          await new Promise<void>((resolve) => (finish = resolve));
          return report;
        }
        throw commandError("internal", `unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    const { container } = render(Dashboard, { workspace: workspace() });
    await waitFor(() => q(container, "stripe-balance"));
    expect(container.querySelector('[data-testid="sync-progress"]')).toBeNull();

    await fireEvent.click(q(container, "sync-start"));
    const progress = await waitFor(() => q(container, "sync-progress"));
    await waitFor(() => expect(progress.textContent).toContain("3 of 8 windows"));
    expect(progress.textContent).toContain("listing objects");
    expect(progress.textContent).not.toContain("not ours");
    expect(q(progress, "sync-pages").textContent).toBe("12");
    expect(q(progress, "sync-objects").textContent).toBe("1,234");
    expect(q(progress, "sync-rate").textContent).toBe("24");
    expect(q(progress, "sync-retries").textContent).toBe("2");
    expect(q(progress, "sync-errors").textContent).toContain("Stripe asked to slow down (429)");
    expect(q(container, "sync-start").hasAttribute("disabled")).toBe(true);
    expect(q(container, "sync-cancel")).toBeTruthy();
    expect(opId.startsWith("sync-")).toBe(true);

    await waitFor(() => expect(finish).not.toBeNull());
    finish!();
    const result = await waitFor(() => q(container, "sync-result"));
    expect(result.textContent).toContain("Synced: 12 pages, 340 objects new, 5 changed in 4.2 s");
    expect(container.querySelector('[data-testid="sync-progress"]')).toBeNull();
    expect(container.querySelector('[data-testid="sync-cancel"]')).toBeNull();
    expect(q(container, "sync-start").hasAttribute("disabled")).toBe(false);
    await waitFor(() => expect(calls.filter((c) => c === "stripe_overview")).toHaveLength(2));
  });

  it("keeps a running sync across leaving and coming back to the Dashboard", async () => {
    let finish: ((r: SyncReportView) => void) | null = null;
    mockIPC(
      (cmd) => {
        if (cmd === "stripe_overview") return stripeOverview();
        if (cmd === "sync_stripe") return new Promise((resolve) => (finish = resolve));
        throw commandError("internal", `unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    const first = render(Dashboard, { workspace: workspace() });
    await waitFor(() => q(first.container, "stripe-balance"));
    await fireEvent.click(q(first.container, "sync-start"));
    await waitFor(() => q(first.container, "sync-progress"));
    first.unmount();

    const again = render(Dashboard, { workspace: workspace() });
    await waitFor(() => q(again.container, "sync-progress"));
    await waitFor(() => expect(finish).not.toBeNull());
    finish!({ run_id: 6, resumed: true, pages: 1, requests: 1, retries: 0, elapsed_ms: 900, added: 0, changed: 0 });
    const result = await waitFor(() => q(again.container, "sync-result"));
    expect(result.textContent).toContain("Synced: 1 page, 0 objects new, 0 changed in 0.9 s (continued an interrupted sync)");
  });

  it("cancels a running sync with its operation id and says the next one continues", async () => {
    const cancelled: string[] = [];
    let opId = "";
    let fail: ((e: unknown) => void) | null = null;
    mockIPC(
      (cmd, payload) => {
        if (cmd === "stripe_overview") return stripeOverview();
        if (cmd === "sync_stripe") {
          opId = (payload as { op_id: string }).op_id;
          return new Promise((_, reject) => (fail = reject));
        }
        if (cmd === "cancel_operation") {
          cancelled.push((payload as { op_id: string }).op_id);
          fail?.(commandError("cancelled", "the sync was cancelled; run it again to continue where it stopped"));
          return true;
        }
        throw commandError("internal", `unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    const { container } = render(Dashboard, { workspace: workspace() });
    await waitFor(() => q(container, "stripe-balance"));
    await fireEvent.click(q(container, "sync-start"));
    await fireEvent.click(await waitFor(() => q(container, "sync-cancel")));
    await waitFor(() => expect(cancelled).toEqual([opId]));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("cancelled");
    expect(banner.textContent).toContain("the next sync continues where it stopped");
    expect(banner.textContent).not.toContain("Nothing was changed");
    expect(container.querySelector('[data-testid="sync-cancel"]')).toBeNull();
    expect(container.querySelector('[data-testid="sync-result"]')).toBeNull();
  });

  it("without a key: hints at Settings, and a sync explains stripe_key_missing", async () => {
    mockIPC(
      (cmd) => {
        if (cmd === "stripe_overview") return stripeOverview({ key_kind: null });
        if (cmd === "sync_stripe") {
          throw commandError("stripe_key_missing", "no Stripe key for this workspace");
        }
        throw commandError("internal", `unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    const navigated: string[] = [];
    const { container } = render(Dashboard, { workspace: workspace(), onNavigate: (s: string) => navigated.push(s) });
    const hint = await waitFor(() => q(container, "stripe-key-hint"));
    expect(hint.textContent).toContain("Add one in Settings");
    expect(q(container, "stripe-key-kind").textContent).toContain("No Stripe key stored");

    await fireEvent.click(q(container, "sync-start"));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("stripe_key_missing");
    expect(banner.textContent).toContain("no Stripe key for this workspace");
    expect(banner.textContent).toContain(adviceFor("stripe_key_missing"));
    expect(banner.textContent).toContain("Add the workspace's Stripe key in Settings");
    await fireEvent.click(Array.from(banner.querySelectorAll("button")).find((b) => b.textContent === "Open Settings")!);
    expect(navigated).toEqual(["settings"]);
  });

  it("says when the Stripe status cannot be read, and tries again", async () => {
    let attempts = 0;
    mockIPC(
      (cmd) => {
        if (cmd !== "stripe_overview") throw commandError("internal", `unexpected command ${cmd}`);
        attempts += 1;
        if (attempts === 1) throw commandError("io", "cannot read the workspace database");
        return stripeOverview();
      },
      { shouldMockEvents: true },
    );
    const { container } = render(Dashboard, { workspace: workspace() });
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.textContent).toContain("cannot read the workspace database");
    await fireEvent.click(Array.from(banner.querySelectorAll("button")).find((b) => b.textContent === "Try again")!);
    await waitFor(() => q(container, "stripe-balance"));
    expect(container.querySelector('[data-testid="error-banner"]')).toBeNull();
  });
});
