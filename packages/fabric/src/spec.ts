// The NetworkSpec: the desired state of the network, as plain JSON-serialisable data. The daemon compiles the
// control plane's resources into it and sends it (whole, or as incremental changes) to the fabric, possibly
// over a Unix socket; the fabric compiles it into numeric tables for the hot path (tables.ts).
//
// Conventions: string ids (`vpc-…`, `subnet-…`, `eni-…`, `i-…`, `havip-…`, `eip-…`), IPv4 addresses as dotted
// quads, MACs as "02:00:00:00:00:01", CIDRs as "10.0.0.0/16", ports named by their port id.

export type BroadcastMode = "auto" | "unicast-only";

/** The MTU of a VPC or of the internet edge when the spec names none: Ethernet's 1500 bytes. */
export const DEFAULT_MTU = 1500;

export interface VpcSpec {
  id: string;
  cidr: string;
  /**
   * The largest IP packet the VPC carries, in bytes (the control plane allows 1280–8950); 1500 when absent.
   * Larger frames are dropped as `too-big`.
   */
  mtu?: number;
}

export interface SubnetSpec {
  id: string;
  vpcId: string;
  cidr: string;
  /** The VPC router's address in this subnet (the first usable address, by the control plane's rule). */
  gatewayIp: string;
  /** `auto`: a broadcast domain while the subnet holds a HAVIP; `unicast-only`: never (seed 004). */
  broadcast: BroadcastMode;
}

export interface VnicSpec {
  id: string;
  /** The instance the vNIC belongs to; informational (observations name vNICs). */
  instanceId?: string;
  subnetId: string;
  mac: string;
  ip: string;
  /** The id of the fabric port the vNIC is attached through (one vNIC per port). */
  port: string;
}

export interface HaVipSpec {
  id: string;
  subnetId: string;
  ip: string;
  /** The HAVIP's stable virtual MAC (DESIGN §2.5). */
  virtualMac: string;
  /** vNIC ids allowed to claim; null (or absent) lets every vNIC of the subnet claim. Unknown ids are ignored. */
  members?: string[] | null;
  /**
   * The last known holder, so that a restarted fabric restores it. Applied when the fabric does not know the
   * HAVIP yet, or when `generation` is newer than the fabric's own; otherwise the fabric's observation wins.
   */
  holderVnicId?: string | null;
  generation?: number;
}

export type EipTargetSpec = { type: "havip"; havipId: string } | { type: "vnic"; vnicId: string };

export interface EipSpec {
  id: string;
  publicIp: string;
  /** null: allocated but not bound (the fabric answers ARP for it on the internet side and drops its traffic). */
  target: EipTargetSpec | null;
}

/** The provider edge: where EIP traffic enters and leaves. The fabric is a router on this port. */
export interface InternetSpec {
  /** Port id of the internet port. */
  port: string;
  /** The fabric's MAC on the internet side. */
  mac: string;
  /** The fabric's own address on the internet side (sender of its ARP requests). */
  ip: string;
  /** The on-link prefix of the internet side; destinations inside it are resolved directly. */
  cidr: string;
  /** Next hop for destinations outside `cidr`; without it they are dropped (`no-route`). */
  gateway?: string | null;
  /** The largest IP packet the internet side carries; 1500 when absent. */
  mtu?: number;
}

export interface NetworkSpec {
  /** The VPC router's MAC (answers ARP for every gateway address). */
  routerMac: string;
  internet?: InternetSpec | null;
  vpcs: VpcSpec[];
  subnets: SubnetSpec[];
  vnics: VnicSpec[];
  havips: HaVipSpec[];
  eips: EipSpec[];
}

/** An incremental change. A batch of changes is validated as a whole and applied atomically. */
export type SpecChange =
  | { op: "upsert"; kind: "vpc"; value: VpcSpec }
  | { op: "upsert"; kind: "subnet"; value: SubnetSpec }
  | { op: "upsert"; kind: "vnic"; value: VnicSpec }
  | { op: "upsert"; kind: "havip"; value: HaVipSpec }
  | { op: "upsert"; kind: "eip"; value: EipSpec }
  | { op: "delete"; kind: ResourceKind; id: string }
  | { op: "set-router-mac"; routerMac: string }
  | { op: "set-internet"; internet: InternetSpec | null };

export type ResourceKind = "vpc" | "subnet" | "vnic" | "havip" | "eip";

/** An empty spec: no VPCs, a placeholder router MAC. */
export function emptySpec(routerMac = "02:00:00:00:00:01"): NetworkSpec {
  return { routerMac, internet: null, vpcs: [], subnets: [], vnics: [], havips: [], eips: [] };
}

/**
 * The desired state held as maps by id, so that incremental changes are cheap. Insertion order is kept, so
 * `toSpec` round-trips a spec's ordering.
 */
export class SpecState {
  routerMac: string;
  internet: InternetSpec | null;
  readonly vpcs = new Map<string, VpcSpec>();
  readonly subnets = new Map<string, SubnetSpec>();
  readonly vnics = new Map<string, VnicSpec>();
  readonly havips = new Map<string, HaVipSpec>();
  readonly eips = new Map<string, EipSpec>();

  constructor(spec: NetworkSpec) {
    this.routerMac = spec.routerMac;
    this.internet = spec.internet ?? null;
    for (const v of spec.vpcs) this.vpcs.set(v.id, v);
    for (const s of spec.subnets) this.subnets.set(s.id, s);
    for (const n of spec.vnics) this.vnics.set(n.id, n);
    for (const h of spec.havips) this.havips.set(h.id, h);
    for (const e of spec.eips) this.eips.set(e.id, e);
  }

  clone(): SpecState {
    return new SpecState(this.toSpec());
  }

  /** Applies changes in order. Unknown ids in deletes are ignored (deletes are idempotent). */
  apply(changes: readonly SpecChange[]): void {
    for (const c of changes) {
      switch (c.op) {
        case "set-router-mac":
          this.routerMac = c.routerMac;
          break;
        case "set-internet":
          this.internet = c.internet;
          break;
        case "delete":
          this.mapOf(c.kind).delete(c.id);
          break;
        case "upsert":
          switch (c.kind) {
            case "vpc":
              this.vpcs.set(c.value.id, c.value);
              break;
            case "subnet":
              this.subnets.set(c.value.id, c.value);
              break;
            case "vnic":
              this.vnics.set(c.value.id, c.value);
              break;
            case "havip":
              this.havips.set(c.value.id, c.value);
              break;
            case "eip":
              this.eips.set(c.value.id, c.value);
              break;
          }
          break;
      }
    }
  }

  toSpec(): NetworkSpec {
    return {
      routerMac: this.routerMac,
      internet: this.internet,
      vpcs: [...this.vpcs.values()],
      subnets: [...this.subnets.values()],
      vnics: [...this.vnics.values()],
      havips: [...this.havips.values()],
      eips: [...this.eips.values()],
    };
  }

  private mapOf(kind: ResourceKind): Map<string, unknown> {
    switch (kind) {
      case "vpc":
        return this.vpcs;
      case "subnet":
        return this.subnets;
      case "vnic":
        return this.vnics;
      case "havip":
        return this.havips;
      case "eip":
        return this.eips;
    }
  }
}
