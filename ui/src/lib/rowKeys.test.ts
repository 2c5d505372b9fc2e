import { describe, expect, it } from "vitest";
import { rowKeyTarget } from "./rowKeys";

describe("rowKeyTarget", () => {
  it("maps movement keys to the target row and ignores the rest", () => {
    expect(rowKeyTarget("ArrowDown", 4, 10, 50)).toBe(5);
    expect(rowKeyTarget("ArrowUp", 4, 10, 50)).toBe(3);
    expect(rowKeyTarget("PageDown", 4, 10, 50)).toBe(14);
    expect(rowKeyTarget("PageUp", 4, 10, 50)).toBe(-6);
    expect(rowKeyTarget("Home", 4, 10, 50)).toBe(0);
    expect(rowKeyTarget("End", 4, 10, 50)).toBe(49);
    expect(rowKeyTarget("Enter", 4, 10, 50)).toBeNull();
    expect(rowKeyTarget("a", 4, 10, 50)).toBeNull();
  });
});
