// Shared set-up for the fabric's tests (not exported by the package): the seed's network (seed 001: HAVIP
// 10.0.1.50 held by vm-A or vm-B), with every port attached as a memory port and a manual clock.
import { ManualClock, MemoryPort, arpReply, udpFrame } from "@havip/testkit";
import { Fabric, type FabricOptions } from "./fabric.ts";
import type { Observation } from "./observations.ts";
import type { NetworkSpec } from "./spec.ts";

export const ROUTER_MAC = "02:00:00:00:00:01";
export const EDGE_MAC = "02:00:00:00:ff:01";

/** The instances of the seed network: vNIC id, MAC, IP, port. */
export const VM = {
  A: { id: "eni-a", instanceId: "i-a", mac: "02:00:00:00:01:0b", ip: "10.0.1.11", port: "p-a", subnetId: "subnet-app" },
  B: { id: "eni-b", instanceId: "i-b", mac: "02:00:00:00:01:0c", ip: "10.0.1.12", port: "p-b", subnetId: "subnet-app" },
  /** A third instance of the HAVIP's subnet, not a member. */
  C: { id: "eni-c", instanceId: "i-c", mac: "02:00:00:00:01:0d", ip: "10.0.1.13", port: "p-c", subnetId: "subnet-app" },
  /** A client in another subnet of the same VPC. */
  CLIENT: {
    id: "eni-client",
    instanceId: "i-client",
    mac: "02:00:00:00:02:14",
    ip: "10.0.2.20",
    port: "p-client",
    subnetId: "subnet-client",
  },
  /** An instance of another VPC whose addresses overlap the first one's (same IP as vm-A). */
  X: { id: "eni-x", instanceId: "i-x", mac: "02:00:00:00:03:0b", ip: "10.0.1.11", port: "p-x", subnetId: "subnet-x" },
} as const;

export const HAVIP = { id: "havip-web", ip: "10.0.1.50", virtualMac: "02:00:00:00:aa:01" } as const;
export const EIP_HAVIP = { id: "eip-web", publicIp: "198.51.100.10" } as const;
export const EIP_CLIENT = { id: "eip-client", publicIp: "198.51.100.11" } as const;
/** The internet side: the fabric's edge, its next hop, and a host on the on-link prefix. */
export const NET = {
  port: "internet",
  edgeIp: "203.0.113.1",
  gatewayIp: "203.0.113.254",
  gatewayMac: "02:00:00:00:ee:fe",
  hostIp: "203.0.113.100",
  hostMac: "02:00:00:00:ee:64",
  remoteIp: "192.0.2.77", // beyond the gateway
} as const;

export function seedSpec(): NetworkSpec {
  const vnic = (v: (typeof VM)[keyof typeof VM]) => ({ ...v });
  return {
    routerMac: ROUTER_MAC,
    internet: { port: NET.port, mac: EDGE_MAC, ip: NET.edgeIp, cidr: "203.0.113.0/24", gateway: NET.gatewayIp },
    vpcs: [
      { id: "vpc-a", cidr: "10.0.0.0/16" },
      { id: "vpc-b", cidr: "10.0.0.0/16" },
    ],
    subnets: [
      { id: "subnet-app", vpcId: "vpc-a", cidr: "10.0.1.0/24", gatewayIp: "10.0.1.1", broadcast: "auto" },
      { id: "subnet-client", vpcId: "vpc-a", cidr: "10.0.2.0/24", gatewayIp: "10.0.2.1", broadcast: "auto" },
      { id: "subnet-x", vpcId: "vpc-b", cidr: "10.0.1.0/24", gatewayIp: "10.0.1.1", broadcast: "auto" },
    ],
    vnics: [vnic(VM.A), vnic(VM.B), vnic(VM.C), vnic(VM.CLIENT), vnic(VM.X)],
    havips: [{ ...HAVIP, subnetId: "subnet-app", members: [VM.A.id, VM.B.id] }],
    eips: [
      { ...EIP_HAVIP, target: { type: "havip", havipId: HAVIP.id } },
      { ...EIP_CLIENT, target: { type: "vnic", vnicId: VM.CLIENT.id } },
    ],
  };
}

export interface Harness {
  fabric: Fabric;
  clock: ManualClock;
  ports: Map<string, MemoryPort>;
  port(id: string): MemoryPort;
  observations: Observation[];
  /** Frames delivered on every port since the last call, by port id (empty ports left out); clears them. */
  drain(): Record<string, Uint8Array[]>;
}

/** A fabric over `spec` with a memory port attached for every vNIC port and the internet port. */
export function harness(spec: NetworkSpec = seedSpec(), options: FabricOptions = {}): Harness {
  const clock = new ManualClock();
  const fabric = new Fabric(spec, { clock, ...options });
  const ports = new Map<string, MemoryPort>();
  const ids = spec.vnics.map((v) => v.port);
  if (spec.internet) ids.push(spec.internet.port);
  for (const id of ids) {
    const p = new MemoryPort(id);
    ports.set(id, p);
    fabric.attachPort(p);
  }
  // Attaching the internet port makes the fabric ask for its next hop; tests start from quiet ports.
  for (const p of ports.values()) p.clear();
  const observations: Observation[] = [];
  fabric.onObservation((o) => observations.push(o));
  const h: Harness = {
    fabric,
    clock,
    ports,
    observations,
    port(id) {
      const p = ports.get(id);
      if (p === undefined) throw new Error(`no port ${id}`);
      return p;
    },
    drain() {
      const out: Record<string, Uint8Array[]> = {};
      for (const [id, p] of ports) {
        const frames = p.take();
        if (frames.length > 0) out[id] = frames;
      }
      return out;
    },
  };
  return h;
}

/** Teaches the fabric the internet gateway's MAC (as its ARP reply would) and clears the ports. */
export function resolveGateway(h: Harness): void {
  h.port(NET.port).inject(
    arpReply({ mac: NET.gatewayMac, ip: NET.gatewayIp, targetMac: EDGE_MAC, targetIp: NET.edgeIp }),
  );
  h.drain();
}

/** Sends a UDP frame from the client (another subnet, routed) to the HAVIP; the ports it reached (drained). */
export function clientToHavip(h: Harness, dstPort: number): string[] {
  h.drain();
  h.port(VM.CLIENT.port).inject(
    udpFrame({ srcMac: VM.CLIENT.mac, dstMac: ROUTER_MAC, src: VM.CLIENT.ip, dst: HAVIP.ip, srcPort: 1, dstPort }),
  );
  return Object.keys(h.drain());
}
