// Fault injection around a port: loss, delay (driven by the clock), duplication, and partition of the port.
// Deterministic: every random choice comes from a PRNG seeded by the options, and delays run on the injected
// clock (a manual clock in tests).
import type { TimerClock } from "../clock.ts";
import type { FrameReceiver, Port } from "./port.ts";
import { mulberry32 } from "./prng.ts";

export interface FaultOptions {
  /** Probability (0–1) that a frame is lost. */
  loss?: number;
  /** Probability (0–1) that a frame is delivered twice. */
  duplicate?: number;
  /** Delay added to every frame, ms. */
  delayMs?: number;
  /** Extra random delay, uniform in [0, jitterMs) ms; frames may then be reordered. */
  jitterMs?: number;
  /** Which way the faults apply: frames the port receives (`rx`, towards the fabric), sends (`tx`), or both. */
  direction?: "rx" | "tx" | "both";
  /** PRNG seed. */
  seed?: number;
}

export interface FaultCounters {
  passed: number;
  lost: number;
  duplicated: number;
  delayed: number;
  /** Frames dropped because the port was partitioned. */
  partitioned: number;
}

export class FaultyPort implements Port {
  readonly id: string;
  readonly counters: FaultCounters = { passed: 0, lost: 0, duplicated: 0, delayed: 0, partitioned: 0 };
  /** While true, nothing passes in either direction. */
  partitioned = false;
  private readonly inner: Port;
  private readonly clock: TimerClock;
  private options: Required<FaultOptions>;
  private random: () => number;
  private receiver: FrameReceiver | null = null;

  constructor(inner: Port, clock: TimerClock, options: FaultOptions = {}) {
    this.id = inner.id;
    this.inner = inner;
    this.clock = clock;
    this.options = FaultyPort.complete(options);
    this.random = mulberry32(this.options.seed);
  }

  private static complete(o: FaultOptions): Required<FaultOptions> {
    return {
      loss: o.loss ?? 0,
      duplicate: o.duplicate ?? 0,
      delayMs: o.delayMs ?? 0,
      jitterMs: o.jitterMs ?? 0,
      direction: o.direction ?? "both",
      seed: o.seed ?? 1,
    };
  }

  /** Changes the faults (the PRNG is reseeded when a seed is given). */
  setFaults(options: FaultOptions): void {
    this.options = FaultyPort.complete({ ...this.options, ...options });
    if (options.seed !== undefined) this.random = mulberry32(options.seed);
  }

  send(frame: Uint8Array, len: number): void {
    this.pass("tx", frame, len, (f, l) => {
      this.inner.send(f, l);
    });
  }

  setReceiver(receiver: FrameReceiver | null): void {
    this.receiver = receiver;
    this.inner.setReceiver(
      receiver === null
        ? null
        : (frame, len) => {
            this.pass("rx", frame, len, (f, l) => {
              this.receiver?.(f, l);
            });
          },
    );
  }

  private pass(way: "rx" | "tx", frame: Uint8Array, len: number, deliver: FrameReceiver): void {
    if (this.partitioned) {
      this.counters.partitioned++;
      return;
    }
    const o = this.options;
    if (o.direction !== "both" && o.direction !== way) {
      deliver(frame, len);
      return;
    }
    if (o.loss > 0 && this.random() < o.loss) {
      this.counters.lost++;
      return;
    }
    const copies = o.duplicate > 0 && this.random() < o.duplicate ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    this.counters.passed++;
    const delay = o.delayMs + (o.jitterMs > 0 ? this.random() * o.jitterMs : 0);
    if (delay <= 0) {
      for (let i = 0; i < copies; i++) deliver(frame, len);
      return;
    }
    // The buffer is only valid during this call: keep a copy for later.
    const copy = frame.slice(0, len);
    this.counters.delayed++;
    this.clock.setTimer(delay, () => {
      // A partition that began meanwhile cuts frames still in flight.
      if (this.partitioned) {
        this.counters.partitioned++;
        return;
      }
      for (let i = 0; i < copies; i++) deliver(copy, copy.length);
    });
  }
}
