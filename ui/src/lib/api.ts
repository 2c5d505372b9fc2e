// The one door to the engine: every command of the generated bindings, each rejecting with a
// normalized CommandError, plus progress events and operation ids.

import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  commands,
  PROGRESS_EVENT,
  type CommandError,
  type ErrorCode,
  type ProgressEvent,
} from "./bindings";

export type { CommandError, ErrorCode, ProgressEvent };

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "workspace_not_found",
  "workspace_exists",
  "workspace_damaged",
  "key_missing",
  "key_wrong",
  "key_file_insecure",
  "key_exists",
  "keychain_unavailable",
  "schema_too_new",
  "invalid_input",
  "import_rejected",
  "source_unreachable",
  "source_failed",
  "ledger_invariant",
  "cancelled",
  "io",
  "internal",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Turns whatever a command rejected with into a CommandError the UI can branch on. */
export function toCommandError(reason: unknown): CommandError {
  if (isRecord(reason) && typeof reason["code"] === "string" && typeof reason["message"] === "string") {
    const code = reason["code"];
    return {
      code: KNOWN_CODES.has(code) ? (code as ErrorCode) : "internal",
      message: reason["message"],
      problems: Array.isArray(reason["problems"]) ? (reason["problems"] as CommandError["problems"]) : [],
      truncated: reason["truncated"] === true,
    };
  }
  let message: string;
  if (typeof reason === "string") {
    message = reason;
  } else if (reason instanceof Error) {
    message = reason.message;
  } else {
    try {
      message = JSON.stringify(reason) ?? String(reason);
    } catch {
      message = String(reason);
    }
  }
  if (!message) message = "the command failed without saying why";
  return { code: "internal", message, problems: [], truncated: false };
}

export function isCommandError(value: unknown): value is CommandError {
  return (
    isRecord(value) &&
    typeof value["code"] === "string" &&
    typeof value["message"] === "string" &&
    Array.isArray(value["problems"])
  );
}

type Commands = typeof commands;

/** The generated commands, each rejecting with a normalized CommandError. */
export const api = Object.fromEntries(
  Object.entries(commands).map(([name, fn]) => [
    name,
    async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (reason) {
        throw toCommandError(reason);
      }
    },
  ]),
) as Commands;

/**
 * Calls `cb` with every progress event (of every operation: filter on `op_id`). Resolves to
 * the function that stops listening. Outside the desktop app it listens to nothing.
 */
export async function onProgress(cb: (event: ProgressEvent) => void): Promise<UnlistenFn> {
  try {
    return await listen<ProgressEvent>(PROGRESS_EVENT, (e) => cb(e.payload));
  } catch {
    return () => {};
  }
}

/**
 * Listens to the progress of one operation while `run` runs, then stops listening.
 */
export async function withProgress<T>(
  opId: string,
  onEvent: (event: ProgressEvent) => void,
  run: () => Promise<T>,
): Promise<T> {
  const stop = await onProgress((e) => {
    if (e.op_id === opId) onEvent(e);
  });
  try {
    return await run();
  } finally {
    stop();
  }
}

let counter = 0;

/** A fresh operation id (at most 64 characters), naming one long command. */
export function newOpId(prefix = "op"): string {
  counter += 1;
  let random = "";
  const c = globalThis.crypto;
  if (c && typeof c.getRandomValues === "function") {
    const bytes = new Uint8Array(8);
    c.getRandomValues(bytes);
    random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  } else {
    random = Math.floor(Math.random() * 0xffffffff).toString(16);
  }
  return `${prefix.slice(0, 16)}-${Date.now().toString(36)}-${counter.toString(36)}-${random}`;
}
