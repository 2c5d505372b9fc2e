// The reconciliation catch-up (every missing day up to yesterday), kept outside the screens:
// the app starts it in the background when a workspace opens, it goes on while any screen is
// shown, and the Reconciliation screen shows its progress and offers Cancel. One at a time.

import { api, newOpId, toCommandError, withProgress } from "../api";
import type { CatchUpView, CommandError, ProgressEvent } from "../bindings";
import { dayOfStage } from "./model";

type Listener = (workspace: string) => void;

class CatchUp {
  /** The workspace (its path) the running or last catch-up belongs to. */
  workspace = $state<string | null>(null);
  /** The running catch-up's operation id; none when none runs. */
  opId = $state<string | null>(null);
  /** The latest progress event of the running catch-up. */
  progress = $state<ProgressEvent | null>(null);
  cancelling = $state(false);
  /** How the last catch-up ended: its result, or the error it failed with. */
  lastResult = $state<CatchUpView | null>(null);
  error = $state<CommandError | null>(null);

  readonly running = $derived(this.opId !== null);
  /** Days reconciled so far by the running catch-up. */
  readonly done = $derived(this.progress?.done ?? 0);
  /** Days it will reconcile, once the engine said. */
  readonly total = $derived(this.progress?.total ?? null);
  /** The day being reconciled now. */
  readonly day = $derived(dayOfStage(this.progress?.stage));

  #listeners = new Set<Listener>();
  /** A workspace opened while another's catch-up was still stopping: caught up next. */
  #next: string | null = null;

  /**
   * Catches up the open workspace (`workspace` is its path); resolves when it ended, either
   * way, never rejecting. While another workspace's catch-up runs, that one is cancelled and
   * this one starts after it.
   */
  async start(workspace: string): Promise<void> {
    if (this.opId !== null) {
      if (this.workspace === workspace) return;
      this.#next = workspace;
      await this.cancel();
      return;
    }
    const id = newOpId("recon");
    this.workspace = workspace;
    this.opId = id;
    this.progress = null;
    this.cancelling = false;
    this.lastResult = null;
    this.error = null;
    try {
      const result = await withProgress(
        id,
        (p) => {
          if (this.opId === id) this.progress = p;
        },
        () => api.recon_catch_up(id),
      );
      this.lastResult = result ?? null;
    } catch (e) {
      this.error = toCommandError(e);
    } finally {
      this.opId = null;
      this.progress = null;
      this.cancelling = false;
      for (const listener of this.#listeners) listener(workspace);
    }
    const next = this.#next;
    this.#next = null;
    if (next !== null && next !== workspace) await this.start(next);
  }

  /** Asks the running catch-up to stop: the days it finished are kept. */
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

  /** Stops the running catch-up for good (the workspace closed): nothing starts after it. */
  async stop(): Promise<void> {
    this.#next = null;
    await this.cancel();
  }

  /** Calls `listener` with the workspace after every catch-up ends. Returns the function that stops calling it. */
  onEnded(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Forgets how the last catch-up ended (a running one is left alone). */
  dismiss(): void {
    this.lastResult = null;
    this.error = null;
  }

  /** Back to the start state, for tests. */
  reset(): void {
    this.workspace = null;
    this.opId = null;
    this.progress = null;
    this.cancelling = false;
    this.lastResult = null;
    this.error = null;
    this.#next = null;
    this.#listeners.clear();
  }
}

export const catchUp = new CatchUp();
