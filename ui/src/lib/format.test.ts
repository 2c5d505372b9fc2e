import { describe, expect, it } from "vitest";
import { formatBps, formatSeconds } from "./format";

describe("format", () => {
  it("formats basis points as the engine does (coverage::format_bps)", () => {
    expect(formatBps(12000)).toBe("120.00%");
    expect(formatBps(10005)).toBe("100.05%");
    expect(formatBps(12345)).toBe("123.45%");
    expect(formatBps(5)).toBe("0.05%");
    expect(formatBps(0)).toBe("0.00%");
    expect(formatBps(-50)).toBe("-0.50%");
    expect(formatBps(-12345)).toBe("-123.45%");
    expect(formatBps(1_000_000)).toBe("10000.00%");
    expect(formatBps(1.5)).toBe("—");
    expect(formatBps(Number.NaN)).toBe("—");
  });

  it("formats elapsed milliseconds as seconds, cut to a tenth", () => {
    expect(formatSeconds(4269)).toBe("4.2 s");
    expect(formatSeconds(999)).toBe("0.9 s");
    expect(formatSeconds(0)).toBe("0.0 s");
    expect(formatSeconds(61_050)).toBe("61.0 s");
    expect(formatSeconds(1_234_567)).toBe("1,234.5 s");
  });
});
