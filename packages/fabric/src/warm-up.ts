// JIT warm-up. In a live fabric a holder change is rare, so the announcement path would still run in V8's
// interpreter when a failover comes (measured: 25–500 µs from the announcement's arrival to the re-point in a
// fresh agent, against ~1 µs once optimised). The fabric's stages and methods are shared by every Fabric, so
// running a few thousand synthetic announcements through a scratch fabric at start lets V8 optimise them before
// the first real failover. Takes a few milliseconds; touches nothing outside the scratch fabric.
import { ARP_OP, ETHERTYPE, emitArp, emitEthernet, parseIpv4Address, parseMac } from "@havip/wire";
import { Fabric } from "./fabric.ts";
import type { Port } from "./ports/port.ts";
import type { NetworkSpec } from "./spec.ts";

const BROADCAST = 0xffffffffffff;
const VIP = "10.0.1.50";
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
    havips: [{ id: "warm-havip", ip: VIP, virtualMac: "02:00:00:77:aa:01", subnetId: "warm-subnet", members: null }],
    eips: [],
  };
}

/** A gratuitous ARP (request form) for `ip` from `mac`, as keepalived sends it. */
function announcement(mac: string, ip: string): Uint8Array {
  const frame = new Uint8Array(60);
  const src = parseMac(mac)!;
  const off = emitEthernet({ dst: BROADCAST, src, ethertype: ETHERTYPE.ARP }, frame, 0);
  const addr = parseIpv4Address(ip)!;
  emitArp({ op: ARP_OP.REQUEST, senderMac: src, senderIp: addr, targetMac: 0, targetIp: addr }, frame, off);
  return frame;
}

/** A scratch fabric with the frames of a holder change: two announcements and a query for the HAVIP. */
class Scratch {
  private t = 0;
  private i = 0;
  readonly fabric = new Fabric(scratchSpec(), { clock: { now: () => this.t } });
  private readonly garps = [announcement(VNICS[0].mac, VIP), announcement(VNICS[1].mac, VIP)] as const;
  private readonly query = new Uint8Array(60);

  constructor() {
    const ports: Port[] = VNICS.map((v) => ({ id: v.port, send: () => undefined, setReceiver: () => undefined }));
    for (const p of ports) this.fabric.attachPort(p);
    const c = parseMac(VNICS[2].mac)!;
    const off = emitEthernet({ dst: BROADCAST, src: c, ethertype: ETHERTYPE.ARP }, this.query, 0);
    const cIp = parseIpv4Address(VNICS[2].ip)!;
    emitArp(
      { op: ARP_OP.REQUEST, senderMac: c, senderIp: cIp, targetMac: 0, targetIp: parseIpv4Address(VIP)! },
      this.query,
      off,
    );
  }

  /** One holder change, a refresh or a stale holder's claim, and an answered query. */
  round(): void {
    // 100 ms apart: below the storm guard's limit, so every announcement is a real holder change.
    this.t += 100;
    const k = this.i++ % 2;
    this.fabric.receive(VNICS[k]!.port, this.garps[k]!);
    this.fabric.receive(VNICS[0].port, this.garps[k]!);
    this.fabric.receive(VNICS[2].port, this.query);
  }

  holderChanges(): number {
    return this.fabric.counters().havips["warm-havip"]?.holderChanges ?? 0;
  }
}

/** Runs `rounds` holder changes (and the ARP answers around them) through a scratch fabric; returns the time taken. */
export function warmUpFabric(rounds = 3000): { rounds: number; holderChanges: number; durationMs: number } {
  const started = performance.now();
  const scratch = new Scratch();
  for (let i = 0; i < rounds; i++) scratch.round();
  return { rounds, holderChanges: scratch.holderChanges(), durationMs: performance.now() - started };
}

/**
 * Keeps the announcement path hot between failovers. Optimised code alone is not enough: after seconds of
 * other work (frames of the data path, other processes on the core) the first announcement still took 25–100 µs
 * from arrival to re-point in a live agent, against ~1 µs in a loop, because its code and data had left the CPU's
 * caches. One holder change through a scratch fabric every `everyMs` (a few microseconds of CPU) keeps them warm.
 * The timer does not keep the process alive.
 */
export function keepFabricWarm(everyMs = 50): { stop(): void; holderChanges(): number } {
  const scratch = new Scratch();
  const timer = setInterval(() => {
    scratch.round();
  }, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
    },
    holderChanges: () => scratch.holderChanges(),
  };
}
