// JIT warm-up. In a live fabric a holder change is rare, so the announcement path would still run in V8's
// interpreter when a failover comes (measured: 25–500 µs from the announcement's arrival to the re-point in a
// fresh agent, against ~1 µs once optimised). The fabric's stages and methods are shared by every Fabric, so
// running a few thousand synthetic announcements through a scratch fabric at start lets V8 optimise them before
// the first real failover. Takes a few milliseconds; touches nothing outside the scratch fabric.
//
// The scratch must feed V8 what a live fabric feeds it, or the code it optimised is thrown away ("wrong map",
// "not a Smi") at the first live frames and the ARP path, too rare to be re-optimised soon, runs in the slower
// tiers for a long time: frames are Buffers (as sockets deliver them), times are the system clock's fractional
// milliseconds, the configuration's numbers small integers, and there are HAVIPs with and without member lists.
// One scratch lives for the process (warm-up and keeper alike), so the optimised code never refers to objects
// that die. Measured in the live agent (2026-12-07): with a scratch of Uint8Array frames on a manual clock, ~30
// deoptimisations at the first live frames and a re-point p50 of 31–33 µs; with this one 26 µs, with the keeper
// riding on traffic (below) 5 µs.
import { ARP_OP, ETHERTYPE, emitArp, emitEthernet, parseIpv4Address, parseMac } from "@havip/wire";
import { Fabric } from "./fabric.ts";
import type { Port } from "./ports/port.ts";
import type { NetworkSpec } from "./spec.ts";

const BROADCAST = 0xffffffffffff;
// Two HAVIPs, one open to the subnet and one with a member list, so that both kinds of claim check are warm.
const VIPS = ["10.0.1.50", "10.0.1.51"] as const;
const VNICS = [
  { id: "warm-a", mac: "02:00:00:77:00:0a", ip: "10.0.1.10", port: "warm-p-a" },
  { id: "warm-b", mac: "02:00:00:77:00:0b", ip: "10.0.1.11", port: "warm-p-b" },
  { id: "warm-c", mac: "02:00:00:77:00:0c", ip: "10.0.1.12", port: "warm-p-c" },
] as const;

function scratchSpec(): NetworkSpec {
  return {
    routerMac: "02:00:00:77:00:01",
    internet: null,
    vpcs: [{ id: "warm-vpc", cidr: "10.0.0.0/16" }],
    subnets: [{ id: "warm-subnet", vpcId: "warm-vpc", cidr: "10.0.1.0/24", gatewayIp: "10.0.1.1", broadcast: "auto" }],
    vnics: VNICS.map((v) => ({ ...v, subnetId: "warm-subnet" })),
    havips: [
      { id: "warm-havip", ip: VIPS[0], virtualMac: "02:00:00:77:aa:01", subnetId: "warm-subnet", members: null },
      {
        id: "warm-havip-members",
        ip: VIPS[1],
        virtualMac: "02:00:00:77:aa:02",
        subnetId: "warm-subnet",
        members: [VNICS[0].id, VNICS[1].id],
      },
    ],
    eips: [],
  };
}

/** An ARP request for `target` from `mac`/`ip` (Buffer frames, as sockets deliver them). */
function arpRequest(mac: string, ip: string, target: string): Uint8Array {
  const frame = Buffer.alloc(60);
  const src = parseMac(mac)!;
  const off = emitEthernet({ dst: BROADCAST, src, ethertype: ETHERTYPE.ARP }, frame, 0);
  const spa = parseIpv4Address(ip)!;
  emitArp(
    { op: ARP_OP.REQUEST, senderMac: src, senderIp: spa, targetMac: 0, targetIp: parseIpv4Address(target)! },
    frame,
    off,
  );
  return frame;
}

/** A gratuitous ARP (request form) for `ip` from `mac`, as keepalived sends it. */
function announcement(mac: string, ip: string): Uint8Array {
  return arpRequest(mac, ip, ip);
}

/** A scratch fabric with the frames of holder changes: each HAVIP's two announcements and a query for it. */
class Scratch {
  private i = 0;
  // The system clock (as a live fabric has), so the storm guard and the policing (on, so that its code is warm
  // too) are set out of reach; small integers like the defaults, so that V8 sees the same field types as in a
  // live fabric's configuration.
  // Its holders change in alternation all the time: a flap window below zero lets flap detection run (and be
  // optimised) without ever finding a contest.
  readonly fabric = new Fabric(scratchSpec(), {
    maxHolderChangesPerSecond: 1_000_000_000,
    flapWindowMs: -1,
    policing: {
      arpPerSecond: 1_000_000_000,
      arpBurst: 1_000_000_000,
      broadcastPerSecond: 1_000_000_000,
      broadcastBurst: 1_000_000_000,
    },
  });
  private readonly garps = VIPS.map((vip) => [announcement(VNICS[0].mac, vip), announcement(VNICS[1].mac, vip)]);
  private readonly queries = VIPS.map((vip) => arpRequest(VNICS[2].mac, VNICS[2].ip, vip));

