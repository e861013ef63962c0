// The state the pipeline stages share: the compiled tables, the port roles, the configuration, the reusable
// output buffers, the counters, and the fields of the frame being processed (a context reused for every frame,
// so that processing allocates nothing).
import { Actions, VERDICT } from "./actions.ts";
import { ClaimDenials } from "./claim-denials.ts";
import type { Clock } from "./clock.ts";
import { PipelineCounters } from "./counters.ts";
import { DEFAULT_POLICING, Policers, type PolicingConfig } from "./policers.ts";
import { DROP_REASONS } from "./reasons.ts";
import { NeighbourCache } from "./stages/neighbours.ts";
import type { Tables, VnicEntry } from "./tables.ts";

export interface PipelineConfig {
  /** Holder changes allowed per HAVIP per second; further claims are dropped (`storm-guarded`). */
  maxHolderChangesPerSecond: number;
  /**
   * Verify TCP, UDP and ICMP checksums at ingress (`bad-checksum`), so that every frame that leaves carries
   * valid checksums. Non-first fragments cannot be verified and pass.
   */
  verifyTransportChecksums: boolean;
  /** Entries in the internet-side neighbour cache. */
  neighbourCacheSize: number;
  /** Minimum time between two ARP requests the fabric sends for the same internet next hop. */
  neighbourRequestIntervalMs: number;
  /** Holder changes within `flapWindowMs` that make a HAVIP contested when two or more vNICs took turns; 0: off. */
  flapChanges: number;
  flapWindowMs: number;
  /** Per-vNIC limits on ARP and broadcast/multicast frames (`rate-limited`); null: not policed. */
  policing: PolicingConfig | null;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = Object.freeze({
  maxHolderChangesPerSecond: 20,
  verifyTransportChecksums: true,
  neighbourCacheSize: 256,
  neighbourRequestIntervalMs: 1000,
  flapChanges: 4,
  flapWindowMs: 2000,
  policing: DEFAULT_POLICING,
});

/** The largest frame the fabric handles (a VXLAN datagram cannot carry more). */
export const MAX_FRAME_LEN = 65536;

export class PipelineState {
  tables: Tables;
  /** The vNIC carried by each attached port index (null: none). Maintained by the fabric. */
  vnicByPort: (VnicEntry | null)[] = [];
  /** Index of the attached internet port, or -1. */
  internetPort = -1;
  readonly config: PipelineConfig;
  readonly clock: Clock;
  /** A monotonic high-resolution clock (ms) for latency measurements; not the injected clock. */
  latencyClock: () => number = () => performance.now();
  readonly out = new Actions();
  readonly counters = new PipelineCounters(DROP_REASONS.length);
  readonly neighbours: NeighbourCache;
  /** Each vNIC's policing buckets, by vNIC id (they outlive recompiles). */
  readonly policers = new Policers();
  /** Which denied claims are reported and which only counted (claim-denials.ts). */
  readonly denials = new ClaimDenials();
  /** Output buffer for a forwarded frame that needs rewriting. */
  readonly frameOut = new Uint8Array(MAX_FRAME_LEN);
  /** Output buffer for a frame the fabric generates (ARP replies and requests). */
  readonly controlOut = new Uint8Array(128);

  // The frame being processed.
  inPort = -1;
  buf: Uint8Array = this.frameOut;
  len = 0;
  vnic: VnicEntry | null = null;
  /**
   * When the frame reached the fabric, on `latencyClock` (ms), for ARP frames only (they may be announcements);
   * -1 otherwise. Set by the fabric before processing; `begin` leaves it alone.
   */
  arrivedAt = -1;
  dstMac = 0;
  srcMac = 0;
  ipOff = 14;
  ipHeaderLen = 0;
  ipTotalLen = 0;
  proto = 0;
  srcIp = 0;
  dstIp = 0;
  private nowValue = 0;
  private nowRead = false;

  constructor(tables: Tables, config: PipelineConfig, clock: Clock) {
    this.tables = tables;
    this.config = config;
    this.clock = clock;
    this.neighbours = new NeighbourCache(config.neighbourCacheSize);
  }

  begin(inPort: number, buf: Uint8Array, len: number): void {
    this.out.reset();
    this.inPort = inPort;
    this.buf = buf;
    this.len = len;
    this.vnic = null;
    this.nowRead = false;
  }

  /** The time of the frame being processed, read from the clock at most once per frame (lazily). */
  now(): number {
    if (!this.nowRead) {
      this.nowValue = this.clock.now();
      this.nowRead = true;
    }
    return this.nowValue;
  }

  drop(code: number, detail: string | null = null): void {
    this.out.verdict = VERDICT.DROPPED;
    this.out.drop = code;
    this.out.detail = detail;
  }
}

/** Copies the first `len` bytes of `src` to the start of `dst`, without allocating. */
export function copyFrame(src: Uint8Array, len: number, dst: Uint8Array): void {
  if (src.length === len) {
    dst.set(src);
  } else {
    for (let i = 0; i < len; i++) dst[i] = src[i]!;
  }
}
