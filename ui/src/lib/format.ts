// Display helpers for counts and identifiers. Amounts never pass through here: they arrive
// formatted by the engine (AmountView.formatted).

const counts = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A count of things (rows, postings, accounts): "6,900". */
export function formatCount(n: number): string {
  return counts.format(n);
}

/** "12 postings" / "1 posting". */
export function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** First characters of a hash for display; the full value goes in a tooltip. */
export function shortHash(hash: string, keep = 12): string {
  return hash.length > keep ? `${hash.slice(0, keep)}…` : hash;
}

/** The last part of a path, for labels ("…/exports/ledger.csv" → "ledger.csv"). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? path;
}

/** The IANA time zone of this computer, or UTC when the runtime does not say. */
export function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** "2026-10-31T18:03:22Z" → "2026-10-31 18:03 UTC" (the engine's RFC 3339 UTC stamps). */
export function utcLabel(rfc3339: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(rfc3339);
  return m ? `${m[1]} ${m[2]} UTC` : rfc3339;
}

/**
 * A ratio in integer basis points as a percentage with two decimals: 12000 → "120.00%",
 * -50 → "-0.50%" (the engine's own rendering, `coverage::format_bps`). Only formatting: the
 * digits are split, nothing is computed.
 */
export function formatBps(bps: number): string {
  if (!Number.isSafeInteger(bps)) return "—";
  const sign = bps < 0 ? "-" : "";
  const a = Math.abs(bps);
  return `${sign}${Math.trunc(a / 100)}.${String(a % 100).padStart(2, "0")}%`;
}

/** A duration in milliseconds as seconds with one decimal, cut not rounded: 4269 → "4.2 s". */
export function formatSeconds(ms: number): string {
  const whole = Math.max(0, Math.trunc(ms));
  return `${formatCount(Math.trunc(whole / 1000))}.${Math.trunc((whole % 1000) / 100)} s`;
}
