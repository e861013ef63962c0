// Counters on the hot path live in Float64Arrays behind accessors: a plain number field that outgrows the
// small-integer range (2^31 bytes go by in seconds at line rate) may make V8 allocate a heap number on every
// increment; a typed-array slot never does. The accessors keep call sites readable (`stats.delivered++`).

/** Per-HAVIP statistics (carried across recompiles). */
export class HaVipStats {
  private readonly v = new Float64Array(6);
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

/** The pipeline's totals. */
export class PipelineCounters {
  private readonly v = new Float64Array(10);
  /** Per drop reason, indexed by reason code. */
  readonly drops: Float64Array;
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
