// The report and journal exports, kept outside the Reports screen like the Stripe sync: an
// export goes on while another screen is shown, and the screen shows its progress (rows
// written so far) and result again on coming back. One export of each kind at a time.

import { api } from "../api";
import type { ExportJournalArgs, ExportReportView, JournalView } from "../bindings";
import { Operation } from "../operation.svelte";
import type { ReportRequest } from "./model";

/** An export with its arguments: the operation id is added for each run. */
export class Export<A, R> extends Operation<R> {
  /** What the running (or last) export was asked for. */
  request = $state.raw<A | null>(null);

  constructor(prefix: string, command: (args: A, opId: string) => Promise<R>) {
    super(prefix, (opId) => command(this.request as A, opId));
  }

  /**
   * Exports for `workspace` (its path) unless one runs already. Resolves when it ended, never
   * rejecting: to whether it ran and wrote everything (see `result`, else `error`).
   */
  async start(workspace: string, request: A): Promise<boolean> {
    if (this.running) return false;
    this.request = request;
    await this.run(workspace);
    return this.result !== null;
  }

  override reset(): void {
    super.reset();
    this.request = null;
  }
}

export const reportExport = new Export<ReportRequest, ExportReportView>("report", (args, op_id) => api.export_report({ ...args, op_id }));

export const journalExport = new Export<Omit<ExportJournalArgs, "op_id">, JournalView>("journal", (args, op_id) =>
  api.export_journal({ ...args, op_id }),
);
