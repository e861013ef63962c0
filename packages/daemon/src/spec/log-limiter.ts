// havipd's `claim denied` lines, rate-limited: a forged-announcement flood must not fill the log. The fabric
// already reports a pair's denials at most once a second (each observation standing for `1 + suppressed`); here
// at most one line per (HAVIP, vNIC) per `pairIntervalMs` and `linesPerSecond` lines over all pairs are written.
// What is not written is counted per pair and carried by the pair's next line (`suppressed`: the pair's denials
// not written since its last line, whatever their reason); a pair whose flood stopped gets that line from a timer,
// so its final count is never lost. Each line stands for `1 + suppressed` denials, as observations do.
import type { ClaimDenied, TimerClock } from "@havip/fabric";

export interface ClaimDeniedLogOptions {
  /** Lines per second over every pair (a token bucket, this deep). Default 10. */
  linesPerSecond?: number;
  /** The least time between two lines of one (HAVIP, vNIC) pair, ms. Default 1000. */
  pairIntervalMs?: number;
  /**
   * Writes a line the limiter makes by itself for a pair with suppressed denials: an observation to pass to
   * `admit` again, which lets it through as it is.
   */
  flush: (line: ClaimDenied) => void;
  /** Default: performance.now, with timers that do not keep the process alive. */
  clock?: TimerClock;
}

const unrefClock: TimerClock = {
  now: () => performance.now(),
  setTimer(delayMs, callback) {
    const t = setTimeout(callback, delayMs);
    t.unref();
    return {
      cancel: () => {
        clearTimeout(t);
      },
    };
  },
};

/** Pairs kept before the quiet ones are forgotten (the timer forgets them too, when it runs). */
const MAX_QUIET_PAIRS = 4096;

interface Pair {
  lastLineAt: number;
  /** Denials not written since the last line. */
  pending: number;
  /** The latest observation not written (the timer's line shows it). */
  last: ClaimDenied | null;
}

export class ClaimDeniedLogLimiter {
  private readonly linesPerSecond: number;
  private readonly pairIntervalMs: number;
  private readonly flush: (line: ClaimDenied) => void;
  private readonly clock: TimerClock;
  private readonly pairs = new Map<string, Pair>();
  private readonly own = new WeakSet<ClaimDenied>();
  private tokens: number;
  private refilledAt: number;
  private timer: { cancel(): void } | null = null;
  private closed = false;

  constructor(options: ClaimDeniedLogOptions) {
    this.linesPerSecond = options.linesPerSecond ?? 10;
    this.pairIntervalMs = options.pairIntervalMs ?? 1000;
    this.flush = options.flush;
    this.clock = options.clock ?? unrefClock;
    this.tokens = this.linesPerSecond;
    this.refilledAt = this.clock.now();
  }

  /**
   * The line to write for `o` (with `suppressed` counting the pair's earlier denials not written), or null when
   * it is counted instead. The limiter's own flushed lines pass as they are.
   */
  admit(o: ClaimDenied): ClaimDenied | null {
    if (this.own.has(o)) return o;
    const now = this.clock.now();
    const key = `${o.havipId}\u0000${o.vnicId}`;
    let pair = this.pairs.get(key);
    if (pair === undefined) {
      if (this.pairs.size >= MAX_QUIET_PAIRS) this.forgetQuiet(now);
      pair = { lastLineAt: Number.NEGATIVE_INFINITY, pending: 0, last: null };
      this.pairs.set(key, pair);
    }
    if (now - pair.lastLineAt >= this.pairIntervalMs && this.take(now)) {
      const suppressed = pair.pending + (o.suppressed ?? 0);
      pair.lastLineAt = now;
      pair.pending = 0;
      pair.last = null;
      return withSuppressed(o, suppressed);
    }
    pair.pending += 1 + (o.suppressed ?? 0);
    pair.last = o;
    this.arm();
    return null;
  }

  /** Stops the timer; counts still pending are not written. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private take(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.linesPerSecond, this.tokens + (elapsed * this.linesPerSecond) / 1000);
    }
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Forgets the pairs with nothing pending whose interval is over (they would start afresh anyway). */
  private forgetQuiet(now: number): void {
    for (const [key, pair] of this.pairs) {
      if (pair.last === null && now - pair.lastLineAt >= this.pairIntervalMs) this.pairs.delete(key);
    }
  }

  private arm(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.clock.setTimer(this.pairIntervalMs, () => {
      this.timer = null;
      this.sweep();
    });
  }

  /** Writes the lines of pairs with pending denials whose interval has passed (as many as the rate allows). */
  private sweep(): void {
    const now = this.clock.now();
    let waiting = false;
    for (const [key, pair] of this.pairs) {
      const due = now - pair.lastLineAt >= this.pairIntervalMs;
      if (pair.last === null) {
        if (due) this.pairs.delete(key);
        continue;
      }
      if (!due || !this.take(now)) {
        waiting = true;
        continue;
      }
      const line = withSuppressed(pair.last, pair.pending - 1);
      pair.lastLineAt = now;
      pair.pending = 0;
      pair.last = null;
      this.own.add(line);
      this.flush(line);
    }
    if (waiting) this.arm();
  }
}

function withSuppressed(o: ClaimDenied, suppressed: number): ClaimDenied {
  const { suppressed: _, ...rest } = o;
  return suppressed > 0 ? { ...rest, suppressed } : rest;
}
