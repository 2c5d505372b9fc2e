// The Stripe sync, kept outside the Dashboard: it goes on while another screen is shown, and
// the Dashboard shows its progress again on coming back. One sync at a time.

import { api } from "./api";
import type { SyncReportView } from "./bindings";
import { Operation } from "./operation.svelte";

class StripeSync extends Operation<SyncReportView> {
  constructor() {
    super("sync", (id) => api.sync_stripe(id));
  }

  /** The last sync's report, when it succeeded. */
  get report(): SyncReportView | null {
    return this.result;
  }

  /** Syncs the open workspace (`workspace` is its path); resolves when the sync ended, either way. */
  start(workspace: string): Promise<void> {
    return this.run(workspace);
  }
}

export const stripeSync = new StripeSync();
