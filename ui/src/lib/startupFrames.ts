// Long frames while the app starts: each gap between two animation frames longer than
// LONG_FRAME_MS in the first START_WINDOW_MS leaves a `performance` measure (`frame`), so the
// desktop benchmark's start-up profile shows when the page itself was busy (script, layout,
// paint) and not waiting for the engine. Bounded, and gone after the start.

/** A gap between frames this long means the page could not paint for that time. */
const LONG_FRAME_MS = 50;
/** Only the start is watched. */
const START_WINDOW_MS = 5_000;
/** At most this many measures. */
const MAX_MEASURES = 50;

export function recordStartupFrames(): void {
  if (typeof requestAnimationFrame === "undefined" || typeof performance.measure !== "function") return;
  let previous = performance.now();
  let left = MAX_MEASURES;
  const step = (now: number) => {
    if (now - previous > LONG_FRAME_MS && left > 0) {
      left -= 1;
      try {
        performance.measure("frame", { start: previous, end: now });
      } catch {
        // A browser without User Timing level 3: no profile, nothing else changes.
      }
    }
    previous = now;
    if (now < START_WINDOW_MS && left > 0) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}
