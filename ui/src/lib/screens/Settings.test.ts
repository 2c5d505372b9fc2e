import { fireEvent, render, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { AccountRolesView, SettingsView, StripeOverview } from "../bindings";
import { commandError, stripeOverview, workspace } from "../../test/fixtures";
import Settings from "./Settings.svelte";

afterEach(() => clearMocks());

function q<T extends Element = HTMLElement>(container: Element, testid: string): T {
  const el = container.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid}`);
  return el;
}

const SETTINGS: SettingsView = {
  workspace: workspace(),
  keychain: { backend: "Secret Service", available: true, detail: "answers" },
  pragmas: [{ name: "journal_mode", value: "wal", reason: "readers never wait for the writer" }],
  data_dir: "/home/fin/.local/share/closebook",
  units: [],
};

const ROLES: AccountRolesView = {
  roles: [
    {
      role: "stripe_accounts",
      label: "Reconciled against Stripe (this account and below)",
      account: "assets:stripe",
      default_account: "assets:stripe",
      shape: "subtree",
      gap: "no account of the ledger is the stripe_accounts role's `assets:stripe`",
    },
    {
      role: "stripe_balance",
      label: "Stripe balance (where Closebook books Stripe money)",
      account: "assets:stripe:payments",
      default_account: "assets:stripe:payments",
      shape: "account",
      gap: null,
    },
  ],
  accounts: ["1010 Stripe Balance", "2100 Creator Payable"],
  has_admin: false,
  admins_here: [],
};

/** An engine that keeps a Stripe key and thresholds; records every call with its arguments. */
function serve(
  initial: StripeOverview,
  fail: Partial<Record<string, ReturnType<typeof commandError>>> = {},
  roles: AccountRolesView = ROLES,
) {
  let ov = initial;
  let map = roles;
  let units: SettingsView["units"] = [];
  const calls: [string, unknown][] = [];
  mockIPC(
    (cmd, payload) => {
      calls.push([cmd, payload]);
      const failure = fail[cmd];
      if (failure) throw failure;
      const args = (payload ?? {}) as Record<string, unknown>;
      switch (cmd) {
        case "settings":
          return { ...SETTINGS, units };
        case "declare_unit": {
          const a = args["args"] as { code: string; exponent: number };
          units = [...units, { code: a.code.toUpperCase(), exponent: a.exponent }];
          return { ...SETTINGS, units };
        }
        case "delete_workspace": {
          const confirm = String(args["confirm"]);
          if (confirm !== SETTINGS.workspace.id) throw commandError("invalid_input", "to delete it, type this workspace's id: nothing was deleted");
          return { id: SETTINGS.workspace.id, name: SETTINGS.workspace.name, path: SETTINGS.workspace.path };
        }
        case "stripe_overview":
          return ov;
        case "set_stripe_key":
          ov = { ...ov, key_kind: String(args["key"]).slice(0, 8) };
          return ov;
        case "forget_stripe_key":
          ov = { ...ov, key_kind: null };
          return ov;
        case "account_roles":
          return map;
        case "set_account_roles": {
          const changes = (args["args"] as { changes: { role: string; account: string }[] }).changes;
          map = {
            ...map,
            roles: map.roles.map((r) => {
              const c = changes.find((x) => x.role === r.role);
              return c ? { ...r, account: c.account, gap: null } : r;
            }),
          };
          return {
            view: map,
            changed: changes.map((c) => `${c.role}: old → ${c.account}`),
            notes: ["The accounts reconciled against Stripe are now “1010 Stripe Balance” and below."],
          };
        }
        case "set_coverage_thresholds":
          ov = { ...ov, low_min_bps: args["low_min_bps"] as number, medium_min_bps: args["medium_min_bps"] as number };
          return ov;
        default:
          throw commandError("internal", `unexpected command ${cmd}`);
      }
    },
    { shouldMockEvents: true },
  );
  return calls;
}

async function typeInto(input: HTMLInputElement, value: string) {
  input.value = value;
  await fireEvent.input(input);
}

describe("Settings: Stripe", () => {
  it("saves a key, clears the field, and shows only the key's kind", async () => {
    const calls = serve(stripeOverview({ key_kind: null }));
    const { container } = render(Settings);
    await waitFor(() => expect(q(container, "stripe-key-stored").textContent!.trim()).toBe("none"));
    const input = q<HTMLInputElement>(container, "stripe-key-input");
    expect(input.type).toBe("password");
    expect(q<HTMLButtonElement>(container, "stripe-key-save").disabled).toBe(true);

    await typeInto(input, "  rk_test_51Habcdefghijklmnop  ");
    await fireEvent.click(q(container, "stripe-key-save"));

    await waitFor(() => expect(q(container, "stripe-key-saved").textContent).toContain("rk_test_"));
    expect(calls.filter(([c]) => c === "set_stripe_key")).toEqual([["set_stripe_key", { key: "rk_test_51Habcdefghijklmnop" }]]);
    expect(input.value).toBe("");
    expect(q(container, "stripe-key-stored").textContent).toContain("rk_test_…");
    // The key itself is never shown back.
    expect(container.textContent).not.toContain("51Habcdefghijklmnop");
  });

  it("clears the field when the engine refuses the key, and explains the error", async () => {
    serve(stripeOverview({ key_kind: null }), {
      set_stripe_key: commandError("mode_mismatch", "the Stripe key is a live key but this workspace holds test data"),
    });
    const { container } = render(Settings);
    await waitFor(() => expect(q(container, "stripe-key-stored").textContent!.trim()).toBe("none"));
    const input = q<HTMLInputElement>(container, "stripe-key-input");
    await typeInto(input, "sk_live_secret");
    await fireEvent.click(q(container, "stripe-key-save"));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("mode_mismatch");
    expect(banner.textContent).toContain("use a key of the workspace's mode");
    expect(input.value).toBe("");
    expect(container.querySelector('[data-testid="stripe-key-saved"]')).toBeNull();
  });

  it("forgets the stored key", async () => {
    const calls = serve(stripeOverview({ key_kind: "sk_test_" }));
    const { container } = render(Settings);
    await waitFor(() => expect(q(container, "stripe-key-stored").textContent).toContain("sk_test_"));
    await fireEvent.click(q(container, "stripe-key-forget"));
    await waitFor(() => expect(q(container, "stripe-key-stored").textContent!.trim()).toBe("none"));
    expect(calls.some(([c]) => c === "forget_stripe_key")).toBe(true);
    expect(container.querySelector('[data-testid="stripe-key-forget"]')).toBeNull();
  });

  it("lists the read permissions a restricted key needs", async () => {
    serve(stripeOverview());
    const { container } = render(Settings);
    const list = await waitFor(() => q(container, "stripe-permissions"));
    for (const p of ["Balance: Read", "Balance transactions: Read", "Connected accounts (Connect): Read", "Events: Read"]) {
      expect(list.textContent).toContain(p);
    }
  });

  it("saves the coverage thresholds as whole numbers, showing each as a percentage", async () => {
    const calls = serve(stripeOverview());
    const { container } = render(Settings);
    const low = await waitFor(() => q<HTMLInputElement>(container, "coverage-low-input"));
    await waitFor(() => expect(low.value).toBe("12000"));
    expect(q(container, "coverage-low-percent").textContent).toBe("120.00%");
    expect(q(container, "coverage-medium-percent").textContent).toBe("100.00%");

    await typeInto(low, "13050");
    await typeInto(q<HTMLInputElement>(container, "coverage-medium-input"), "10005");
    expect(q(container, "coverage-low-percent").textContent).toBe("130.50%");
    expect(q(container, "coverage-medium-percent").textContent).toBe("100.05%");
    await fireEvent.click(q(container, "coverage-thresholds-save"));

    await waitFor(() => expect(q(container, "coverage-thresholds-saved").textContent).toContain("low risk at ≥ 130.50%"));
    const sent = calls.filter(([c]) => c === "set_coverage_thresholds");
    expect(sent).toEqual([["set_coverage_thresholds", { low_min_bps: 13050, medium_min_bps: 10005 }]]);
    // Plain numbers: Tauri serializes arguments with JSON.stringify, which throws on a bigint.
    expect(() => JSON.stringify(sent[0]![1])).not.toThrow();
  });

  it("shows the engine's refusal of thresholds with what to do", async () => {
    const calls = serve(stripeOverview(), {
      set_coverage_thresholds: commandError("invalid_input", "the medium threshold (13000) must not exceed the low one (12000)"),
    });
    const { container } = render(Settings);
    const medium = await waitFor(() => q<HTMLInputElement>(container, "coverage-medium-input"));
    await waitFor(() => expect(medium.value).toBe("10000"));
    await typeInto(medium, "13000");
    await fireEvent.click(q(container, "coverage-thresholds-save"));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.textContent).toContain("must not exceed the low one");
    expect(banner.textContent).toContain("Correct the value");
    expect(calls.some(([c]) => c === "set_coverage_thresholds")).toBe(true);
  });

  it("refuses a threshold that is not a whole number without asking the engine", async () => {
    const calls = serve(stripeOverview());
    const { container } = render(Settings);
    const low = await waitFor(() => q<HTMLInputElement>(container, "coverage-low-input"));
    await waitFor(() => expect(low.value).toBe("12000"));
    await typeInto(low, "12000.5");
    expect(q(container, "coverage-low-percent").textContent).toBe("—");
    await fireEvent.click(q(container, "coverage-thresholds-save"));
    const banner = await waitFor(() => q(container, "error-banner"));
    expect(banner.dataset["code"]).toBe("invalid_input");
    expect(calls.some(([c]) => c === "set_coverage_thresholds")).toBe(false);
  });
});

describe("Settings: accounts", () => {
  it("shows each role with what to do where no account plays it, and saves only what changed", async () => {
    const calls = serve(stripeOverview({}));
    const { container } = render(Settings);
    const gap = await waitFor(() => q(container, "account-role-gap-stripe_accounts"));
    expect(gap.textContent).toContain("assets:stripe");
    const save = q<HTMLButtonElement>(container, "account-roles-save");
    expect(save.disabled).toBe(true);
    const input = q<HTMLInputElement>(container, "account-role-input-stripe_balance");
    expect(input.value).toBe("assets:stripe:payments");
    await typeInto(input, "1010 Stripe Balance");
    await waitFor(() => expect(save.disabled).toBe(false));
    expect(save.textContent).toContain("1 change");
    await fireEvent.click(save);
    const saved = await waitFor(() => q(container, "account-roles-saved"));
    expect(saved.textContent).toContain("stripe_balance: old → 1010 Stripe Balance");
    expect(saved.textContent).toContain("reconciled against Stripe");
    const sent = calls.find(([c]) => c === "set_account_roles")![1] as { args: unknown };
    expect(sent.args).toEqual({ changes: [{ role: "stripe_balance", account: "1010 Stripe Balance" }], as_person: null });
  });

  it("asks for an admin once the roster has one, and sends who acts", async () => {
    serve(stripeOverview({}), {}, { ...ROLES, has_admin: true, admins_here: [] });
    const { container } = render(Settings);
    const input = await waitFor(() => q<HTMLInputElement>(container, "account-role-input-stripe_balance"));
    await typeInto(input, "1010 Stripe Balance");
    expect(q<HTMLButtonElement>(container, "account-roles-save").disabled).toBe(true);
    expect(container.textContent).toContain("Only an admin changes the account map");

    clearMocks();
    const calls = serve(stripeOverview({}), {}, { ...ROLES, has_admin: true, admins_here: ["Kim Admin"] });
    const second = render(Settings);
    const field = await waitFor(() => q<HTMLInputElement>(second.container, "account-role-input-stripe_balance"));
    await typeInto(field, "1010 Stripe Balance");
    await fireEvent.click(q(second.container, "account-roles-save"));
    await waitFor(() => q(second.container, "account-roles-saved"));
    const sent = calls.find(([c]) => c === "set_account_roles")![1] as { args: { as_person: string } };
    expect(sent.args.as_person).toBe("Kim Admin");
  });

  it("shows the engine's refusal of a map", async () => {
    serve(stripeOverview({}), {
      set_account_roles: commandError("invalid_input", "stripe_fees `assets:stripe:fees` lies within the accounts reconciled against Stripe"),
    });
    const { container } = render(Settings);
    const input = await waitFor(() => q<HTMLInputElement>(container, "account-role-input-stripe_balance"));
    await typeInto(input, "x");
    await fireEvent.click(q(container, "account-roles-save"));
    const banner = await waitFor(() => within(q(container, "account-roles")).getByText(/lies within the accounts/));
    expect(banner).toBeTruthy();
  });
});

describe("Settings: units and deleting the workspace", () => {
  it("declares a unit with its decimals and lists it; an empty code is refused before asking", async () => {
    const calls = serve(stripeOverview());
    const { container } = render(Settings);
    await waitFor(() => expect(q(container, "settings-units-none").textContent).toContain("No unit declared"));
    await fireEvent.click(q(container, "settings-unit-declare"));
    expect(q(container, "settings-unit-error").textContent).toContain("Enter the unit's code");
    await typeInto(q<HTMLInputElement>(container, "settings-unit-code"), "ai_credit");
    await typeInto(q<HTMLInputElement>(container, "settings-unit-exponent"), "3");
    await fireEvent.click(q(container, "settings-unit-declare"));
    await waitFor(() => expect(container.querySelector('[data-testid="settings-unit"][data-code="AI_CREDIT"]')).not.toBeNull());
    expect(calls.filter(([c]) => c === "declare_unit")).toEqual([["declare_unit", { args: { code: "ai_credit", exponent: 3, description: "" } }]]);
  });

  it("deletes the workspace only once its id is typed, and says so to the app", async () => {
    const calls = serve(stripeOverview());
    const deleted: unknown[] = [];
    const { container } = render(Settings, { onDeleted: (d: unknown) => deleted.push(d) });
    const button = await waitFor(() => q<HTMLButtonElement>(container, "settings-delete-button"));
    expect(button.disabled).toBe(true);
    await typeInto(q<HTMLInputElement>(container, "settings-delete-confirm"), "ws_wrong");
    expect(button.disabled).toBe(true);
    await typeInto(q<HTMLInputElement>(container, "settings-delete-confirm"), SETTINGS.workspace.id);
    expect(button.disabled).toBe(false);
    await fireEvent.click(button);
    await waitFor(() => expect(deleted).toHaveLength(1));
    expect(calls.filter(([c]) => c === "delete_workspace")).toEqual([["delete_workspace", { confirm: SETTINGS.workspace.id }]]);
  });
});
