// The Stripe sync, kept outside the Dashboard: it goes on while another screen is shown, and
// the Dashboard shows its progress again on coming back. One sync at a time.

import { api, newOpId, withProgress } from "./api";
import type { CommandError, ProgressEvent, SyncReportView } from "./bindings";

type Listener = () => void;

class StripeSync {
  /** The workspace (its path) the running or last sync belongs to. */
  workspace = $state<string | null>(null);
  /** The running sync's operation id; none when no sync runs. */
  opId = $state<string | null>(null);
  /** The latest progress event of the running sync. */
  progress = $state<ProgressEvent | null>(null);
  cancelling = $state(false);
  /** How the last sync ended: its report, or the error it failed with. */
  report = $state<SyncReportView | null>(null);
  error = $state<CommandError | null>(null);

  readonly running = $derived(this.opId !== null);

  #listeners = new Set<Listener>();

  /** Syncs the open workspace (`workspace` is its path); resolves when the sync ended, either way. */
  async start(workspace: string): Promise<void> {
    if (this.opId !== null) return;
    const id = newOpId("sync");
    this.workspace = workspace;
    this.opId = id;
    this.progress = null;
    this.cancelling = false;
    this.report = null;
    this.error = null;
    try {
      this.report = await withProgress(
        id,
        (p) => (this.progress = p),
        () => api.sync_stripe(id),
      );
    } catch (e) {
      this.error = e as CommandError;
    } finally {
      this.opId = null;
      this.progress = null;
      this.cancelling = false;
      for (const listener of this.#listeners) listener();
    }
  }

  /** Asks the running sync to stop: it keeps what it committed, and the next sync continues. */
  async cancel(): Promise<void> {
    const id = this.opId;
    if (id === null || this.cancelling) return;
    this.cancelling = true;
    try {
      await api.cancel_operation(id);
    } catch {
      // The sync goes on; its own result says how it ended.
      if (this.opId === id) this.cancelling = false;
    }
  }

  /** Calls `listener` after every sync ends. Returns the function that stops calling it. */
  onEnded(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Forgets how the last sync ended (a running sync is left alone). */
  dismiss(): void {
    this.report = null;
    this.error = null;
  }

  /** Back to the start state, for tests. */
  reset(): void {
    this.workspace = null;
    this.opId = null;
    this.progress = null;
    this.cancelling = false;
    this.report = null;
    this.error = null;
    this.#listeners.clear();
  }
}

export const stripeSync = new StripeSync();
