// The fabric: the compiled spec, the pipeline, the attached ports and the observers. Frames a port receives are
// processed synchronously, in the call that delivers them; their outputs are transmitted before the call
// returns, then observations are reported. Spec changes are compiled and swapped in between two frames, so
// they take effect on the next frame.
import { VERDICT, type Verdict } from "./actions.ts";
import { systemClock, type Clock, type Timer, type TimerClock } from "./clock.ts";
import { PortStats, type HistogramSnapshot } from "./counters.ts";
import type { Observation, ObservationListener } from "./observations.ts";
import { Pipeline } from "./pipeline.ts";
import { DEFAULT_POLICING, policingProblems, type PolicedCounts, type PolicingConfig } from "./policers.ts";
import type { FrameRecorder } from "./ports/capture.ts";
import type { Port } from "./ports/port.ts";
import { DROP_REASONS, dropReasonOf, type DropReason } from "./reasons.ts";
import { type NetworkSpec, SpecState, emptySpec, type SpecChange } from "./spec.ts";
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig } from "./state.ts";
import { applyHolderUpserts, holderOnlyUpserts } from "./holder-updates.ts";
import { HaVipRuntime, compileSpec, type Release, type Tables, type VnicEntry } from "./tables.ts";
import { FrameTap, addressFilter, portFilter, type CaptureTarget, type TapPort } from "./taps.ts";
import {
  DEFAULT_VERIFICATION,
  Verification,
  checkVerificationOptions,
  type VerificationOptions,
  type VerificationOutcome,
} from "./verification.ts";

export interface FabricOptions {
  /** Defaults to the system clock. A manual clock makes the fabric deterministic. */
  clock?: Clock;
  /** Holder changes allowed per HAVIP per second (storm guard). Default 20. */
  maxHolderChangesPerSecond?: number;
  /** Verify TCP/UDP/ICMP checksums at ingress. Default true. */
  verifyTransportChecksums?: boolean;
  /** Internet-side neighbour cache size. Default 256. */
  neighbourCacheSize?: number;
  /** Minimum interval between ARP requests for one internet next hop, ms. Default 1000. */
  neighbourRequestIntervalMs?: number;
  /**
   * Per-vNIC limits on ARP and on broadcast/multicast frames (token buckets; excess dropped as `rate-limited`).
   * Default: ARP 200/s with a burst of 400, broadcast/multicast 1000/s with a burst of 2000 (policers.ts says
   * why). A rate of 0 turns that bucket off; null turns policing off. Throws RangeError on a negative rate or a
   * burst under 1.
   */
  policing?: PolicingConfig | null;
  /**
   * A high-resolution clock (ms) for the announcement-to-repoint latency; defaults to `performance.now`, or to
   * `clock` when one is injected. Read only for ARP frames (on arrival) and holder changes.
   */
  latencyClock?: () => number;
  /**
   * Holder verification (verification.ts): probes that ask which vNICs have each HAVIP's address, periodically and
   * whenever a holder comes from elsewhere. `true`: the defaults; an object: some of them changed. Needs a clock
   * with timers (the system clock, or a manual clock in tests). Off by default, so that a fabric in a test sends
   * nothing it was not asked to.
   */
  verification?: boolean | Partial<VerificationOptions>;
  /**
   * Flap detection: this many holder changes within `flapWindowMs` among two or more vNICs make a HAVIP contested
   * (default 4 in 2000 ms; 0 turns it off).
   */
  flapChanges?: number;
  flapWindowMs?: number;
  /**
   * Called when an observer throws. The data plane carries on either way; by default the error is rethrown
   * from a microtask, outside the frame's processing, so that it is not lost.
   */
  onObserverError?: (error: unknown) => void;
}

/**
 * The default latency clock. One function for every fabric: a closure per fabric would be a new call target
 * for the optimised announcement path in each, and the first announcement in a live fabric would throw away the
 * code its warm-up had optimised (warm-up.ts).
 */
