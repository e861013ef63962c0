// After every failover the control plane sends the fabric the holder it recorded (a HAVIP upsert carrying the
// generation it issued). The fabric is single-threaded: while it applies a change no frame moves. This measures
// that pause at the footprint benchmark's scale (10,000 vNICs, 1,000 HAVIPs): the in-place holder update the
// fabric uses, against a full compile of the same change (what every change cost before; forced here with a
// no-op router-MAC change in the same batch). The two alternate, so both see the same machine.
import { Fabric, type HaVipSpec, type NetworkSpec, type SpecChange } from "@havip/fabric";

export interface HolderConfirmResult {
  vnics: number;
  havips: number;
  rounds: number;
  /** Milliseconds per applied confirmation. */
  inPlace: { p50Ms: number; p99Ms: number; maxMs: number };
  fullCompile: { p50Ms: number; p99Ms: number; maxMs: number };
}

const ROUTER = "02:00:00:00:00:01";
const SUBNET_SIZE = 4096; // /20

function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function mac(prefix: number, i: number): string {
  return [0x02, 0x10 + prefix, (i >>> 16) & 255, (i >>> 8) & 255, i & 255, 1]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join(":");
}

/** One VPC of /20 subnets; vNICs spread over them; each HAVIP in a subnet with two of its vNICs as members. */
export function bigSpec(vnicCount: number, havipCount: number): NetworkSpec {
  const perSubnet = 1000;
  const subnetCount = Math.ceil(vnicCount / perSubnet);
  const base = 10 << 24;
  const spec: NetworkSpec = {
    routerMac: ROUTER,
    vpcs: [{ id: "vpc", cidr: "10.0.0.0/8" }],
    subnets: [],
    vnics: [],
    havips: [],
    eips: [],
  };
  for (let s = 0; s < subnetCount; s++) {
    const net = base + s * SUBNET_SIZE;
    spec.subnets.push({
      id: `subnet-${s}`,
      vpcId: "vpc",
      cidr: `${dotted(net)}/20`,
      gatewayIp: dotted(net + 1),
      broadcast: "auto",
    });
  }
  for (let i = 0; i < vnicCount; i++) {
    const s = i % subnetCount;
    const k = Math.floor(i / subnetCount);
    spec.vnics.push({
      id: `eni-${i}`,
      mac: mac(0, i),
      ip: dotted(base + s * SUBNET_SIZE + 10 + k),
      port: `p-${i}`,
      subnetId: `subnet-${s}`,
    });
  }
  for (let j = 0; j < havipCount; j++) {
    const s = j % subnetCount;
    const k = Math.floor(j / subnetCount);
    // Members: two vNICs of subnet s (vNIC i lives in subnet i % subnetCount).
    const a = s + 2 * k * subnetCount;
    const b = a + subnetCount;
    spec.havips.push({
      id: `havip-${j}`,
      subnetId: `subnet-${s}`,
      ip: dotted(base + s * SUBNET_SIZE + 3000 + k),
      virtualMac: mac(1, j),
      members: [`eni-${a}`, `eni-${b}`],
    });
  }
  return spec;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function summary(xs: number[]) {
  const r = (x: number) => Number(x.toFixed(4));
  return { p50Ms: r(percentile(xs, 50)), p99Ms: r(percentile(xs, 99)), maxMs: r(Math.max(...xs)) };
}

export function measureHolderConfirm(vnicCount: number, havipCount: number, rounds: number): HolderConfirmResult {
  const spec = bigSpec(vnicCount, havipCount);
  const fabric = new Fabric(spec, { maxHolderChangesPerSecond: 1_000_000 });
  fabric.onObservation(() => undefined);
  const havips = new Map<string, HaVipSpec>(spec.havips.map((h) => [h.id, h]));
  const inPlace: number[] = [];
  const full: number[] = [];
  let generation = 0;
  for (let r = 0; r < rounds; r++) {
    for (const forceCompile of r % 2 === 0 ? [false, true] : [true, false]) {
      const h = havips.get(`havip-${(r * 7) % havipCount}`)!;
      const holder = h.members![generation % 2]!;
      const changes: SpecChange[] = [
        { op: "upsert", kind: "havip", value: { ...h, holderVnicId: holder, generation: ++generation } },
      ];
      if (forceCompile) changes.push({ op: "set-router-mac", routerMac: ROUTER });
      const t0 = process.hrtime.bigint();
      fabric.applyChanges(changes);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (fabric.holderOf(h.id)?.vnicId !== holder) throw new Error(`${h.id}: the confirmed holder was not applied`);
      (forceCompile ? full : inPlace).push(ms);
    }
  }
  return { vnics: vnicCount, havips: havipCount, rounds, inPlace: summary(inPlace), fullCompile: summary(full) };
}
