// Time is injected: the fabric reads it, never the system directly, so that it is deterministic under a
// manual clock (tests) and real under the system clock. Milliseconds, any epoch (observations carry it as is).

export interface Clock {
  now(): number;
}

/** A clock that can also run a callback later (the fault-injection delay needs one). */
export interface TimerClock extends Clock {
  setTimer(delayMs: number, callback: () => void): Timer;
}

export interface Timer {
  cancel(): void;
}

/** Wall-clock milliseconds since the Unix epoch, with sub-millisecond resolution. */
export const systemClock: TimerClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer(delayMs, callback) {
    const t = setTimeout(callback, delayMs);
    return {
      cancel: () => {
        clearTimeout(t);
      },
    };
  },
};
