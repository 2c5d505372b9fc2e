// Builders for transport values as the engine sends them, for component tests.

import type {
  AmountView,
  AppOverview,
  AuditRecordView,
  AuditVerifyView,
  CommandError,
  CoverageView,
  ErrorCode,
  PostingView,
  StripeOverview,
  SyncRunView,
  TimeView,
  TreeNodeView,
  WorkspaceView,
} from "../lib/bindings";

export function amount(formatted: string, currency = "USD", minor?: string): AmountView {
  const negative = formatted.startsWith("-");
  const digits = formatted.replace(/[^0-9]/g, "");
  return {
    minor: minor ?? `${negative ? "-" : ""}${digits.replace(/^0+(?=\d)/, "")}`,
    currency,
    exponent: currency === "JPY" ? 0 : 2,
    formatted,
    negative,
    zero: /^-?0([.,]0+)?$/.test(formatted),
  };
}

export function time(date: string, clock = "10:12:26", zone = "EDT"): TimeView {
  return { local: `${date} ${clock} ${zone}`, date, utc: `${date}T14:12:26Z` };
}

export function posting(i: number, overrides: Partial<PostingView> = {}): PostingView {
  const n = String(Math.floor(i / 2) + 1).padStart(8, "0");
  return {
    seq: i + 1,
    platform_id: String(i + 1),
    entry_id: `je_${n}`,
    account: i % 2 === 0 ? "assets:stripe:payments" : "liabilities:subscribers:u_000285",
    amount: amount(i % 2 === 0 ? "5.00" : "-5.00"),
    entry_type: "subscription_payment",
    stripe_object_id: `ch_${n}`,
    event_id: `evt_${n}`,
    created_at: time("2026-08-01"),
    description: `Subscription 2026-08 of u_${n}`,
    origin: "mirror",
    import_id: 1,
    ...overrides,
  };
}

export function node(account: string, hasChildren: boolean, totals: AmountView[] = [amount("100.00")]): TreeNodeView {
  const parts = account.split(":");
  return {
    account,
    name: parts[parts.length - 1] ?? account,
    depth: parts.length - 1,
    has_children: hasChildren,
    own: [],
    total: totals,
  };
}

/** A small chart of accounts, pre-ordered as the engine sends it. */
export function chart(): TreeNodeView[] {
  return [
    node("assets", true),
    node("assets:stripe", true),
    node("assets:stripe:payments", false, [amount("1,234.56")]),
    node("assets:stripe:pending", false),
    node("expenses", true, [amount("44.00")]),
    node("expenses:stripe_fees", false, [amount("44.00")]),
    node("liabilities", true, [amount("-1,278.56")]),
    node("liabilities:creators", true, [amount("-778.56")]),
    node("liabilities:creators:cr_00001", true, [amount("-778.56")]),
    node("liabilities:creators:cr_00001:held", false, [amount("-778.56")]),
    node("liabilities:subscribers", false, [amount("-500.00")]),
  ];
}

export function workspace(overrides: Partial<WorkspaceView> = {}): WorkspaceView {
  return {
    id: "ws_01",
    name: "Acme Creators",
    mode: "test",
    timezone: "America/New_York",
    path: "/home/fin/acme",
    created_at: time("2026-07-01"),
    schema_version: 3,
    demo: false,
    key_source: "the OS keychain (Secret Service)",
    summary: {
      postings: 6900,
      entries: 3450,
      accounts: 400,
      currencies: ["USD"],
      first_posting: time("2026-08-01"),
      last_posting: time("2026-10-31"),
      balances: 897,
      allocations: 1407,
      connected_accounts: 49,
      webhook_events: 968,
      withdrawals: 5,
      imports: 7,
    },
    ...overrides,
  };
}

export function overview(overrides: Partial<AppOverview> = {}): AppOverview {
  return {
    version: "0.1.0",
    open: null,
    recent: [],
    demo_path: "/home/fin/.local/share/closebook/demo",
    keychain: { backend: "Secret Service", available: true, detail: "Secret Service answers" },
    ...overrides,
  };
}

export function commandError(code: ErrorCode, message: string, extra: Partial<CommandError> = {}): CommandError {
  return { code, message, problems: [], truncated: false, ...extra };
}

