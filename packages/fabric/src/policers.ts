// Per-vNIC token buckets for the policing stage (stages/police.ts): one for ARP frames, one for broadcast and
// multicast frames. A bucket holds at most `burst` tokens, refills at `perSecond`, and a frame takes one token;
// a frame that finds the bucket empty is policed (dropped and counted). State lives in a Float64Array per vNIC
// (no allocation per frame, no boxed numbers), and the registry keeps it by vNIC id, so buckets and counts
// survive recompiles for the vNICs that still exist.

/** Limits of the policing stage. A rate of 0 turns that class of frames' bucket off. */
export interface PolicingConfig {
  /** ARP frames (requests, replies, gratuitous ARP) a vNIC may send per second, sustained. */
  arpPerSecond: number;
  /** ARP frames a vNIC may send at once after a quiet spell (the bucket's depth). */
  arpBurst: number;
  /** Broadcast and multicast frames that are not ARP (VRRP adverts to 224.0.0.18, …) per second, sustained. */
  broadcastPerSecond: number;
  /** Broadcast and multicast frames a vNIC may send at once. */
  broadcastBurst: number;
}

/**
 * Generous for every failover tool we know, tight against a flood. keepalived sends `vrrp_garp_master_repeat`
 * (default 5) gratuitous ARPs per address when it becomes master, again after `vrrp_garp_master_delay`, and
 * every `vrrp_garp_master_refresh`: a burst of 400 is 80 addresses' worth at once; `arping -c` loops send one a
 * second; a busy host re-confirms a few hundred neighbours by unicast ARP every ~30 s. VRRPv3 at its fastest
 * advert_int (0.01 s) sends 100 adverts a second per virtual router: 1000/s is ten such routers on one vNIC.
 * A flood of 100k frames/s from one vNIC is cut to these rates before any ARP or broadcast work is done.
 */
export const DEFAULT_POLICING: Readonly<PolicingConfig> = Object.freeze({
  arpPerSecond: 200,
  arpBurst: 400,
  broadcastPerSecond: 1000,
  broadcastBurst: 2000,
});

/** Which bucket a frame takes its token from (the offset of its slots in the state array). */
export const BUCKET = { ARP: 0, BROADCAST: 2 } as const;
export type Bucket = (typeof BUCKET)[keyof typeof BUCKET];

/** What a vNIC had policed, by class of frame. */
export interface PolicedCounts {
  arp: number;
  broadcast: number;
}

/** Problems with a policing configuration (empty: valid). */
export function policingProblems(c: PolicingConfig): string[] {
  const problems: string[] = [];
  const check = (rate: number, burst: number, what: string) => {
    if (!Number.isFinite(rate) || rate < 0) problems.push(`${what} rate must be a finite number ≥ 0, got ${rate}`);
    else if (rate > 0 && (!Number.isFinite(burst) || burst < 1)) {
      problems.push(`${what} burst must be a finite number ≥ 1, got ${burst}`);
    }
  };
  check(c.arpPerSecond, c.arpBurst, "ARP");
  check(c.broadcastPerSecond, c.broadcastBurst, "broadcast");
  return problems;
}

export class VnicPolicer {
  // [ARP tokens, ARP refilled at, broadcast tokens, broadcast refilled at, ARP policed, broadcast policed]
  private readonly v = new Float64Array(6);

  /** Both buckets start full at `now`. */
  constructor(config: PolicingConfig, now: number) {
    this.v[0] = config.arpBurst;
    this.v[1] = now;
    this.v[2] = config.broadcastBurst;
    this.v[3] = now;
  }

  /**
   * Takes a token from `bucket` after refilling it for the time since it was last refilled; false (and counted)
   * when there is none. A clock that went back refills nothing and restarts from `now`.
   */
  take(bucket: Bucket, perSecond: number, burst: number, now: number): boolean {
    const v = this.v;
    let tokens = v[bucket]!;
    const elapsed = now - v[bucket + 1]!;
    if (elapsed !== 0) {
      if (elapsed > 0) {
        tokens += (elapsed * perSecond) / 1000;
        if (tokens > burst) tokens = burst;
      }
      v[bucket + 1] = now;
    }
    if (tokens >= 1) {
      v[bucket] = tokens - 1;
      return true;
    }
    v[bucket] = tokens;
    const counted = 4 + (bucket >> 1);
    v[counted] = v[counted]! + 1;
    return false;
  }

  get policedArp(): number {
    return this.v[4]!;
  }

  get policedBroadcast(): number {
    return this.v[5]!;
  }
}

/** The policers of a fabric, by vNIC id. */
export class Policers {
  private readonly byVnic = new Map<string, VnicPolicer>();

  /**
   * The policer of vNIC `id`: the one it had before a recompile, or a new one with full buckets. Called once per
   * compiled vNIC entry (the entry keeps it); forgets vNICs that are gone when the registry has grown well past
   * the live ones.
   */
  of(id: string, config: PolicingConfig, now: number, live: ReadonlyMap<string, unknown>): VnicPolicer {
    let p = this.byVnic.get(id);
    if (p === undefined) {
      if (this.byVnic.size >= 2 * live.size + 64) this.forgetAllBut(live);
      p = new VnicPolicer(config, now);
      this.byVnic.set(id, p);
    }
    return p;
  }

  forgetAllBut(live: ReadonlyMap<string, unknown>): void {
    for (const id of this.byVnic.keys()) if (!live.has(id)) this.byVnic.delete(id);
  }

  /** Policed counts of the live vNICs that had any. */
  policed(live: ReadonlyMap<string, unknown>): Record<string, PolicedCounts> {
    const out: Record<string, PolicedCounts> = {};
    for (const [id, p] of this.byVnic) {
      if (!live.has(id) || p.policedArp + p.policedBroadcast === 0) continue;
      out[id] = { arp: p.policedArp, broadcast: p.policedBroadcast };
    }
    return out;
  }
}
