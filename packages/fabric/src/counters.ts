// Counters on the hot path live in Float64Arrays behind accessors: a plain number field that outgrows the
// small-integer range (2^31 bytes go by in seconds at line rate) may make V8 allocate a heap number on every
// increment; a typed-array slot never does. The accessors keep call sites readable (`stats.delivered++`).

/** Per-HAVIP statistics (carried across recompiles). */
export class HaVipStats {
  private readonly v = new Float64Array(12);
  /** Frames delivered to the holder because they were addressed to the HAVIP (its MAC, IP or EIP). */
  get delivered(): number {
    return this.v[0]!;
  }
  set delivered(x: number) {
    this.v[0] = x;
  }
  /** Valid announcements accepted (holder changes and refreshes). */
  get claims(): number {
    return this.v[1]!;
  }
  set claims(x: number) {
    this.v[1] = x;
  }
  get holderChanges(): number {
    return this.v[2]!;
  }
  set holderChanges(x: number) {
    this.v[2] = x;
  }
  get deniedClaims(): number {
    return this.v[3]!;
  }
  set deniedClaims(x: number) {
    this.v[3] = x;
  }
  get stormGuarded(): number {
    return this.v[4]!;
  }
  set stormGuarded(x: number) {
    this.v[4] = x;
  }
  /** Packets sourced from the HAVIP by a non-holder, dropped (fencing). */
  get fenced(): number {
    return this.v[5]!;
  }
  set fenced(x: number) {
    this.v[5] = x;
  }
  /** Verification rounds completed (probes sent, answers weighed). */
  get verifications(): number {
    return this.v[6]!;
  }
  set verifications(x: number) {
    this.v[6] = x;
  }
  /** Probe frames sent (one per candidate vNIC per round). */
  get probesSent(): number {
    return this.v[7]!;
  }
  set probesSent(x: number) {
    this.v[7] = x;
  }
  /** Probe answers received from vNICs that may claim the HAVIP. */
  get probeAnswers(): number {
    return this.v[8]!;
  }
  set probeAnswers(x: number) {
    this.v[8] = x;
  }
  /** Holder changes made by verification (the holder was silent and another vNIC had the address). */
  get verifiedChanges(): number {
    return this.v[9]!;
  }
  set verifiedChanges(x: number) {
    this.v[9] = x;
  }
  /** Holders released because nobody answered (withdrawn). */
  get withdrawals(): number {
    return this.v[10]!;
  }
  set withdrawals(x: number) {
    this.v[10] = x;
  }
  /** Announcements by another claimant ignored while the HAVIP was contested (flap damping). */
  get contestDamped(): number {
    return this.v[11]!;
  }
  set contestDamped(x: number) {
    this.v[11] = x;
  }
  copyFrom(other: HaVipStats): void {
    this.v.set(other.v);
  }
}

/** Per-port statistics. */
export class PortStats {
  private readonly v = new Float64Array(6);
  get rxFrames(): number {
    return this.v[0]!;
  }
  set rxFrames(x: number) {
    this.v[0] = x;
  }
  get rxBytes(): number {
    return this.v[1]!;
  }
  set rxBytes(x: number) {
    this.v[1] = x;
  }
  get txFrames(): number {
    return this.v[2]!;
  }
  set txFrames(x: number) {
    this.v[2] = x;
  }
  get txBytes(): number {
    return this.v[3]!;
  }
  set txBytes(x: number) {
    this.v[3] = x;
  }
  /** Frames received on this port and dropped. */
  get drops(): number {
    return this.v[4]!;
  }
  set drops(x: number) {
    this.v[4] = x;
  }
  /** Exceptions thrown by the port's send (a port must not throw; counted, never propagated). */
  get sendErrors(): number {
    return this.v[5]!;
  }
  set sendErrors(x: number) {
    this.v[5] = x;
  }
}

/**
 * Upper bounds (microseconds) of the announcement-to-repoint latency buckets. Fixed, so that the counts can be
 * kept in a typed array and exported as a Prometheus histogram without per-observation allocation.
 */
export const ANNOUNCE_LATENCY_BOUNDS_MICROS: readonly number[] = Object.freeze([
  1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000,
]);

/** A fixed-bucket histogram: counts per bucket (the last one above every bound), their sum and count. */
export class LatencyHistogram {
  readonly bounds: readonly number[];
  /** Non-cumulative counts; index `bounds.length` is the overflow bucket. */
  private readonly buckets: Float64Array;
  private readonly totals = new Float64Array(2); // [count, sum]

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.buckets = new Float64Array(bounds.length + 1);
  }

  record(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.buckets[i] = this.buckets[i]! + 1;
    this.totals[0] = this.totals[0]! + 1;
    this.totals[1] = this.totals[1]! + value;
  }

  get count(): number {
    return this.totals[0]!;
  }

  get sum(): number {
    return this.totals[1]!;
  }

  /** Plain data (JSON) for counters(): bounds, non-cumulative bucket counts (overflow last), sum and count. */
  snapshot(): HistogramSnapshot {
    return { bounds: [...this.bounds], counts: Array.from(this.buckets), sum: this.sum, count: this.count };
  }
}

export interface HistogramSnapshot {
  /** Upper bounds of the buckets (inclusive), ascending. */
  bounds: number[];
  /** Observations per bucket, not cumulative; `counts.length === bounds.length + 1` (the last: above all). */
  counts: number[];
  sum: number;
  count: number;
}

/** The pipeline's totals. */
export class PipelineCounters {
  private readonly v = new Float64Array(10);
  /** Per drop reason, indexed by reason code. */
  readonly drops: Float64Array;
  /** From an announcement's arrival at the fabric to its holder being re-pointed, in microseconds. */
  readonly announceToRepoint = new LatencyHistogram(ANNOUNCE_LATENCY_BOUNDS_MICROS);
  constructor(reasons: number) {
    this.drops = new Float64Array(reasons);
  }
  get framesIn(): number {
    return this.v[0]!;
  }
  set framesIn(x: number) {
    this.v[0] = x;
  }
  get forwarded(): number {
    return this.v[1]!;
  }
  set forwarded(x: number) {
    this.v[1] = x;
  }
  get flooded(): number {
    return this.v[2]!;
  }
  set flooded(x: number) {
    this.v[2] = x;
  }
  /** Frames transmitted by floods (one flooded frame may produce several). */
  get floodCopies(): number {
    return this.v[3]!;
  }
  set floodCopies(x: number) {
    this.v[3] = x;
  }
  get arpReplies(): number {
    return this.v[4]!;
  }
  set arpReplies(x: number) {
    this.v[4] = x;
  }
  get consumed(): number {
    return this.v[5]!;
  }
  set consumed(x: number) {
    this.v[5] = x;
  }
  get dropped(): number {
    return this.v[6]!;
  }
  set dropped(x: number) {
    this.v[6] = x;
  }
  get natOutbound(): number {
    return this.v[7]!;
  }
  set natOutbound(x: number) {
    this.v[7] = x;
  }
  get natInbound(): number {
    return this.v[8]!;
  }
  set natInbound(x: number) {
    this.v[8] = x;
  }
  get arpRequestsSent(): number {
    return this.v[9]!;
  }
  set arpRequestsSent(x: number) {
    this.v[9] = x;
  }
}
