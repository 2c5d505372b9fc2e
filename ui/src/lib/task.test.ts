import { describe, expect, it } from "vitest";
import { commandError } from "../test/fixtures";
import { Latest, Task } from "./task.svelte";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("Task", () => {
  it("runs one command at a time and keeps the error it failed with", async () => {
    const task = new Task();
    const d = deferred<number>();
    const first = task.run(() => d.promise);
    expect(task.busy).toBe(true);
    expect(await task.run(() => Promise.resolve(2))).toBeNull();
    d.resolve(1);
    expect(await first).toEqual({ value: 1 });
    expect(task.busy).toBe(false);

    expect(await task.run(() => Promise.reject(commandError("invalid_state", "batch pb is done")))).toBeNull();
    expect(task.error).toMatchObject({ code: "invalid_state", message: "batch pb is done" });
    await task.run(() => Promise.resolve(3));
    expect(task.error).toBeNull();
  });
});

describe("Latest", () => {
  it("keeps the latest load's answer and drops an older one that arrives after it", async () => {
    const latest = new Latest<string>();
    const slow = deferred<string>();
    const older = latest.load(() => slow.promise);
    const newer = latest.load(() => Promise.resolve("new"));
    expect(await newer).toBe(true);
    slow.resolve("old");
    expect(await older).toBe(false);
    expect(latest.value).toBe("new");
    expect(latest.loading).toBe(false);
  });

  it("keeps the error of the latest load, and a value set by a command over a load under way", async () => {
    const latest = new Latest<string>();
    expect(await latest.load(() => Promise.reject(commandError("io", "cannot read")))).toBe(false);
    expect(latest.error).toMatchObject({ code: "io" });
    const slow = deferred<string>();
    const loading = latest.load(() => slow.promise);
    latest.set("from a command");
    slow.resolve("stale");
    expect(await loading).toBe(false);
    expect(latest.value).toBe("from a command");
    expect(latest.error).toBeNull();
  });
});
