import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { api, newOpId, setCoverageThresholds, toCommandError } from "./api";
import type { ErrorCode } from "./bindings";
import { adviceFor } from "./errors";
import { commandError } from "../test/fixtures";

afterEach(() => clearMocks());

describe("api", () => {
  it("passes a CommandError through unchanged", async () => {
    const err = commandError("key_wrong", "the key does not open /w", { problems: [] });
    mockIPC(() => {
      throw err;
    });
    await expect(api.app_overview()).rejects.toEqual(err);
  });

  it("turns a string rejection into an internal CommandError", async () => {
    mockIPC(() => {
      throw "command app_overview not found";
    });
    await expect(api.app_overview()).rejects.toEqual({
      code: "internal",
      message: "command app_overview not found",
      problems: [],
      truncated: false,
    });
  });

  it("leaves a performance measure per command, for the start-up profile, failed or not", async () => {
    performance.clearMeasures();
    mockIPC((cmd) => {
      if (cmd === "keychain_status") throw commandError("internal", "no");
      return null;
    });
    await api.app_overview();
    await expect(api.keychain_status()).rejects.toBeTruthy();
    const names = performance.getEntriesByType("measure").map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(["ipc app_overview", "ipc keychain_status"]));
  });

  it("maps unknown codes and odd values to internal", () => {
    expect(toCommandError({ code: "brand_new", message: "m" }).code).toBe("internal");
    expect(toCommandError(new Error("boom")).message).toBe("boom");
    expect(toCommandError(undefined).code).toBe("internal");
    expect(toCommandError(undefined).message.length).toBeGreaterThan(0);
  });

  it("keeps the Stripe error codes, each with its own advice", () => {
    const codes: ErrorCode[] = ["mode_mismatch", "stripe_key_missing", "stripe_key_invalid", "stripe_failed", "stripe_unavailable"];
    for (const code of codes) {
      expect(toCommandError({ code, message: "m" }).code).toBe(code);
      expect(adviceFor(code)).not.toBe(adviceFor("internal"));
    }
    expect(adviceFor("stripe_key_missing")).toContain("Add the workspace's Stripe key in Settings");
    expect(adviceFor("stripe_unavailable")).toContain("continues where it stopped");
  });

  it("keeps audit_broken, with advice to keep the file and restore from a backup", () => {
    expect(toCommandError({ code: "audit_broken", message: "record 7's hash does not match" }).code).toBe("audit_broken");
    expect(adviceFor("audit_broken")).not.toBe(adviceFor("internal"));
    expect(adviceFor("audit_broken")).toContain("hash chain is broken");
    expect(adviceFor("audit_broken")).toContain("Keep the file as evidence and restore the workspace from a backup.");
  });

  it("keeps the payout error codes, each with its own advice", () => {
    const codes: ErrorCode[] = ["permission_denied", "approval_invalid", "invalid_state"];
    for (const code of codes) {
      expect(toCommandError({ code, message: "m" }).code).toBe(code);
      expect(adviceFor(code)).not.toBe(adviceFor("internal"));
    }
    expect(adviceFor("permission_denied")).toContain("“Acting as”");
    expect(adviceFor("approval_invalid")).toContain("someone other than the preparer");
    expect(adviceFor("invalid_state")).toContain("Refresh the batch");
  });

  it("sends coverage thresholds as JSON numbers, and refuses fractions before asking", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, payload) => {
      calls.push([cmd, payload]);
      return null;
    });
    await setCoverageThresholds(13000, 10000);
    expect(calls).toEqual([["set_coverage_thresholds", { low_min_bps: 13000, medium_min_bps: 10000 }]]);
    expect(JSON.stringify(calls[0]![1])).toBe('{"low_min_bps":13000,"medium_min_bps":10000}');
    await expect(setCoverageThresholds(12000.5, 10000)).rejects.toMatchObject({ code: "invalid_input" });
    await expect(setCoverageThresholds(12000, Number.NaN)).rejects.toMatchObject({ code: "invalid_input" });
    expect(calls).toHaveLength(1);
  });

  it("sends positional arguments under their Rust names", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, payload) => {
      calls.push([cmd, payload]);
      return { as_of: "2026-10-31", as_of_label: "x", nodes: [] };
    });
    await api.ledger_tree("2026-10-31");
    expect(calls).toEqual([["ledger_tree", { as_of: "2026-10-31" }]]);
  });

  it("makes distinct operation ids of at most 64 characters", () => {
    const a = newOpId("import");
    const b = newOpId("import");
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a.startsWith("import-")).toBe(true);
  });
});