const performanceNow = (): number => performance.now();

/** A spec (or a batch of changes) that does not compile; the fabric keeps running the previous one. */
export class SpecError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid network spec: ${problems.join("; ")}`);
    this.name = "SpecError";
    this.problems = problems;
  }
}

export interface PortCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames received on this port and dropped. */
  drops: number;
  /** Exceptions thrown by the port's send (a port must not throw; counted, never propagated). */
  sendErrors: number;
}

export interface HaVipCounters {
  holderVnicId: string | null;
  generation: number;
  /** Several vNICs hold the address at once (split brain); null otherwise. */
  contest: { since: number; claimants: string[] } | null;
  verifications: number;
  probesSent: number;
  probeAnswers: number;
  verifiedChanges: number;
  withdrawals: number;
  contestDamped: number;
  delivered: number;
  claims: number;
  holderChanges: number;
  deniedClaims: number;
  stormGuarded: number;
  fenced: number;
}

export interface FabricCounters {
  at: number;
  frames: {
    in: number;
    forwarded: number;
    flooded: number;
    floodCopies: number;
    arpReplies: number;
    consumed: number;
    dropped: number;
    natOutbound: number;
    natInbound: number;
    arpRequestsSent: number;
  };
  drops: Record<DropReason, number>;
  ports: Record<string, PortCounters>;
  havips: Record<string, HaVipCounters>;
  /** From a valid announcement's arrival at the fabric to its holder being re-pointed (microseconds). */
  announceToRepoint: HistogramSnapshot;
  /** Frames dropped as `rate-limited`, by vNIC id: only vNICs that had any. */
  policed: Record<string, PolicedCounts>;
}

/** A capture target the fabric does not know (a HAVIP that is not in its spec). */
export class UnknownCaptureTarget extends Error {}

export interface Holder {
  vnicId: string;
  generation: number;
  /** When this holder took the address (clock time). */
  since: number;
}

/** A HAVIP's holder state as the fabric knows it (for a control plane that (re)connects). */
export interface HolderState {
  havipId: string;
  holderVnicId: string | null;
  generation: number;
  since: number;
  /** Why the holder last changed in this fabric; null: taken from the spec (the control plane knows it). */
  reason: "announcement" | "verified" | "withdrawn" | null;
  contest: { since: number; claimants: string[] } | null;
}

export type VerdictName = "none" | "forwarded" | "flooded" | "replied" | "consumed" | "dropped";
const VERDICT_NAMES: readonly VerdictName[] = ["none", "forwarded", "flooded", "replied", "consumed", "dropped"];

/** What happened to the last frame processed (for tests and diagnostics). */
export interface Outcome {
  verdict: VerdictName;
  reason: DropReason | null;
  detail: string | null;
  /** Ids of the ports the frame (or the fabric's answer) was sent to. */
  sentTo: string[];
}

class PortSlot {
  readonly port: Port;
  readonly counters = new PortStats();
  constructor(port: Port) {
    this.port = port;
  }
}

export class Fabric {
  readonly clock: Clock;
  private spec: SpecState;
  private runtimes: Map<string, HaVipRuntime>;
  private readonly pipeline: Pipeline;
  private readonly slots: (PortSlot | null)[] = [];
  private readonly portIndex = new Map<string, number>();
  private readonly listeners = new Set<ObservationListener>();
  private processing = false;
  private compileCount = 0;
  private readonly backlog: { index: number; frame: Uint8Array; arrivedAt: number }[] = [];
  private readonly latencyClock: () => number;
  // Live captures; replaced (never mutated) on change, so a tap removed while a frame is recorded is safe.
  private taps: readonly FrameTap[] = [];
  private lastVerdict: Verdict = VERDICT.NONE;
  private lastDrop = -1;
  private lastDetail: string | null = null;
  // The ports the last frame was sent to: indices in a reused array (no allocation per frame).
  private lastSentTo = new Int32Array(16);
  private lastSentCount = 0;
  private readonly onObserverError: (error: unknown) => void;
  private wakeListener: (() => void) | null = null;
  // Reports the denied claims a window suppressed when it ends (claim-denials.ts); needs a clock with timers.
  private readonly timerClock: TimerClock | null;
  private denialFlush: Timer | null = null;
  private readonly flushDenials = (): void => {
    this.denialFlush = null;
    const at = this.clock.now();
    this.pipeline.state.denials.flush(at, (havipId, vnicId, reason, last, suppressed) => {
      this.emit(
        suppressed === 0
          ? { kind: "claim-denied", havipId, vnicId, reason, at: last }
          : { kind: "claim-denied", havipId, vnicId, reason, at: last, suppressed },
      );
    });
    this.scheduleDenialFlush();
  };
  private readonly verification: Verification | null = null;
  private wakeQueued = false;
  private readonly runWakeListener = (): void => {
    this.wakeQueued = false;
    const listener = this.wakeListener;
    if (listener === null) return;
    try {
      listener();
    } catch (err) {
      this.onObserverError(err);
    }
  };

  constructor(spec: NetworkSpec = emptySpec(), options: FabricOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.onObserverError =
      options.onObserverError ??
      ((err: unknown) => {
        queueMicrotask(() => {
          throw err;
        });
      });
    const policing = options.policing === undefined ? DEFAULT_POLICING : options.policing;
    const policingInvalid = policing === null ? [] : policingProblems(policing);
    if (policingInvalid.length > 0) throw new RangeError(`policing: ${policingInvalid.join("; ")}`);
    const config: PipelineConfig = {
      maxHolderChangesPerSecond: options.maxHolderChangesPerSecond ?? DEFAULT_PIPELINE_CONFIG.maxHolderChangesPerSecond,
      verifyTransportChecksums: options.verifyTransportChecksums ?? DEFAULT_PIPELINE_CONFIG.verifyTransportChecksums,
      neighbourCacheSize: options.neighbourCacheSize ?? DEFAULT_PIPELINE_CONFIG.neighbourCacheSize,
      neighbourRequestIntervalMs:
        options.neighbourRequestIntervalMs ?? DEFAULT_PIPELINE_CONFIG.neighbourRequestIntervalMs,
      flapChanges: options.flapChanges ?? DEFAULT_PIPELINE_CONFIG.flapChanges,
      flapWindowMs: options.flapWindowMs ?? DEFAULT_PIPELINE_CONFIG.flapWindowMs,
      policing: policing === null ? null : { ...policing },
    };
    this.timerClock =
      typeof (this.clock as Partial<TimerClock>).setTimer === "function" ? (this.clock as TimerClock) : null;
    this.spec = new SpecState(spec);
    const result = compileSpec(this.spec, new Map(), this.clock.now());
    if (!result.ok) throw new SpecError(result.problems);
    this.runtimes = result.runtimes;
    this.pipeline = new Pipeline(result.tables, config, this.clock);
    // performance.now (monotonic, sub-microsecond) unless a clock is injected: a manual clock stays deterministic.
    const injected = options.clock;
    this.latencyClock = options.latencyClock ?? (injected === undefined ? performanceNow : () => injected.now());
    this.pipeline.state.latencyClock = this.latencyClock;
    if (options.verification !== undefined && options.verification !== false) {
      const chosen: VerificationOptions = {
        ...DEFAULT_VERIFICATION,
        ...(options.verification === true ? {} : options.verification),
      };
      const problems = checkVerificationOptions(chosen);
      if (problems.length > 0) throw new RangeError(problems.join("; "));
      const clock = this.clock as Partial<TimerClock>;
      if (typeof clock.setTimer !== "function") throw new TypeError("verification needs a clock with timers");
      this.verification = new Verification(
        {
          state: this.pipeline.state,
          send: (index, frame, len) => {
            this.sendFrame(index, frame, len);
          },
          emit: (o) => {
            this.emit(o);
          },
        },
        this.clock as TimerClock,
        chosen,
      );
    }
  }

  // ── the spec ────────────────────────────────────────────────────────────────────────────────────────────

  /** Replaces the whole spec. Throws SpecError (and changes nothing) when it does not compile. */
  applySpec(spec: NetworkSpec): void {
    this.install(new SpecState(spec));
  }

  /** Applies a batch of incremental changes atomically. Throws SpecError (and changes nothing) on problems. */
  applyChanges(changes: readonly SpecChange[]): void {
    const holders = holderOnlyUpserts(this.spec, changes);
    if (holders !== null) {
      // The control plane confirming (or correcting) holders: no recompile, so a failover never stalls traffic.
      const released = applyHolderUpserts(this.spec, this.pipeline.state.tables, holders, this.clock.now());
      this.reportReleases(released);
      return;
    }
    const next = this.spec.clone();
    next.apply(changes);
    this.install(next);
  }

  /** How many times a spec or a batch of changes was compiled into new tables (holder-only batches are not). */
  get compiles(): number {
    return this.compileCount;
  }

  /** The current desired state, with each HAVIP's holder and generation as the fabric knows them. */
  currentSpec(): NetworkSpec {
    const spec = this.spec.toSpec();
    spec.havips = spec.havips.map((h) => {
      const rt = this.runtimes.get(h.id);
      return rt === undefined ? h : { ...h, holderVnicId: rt.holderVnicId, generation: rt.generation };
    });
    return spec;
  }

  private install(next: SpecState): void {
    const result = compileSpec(next, this.runtimes, this.clock.now());
    if (!result.ok) throw new SpecError(result.problems);
    this.compileCount++;
    const s = this.pipeline.state;
    const internetChanged = JSON.stringify(next.internet) !== JSON.stringify(this.spec.internet);
    this.spec = next;
    this.runtimes = result.runtimes;
    s.tables = result.tables;
    if (internetChanged) s.neighbours.clear();
    this.bindPorts();
    this.reportReleases(result.released);
    if (internetChanged) this.resolveNextHop();
  }

  private reportReleases(released: readonly Release[]): void {
    const at = this.clock.now();
    for (const r of released) {
      this.emit({
        kind: "holder-released",
        havipId: r.havipId,
        previousVnicId: r.previousVnicId,
        generation: r.generation,
        reason: "spec",
        at,
      });
    }
  }

  /** Points each vNIC at its attached port (and the pipeline's port roles at the tables). */
  private bindPorts(): void {
    const s = this.pipeline.state;
    const tables: Tables = s.tables;
    const byPort: (VnicEntry | null)[] = new Array<VnicEntry | null>(this.slots.length).fill(null);
    for (const v of tables.vnics.values()) {
      const i = this.portIndex.get(v.portId) ?? -1;
      v.portIndex = i;
      if (i >= 0) byPort[i] = v;
    }
    s.vnicByPort = byPort;
    s.internetPort = tables.internet === null ? -1 : (this.portIndex.get(tables.internet.portId) ?? -1);
  }

  // ── ports ───────────────────────────────────────────────────────────────────────────────────────────────

  /** Attaches a port; from now on the frames it receives are processed. Port ids are unique. */
  attachPort(port: Port): void {
    if (this.portIndex.has(port.id)) throw new Error(`port ${port.id} is already attached`);
    let index = this.slots.indexOf(null);
    if (index < 0) index = this.slots.length;
    this.slots[index] = new PortSlot(port);
    this.portIndex.set(port.id, index);
    port.setReceiver((frame, len) => {
      this.handle(index, frame, len);
    });
    this.bindPorts();
    if (this.pipeline.state.internetPort === index) this.resolveNextHop();
  }

  detachPort(id: string): void {
    const index = this.portIndex.get(id);
    if (index === undefined) return;
    this.slots[index]!.port.setReceiver(null);
    this.slots[index] = null;
    this.portIndex.delete(id);
    this.bindPorts();
    // A holder whose port went away may be gone with it: ask at once who has its HAVIPs now.
    if (this.verification !== null) {
      const held: string[] = [];
      for (const h of this.pipeline.state.tables.havips.values()) if (h.holder?.portId === id) held.push(h.id);
      if (held.length > 0) this.verification.request(held);
    }
  }

  /** Sends a frame the fabric made itself (outside any frame's processing) to the port at `index`. */
  private sendFrame(index: number, frame: Uint8Array, len: number): void {
    const slot = this.slots[index];
    if (slot == null) return;
    slot.counters.txFrames++;
    slot.counters.txBytes += len;
    if (this.taps.length !== 0) this.tap(index, frame, len);
    try {
      slot.port.send(frame, len);
    } catch {
      slot.counters.sendErrors++;
    }
  }

  // ── verification ────────────────────────────────────────────────────────────────────────────────────────

  /** Whether this fabric verifies holders (the `verification` option). */
  get verifies(): boolean {
    return this.verification !== null;
  }

  /**
   * Asks who has each HAVIP's address (every HAVIP when `havipIds` is null) and resolves with each round's outcome;
   * holder changes, releases and contests it finds are reported as observations as well. Unknown ids are left
   * out. Rejects when verification is off.
   */
  verify(havipIds: readonly string[] | null = null): Promise<VerificationOutcome[]> {
    if (this.verification === null) return Promise.reject(new Error("holder verification is off in this fabric"));
    return this.verification.verify(havipIds);
  }

  /** Makes a verification round of each HAVIP (every one when null) due now, without waiting for it. */
  requestVerification(havipIds: readonly string[] | null = null): void {
    this.verification?.request(havipIds);
  }

  /** Every HAVIP's holder, generation and contest, as this fabric knows them. */
  holderStates(): HolderState[] {
    const out: HolderState[] = [];
    for (const [havipId, rt] of this.runtimes) {
      out.push({
        havipId,
        holderVnicId: rt.holderVnicId,
        generation: rt.generation,
        since: rt.holderSince,
        reason: rt.lastReason,
        contest: rt.contest === null ? null : { since: rt.contest.since, claimants: [...rt.contest.claimants] },
      });
    }
    return out;
  }

  /** Processes a frame as if port `portId` had received it (the port must be attached). */
  receive(portId: string, frame: Uint8Array, len = frame.length): void {
    const index = this.portIndex.get(portId);
    if (index === undefined) throw new Error(`port ${portId} is not attached`);
    this.handle(index, frame, len);
  }

  private handle(index: number, frame: Uint8Array, len: number): void {
    // ARP frames may be announcements: stamp their arrival for the announcement-to-repoint latency.
    const arrivedAt = len >= 14 && frame[12] === 0x08 && frame[13] === 0x06 ? this.latencyClock() : -1;
    if (this.processing) {
      // Re-entered from a port's send or an observer: finish the current frame first.
      this.backlog.push({ index, frame: frame.slice(0, len), arrivedAt });
      return;
    }
    this.processing = true;
    try {
      this.processOne(index, frame, len, arrivedAt);
      while (this.backlog.length > 0) {
        const next = this.backlog.shift()!;
        this.processOne(next.index, next.frame, next.frame.length, next.arrivedAt);
      }
    } finally {
      this.processing = false;
      if (this.denialFlush === null && this.timerClock !== null && this.pipeline.state.denials.open) {
        this.scheduleDenialFlush();
      }
      if (this.wakeListener !== null && !this.wakeQueued) {
        this.wakeQueued = true;
        queueMicrotask(this.runWakeListener);
      }
    }
  }

  /** Arms the timer that reports suppressed denied claims when their window ends, if any window is open. */
  private scheduleDenialFlush(): void {
    const due = this.pipeline.state.denials.nextDue();
    if (due === Number.POSITIVE_INFINITY || this.timerClock === null) return;
    this.denialFlush = this.timerClock.setTimer(Math.max(0, due - this.clock.now()), this.flushDenials);
  }

  /**
   * `listener` runs once after each run of frames that arrived together: in a microtask after the last of them
   * (what they sent has left by then). For work that should ride on the wake-ups the data plane has anyway
   * rather than on a timer of its own (the warm keeper, warm-up.ts). One listener; null removes it. Errors go
   * where an observer's go.
   */
  setWakeListener(listener: (() => void) | null): void {
    this.wakeListener = listener;
  }

  private processOne(index: number, frame: Uint8Array, len: number, arrivedAt: number): void {
    const slot = this.slots[index];
    if (slot == null) return;
    slot.counters.rxFrames++;
    slot.counters.rxBytes += len;
    if (this.taps.length !== 0) this.tap(index, frame, len);
    const p = this.pipeline;
    p.state.arrivedAt = arrivedAt;
    p.process(index, frame, len);
    const out = p.state.out;
    this.lastVerdict = out.verdict;
    this.lastDrop = out.drop;
    this.lastDetail = out.detail;
    if (out.verdict === VERDICT.DROPPED) slot.counters.drops++;
    this.dispatch();
  }

  /** Transmits the pipeline's queued frames, then reports its observations. */
  private dispatch(): void {
    const out = this.pipeline.state.out;
    this.lastSentCount = 0;
    for (let i = 0; i < out.count; i++) {
      const index = out.ports[i]!;
      if (this.lastSentCount === this.lastSentTo.length) {
        const grown = new Int32Array(this.lastSentTo.length * 2);
        grown.set(this.lastSentTo);
        this.lastSentTo = grown;
      }
      this.lastSentTo[this.lastSentCount++] = index;
      const slot = this.slots[index];
      if (slot == null) continue;
      const len = out.lens[i]!;
      slot.counters.txFrames++;
      slot.counters.txBytes += len;
      if (this.taps.length !== 0) this.tap(index, out.bufs[i]!, len);
      try {
        slot.port.send(out.bufs[i]!, len);
      } catch {
        slot.counters.sendErrors++;
      }
    }
    if (out.observations.length > 0) {
      const observations = out.observations.slice();
      for (const o of observations) this.emit(o);
    }
  }

  private resolveNextHop(): void {
    if (this.processing) return;
    this.pipeline.resolveNextHop();
    this.dispatch();
  }

  // ── captures ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Starts a live capture: every frame received or sent on the target's ports that the target selects is
   * written to `recorder` (timestamped by the fabric's clock), until the returned function is called.
   * A HAVIP target selects the frames that carry its address on the ports of its VPC; throws
   * UnknownCaptureTarget for a HAVIP the fabric does not know. A port target may name a port not attached yet.
   */
  startCapture(target: CaptureTarget, recorder: FrameRecorder): () => void {
    let tap: FrameTap;
    if (target.kind === "port") {
      tap = new FrameTap(portFilter(target.portId), recorder);
    } else {
      const havip = this.pipeline.state.tables.havips.get(target.havipId);
      if (havip === undefined) throw new UnknownCaptureTarget(`the fabric does not know HAVIP ${target.havipId}`);
      tap = new FrameTap(addressFilter(havip.vpc.id, havip.ip), recorder);
    }
    this.taps = [...this.taps, tap];
    return () => {
      this.taps = this.taps.filter((t) => t !== tap);
    };
  }

  private tap(index: number, frame: Uint8Array, len: number): void {
    const slot = this.slots[index];
    if (slot == null) return;
    const vnic = this.pipeline.state.vnicByPort[index];
    const port: TapPort = { portId: slot.port.id, vpcId: vnic == null ? null : vnic.vpc.id };
    let ts: bigint | null = null;
    for (const t of this.taps) {
      if (!t.filter(port, frame, len)) continue;
      ts ??= BigInt(Math.round(this.clock.now() * 1000));
      try {
        t.recorder.write(ts, frame, len);
      } catch (err) {
        this.onObserverError(err);
      }
    }
  }

  // ── observations and counters ───────────────────────────────────────────────────────────────────────────

  /** Subscribes to observations; returns the unsubscribe function. */
  onObservation(listener: ObservationListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(o: Observation): void {
    for (const l of this.listeners) {
      try {
        l(o);
      } catch (err) {
        // An observer's bug must not stop the data plane.
        this.onObserverError(err);
      }
    }
  }

  holderOf(havipId: string): Holder | null {
    const rt = this.runtimes.get(havipId);
    if (rt === undefined || rt.holderVnicId === null) return null;
    return { vnicId: rt.holderVnicId, generation: rt.generation, since: rt.holderSince };
  }

  /** What happened to the last frame processed. */
  lastOutcome(): Outcome {
    return {
      verdict: VERDICT_NAMES[this.lastVerdict]!,
      reason: this.lastDrop < 0 ? null : dropReasonOf(this.lastDrop),
      detail: this.lastDetail,
      sentTo: Array.from(this.lastSentTo.subarray(0, this.lastSentCount), (i) => this.slots[i]?.port.id ?? `#${i}`),
    };
  }

  counters(): FabricCounters {
    const c = this.pipeline.state.counters;
    const drops = {} as Record<DropReason, number>;
    DROP_REASONS.forEach((r, i) => {
      drops[r] = c.drops[i]!;
    });
    const ports: Record<string, PortCounters> = {};
    for (const slot of this.slots) {
      if (slot === null) continue;
      const p = slot.counters;
      ports[slot.port.id] = {
        rxFrames: p.rxFrames,
        rxBytes: p.rxBytes,
        txFrames: p.txFrames,
        txBytes: p.txBytes,
        drops: p.drops,
        sendErrors: p.sendErrors,
      };
    }
    const havips: Record<string, HaVipCounters> = {};
    for (const [id, rt] of this.runtimes) {
      const st = rt.stats;
      havips[id] = {
        holderVnicId: rt.holderVnicId,
        generation: rt.generation,
        contest: rt.contest === null ? null : { since: rt.contest.since, claimants: [...rt.contest.claimants] },
        verifications: st.verifications,
        probesSent: st.probesSent,
        probeAnswers: st.probeAnswers,
        verifiedChanges: st.verifiedChanges,
        withdrawals: st.withdrawals,
        contestDamped: st.contestDamped,
        delivered: st.delivered,
        claims: st.claims,
        holderChanges: st.holderChanges,
        deniedClaims: st.deniedClaims,
        stormGuarded: st.stormGuarded,
        fenced: st.fenced,
      };
    }
    return {
      at: this.clock.now(),
      frames: {
        in: c.framesIn,
        forwarded: c.forwarded,
        flooded: c.flooded,
        floodCopies: c.floodCopies,
        arpReplies: c.arpReplies,
        consumed: c.consumed,
        dropped: c.dropped,
        natOutbound: c.natOutbound,
        natInbound: c.natInbound,
        arpRequestsSent: c.arpRequestsSent,
      },
      drops,
      ports,
      havips,
      announceToRepoint: c.announceToRepoint.snapshot(),
      policed: this.pipeline.state.policers.policed(this.pipeline.state.tables.vnics),
    };
  }

  /** The internet-side neighbour cache (IPv4 → MAC, as numbers). */
  neighbours(): { ip: number; mac: number }[] {
    return this.pipeline.state.neighbours.entries();
  }

  /** Stops verification and the timer of the denied claims' reports, and detaches every port. */
  close(): void {
    this.verification?.stop();
    for (const slot of this.slots) if (slot !== null) this.detachPort(slot.port.id);
    this.denialFlush?.cancel();
    this.denialFlush = null;
  }
}