  constructor() {
    const ports: Port[] = VNICS.map((v) => ({ id: v.port, send: () => undefined, setReceiver: () => undefined }));
    for (const p of ports) this.fabric.attachPort(p);
  }

  /** One holder change (of each HAVIP in turn), a refresh or a stale holder's claim, and an answered query. */
  round(): void {
    const h = this.i % 2;
    const k = (this.i >> 1) % 2;
    this.i++;
    const garp = this.garps[h]![k]!;
    this.fabric.receive(VNICS[k]!.port, garp);
    this.fabric.receive(VNICS[0].port, garp);
    this.fabric.receive(VNICS[2].port, this.queries[h]!);
  }

  holderChanges(): number {
    const havips = this.fabric.counters().havips;
    return (havips["warm-havip"]?.holderChanges ?? 0) + (havips["warm-havip-members"]?.holderChanges ?? 0);
  }
}

let shared: Scratch | null = null;
function sharedScratch(): Scratch {
  shared ??= new Scratch();
  return shared;
}

/** Runs `rounds` holder changes (and the ARP answers around them) through a scratch fabric; returns the time taken. */
export function warmUpFabric(rounds = 3000): { rounds: number; holderChanges: number; durationMs: number } {
  const started = performance.now();
  const scratch = sharedScratch();
  const before = scratch.holderChanges();
  for (let i = 0; i < rounds; i++) scratch.round();
  return { rounds, holderChanges: scratch.holderChanges() - before, durationMs: performance.now() - started };
}

export interface KeepWarmOptions {
  /** A rehearsal at least this often, on a timer of its own (default 50 ms). */
  everyMs?: number;
  /**
   * The live fabric. After a run of its frames, a rehearsal follows when `busyEveryMs` (default 1 ms) has passed
   * since the last one: on a wake-up the agent has anyway, so a fabric that carries traffic stays warm at no cost
   * in wake-ups, and an idle one falls back to the timer.
   */
  fabric?: Fabric;
  busyEveryMs?: number;
}

export interface FabricWarmth {
  stop(): void;
  /** Holder changes rehearsed since the keeper started. */
  holderChanges(): number;
  /** Rehearsals that rode on the fabric's own wake-ups, and those the timer made. */
  rehearsals(): { onTraffic: number; onTimer: number };
}

/**
 * Keeps the announcement path hot between failovers. Optimised code alone is not enough: after milliseconds of
 * other work (frames of the data path, other processes on the core, the host) the first announcement took
 * 25–50 µs from arrival to re-point in a live agent, against ~1 µs in a loop, because its code and data had left
 * the CPU's caches. A holder change through the scratch fabric (a few microseconds) brings them back: every
 * `busyEveryMs` while the live fabric carries frames, riding on its wake-ups, and every `everyMs` on a timer
 * (which does not keep the process alive). The scratch shares the live fabric's code only if it feeds V8 the
 * same types: Buffer frames and the system clock, as a live fabric sees them (see Scratch).
 */
export function keepFabricWarm(options: KeepWarmOptions = {}): FabricWarmth {
  const everyMs = options.everyMs ?? 50;
  const busyEveryMs = options.busyEveryMs ?? 1;
  const scratch = sharedScratch();
  const before = scratch.holderChanges();
  const counts = { onTraffic: 0, onTimer: 0 };
  let last = performance.now();
  // A rehearsal, unless the timer or the traffic made one within `busyEveryMs`.
  const rehearse = (by: keyof typeof counts): void => {
    const now = performance.now();
    if (now - last < busyEveryMs) return;
    last = now;
    counts[by]++;
    scratch.round();
  };
  const timer = setInterval(() => {
    rehearse("onTimer");
  }, everyMs);
  timer.unref();
  const fabric = options.fabric;
  fabric?.setWakeListener(() => {
    rehearse("onTraffic");
  });
  return {
    stop: () => {
      clearInterval(timer);
      fabric?.setWakeListener(null);
    },
    holderChanges: () => scratch.holderChanges() - before,
    rehearsals: () => ({ ...counts }),
  };
}
