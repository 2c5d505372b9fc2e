// The screens of an open workspace, in sidebar order (Alt+1 … Alt+7).

export type ScreenId =
  | "dashboard"
  | "ledger"
  | "reconciliation"
  | "payouts"
  | "reports"
  | "audit"
  | "settings";

export interface NavItem {
  id: ScreenId;
  label: string;
  /** The digit of its Alt shortcut. */
  key: number;
}

export const NAV: readonly NavItem[] = [
  { id: "dashboard", label: "Dashboard", key: 1 },
  { id: "ledger", label: "Ledger", key: 2 },
  { id: "reconciliation", label: "Reconciliation", key: 3 },
  { id: "payouts", label: "Payouts", key: 4 },
  { id: "reports", label: "Reports", key: 5 },
  { id: "audit", label: "Audit", key: 6 },
  { id: "settings", label: "Settings", key: 7 },
];

/** The screen of an Alt+digit key press, if it is one of ours. */
export function screenForShortcut(e: KeyboardEvent): ScreenId | null {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  // `code` is layout-independent (Alt+1 types "¡" on a Mac keyboard).
  const m = /^(?:Digit|Numpad)([1-7])$/.exec(e.code) ?? /^([1-7])$/.exec(e.key);
  if (!m) return null;
  const digit = Number(m[1]);
  return NAV.find((n) => n.key === digit)?.id ?? null;
}
