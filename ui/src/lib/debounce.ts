// Keyed debouncing for filter fields: typing waits `ms` after the last keystroke, leaving
// the field (change) applies at once, and clearing the filters drops anything pending.

export interface Debouncer {
  /** Applies `apply` after `ms`, replacing whatever was pending under `key`. */
  debounce(key: string, apply: () => void): void;
  /** Drops what was pending under `key` and applies `apply` now. */
  flush(key: string, apply: () => void): void;
  /** Drops everything pending (clearing filters, leaving the screen). */
  cancelAll(): void;
}

export function createDebouncer(ms: number): Debouncer {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const cancel = (key: string) => {
    const t = timers.get(key);
    if (t !== undefined) clearTimeout(t);
    timers.delete(key);
  };
  return {
    debounce(key, apply) {
      cancel(key);
      timers.set(
        key,
        setTimeout(() => {
          timers.delete(key);
          apply();
        }, ms),
      );
    },
    flush(key, apply) {
      cancel(key);
      apply();
    },
    cancelAll() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}

/** The value of the input or select an event came from. */
export function valueOf(e: Event): string {
  return (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
}
