// A long operation of the open workspace (a Stripe sync, a reconciliation catch-up), kept
// outside the screens: it goes on while any screen is shown, screens show its progress and
// offer Cancel, and listeners hear when it ends. One at a time per kind.

import { api, newOpId, toCommandError, withProgress } from "./api";
import type { CommandError, ProgressEvent } from "./bindings";

export type EndListener = (workspace: string) => void;

export class Operation<R> {
  /** The workspace (its path) the running or last operation belongs to. */
  workspace = $state<string | null>(null);
  /** The running operation's id; none when none runs. */
  opId = $state<string | null>(null);
  /** Its latest progress event. */
  progress = $state<ProgressEvent | null>(null);
  cancelling = $state(false);
  /** How the last one ended: its result, or the error it failed with. */
  result = $state<R | null>(null);
  error = $state<CommandError | null>(null);

  readonly running = $derived(this.opId !== null);

  #listeners = new Set<EndListener>();
  readonly #prefix: string;
  readonly #command: (opId: string) => Promise<R>;

  /** `prefix` names the operation ids ("sync-…"); `command` runs it with its id. */
  constructor(prefix: string, command: (opId: string) => Promise<R>) {
    this.#prefix = prefix;
    this.#command = command;
  }

  /** Runs it for `workspace` unless one already runs; resolves when it ended, never rejecting. */
  protected async run(workspace: string): Promise<void> {
    if (this.opId !== null) return;
    const id = newOpId(this.#prefix);
    this.workspace = workspace;
    this.opId = id;
    this.progress = null;
    this.cancelling = false;
    this.result = null;
    this.error = null;
    try {
      const result = await withProgress(
        id,
        (p) => {
          if (this.opId === id) this.progress = p;
        },
        () => this.#command(id),
      );
      this.result = result ?? null;
    } catch (e) {
      this.error = toCommandError(e);
    } finally {
      this.opId = null;
      this.progress = null;
      this.cancelling = false;
      for (const listener of this.#listeners) listener(workspace);
    }
  }

  /** Asks the running operation to stop: the engine keeps what it committed. */
  async cancel(): Promise<void> {
    const id = this.opId;
    if (id === null || this.cancelling) return;
    this.cancelling = true;
    try {
      await api.cancel_operation(id);
    } catch {
      // It goes on; its own result says how it ended.
      if (this.opId === id) this.cancelling = false;
    }
  }

  /** Calls `listener` with the workspace after every run ends. Returns the function that stops calling it. */
  onEnded(listener: EndListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Forgets how the last run ended (a running one is left alone). */
  dismiss(): void {
    this.result = null;
    this.error = null;
  }

  /** Back to the start state, for tests. */
  reset(): void {
    this.workspace = null;
    this.opId = null;
    this.progress = null;
    this.cancelling = false;
    this.result = null;
    this.error = null;
    this.#listeners.clear();
  }
}
