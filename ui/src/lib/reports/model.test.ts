import { describe, expect, it } from "vitest";
import { reportKinds } from "../../test/reportFixtures";
import { defaultFolderName, needsOf, reportRequest, scopeProblem, shellWord, type ScopeInput } from "./model";

const kind = (name: string) => reportKinds().find((k) => k.name === name)!;
const empty: ScopeInput = { day: "", batch: "", asOf: "", from: "", to: "", account: "" };
const full: ScopeInput = { day: "2026-11-01", batch: "pb_2026-10_v1", asOf: "2026-10-31", from: "2026-10-01", to: "2026-10-31", account: "assets" };

describe("reports model", () => {
  it("sends only the scope the kind needs", () => {
    const base = { format: "xlsx", dest: "/x", day: null, batch: null, as_of: null, from: null, to: null, account: null };
    expect(reportRequest(kind("reconciliation_snapshot"), "xlsx", " /x ", full)).toEqual({ ...base, kind: "reconciliation_snapshot", day: "2026-11-01" });
    expect(reportRequest(kind("payout_batch"), "xlsx", "/x", full)).toEqual({ ...base, kind: "payout_batch", batch: "pb_2026-10_v1" });
    expect(reportRequest(kind("trial_balance"), "xlsx", "/x", full)).toEqual({ ...base, kind: "trial_balance", as_of: "2026-10-31" });
    expect(reportRequest(kind("general_ledger"), "csv", "/x", full)).toEqual({
      ...base,
      kind: "general_ledger",
      format: "csv",
      from: "2026-10-01",
      to: "2026-10-31",
      account: "assets",
    });
    expect(reportRequest(kind("audit_log"), "xlsx", "/x", full)).toEqual({ ...base, kind: "audit_log" });
    expect(reportRequest(kind("trial_balance"), "xlsx", "/x", empty).as_of).toBeNull();
  });

  it("names what is missing before an export can run", () => {
    expect(scopeProblem(kind("reconciliation_snapshot"), empty)).toContain("No reconciled day");
    expect(scopeProblem(kind("payout_batch"), empty)).toContain("No payout batch");
    expect(scopeProblem(kind("general_ledger"), { ...empty, from: "2026-11-01", to: "2026-10-01" })).toContain("swap the dates");
    expect(scopeProblem(kind("general_ledger"), { ...empty, from: "2026-11-01" })).toBeNull();
    expect(scopeProblem(kind("trial_balance"), empty)).toBeNull();
  });

  it("proposes <kind>-<scope> as the new folder's name", () => {
    expect(defaultFolderName(kind("reconciliation_snapshot"), full)).toBe("reconciliation_snapshot-2026-11-01");
    expect(defaultFolderName(kind("payout_batch"), full)).toBe("payout_batch-pb_2026-10_v1");
    expect(defaultFolderName(kind("trial_balance"), empty)).toBe("trial_balance-all");
    expect(defaultFolderName(kind("general_ledger"), { ...empty, to: "2026-10-31" })).toBe("general_ledger-start_2026-10-31");
    expect(defaultFolderName(kind("exceptions"), full)).toBe("exceptions");
  });

  it("treats a scope it does not know as none", () => {
    expect(needsOf({ ...kind("exceptions"), needs: "quarter" })).toBe("none");
  });

  it("quotes a path for the shell only when needed", () => {
    expect(shellWord("/home/fin/ledger.journal")).toBe("/home/fin/ledger.journal");
    expect(shellWord("/home/fin/my exports/ledger.journal")).toBe("'/home/fin/my exports/ledger.journal'");
    expect(shellWord("/tmp/it's.journal")).toBe("'/tmp/it'\\''s.journal'");
  });
});
