import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { time } from "../../test/fixtures";
import Time from "./Time.svelte";

describe("Time", () => {
  it("shows the workspace-local time with the UTC instant in the tooltip", () => {
    const t = { local: "2026-10-31 14:03:22 EDT", date: "2026-10-31", utc: "2026-10-31T18:03:22Z" };
    const { container } = render(Time, { time: t });
    const el = container.querySelector("time")!;
    expect(el.textContent).toBe("2026-10-31 14:03:22 EDT");
    expect(el.getAttribute("title")).toContain("2026-10-31T18:03:22Z");
    expect(el.getAttribute("title")).toContain("UTC");
    expect(el.getAttribute("datetime")).toBe("2026-10-31T18:03:22Z");
  });

  it("can show the local date only, keeping local time and UTC in the tooltip", () => {
    const t = time("2026-08-01");
    const { container } = render(Time, { time: t, show: "date" });
    const el = container.querySelector("time")!;
    expect(el.textContent).toBe("2026-08-01");
    expect(el.getAttribute("title")).toContain(t.utc);
    expect(el.getAttribute("title")).toContain(t.local);
  });
});
