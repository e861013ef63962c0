// The compiled form of the NetworkSpec: numeric tables for the hot path. Every lookup is scoped by VPC (VPCs
// may overlap). Map keys are int32 so that V8 keeps them as small integers (no boxing per lookup): an IPv4
// address keys as `ip | 0`, a MAC by its low 32 bits with a short collision chain checked against the full MAC.
//
// Compiling is all-or-nothing: a spec with problems yields the list of problems and leaves the previous tables
// in service. Holder state lives in HaVipRuntime objects that survive recompiles (keyed by HAVIP id).
import { isMulticastMac, parseIpv4, parseMac } from "@havip/wire";
import { broadcastOf, parseCidr, prefixContains, prefixWithin, type Prefix } from "./cidr.ts";
import { HaVipStats } from "./counters.ts";
import type { VnicPolicer } from "./policers.ts";
import { DEFAULT_MTU, type BroadcastMode, type HaVipSpec, type SpecState } from "./spec.ts";
import { MAX_FRAME_LEN } from "./state.ts";

export const ENTRY = { VNIC: 1, HAVIP: 2, GATEWAY: 3 } as const;

/** MTUs the fabric accepts in a spec: IPv4's minimum up to what a frame buffer holds after its Ethernet header. */
export const MIN_MTU = 68;
export const MAX_MTU = MAX_FRAME_LEN - 14;

export class VpcTable {
  readonly id: string;
  readonly prefix: Prefix;
  /** The largest IP packet the VPC carries; a bigger frame from or to it is dropped (`too-big`). */
  readonly mtu: number;
  /** vNIC MACs and HAVIP virtual MACs, keyed by `mac | 0`. */
  readonly l2 = new Map<number, L2Entry>();
  /** vNIC, HAVIP and gateway addresses, keyed by `ip | 0`. */
  readonly l3 = new Map<number, L3Entry>();
  /** EIP bindings by private address (`ip | 0`), for SNAT. */
  readonly eipByPrivate = new Map<number, EipEntry>();
  constructor(id: string, prefix: Prefix, mtu: number = DEFAULT_MTU) {
    this.id = id;
    this.prefix = prefix;
    this.mtu = mtu;
  }
}

export class SubnetEntry {
  readonly kind = ENTRY.GATEWAY;
  readonly id: string;
  readonly vpc: VpcTable;
  readonly prefix: Prefix;
  readonly gatewayIp: number;
  readonly broadcastIp: number;
  readonly mode: BroadcastMode;
  readonly havips: HaVipEntry[] = [];
  readonly vnics: VnicEntry[] = [];
  /** Whether broadcast and multicast are carried (DESIGN §2.6): `auto` mode and at least one HAVIP. */
  carriesBroadcast = false;
  /** Who takes part in broadcast and multicast (see README: "Broadcast domain"). */
  readonly domain: VnicEntry[] = [];
  constructor(id: string, vpc: VpcTable, prefix: Prefix, gatewayIp: number, mode: BroadcastMode) {
    this.id = id;
    this.vpc = vpc;
    this.prefix = prefix;
    this.gatewayIp = gatewayIp;
    this.broadcastIp = broadcastOf(prefix);
    this.mode = mode;
  }
}

export class VnicEntry {
  readonly kind = ENTRY.VNIC;
  readonly id: string;
  readonly instanceId: string | null;
  readonly mac: number;
  readonly ip: number;
  readonly subnet: SubnetEntry;
  readonly vpc: VpcTable;
  readonly portId: string;
  /** Index of the attached port, or -1 while the port is not attached (set by the fabric). */
  portIndex = -1;
  inDomain = false;
  eip: EipEntry | null = null;
  nextInBucket: L2Entry | null = null;
  /** Its policing buckets (stages/police.ts), bound at its first policed frame; they outlive this entry. */
  policer: VnicPolicer | null = null;
  constructor(id: string, instanceId: string | null, mac: number, ip: number, subnet: SubnetEntry, portId: string) {
    this.id = id;
    this.instanceId = instanceId;
    this.mac = mac;
    this.ip = ip;
    this.subnet = subnet;
    this.vpc = subnet.vpc;
    this.portId = portId;
  }
}

/** A verification round under way: who was asked, and who answered that they have the address. */
export interface ProbeRound {
  startedAt: number;
  /** When its answers are weighed. */
  endsAt: number;
  /** vNIC ids asked. */
  asked: string[];
  /** vNIC ids that answered (may claim the HAVIP, answered from their own port). */
  answered: Set<string>;
}

