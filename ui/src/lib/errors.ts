// What to tell a person about each error code: the engine's message says what happened,
// this says what to do about it.

import type { CommandError, ErrorCode } from "./bindings";

/** Codes that stop a workspace from opening and get the full-screen KeyProblem page. */
export const KEY_PROBLEM_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "key_missing",
  "key_wrong",
  "key_file_insecure",
  "keychain_unavailable",
  "workspace_damaged",
  "schema_too_new",
]);

export function isKeyProblem(error: CommandError): boolean {
  return KEY_PROBLEM_CODES.has(error.code);
}

const ADVICE: Record<ErrorCode, string> = {
  workspace_not_found:
    "Check the folder: it must be a Closebook workspace folder. To start a new one, use “Create a workspace…”.",
  workspace_exists:
    "A workspace already exists in that folder. Open it instead, or choose an empty folder.",
  workspace_damaged:
    "The workspace's files are damaged or incomplete. Restore the folder from your backup, then open it again.",
  key_missing:
    "Restore the workspace's key in the OS keychain, or open the workspace with its key file.",
  key_wrong:
    "Choose the key file that belongs to this workspace, or restore the right key in the keychain.",
  key_file_insecure:
    "Make the key file readable by you alone (for example: chmod 600 <key file>), then try again.",
  key_exists:
    "A key for this workspace is already stored. Use a different folder, or remove the old key first.",
  keychain_unavailable:
    "Unlock your keychain (or start your desktop's Secret Service), then try again. You can also use a key file.",
  schema_too_new:
    "This workspace was written by a newer version of Closebook. Update Closebook, then open it again.",
  invalid_input: "Correct the value and try again.",
  import_rejected:
    "Nothing was imported. Fix the rows listed below in the file, then import it again.",
  source_unreachable:
    "Check the database address, the network and the credentials, then try again.",
  source_failed:
    "The source database answered with an error. Check that it has the expected tables, then try again.",
  ledger_invariant:
    "The ledger would break a bookkeeping rule, so nothing was changed. Report the message above to whoever maintains the ledger source.",
  mode_mismatch:
    "The Stripe key's mode differs from the workspace's: use a key of the workspace's mode (sk_test_/rk_test_ for a test workspace, sk_live_/rk_live_ for a live one).",
  stripe_key_missing:
    "Add the workspace's Stripe key in Settings (a restricted key with read access is enough), then sync again.",
  stripe_key_invalid:
    "Stripe did not accept the key. Check that it is complete and not revoked, or create a new restricted key in the Stripe Dashboard and save it in Settings.",
  stripe_failed:
    "Stripe refused a request; the message above names it. A restricted key needs Read access to the resource named there (see Settings). What was synced before is kept.",
  stripe_unavailable:
    "Stripe could not be reached after several attempts. Check the connection and sync again — it continues where it stopped.",
  audit_broken:
    "The audit log's hash chain is broken: someone changed, removed or reordered records in the workspace file. Keep the file as evidence and restore the workspace from a backup.",
  not_found:
    "It may have been removed or never existed: refresh the list, then choose it again.",
  permission_denied:
    "The person you act as may not do this. Choose someone whose role allows it in “Acting as” (preparers prepare and execute, approvers approve or reject, admins do all and manage people), or ask an admin to change the roster.",
  approval_invalid:
    "The approval was refused and nothing was recorded. The approver must be someone other than the preparer and must not have approved already; a signed file must be for this workspace and for the batch exactly as prepared (any change after signing voids it). Ask the approver to sign the current batch again.",
  invalid_state:
    "The batch is not in a state that allows this (only a draft is signed off, only an approved batch is executed). Refresh the batch to see where it stands; if Stripe's balance does not cover it, sync Stripe or add funds first.",
  cancelled: "The operation was cancelled. Nothing was changed.",
  io: "Check that the file or folder exists and that you may read and write it.",
  internal:
    "Something unexpected failed inside Closebook. Try again; if it keeps happening, report the message above.",
};

export function adviceFor(code: ErrorCode): string {
  return ADVICE[code] ?? ADVICE.internal;
}
