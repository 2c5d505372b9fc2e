// Finding elements by data-testid and typing into fields, the way the screens' tests do.

import { fireEvent } from "@testing-library/svelte";

/** The first element with `testid` inside `container`; throws when there is none. */
export function q<T extends Element = HTMLElement>(container: Element, testid: string): T {
  const el = container.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`no ${testid}`);
  return el;
}

/** The first element with `testid`, or null. */
export function maybe(container: Element, testid: string): HTMLElement | null {
  return container.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
}

/** Every element with `testid`, in document order. */
export function all(container: Element, testid: string): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>(`[data-testid="${testid}"]`));
}

/** Chooses `value` in a select, as a person would (a change event). */
export async function choose(select: HTMLSelectElement, value: string): Promise<void> {
  select.value = value;
  await fireEvent.change(select);
}

/** Types `value` into a field (an input event). */
export async function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): Promise<void> {
  input.value = value;
  await fireEvent.input(input);
}