/** A HAVIP held by several vNICs at once (split brain), as long as it lasts. */
export interface Contest {
  since: number;
  /** vNIC ids seen holding the address at once (answering a probe, or claiming in alternation). */
  claimants: string[];
}

/** Holder changes remembered per HAVIP for flap detection. */
export const RECENT_CHANGES = 8;

/** Holder state of one HAVIP; survives recompiles. */
export class HaVipRuntime {
  holderVnicId: string | null;
  generation: number;
  holderSince: number;
  stormWindowStart = Number.NEGATIVE_INFINITY;
  stormWindowChanges = 0;
  readonly stats = new HaVipStats();
  // Verification (verification.ts).
  /** When the next round is due (clock time); 0: as soon as possible. */
  nextProbeAt = 0;
  probe: ProbeRound | null = null;
  /** Another round was asked for while one was under way (its answers may predate the reason). */
  probeAgain = false;
  /** Consecutive rounds in which nobody answered while there was a holder. */
  missedRounds = 0;
  /**
   * The spec named a holder with the generation the fabric has, but another vNIC: the next round's outcome is
   * issued as a new generation even when it confirms the fabric's holder, so that both sides converge.
   */
  conflict = false;
  /** Why the holder last changed here (null: taken from the spec, or never). */
  lastReason: "announcement" | "verified" | "withdrawn" | null = null;
  contest: Contest | null = null;
  /** Last announcement time by vNIC id (the most recent announcer wins a contest the holder is not part of). */
  readonly claimedAt = new Map<string, number>();
  /** The last holder changes, oldest first (flap detection). */
  readonly recentChanges: { at: number; vnicId: string }[] = [];
  constructor(holderVnicId: string | null, generation: number, holderSince: number) {
    this.holderVnicId = holderVnicId;
    this.generation = generation;
    this.holderSince = holderSince;
  }

  /**
   * Takes the spec's holder and generation when the spec knows a newer one than this runtime (e.g. observed by
   * another fabric, or issued by the control plane): as a fresh runtime would start, statistics kept. Returns
   * whether it did. A compile applies it to a copy (a failed compile changes nothing), holder-only upserts in place.
   * A holder taken from elsewhere is verified before it is trusted: the next round is due at once.
   */
  adopt(h: HaVipSpec, now: number): boolean {
    const generation = h.generation ?? 0;
    const holder = h.holderVnicId ?? null;
    if (generation === this.generation && generation > 0 && holder !== this.holderVnicId) {
      this.conflict = true;
      this.nextProbeAt = 0;
      return false;
    }
    if (generation <= this.generation) return false;
    this.holderVnicId = holder;
    this.generation = generation;
    this.holderSince = now;
    this.stormWindowStart = Number.NEGATIVE_INFINITY;
    this.stormWindowChanges = 0;
    this.missedRounds = 0;
    this.conflict = false;
    this.lastReason = null;
    this.nextProbeAt = 0;
    return true;
  }

  /** Carries the verification state of `prev` over to this runtime (a copy made by a compile). */
  carryFrom(prev: HaVipRuntime): void {
    this.stats.copyFrom(prev.stats);
    this.probe = prev.probe;
    this.probeAgain = prev.probeAgain;
    this.contest = prev.contest;
    for (const [id, at] of prev.claimedAt) this.claimedAt.set(id, at);
    this.recentChanges.push(...prev.recentChanges);
  }

  /** Remembers a holder change for flap detection. */
  noteChange(at: number, vnicId: string): void {
    if (this.recentChanges.push({ at, vnicId }) > RECENT_CHANGES) this.recentChanges.shift();
  }
}

export class HaVipEntry {
  readonly kind = ENTRY.HAVIP;
  readonly id: string;
  readonly ip: number;
  /** The virtual MAC. */
  readonly mac: number;
  readonly subnet: SubnetEntry;
  readonly vpc: VpcTable;
  readonly members: ReadonlySet<string> | null;
  readonly runtime: HaVipRuntime;
  holder: VnicEntry | null = null;
  eip: EipEntry | null = null;
  nextInBucket: L2Entry | null = null;
  constructor(
    id: string,
    ip: number,
    mac: number,
    subnet: SubnetEntry,
    members: ReadonlySet<string> | null,
    runtime: HaVipRuntime,
  ) {
    this.id = id;
    this.ip = ip;
    this.mac = mac;
    this.subnet = subnet;
    this.vpc = subnet.vpc;
    this.members = members;
    this.runtime = runtime;
  }

