// The state every command call of a screen carries: whether it runs, and the error it failed
// with. `Task` runs one command at a time (a button's action); `Latest` keeps the value of the
// latest of several loads of one thing, dropping an answer that arrives after a newer call.

import { toCommandError } from "./api";
import type { CommandError } from "./bindings";

export class Task {
  busy = $state(false);
  error = $state<CommandError | null>(null);

  /** Runs `command` unless one runs already: its value, or null when it failed (see `error`) or did not run. */
  async run<T>(command: () => Promise<T>): Promise<{ value: T } | null> {
    if (this.busy) return null;
    this.busy = true;
    this.error = null;
    try {
      return { value: await command() };
    } catch (e) {
      this.error = toCommandError(e);
      return null;
    } finally {
      this.busy = false;
    }
  }
}

export class Latest<T> {
  value = $state.raw<T | null>(null);
  loading = $state(false);
  error = $state<CommandError | null>(null);
  #seq = 0;

  /** Loads with `load`; resolves to whether this call's answer was kept (it failed, or a newer call came). */
  async load(load: () => Promise<T | null>): Promise<boolean> {
    const mine = ++this.#seq;
    this.loading = true;
    this.error = null;
    try {
      const value = await load();
      if (mine !== this.#seq) return false;
      this.value = value ?? null;
      return true;
    } catch (e) {
      if (mine === this.#seq) this.error = toCommandError(e);
      return false;
    } finally {
      if (mine === this.#seq) this.loading = false;
    }
  }

  /** Shows `value` as the newest (a command answered with it): a load under way is dropped. */
  set(value: T | null): void {
    this.#seq += 1;
    this.value = value;
    this.loading = false;
    this.error = null;
  }
}
