// The internet side's neighbour cache: IPv4 → MAC, learned from the ARP the fabric sees on the internet port
// (requests for EIPs, replies to its own requests, gratuitous ARP). Small and bounded: when full, the oldest
// entry goes. The fabric resolves its next hop itself, asking at most once per interval per address.

export class NeighbourCache {
  readonly capacity: number;
  private readonly macs = new Map<number, number>();
  private readonly asked = new Map<number, number>();

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  /** The MAC of `ip`, or -1 when unknown. */
  lookup(ip: number): number {
    return this.macs.get(ip | 0) ?? -1;
  }

  learn(ip: number, mac: number): void {
    const key = ip | 0;
    const known = this.macs.get(key);
    if (known === mac) return;
    if (known === undefined && this.macs.size >= this.capacity) {
      const oldest = this.macs.keys().next();
      if (oldest.done !== true) this.macs.delete(oldest.value);
    }
    // Re-inserting moves the entry to the young end.
    this.macs.delete(key);
    this.macs.set(key, mac);
    this.asked.delete(key);
  }

  /** Whether to send an ARP request for `ip` now (records the attempt when it answers yes). */
  shouldAsk(ip: number, now: number, intervalMs: number): boolean {
    const key = ip | 0;
    const last = this.asked.get(key);
    if (last !== undefined && now - last < intervalMs) return false;
    if (last === undefined && this.asked.size >= this.capacity) this.asked.clear();
    this.asked.set(key, now);
    return true;
  }

  get size(): number {
    return this.macs.size;
  }

  entries(): { ip: number; mac: number }[] {
    return [...this.macs].map(([ip, mac]) => ({ ip: ip >>> 0, mac }));
  }

  clear(): void {
    this.macs.clear();
    this.asked.clear();
  }
}
