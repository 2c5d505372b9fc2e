// The reconciliation catch-up (every missing day up to yesterday), kept outside the screens:
// the app starts it in the background when a workspace opens and after each sync, it goes on
// while any screen is shown, and the Reconciliation screen shows its progress and offers
// Cancel. One at a time.

import { api } from "../api";
import type { CatchUpView } from "../bindings";
import { Operation } from "../operation.svelte";
import { dayOfStage } from "./model";

class CatchUp extends Operation<CatchUpView> {
  /** Days reconciled so far by the running catch-up. */
  readonly done = $derived(this.progress?.done ?? 0);
  /** Days it will reconcile, once the engine said. */
  readonly total = $derived(this.progress?.total ?? null);
  /** The day being reconciled now. */
  readonly day = $derived(dayOfStage(this.progress?.stage));

  /** A workspace opened while another's catch-up was still stopping: caught up next. */
  #next: string | null = null;

  constructor() {
    super("recon", (id) => api.recon_catch_up(id));
  }

  /** How the last catch-up ended, when it succeeded. */
  get lastResult(): CatchUpView | null {
    return this.result;
  }

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
    await this.run(workspace);
    const next = this.#next;
    this.#next = null;
    if (next !== null && next !== workspace) await this.start(next);
  }

  /** Stops the running catch-up for good (the workspace closed): nothing starts after it. */
  async stop(): Promise<void> {
    this.#next = null;
    await this.cancel();
  }

  override reset(): void {
    super.reset();
    this.#next = null;
  }
}

export const catchUp = new CatchUp();
