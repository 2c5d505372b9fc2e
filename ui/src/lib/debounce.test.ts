import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDebouncer } from "./debounce";

describe("createDebouncer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("applies only the last call of a burst, after the delay", () => {
    const d = createDebouncer(250);
    const seen: string[] = [];
    d.debounce("text", () => seen.push("a"));
    vi.advanceTimersByTime(200);
    d.debounce("text", () => seen.push("ab"));
    vi.advanceTimersByTime(249);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(["ab"]);
  });

  it("keeps keys apart, flushes at once and cancels everything pending", () => {
    const d = createDebouncer(250);
    const seen: string[] = [];
    d.debounce("a", () => seen.push("a"));
    d.debounce("b", () => seen.push("b"));
    d.flush("a", () => seen.push("a-now"));
    expect(seen).toEqual(["a-now"]);
    d.cancelAll();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual(["a-now"]);
  });
});
