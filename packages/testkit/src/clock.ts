// A manual clock: time moves only when a test says so, and timers fire in time order while it does. Shaped
// like the fabric's TimerClock (structurally: testkit does not depend on the fabric).

export interface ManualTimer {
  cancel(): void;
}

interface Pending {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

export class ManualClock {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  /** Starts at `start` milliseconds (a fixed, realistic epoch time by default). */
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Runs `callback` when the clock has advanced by `delayMs` (0: at the next advance, even by 0). */
  setTimer(delayMs: number, callback: () => void): ManualTimer {
    const p: Pending = { at: this.t + Math.max(0, delayMs), seq: this.seq++, callback, cancelled: false };
    this.pending.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
      },
    };
  }

  /**
   * Moves time forward by `ms`, firing due timers in order (earliest first, then in the order they were
   * set); the clock reads each timer's due time while its callback runs. Timers set by callbacks fire too
   * when they fall due within the advance.
   */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError("a clock does not go back");
    const end = this.t + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (next === undefined) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.t = Math.max(this.t, next.at);
      if (!next.cancelled) next.callback();
    }
    this.t = end;
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  private nextDue(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending) {
      if (p.at > end) continue;
      if (best === undefined || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    return best;
  }
}