  /** Whether `vnic` may claim this HAVIP (DESIGN §2.2): in its subnet and, with a member list, a member. */
  mayClaim(vnic: VnicEntry): boolean {
    return vnic.subnet === this.subnet && (this.members === null || this.members.has(vnic.id));
  }
}

export class EipEntry {
  readonly id: string;
  readonly publicIp: number;
  /** The private address it translates to (the vNIC's or the HAVIP's), 0 when unbound. */
  readonly privateIp: number;
  readonly target: VnicEntry | HaVipEntry | null;
  constructor(id: string, publicIp: number, target: VnicEntry | HaVipEntry | null) {
    this.id = id;
    this.publicIp = publicIp;
    this.target = target;
    this.privateIp = target === null ? 0 : target.ip;
  }
}

export interface InternetTable {
  readonly portId: string;
  readonly mac: number;
  readonly ip: number;
  readonly prefix: Prefix;
  /** Next hop outside `prefix`; 0 when none. */
  readonly gateway: number;
  /** The largest IP packet the internet side carries. */
  readonly mtu: number;
}

export type L2Entry = VnicEntry | HaVipEntry;
export type L3Entry = VnicEntry | HaVipEntry | SubnetEntry;

export interface Tables {
  readonly routerMac: number;
  readonly internet: InternetTable | null;
  readonly vpcs: ReadonlyMap<string, VpcTable>;
  readonly subnets: ReadonlyMap<string, SubnetEntry>;
  readonly vnics: ReadonlyMap<string, VnicEntry>;
  readonly havips: ReadonlyMap<string, HaVipEntry>;
  readonly eips: ReadonlyMap<string, EipEntry>;
  readonly vnicByPort: ReadonlyMap<string, VnicEntry>;
  /** EIPs by public address (`ip | 0`). */
  readonly eipByPublic: ReadonlyMap<number, EipEntry>;
}

/** The vNIC or HAVIP with this MAC in the VPC. */
export function lookupL2(vpc: VpcTable, mac: number): L2Entry | undefined {
  let e = vpc.l2.get(mac | 0);
  while (e !== undefined && e.mac !== mac) e = e.nextInBucket ?? undefined;
  return e;
}

/** A holder that lost its claim during a recompile (vNIC gone, moved, or no longer a member). */
export interface Release {
  havipId: string;
  previousVnicId: string;
  generation: number;
}

export type CompileResult =
  | { ok: true; tables: Tables; runtimes: Map<string, HaVipRuntime>; released: Release[] }
  | { ok: false; problems: string[] };

/**
 * Compiles the desired state. `runtimes` (the previous holder state, by HAVIP id) is read, never mutated: the
 * result carries the new runtime map, so a failed compile changes nothing.
 */
