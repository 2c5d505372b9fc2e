import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { workspace } from "../../test/fixtures";
import Dashboard from "./Dashboard.svelte";

describe("Dashboard", () => {
  it("shows the workspace, its mode and the mirror's counts", () => {
    const { container } = render(Dashboard, { workspace: workspace() });
    const root = container.querySelector('[data-testid="screen-dashboard"]')!;
    expect(root.textContent).toContain("Acme Creators");
    expect(root.textContent).toContain("America/New_York");
    expect(container.querySelector('[data-testid="dashboard-mode"]')!.textContent).toBe("Test mode");
    expect(container.querySelector('[data-testid="stat-postings"]')!.textContent).toContain("6,900");
    expect(container.querySelector('[data-testid="stat-withdrawals"]')!.textContent).toContain("5");
    expect(container.querySelector('[data-testid="stat-currencies"]')!.textContent).toContain("USD");
    expect(root.textContent).toContain("arrive with the Stripe mirror");
  });

  it("says where the key is and whether the keychain answers", () => {
    const { container } = render(Dashboard, {
      workspace: workspace(),
      keychain: { backend: "Secret Service", available: true, detail: "answers" },
    });
    const status = container.querySelector<HTMLElement>('[data-testid="keychain-status"]')!;
    expect(status.dataset["available"]).toBe("true");
    expect(status.textContent).toContain("Secret Service");
    expect(container.querySelector('[data-testid="dashboard-key-source"]')!.textContent).toContain("OS keychain");
  });

  it("sets a live workspace apart", () => {
    const { container } = render(Dashboard, { workspace: workspace({ mode: "live" }) });
    const badge = container.querySelector('[data-testid="dashboard-mode"]')!;
    expect(badge.textContent).toBe("Live mode");
    expect(badge.classList.contains("mode-live")).toBe(true);
    expect(container.textContent).toContain("real money");
  });
});
