import { fireEvent, render } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import DialogHarness from "../../test/DialogHarness.svelte";

describe("Dialog", () => {
  it("is a labelled modal that takes focus and keeps Tab inside", async () => {
    const { container } = render(DialogHarness, { onClose: () => {} });
    const dialog = container.querySelector<HTMLElement>('[data-testid="dialog"]')!;
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    const labelId = dialog.getAttribute("aria-labelledby")!;
    expect(document.getElementById(labelId)!.textContent).toBe("Import a file");

    // Focus starts on the first control (the close button comes first in the header).
    const close = dialog.querySelector<HTMLElement>('button[aria-label="Close"]')!;
    expect(document.activeElement).toBe(close);

    const last = container.querySelector<HTMLElement>("#last")!;
    last.focus();
    await fireEvent.keyDown(window, { key: "Tab" });
    expect(document.activeElement).toBe(close);
    await fireEvent.keyDown(window, { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(last);
  });

  it("closes on Escape unless it may not be dismissed", async () => {
    const onClose = vi.fn();
    const first = render(DialogHarness, { onClose });
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onClose).toHaveBeenCalledOnce();
    first.unmount();

    const blocked = vi.fn();
    render(DialogHarness, { onClose: blocked, dismissible: false });
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(blocked).not.toHaveBeenCalled();
  });
});