/** Lets pending promises and Svelte updates settle. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) {
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** Coverage of one currency at one sync, as the engine sends it (ratio already formatted). */
export function coverage(date: string, ratioBps: number | null, overrides: Partial<CoverageView> = {}): CoverageView {
  const ratio = ratioBps === null ? "—" : `${Math.trunc(ratioBps / 100)}.${String(ratioBps % 100).padStart(2, "0")}%`;
  const risk = ratioBps === null || ratioBps >= 12000 ? "low" : ratioBps >= 10000 ? "medium" : "high";
  return {
    currency: "USD",
    at: time(date, "09:00:00"),
    available: amount("12,500.00"),
    obligations: amount("10,000.00"),
    ledger_owed: amount("8,000.00"),
    open_month: amount("2,000.00"),
    ratio_bps: ratioBps,
    ratio,
    risk,
    ...overrides,
  };
}

export function syncRun(overrides: Partial<SyncRunView> = {}): SyncRunView {
  return {
    id: 4,
    started_at: time("2026-11-02", "09:00:00"),
    finished_at: time("2026-11-02", "09:01:10"),
    outcome: "ok",
    message: null,
    api_base: "https://api.stripe.com",
    requests: 420,
    retries: 3,
    pages: 380,
    objects_added: 12345,
    objects_changed: 67,
    ...overrides,
  };
}

/** A workspace synced four times: USD coverage falling from low to high risk, EUR once. */
export function stripeOverview(overrides: Partial<StripeOverview> = {}): StripeOverview {
  const history = [
    coverage("2026-10-30", 15000, { available: amount("15,000.00") }),
    coverage("2026-10-31", 12500),
    coverage("2026-11-01", 10500, { available: amount("10,500.00") }),
    coverage("2026-11-02", 9550, { available: amount("9,550.00") }),
    coverage("2026-11-02", 20000, {
      currency: "EUR",
      available: amount("2,000.00", "EUR"),
      obligations: amount("1,000.00", "EUR"),
      ledger_owed: amount("1,000.00", "EUR"),
      open_month: amount("0.00", "EUR"),
    }),
  ];
  return {
    key_kind: "rk_test_",
    api_base: "https://api.stripe.com",
    balance: [
      { currency: "EUR", available: amount("2,000.00", "EUR"), pending: amount("150.00", "EUR") },
      { currency: "USD", available: amount("9,550.00"), pending: amount("-12.34") },
    ],
    balance_fetched_at: time("2026-11-02", "09:01:05"),
    coverage: history.filter((c) => c.at.date === "2026-11-02"),
    coverage_history: history,
    low_min_bps: 12000,
    medium_min_bps: 10000,
    last_sync: syncRun(),
    objects: [
      { object_type: "balance_transaction", objects: 9000 },
      { object_type: "charge", objects: 3000 },
      { object_type: "transfer", objects: 345 },
    ],
    open_windows: 0,
    ...overrides,
  };
}

/** A 64-hex-digit digest that differs for every `n` (for hashes in tests). */
export function digest(n: number, salt = "a"): string {
  return `${salt}${String(n).padStart(7, "0")}`.repeat(8).slice(0, 64);
}

/** One audit record, as `audit_log` sends it. */
export function auditRecord(seq: number, overrides: Partial<AuditRecordView> = {}): AuditRecordView {
  const actions = ["workspace.init", "import.file", "stripe.sync", "settings.coverage_thresholds"];
  return {
    seq,
    at: time("2026-11-01", "09:00:00"),
    actor: seq % 2 === 0 ? "fin" : "ops",
    action: actions[seq % actions.length] ?? "import.file",
    summary: `Record ${seq}: imported ledger.csv`,
    payload_sha256: digest(seq, "a"),
    hash: digest(seq, "b"),
    ...overrides,
  };
}

/** The result of `audit_verify`: intact unless `broken` names a record. */
export function auditVerify(records: number, broken: { seq: number; reason: string } | null = null): AuditVerifyView {
  return {
    intact: broken === null,
    records,
    head: broken === null && records > 0 ? digest(records, "b") : null,
    broken_seq: broken?.seq ?? null,
    broken_reason: broken?.reason ?? null,
    ledger_postings: 951_780,
    ledger_problem: null,
    checked_at: time("2026-11-02", "08:30:00"),
  };
}
