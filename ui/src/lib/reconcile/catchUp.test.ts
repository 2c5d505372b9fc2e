import { waitFor } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { CatchUpView, ProgressEvent } from "../bindings";
import { PROGRESS_EVENT } from "../bindings";
import { commandError } from "../../test/fixtures";
import { catchUp } from "./catchUp.svelte";

afterEach(() => {
  clearMocks();
  catchUp.reset();
});

/** The engine's recon_catch_up held open until the test settles it; cancel_operation recorded. */
function serveCatchUp() {
  const calls: { cmd: string; op_id: string }[] = [];
  let settle: ((r: CatchUpView | Error) => void) | null = null;
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as { op_id?: string };
      calls.push({ cmd, op_id: args.op_id ?? "" });
      if (cmd === "recon_catch_up") {
        return new Promise((resolve, reject) => {
          settle = (r) => (r instanceof Error ? reject(commandError("cancelled", r.message)) : resolve(r));
        });
      }
      if (cmd === "cancel_operation") return true;
      throw commandError("internal", `unexpected command ${cmd}`);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    finish: (r: CatchUpView | Error) => {
      if (!settle) throw new Error("recon_catch_up was not called");
      settle(r);
    },
    started: () => settle !== null,
  };
}

function progress(opId: string, day: string, done: number, total: number): ProgressEvent {
  return { op_id: opId, stage: `reconciling ${day}`, done, total, sync: null };
}

describe("catch-up store", () => {
  it("runs recon_catch_up with an operation id, follows its progress, and keeps the result", async () => {
    const engine = serveCatchUp();
    const ended: string[] = [];
    catchUp.onEnded((w) => ended.push(w));
    const run = catchUp.start("/w/acme");
    expect(catchUp.running).toBe(true);
    expect(catchUp.workspace).toBe("/w/acme");
    await waitFor(() => expect(engine.started()).toBe(true));
    const opId = engine.calls.find((c) => c.cmd === "recon_catch_up")!.op_id;
    expect(opId.startsWith("recon-")).toBe(true);
    expect(catchUp.opId).toBe(opId);

    await emit(PROGRESS_EVENT, progress(opId, "2026-10-03", 12, 92));
    await emit(PROGRESS_EVENT, progress("someone-else", "2026-01-01", 1, 2));
    await waitFor(() => expect(catchUp.done).toBe(12));
    expect(catchUp.total).toBe(92);
    expect(catchUp.day).toBe("2026-10-03");

    // Starting again for the same workspace while it runs does nothing.
    await catchUp.start("/w/acme");
    expect(engine.calls.filter((c) => c.cmd === "recon_catch_up")).toHaveLength(1);

    engine.finish({ days_added: 92, last_day: "2026-10-31", cancelled: false });
    await run;
    expect(catchUp.running).toBe(false);
    expect(catchUp.progress).toBeNull();
    expect(catchUp.lastResult).toEqual({ days_added: 92, last_day: "2026-10-31", cancelled: false });
    expect(catchUp.error).toBeNull();
    expect(ended).toEqual(["/w/acme"]);
  });

  it("cancels with its operation id; the result says it was cancelled", async () => {
    const engine = serveCatchUp();
    const run = catchUp.start("/w/acme");
    await waitFor(() => expect(engine.started()).toBe(true));
    const opId = catchUp.opId!;

    await catchUp.cancel();
    expect(engine.calls.filter((c) => c.cmd === "cancel_operation")).toEqual([{ cmd: "cancel_operation", op_id: opId }]);
    expect(catchUp.cancelling).toBe(true);
    // A second click while cancelling sends nothing more.
    await catchUp.cancel();
    expect(engine.calls.filter((c) => c.cmd === "cancel_operation")).toHaveLength(1);

    engine.finish({ days_added: 5, last_day: "2026-08-05", cancelled: true });
    await run;
    expect(catchUp.running).toBe(false);
    expect(catchUp.cancelling).toBe(false);
    expect(catchUp.lastResult?.cancelled).toBe(true);
  });

  it("keeps the error it failed with, and starts again after", async () => {
    const engine = serveCatchUp();
    const run = catchUp.start("/w/acme");
    await waitFor(() => expect(engine.started()).toBe(true));
    engine.finish(new Error("the catch-up was cancelled"));
    await run;
    expect(catchUp.error?.code).toBe("cancelled");
    expect(catchUp.lastResult).toBeNull();

    catchUp.dismiss();
    expect(catchUp.error).toBeNull();
  });

  it("cancels another workspace's catch-up and starts the new one after it", async () => {
    const ops: string[] = [];
    const pending: ((r: CatchUpView) => void)[] = [];
    mockIPC(
      (cmd, payload) => {
        const args = (payload ?? {}) as { op_id?: string };
        if (cmd === "recon_catch_up") {
          ops.push(args.op_id ?? "");
          return new Promise<CatchUpView>((resolve) => pending.push(resolve));
        }
        if (cmd === "cancel_operation") {
          pending.shift()?.({ days_added: 1, last_day: "2026-08-01", cancelled: true });
          return true;
        }
        throw commandError("internal", `unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    const first = catchUp.start("/w/acme");
    await waitFor(() => expect(ops).toHaveLength(1));
    const second = catchUp.start("/w/other");
    await waitFor(() => expect(ops).toHaveLength(2));
    expect(catchUp.workspace).toBe("/w/other");
    expect(catchUp.running).toBe(true);
    pending.shift()?.({ days_added: 3, last_day: "2026-10-31", cancelled: false });
    await Promise.all([first, second]);
    expect(catchUp.running).toBe(false);
    expect(catchUp.lastResult).toEqual({ days_added: 3, last_day: "2026-10-31", cancelled: false });
  });
});
