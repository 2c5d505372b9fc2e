import { fireEvent, render } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { amount, chart, node, settle } from "../../test/fixtures";
import AccountTree from "./AccountTree.svelte";

function rows(container: HTMLElement): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>('[data-testid="tree-node"]'));
}

function accounts(container: HTMLElement): string[] {
  return rows(container).map((r) => r.dataset["account"] ?? "");
}

function row(container: HTMLElement, account: string): HTMLElement {
  const r = rows(container).find((x) => x.dataset["account"] === account);
  if (!r) throw new Error(`no row for ${account}; visible: ${accounts(container).join(", ")}`);
  return r;
}

async function key(el: Element, k: string) {
  await fireEvent.keyDown(el, { key: k });
  await settle(2);
}

describe("AccountTree", () => {
  it("expands the top two levels at first and shows each total", () => {
    const { container } = render(AccountTree, { nodes: chart(), selected: null, onSelect: () => {} });
    expect(accounts(container)).toEqual([
      "assets",
      "assets:stripe",
      "assets:stripe:payments",
      "assets:stripe:pending",
      "expenses",
      "expenses:stripe_fees",
      "liabilities",
      "liabilities:creators",
      "liabilities:creators:cr_00001", // depth 2: visible, itself collapsed
      "liabilities:subscribers",
    ]);
    const creator = row(container, "liabilities:creators:cr_00001");
    expect(creator.getAttribute("aria-expanded")).toBe("false");
    expect(row(container, "assets").getAttribute("aria-expanded")).toBe("true");
    expect(row(container, "assets:stripe:payments").hasAttribute("aria-expanded")).toBe(false);
    expect(row(container, "assets:stripe:payments").querySelector(".money")?.textContent).toContain("1,234.56");
    expect(row(container, "liabilities").querySelector(".money")?.classList.contains("negative")).toBe(true);
  });

  it("moves with the arrow keys, expands, collapses, goes to the parent and selects with Enter", async () => {
    const onSelect = vi.fn();
    const { container } = render(AccountTree, { nodes: chart(), selected: null, onSelect });
    const tree = container.querySelector('[role="tree"]')!;
    expect(tree.getAttribute("data-testid")).toBe("tree");

    // One tab stop: the first row.
    const first = row(container, "assets");
    expect(first.tabIndex).toBe(0);
    expect(rows(container).filter((r) => r.tabIndex === 0)).toHaveLength(1);
    first.focus();

    await key(document.activeElement!, "ArrowDown");
    expect(document.activeElement).toBe(row(container, "assets:stripe"));

    // ArrowLeft on an expanded node collapses it; its children disappear.
    await key(document.activeElement!, "ArrowLeft");
    expect(row(container, "assets:stripe").getAttribute("aria-expanded")).toBe("false");
    expect(accounts(container)).not.toContain("assets:stripe:payments");
    expect(document.activeElement).toBe(row(container, "assets:stripe"));

    // ArrowRight expands it again, and a second ArrowRight enters the first child.
    await key(document.activeElement!, "ArrowRight");
    expect(row(container, "assets:stripe").getAttribute("aria-expanded")).toBe("true");
    expect(accounts(container)).toContain("assets:stripe:payments");
    await key(document.activeElement!, "ArrowRight");
    expect(document.activeElement).toBe(row(container, "assets:stripe:payments"));

    // ArrowLeft on a leaf goes to its parent.
    await key(document.activeElement!, "ArrowLeft");
    expect(document.activeElement).toBe(row(container, "assets:stripe"));

    // ArrowUp moves up; nothing is selected by moving.
    await key(document.activeElement!, "ArrowUp");
    expect(document.activeElement).toBe(row(container, "assets"));
    expect(onSelect).not.toHaveBeenCalled();

    // Enter selects the focused node; so does Space.
    await key(document.activeElement!, "ArrowDown");
    await key(document.activeElement!, "Enter");
    expect(onSelect).toHaveBeenLastCalledWith("assets:stripe");
    await key(document.activeElement!, "End");
    expect(document.activeElement).toBe(row(container, "liabilities:subscribers"));
    await key(document.activeElement!, " ");
    expect(onSelect).toHaveBeenLastCalledWith("liabilities:subscribers");
    await key(document.activeElement!, "Home");
    expect(document.activeElement).toBe(row(container, "assets"));
  });

  it("opens a collapsed deeper node with ArrowRight to show its children", async () => {
    const { container } = render(AccountTree, { nodes: chart(), selected: null, onSelect: () => {} });
    row(container, "liabilities:creators:cr_00001").focus();
    await key(document.activeElement!, "ArrowRight");
    expect(accounts(container)).toContain("liabilities:creators:cr_00001:held");
  });

  it("marks the selected node and selects on click; the chevron only toggles", async () => {
    const onSelect = vi.fn();
    const { container, rerender } = render(AccountTree, { nodes: chart(), selected: "expenses", onSelect });
    expect(row(container, "expenses").getAttribute("aria-selected")).toBe("true");
    expect(row(container, "assets").getAttribute("aria-selected")).toBe("false");
    // The selected row is the tab stop.
    expect(row(container, "expenses").tabIndex).toBe(0);

    await fireEvent.click(row(container, "assets:stripe:payments").querySelector(".name")!);
    expect(onSelect).toHaveBeenCalledWith("assets:stripe:payments");

    onSelect.mockClear();
    await fireEvent.click(row(container, "assets").querySelector(".chevron")!);
    await settle(2);
    expect(onSelect).not.toHaveBeenCalled();
    expect(row(container, "assets").getAttribute("aria-expanded")).toBe("false");
    expect(accounts(container)).not.toContain("assets:stripe");

    await rerender({ nodes: chart(), selected: "liabilities", onSelect });
    expect(row(container, "liabilities").getAttribute("aria-selected")).toBe("true");
  });

  it("renders only the rows in view of a very large chart, and keeps keyboard navigation", async () => {
    const many = [node("liabilities", true), node("liabilities:subscribers", true)];
    for (let i = 0; i < 20_000; i++) {
      many.push(node(`liabilities:subscribers:u_${String(i).padStart(6, "0")}`, false, [amount("-5.00"), amount("-500", "JPY")]));
    }
    const onSelect = vi.fn();
    const { container } = render(AccountTree, { nodes: many, selected: null, onSelect, viewportHeight: 500 });
    const tree = container.querySelector<HTMLElement>('[data-testid="tree"]')!;
    expect(tree.dataset["nodes"]).toBe("20002");
    expect(rows(container).length).toBeLessThan(60);
    // Two currencies: two amount lines in the row.
    expect(row(container, "liabilities:subscribers:u_000000").querySelectorAll(".money")).toHaveLength(2);

    row(container, "liabilities").focus();
    await key(document.activeElement!, "End");
    expect((document.activeElement as HTMLElement).dataset["account"]).toBe("liabilities:subscribers:u_019999");
    expect(rows(container).length).toBeLessThan(60);
    await key(document.activeElement!, "Enter");
    expect(onSelect).toHaveBeenCalledWith("liabilities:subscribers:u_019999");
    await key(document.activeElement!, "ArrowLeft");
    expect((document.activeElement as HTMLElement).dataset["account"]).toBe("liabilities:subscribers");
  });
});
