import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { amount } from "../../test/fixtures";
import Money from "./Money.svelte";

function rendered(container: HTMLElement) {
  const root = container.querySelector<HTMLElement>(".money");
  if (!root) throw new Error("no .money element");
  return root;
}

describe("Money", () => {
  it("shows a negative amount with a true minus sign and the negative class", () => {
    const { container } = render(Money, { amount: amount("-1,234.56") });
    const root = rendered(container);
    expect(root.classList.contains("negative")).toBe(true);
    const figure = root.querySelector(".figure")!;
    // U+2212 MINUS SIGN, never the hyphen-minus of the engine's text.
    expect(figure.textContent).toContain("\u2212");
    expect(figure.textContent).not.toContain("-");
    expect(figure.textContent).toBe("\u22121,234.56");
    expect(root.getAttribute("title")).toBe("\u22121,234.56 USD");
  });

  it("shows a positive amount exactly as formatted, without sign or negative class", () => {
    const { container } = render(Money, { amount: amount("1,234.56") });
    const root = rendered(container);
    expect(root.classList.contains("negative")).toBe(false);
    expect(root.querySelector(".figure")!.textContent).toBe("1,234.56");
    expect(root.querySelector(".sign")).toBeNull();
  });

  it("shows the currency code separately", () => {
    const { container } = render(Money, { amount: amount("-1,000", "JPY") });
    const root = rendered(container);
    expect(root.querySelector(".ccy")!.textContent).toBe("JPY");
    expect(root.dataset["currency"]).toBe("JPY");
  });

  it("can leave the currency out", () => {
    const { container } = render(Money, { amount: amount("12.00"), currency: false });
    expect(rendered(container).querySelector(".ccy")).toBeNull();
  });

  it("never reformats the engine's digits (grouping, decimals, exotic units)", () => {
    // Four decimals of a declared unit, and grouping the UI would not invent itself.
    const weird = { ...amount("12,34,567.8912", "AI_CREDIT"), exponent: 4 };
    const { container } = render(Money, { amount: weird });
    const root = rendered(container);
    expect(root.querySelector(".figure")!.textContent).toBe("12,34,567.8912");
    expect(root.querySelector(".ccy")!.textContent).toBe("AI_CREDIT");
    expect(root.dataset["minor"]).toBe(weird.minor);
  });

  it("marks zero as zero, not negative", () => {
    const { container } = render(Money, { amount: amount("0.00") });
    const root = rendered(container);
    expect(root.classList.contains("zero")).toBe(true);
    expect(root.classList.contains("negative")).toBe(false);
  });
});
