// A batch's execution (one Stripe transfer per payable line), kept outside the Payouts screen:
// it goes on while another screen is shown, and the screen shows its progress again, with
// Cancel, on coming back. One at a time.

import { api } from "../api";
import type { ExecuteReportView } from "../bindings";
import { Operation } from "../operation.svelte";

/** What the next run executes, and as whom: set by `start` just before it runs. */
let target: { batch_id: string; as_person: string } | null = null;

class PayoutExecution extends Operation<ExecuteReportView> {
  /** The batch the running (or last) execution belongs to. */
  batchId = $state<string | null>(null);
  /** Lines paid or failed so far, of how many payable lines (once the engine said). */
  readonly done = $derived(this.progress?.done ?? 0);
  readonly total = $derived(this.progress?.total ?? null);

  constructor() {
    super("payout", (id) =>
      target ? api.payouts_execute({ ...target, op_id: id }) : Promise.reject(new Error("no batch to execute")),
    );
  }

  /**
   * Executes `batchId` of the open workspace (`workspace` is its path) as `asPerson`;
   * resolves when it ended, either way, never rejecting. Nothing starts while one runs.
   */
  start(workspace: string, batchId: string, asPerson: string): Promise<void> {
    if (this.running) return Promise.resolve();
    target = { batch_id: batchId, as_person: asPerson };
    this.batchId = batchId;
    return this.run(workspace);
  }

  /** Whether the running or last execution is of this workspace's batch. */
  isOf(workspace: string, batchId: string): boolean {
    return this.workspace === workspace && this.batchId === batchId;
  }

  override reset(): void {
    super.reset();
    this.batchId = null;
    target = null;
  }
}

export const payoutExecution = new PayoutExecution();
