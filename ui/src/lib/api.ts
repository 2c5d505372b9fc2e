// The one door to the engine: every command of the generated bindings, each rejecting with a
// normalized CommandError, plus progress events and operation ids.

import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  commands,
  PROGRESS_EVENT,
  type CommandError,
  type ErrorCode,
  type ProgressEvent,
  type StripeOverview,
} from "./bindings";

export type { CommandError, ErrorCode, ProgressEvent };

/** Every code of the bindings: a code added in Rust fails type-checking here until listed. */
const CODES: Record<ErrorCode, true> = {
  workspace_not_found: true,
  workspace_exists: true,
  workspace_damaged: true,
  key_missing: true,
  key_wrong: true,
  key_file_insecure: true,
  key_exists: true,
  keychain_unavailable: true,
  schema_too_new: true,
  invalid_input: true,
  import_rejected: true,
  source_unreachable: true,
  source_failed: true,
  ledger_invariant: true,
  mode_mismatch: true,
  stripe_key_missing: true,
  stripe_key_invalid: true,
  stripe_failed: true,
  stripe_unavailable: true,
  audit_broken: true,
  not_found: true,
  permission_denied: true,
  approval_invalid: true,
  invalid_state: true,
  cancelled: true,
  io: true,
  internal: true,
};

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(CODES));

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

/**
 * How many commands leave a `performance` measure (`ipc <command>`): the start-up profile the
 * desktop benchmark reads. Bounded so that a long session does not grow the browser's buffer.
 */
const MAX_MEASURED_CALLS = 200;
let measuredCalls = 0;

function measure(name: string, start: number): void {
  if (measuredCalls >= MAX_MEASURED_CALLS) return;
  measuredCalls += 1;
  try {
    performance.measure(`ipc ${name}`, { start, end: performance.now() });
  } catch {
    // A browser without User Timing level 3: no profile, nothing else changes.
  }
}

/** The generated commands, each rejecting with a normalized CommandError. */
export const api = Object.fromEntries(
  Object.entries(commands).map(([name, fn]) => [
    name,
    async (...args: unknown[]) => {
      const start = performance.now();
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (reason) {
        throw toCommandError(reason);
      } finally {
        measure(name, start);
      }
    },
  ]),
) as Commands;

/**
 * Sets the coverage risk thresholds, in integer basis points (12000 = 120.00%).
 *
 * The generated binding types both arguments as `bigint` (the Rust command takes `i64`), but
 * Tauri sends arguments through `JSON.stringify`, which throws on a bigint; the engine reads
 * plain JSON numbers. So whole numbers are sent as they are. When the bindings type these
 * arguments as `number`, the casts below stop compiling: call the command directly then.
 */
export async function setCoverageThresholds(lowMinBps: number, mediumMinBps: number): Promise<StripeOverview> {
  for (const [name, v] of [
    ["The low-risk threshold", lowMinBps],
    ["The medium-risk threshold", mediumMinBps],
  ] as const) {
    if (!Number.isSafeInteger(v)) {
      throw toCommandError({
        code: "invalid_input",
        message: `${name} must be a whole number of basis points (12000 = 120.00%).`,
      });
    }
  }
  return api.set_coverage_thresholds(lowMinBps, mediumMinBps);
}

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
