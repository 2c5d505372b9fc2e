// Opening a workspace (demo, existing, new) and sorting the outcome: opened, a key problem
// (full-screen KeyProblem page), or another error the caller shows in place.

import { api, newOpId, toCommandError, withProgress } from "./api";
import type { CommandError, CreateArgs, ProgressEvent, WorkspaceView } from "./bindings";
import { isKeyProblem } from "./errors";

export type OpenAttempt =
  | { kind: "demo" }
  | { kind: "open"; path: string; key_file: string | null; name?: string }
  | { kind: "create"; args: CreateArgs };

export type OpenOutcome =
  | { ok: true; workspace: WorkspaceView }
  | { ok: false; error: CommandError; keyProblem: boolean };

export function blankToNull(value: string | null | undefined): string | null {
  const t = (value ?? "").trim();
  return t.length > 0 ? t : null;
}

/** Runs one attempt; never rejects. `onProgress` gets the demo's progress events. */
export async function attemptOpen(
  attempt: OpenAttempt,
  onProgress?: (event: ProgressEvent) => void,
): Promise<OpenOutcome> {
  try {
    let workspace: WorkspaceView;
    switch (attempt.kind) {
      case "demo": {
        const opId = newOpId("demo");
        workspace = await withProgress(opId, onProgress ?? (() => {}), () => api.open_demo(opId));
        break;
      }
      case "open":
        workspace = await api.open_workspace({
          path: attempt.path.trim(),
          key_file: blankToNull(attempt.key_file),
        });
        break;
      case "create":
        workspace = await api.create_workspace(attempt.args);
        break;
    }
    return { ok: true, workspace };
  } catch (e) {
    const error: CommandError = toCommandError(e);
    return { ok: false, error, keyProblem: isKeyProblem(error) };
  }
}

/** What a person would call the workspace of an attempt. */
export function attemptLabel(attempt: OpenAttempt): string {
  switch (attempt.kind) {
    case "demo":
      return "the demo workspace";
    case "open":
      return attempt.name ?? attempt.path;
    case "create":
      return attempt.args.name || attempt.args.path;
  }
}