export function compileSpec(spec: SpecState, runtimes: ReadonlyMap<string, HaVipRuntime>, now: number): CompileResult {
  const problems: string[] = [];
  const problem = (s: string): void => {
    problems.push(s);
  };
  const mac = (s: string, what: string): number => {
    const m = parseMac(s);
    if (m === undefined) problem(`${what}: invalid MAC "${s}"`);
    else if (isMulticastMac(m)) problem(`${what}: MAC ${s} is not unicast`);
    return m ?? 0;
  };
  const ipv4 = (s: string, what: string): number => {
    const ip = parseIpv4(s);
    if (ip === undefined) problem(`${what}: invalid IPv4 address "${s}"`);
    return ip ?? 0;
  };

  const mtuOf = (value: unknown, what: string): number => {
    if (value === undefined || value === null) return DEFAULT_MTU;
    if (typeof value === "number" && Number.isInteger(value) && value >= MIN_MTU && value <= MAX_MTU) return value;
    problem(`${what}: MTU must be an integer from ${MIN_MTU} to ${MAX_MTU}`);
    return DEFAULT_MTU;
  };

  const routerMac = mac(spec.routerMac, "routerMac");

  const vpcs = new Map<string, VpcTable>();
  for (const v of spec.vpcs.values()) {
    const prefix = parseCidr(v.cidr);
    const mtu = mtuOf(v.mtu, `vpc ${v.id}`);
    if (prefix === undefined) problem(`vpc ${v.id}: invalid CIDR "${v.cidr}"`);
    else vpcs.set(v.id, new VpcTable(v.id, prefix, mtu));
  }

  const addL3 = (vpc: VpcTable, ip: number, entry: L3Entry, what: string): void => {
    if (vpc.l3.has(ip | 0)) problem(`${what}: address already in use in ${vpc.id}`);
    else vpc.l3.set(ip | 0, entry);
  };
  const addL2 = (vpc: VpcTable, entry: L2Entry, what: string): void => {
    if (entry.mac === routerMac) problem(`${what}: MAC is the router MAC`);
    if (lookupL2(vpc, entry.mac) !== undefined) {
      problem(`${what}: MAC already in use in ${vpc.id}`);
      return;
    }
    entry.nextInBucket = vpc.l2.get(entry.mac | 0) ?? null;
    vpc.l2.set(entry.mac | 0, entry);
  };

  const subnets = new Map<string, SubnetEntry>();
  for (const s of spec.subnets.values()) {
    const vpc = vpcs.get(s.vpcId);
    const prefix = parseCidr(s.cidr);
    const gw = ipv4(s.gatewayIp, `subnet ${s.id} gatewayIp`);
    if (vpc === undefined) problem(`subnet ${s.id}: unknown vpc ${s.vpcId}`);
    if (prefix === undefined) problem(`subnet ${s.id}: invalid CIDR "${s.cidr}"`);
    const mode: string = s.broadcast; // the spec may arrive as untyped JSON
    if (mode !== "auto" && mode !== "unicast-only") {
      problem(`subnet ${s.id}: broadcast must be "auto" or "unicast-only"`);
    }
    if (vpc === undefined || prefix === undefined) continue;
    if (!prefixWithin(prefix, vpc.prefix)) problem(`subnet ${s.id}: ${s.cidr} is not inside ${vpc.id}`);
    if (!prefixContains(prefix, gw)) problem(`subnet ${s.id}: gateway ${s.gatewayIp} is not in ${s.cidr}`);
    const entry = new SubnetEntry(s.id, vpc, prefix, gw, s.broadcast);
    subnets.set(s.id, entry);
    addL3(vpc, gw, entry, `subnet ${s.id} gateway ${s.gatewayIp}`);
  }

  const vnics = new Map<string, VnicEntry>();
  const vnicByPort = new Map<string, VnicEntry>();
  for (const n of spec.vnics.values()) {
    const subnet = subnets.get(n.subnetId);
    const m = mac(n.mac, `vnic ${n.id}`);
    const ip = ipv4(n.ip, `vnic ${n.id}`);
    if (subnet === undefined) {
      problem(`vnic ${n.id}: unknown subnet ${n.subnetId}`);
      continue;
    }
    if (!prefixContains(subnet.prefix, ip)) problem(`vnic ${n.id}: ${n.ip} is not in subnet ${subnet.id}`);
    const entry = new VnicEntry(n.id, n.instanceId ?? null, m, ip, subnet, n.port);
    if (vnicByPort.has(n.port)) problem(`vnic ${n.id}: port ${n.port} already carries a vNIC`);
    if (spec.internet?.port === n.port) problem(`vnic ${n.id}: port ${n.port} is the internet port`);
    vnicByPort.set(n.port, entry);
    vnics.set(n.id, entry);
    subnet.vnics.push(entry);
    addL2(subnet.vpc, entry, `vnic ${n.id}`);
    addL3(subnet.vpc, ip, entry, `vnic ${n.id} ${n.ip}`);
  }

  const newRuntimes = new Map<string, HaVipRuntime>();
  const havips = new Map<string, HaVipEntry>();
  for (const h of spec.havips.values()) {
    const subnet = subnets.get(h.subnetId);
    const vmac = mac(h.virtualMac, `havip ${h.id} virtualMac`);
    const ip = ipv4(h.ip, `havip ${h.id}`);
    if (subnet === undefined) {
      problem(`havip ${h.id}: unknown subnet ${h.subnetId}`);
      continue;
    }
    if (!prefixContains(subnet.prefix, ip)) problem(`havip ${h.id}: ${h.ip} is not in subnet ${subnet.id}`);
    const members = h.members == null ? null : new Set(h.members);
    const entry = new HaVipEntry(h.id, ip, vmac, subnet, members, runtimeFor(h, runtimes.get(h.id), now));
    newRuntimes.set(h.id, entry.runtime);
    havips.set(h.id, entry);
    subnet.havips.push(entry);
    addL2(subnet.vpc, entry, `havip ${h.id}`);
    addL3(subnet.vpc, ip, entry, `havip ${h.id} ${h.ip}`);
  }

  const eips = new Map<string, EipEntry>();
  const eipByPublic = new Map<number, EipEntry>();
  for (const e of spec.eips.values()) {
    const publicIp = ipv4(e.publicIp, `eip ${e.id}`);
    let target: VnicEntry | HaVipEntry | null = null;
    if (e.target !== null) {
      const t = e.target.type === "havip" ? havips.get(e.target.havipId) : vnics.get(e.target.vnicId);
      if (t === undefined) problem(`eip ${e.id}: unknown target`);
      else if (t.eip !== null) problem(`eip ${e.id}: target already has EIP ${t.eip.id}`);
      else target = t;
    }
    const entry = new EipEntry(e.id, publicIp, target);
    if (eipByPublic.has(publicIp | 0)) problem(`eip ${e.id}: public address ${e.publicIp} already in use`);
    eipByPublic.set(publicIp | 0, entry);
    eips.set(e.id, entry);
    if (target !== null) {
      target.eip = entry;
      target.vpc.eipByPrivate.set(target.ip | 0, entry);
    }
  }

  let internet: InternetTable | null = null;
  if (spec.internet) {
    const i = spec.internet;
    const prefix = parseCidr(i.cidr);
    const ip = ipv4(i.ip, "internet ip");
    const gateway = i.gateway == null ? 0 : ipv4(i.gateway, "internet gateway");
    if (prefix === undefined) problem(`internet: invalid CIDR "${i.cidr}"`);
    else {
      if (!prefixContains(prefix, ip)) problem(`internet: ${i.ip} is not in ${i.cidr}`);
      if (gateway !== 0 && !prefixContains(prefix, gateway)) problem(`internet: gateway is not in ${i.cidr}`);
      internet = {
        portId: i.port,
        mac: mac(i.mac, "internet mac"),
        ip,
        prefix,
        gateway,
        mtu: mtuOf(i.mtu, "internet"),
      };
    }
  }

  if (problems.length > 0) return { ok: false, problems };

  // Broadcast domains (DESIGN §2.6; the member-list rule is documented in README.md).
  for (const s of subnets.values()) {
    s.carriesBroadcast = s.mode === "auto" && s.havips.length > 0;
    if (!s.carriesBroadcast) continue;
    const everyone = s.havips.some((h) => h.members === null);
    for (const n of s.vnics) {
      if (everyone || s.havips.some((h) => h.members?.has(n.id) === true)) {
        n.inDomain = true;
        s.domain.push(n);
      }
    }
  }

  // Holders: resolve the runtime's holder id; a holder that may no longer claim loses the role.
  const released: Release[] = [];
  for (const h of havips.values()) {
    const rt = h.runtime;
    if (rt.holderVnicId === null) continue;
    const v = vnics.get(rt.holderVnicId);
    if (v !== undefined && h.mayClaim(v)) {
      h.holder = v;
    } else {
      released.push({ havipId: h.id, previousVnicId: rt.holderVnicId, generation: rt.generation });
    }
  }
  // The runtimes of the new map may be the previous objects: mutate only now that the compile succeeded.
  for (const r of released) newRuntimes.get(r.havipId)!.holderVnicId = null;

  return {
    ok: true,
    tables: { routerMac, internet, vpcs, subnets, vnics, havips, eips, vnicByPort, eipByPublic },
    runtimes: newRuntimes,
    released,
  };
}

function runtimeFor(h: HaVipSpec, prev: HaVipRuntime | undefined, now: number): HaVipRuntime {
  const specGeneration = h.generation ?? 0;
  if (prev === undefined) return new HaVipRuntime(h.holderVnicId ?? null, specGeneration, now);
  // A newer holder in the spec is adopted on a new object, so that a failed compile leaves the previous
  // runtime untouched; statistics carry over.
  const rt = new HaVipRuntime(prev.holderVnicId, prev.generation, prev.holderSince);
  rt.nextProbeAt = prev.nextProbeAt;
  rt.missedRounds = prev.missedRounds;
  if (!rt.adopt(h, now)) {
    // An equal generation naming another holder marks the conflict on the copy: keep the mark on the original.
    if (rt.conflict) {
      prev.conflict = true;
      prev.nextProbeAt = 0;
    }
    return prev;
  }
  rt.carryFrom(prev);
  return rt;
}
