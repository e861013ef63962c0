// Coalescing of denied claims: a flood of forged announcements must not become a flood of observations (each
// one a message to havipd and a log line). At most one `claim-denied` is reported per (HAVIP, vNIC, reason) per
// window; the denials in between are counted, and reported as one observation when the window ends (or with the
// next report, when no timer ran). Each observation stands for `1 + suppressed` denials, so the observations
// add up to what the counters count. Nothing is allocated per denial after a pair's first.
import type { ClaimDenialReason } from "./reasons.ts";

export const DENIAL_WINDOW_MS = 1000;

// Every denial reason has its slots (a Record, so that a new reason cannot be forgotten here).
const REASON_INDEX: Readonly<Record<ClaimDenialReason, number>> = {
  "spoofed-source-mac": 0,
  "claim-wrong-subnet": 1,
  "claim-not-member": 2,
  "storm-guarded": 3,
  "claim-contested": 4,
};
const REASONS = Object.keys(REASON_INDEX) as ClaimDenialReason[];
// Slots per reason in a pair's state: [window start, last denial at, suppressed].
const SLOTS = 3;
const NO_WINDOW = Number.NEGATIVE_INFINITY;

/** A suppressed run of denials, reported when its window ends: the last one, with how many came before it. */
export type FlushSink = (
  havipId: string,
  vnicId: string,
  reason: ClaimDenialReason,
  at: number,
  suppressed: number,
) => void;

export class ClaimDenials {
  readonly windowMs: number;
  // HAVIP id → vNIC id → per reason slots.
  private readonly windows = new Map<string, Map<string, Float64Array>>();
  private due = Number.POSITIVE_INFINITY;
  /**
   * Whether a window is open (`flush` has work at `nextDue()`). A boolean the fabric reads after every run of
   * frames: reading the time itself through a call that V8 does not inline would box a double every time.
   */
  open = false;

  constructor(windowMs = DENIAL_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  /**
   * A denial at `now`: -1 when it falls in the pair's current window (suppressed, counted), else it opens a new
   * window and is to be reported, carrying the returned count of earlier denials not reported yet (usually 0).
   */
  admit(havipId: string, vnicId: string, reason: ClaimDenialReason, now: number): number {
    let byVnic = this.windows.get(havipId);
    if (byVnic === undefined) {
      byVnic = new Map();
      this.windows.set(havipId, byVnic);
    }
    let w = byVnic.get(vnicId);
    if (w === undefined) {
      w = new Float64Array(REASONS.length * SLOTS).fill(NO_WINDOW);
      for (let r = 0; r < REASONS.length; r++) w[r * SLOTS + 2] = 0;
      byVnic.set(vnicId, w);
    }
    const i = REASON_INDEX[reason] * SLOTS;
    const start = w[i]!;
    if (now >= start && now - start < this.windowMs) {
      w[i + 1] = now;
      w[i + 2] = w[i + 2]! + 1;
      return -1;
    }
    const carried = w[i + 2]!;
    w[i] = now;
    w[i + 1] = now;
    w[i + 2] = 0;
    if (now + this.windowMs < this.due) this.due = now + this.windowMs;
    this.open = true;
    return carried;
  }

  /** When the earliest window ends (+∞: none open): `flush` has work then. */
  nextDue(): number {
    return this.due;
  }

  /**
   * Ends the windows that are over at `now`: a window with suppressed denials reports them (its last one, with
   * the count before it) and opens the next window, so that a flood that goes on is reported once per window;
   * a window without is forgotten.
   */
  flush(now: number, sink: FlushSink): void {
    let due = Number.POSITIVE_INFINITY;
    for (const [havipId, byVnic] of this.windows) {
      for (const [vnicId, w] of byVnic) {
        let open = false;
        for (let r = 0; r < REASONS.length; r++) {
          const i = r * SLOTS;
          const start = w[i]!;
          if (start === NO_WINDOW) continue;
          const end = start + this.windowMs;
          if (end > now && now >= start) {
            open = true;
            if (end < due) due = end;
            continue;
          }
          const suppressed = w[i + 2]!;
          if (suppressed === 0) {
            w[i] = NO_WINDOW;
            continue;
          }
          sink(havipId, vnicId, REASONS[r]!, w[i + 1]!, suppressed - 1);
          // The next window starts where this one ended (now, if the clock went back).
          const next = end > now ? now : end;
          w[i] = next;
          w[i + 2] = 0;
          open = true;
          if (next + this.windowMs < due) due = next + this.windowMs;
        }
        if (!open) byVnic.delete(vnicId);
      }
      if (byVnic.size === 0) this.windows.delete(havipId);
    }
    this.due = due;
    this.open = due !== Number.POSITIVE_INFINITY;
  }
}
