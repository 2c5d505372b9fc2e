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
