// The broadcast domain (DESIGN §2.6): VRRP multicast reaches the other members in a HAVIP subnet and never
// another subnet or VPC; unicast-only subnets and subnets without HAVIPs carry none; unicast VRRP between
// peers works in all of them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arpRequest, checkFrame, gratuitousArp, mac, udpFrame, vrrpAdvertFrame } from "@havip/testkit";
import type { NetworkSpec, VnicSpec } from "../spec.ts";
import { ROUTER_MAC, harness, type Harness } from "../test-support.ts";

type Node = { id: string; mac: string; ip: string; port: string; subnetId: string };

let macSeq = 0x10;
function node(subnetId: string, ip: string, name: string): Node {
  const m = `02:00:00:00:10:${(macSeq++).toString(16).padStart(2, "0")}`;
  return { id: `eni-${name}`, mac: m, ip, port: `p-${name}`, subnetId };
}

// Subnets of vpc-1: "open" (a HAVIP without member list), "members" (a HAVIP with members m1, m2),
// "unicast" (unicast-only mode, with a HAVIP), "plain" (no HAVIP). vpc-2 overlaps vpc-1 and has a HAVIP subnet
// with the very same CIDR as "open".
const N = {
  h1: node("subnet-open", "10.1.1.11", "h1"),
  h2: node("subnet-open", "10.1.1.12", "h2"),
  h3: node("subnet-open", "10.1.1.13", "h3"),
  m1: node("subnet-members", "10.1.2.11", "m1"),
  m2: node("subnet-members", "10.1.2.12", "m2"),
  m3: node("subnet-members", "10.1.2.13", "m3"),
  u1: node("subnet-unicast", "10.1.3.11", "u1"),
  u2: node("subnet-unicast", "10.1.3.12", "u2"),
  n1: node("subnet-plain", "10.1.4.11", "n1"),
  n2: node("subnet-plain", "10.1.4.12", "n2"),
  o1: node("subnet-other", "10.1.1.11", "o1"),
  o2: node("subnet-other", "10.1.1.12", "o2"),
};

function spec(): NetworkSpec {
  const subnet = (id: string, vpcId: string, third: number, broadcast: "auto" | "unicast-only") => ({
    id,
    vpcId,
    cidr: `10.1.${third}.0/24`,
    gatewayIp: `10.1.${third}.1`,
    broadcast,
  });
  return {
    routerMac: ROUTER_MAC,
    vpcs: [
      { id: "vpc-1", cidr: "10.1.0.0/16" },
      { id: "vpc-2", cidr: "10.1.0.0/16" },
    ],
    subnets: [
      subnet("subnet-open", "vpc-1", 1, "auto"),
      subnet("subnet-members", "vpc-1", 2, "auto"),
      subnet("subnet-unicast", "vpc-1", 3, "unicast-only"),
      subnet("subnet-plain", "vpc-1", 4, "auto"),
      subnet("subnet-other", "vpc-2", 1, "auto"),
    ],
    vnics: Object.values(N).map((n): VnicSpec => ({ ...n })),
    havips: [
      { id: "havip-open", subnetId: "subnet-open", ip: "10.1.1.50", virtualMac: "02:00:00:00:aa:11", members: null },
      {
        id: "havip-members",
        subnetId: "subnet-members",
        ip: "10.1.2.50",
        virtualMac: "02:00:00:00:aa:12",
        members: [N.m1.id, N.m2.id],
      },
      { id: "havip-unicast", subnetId: "subnet-unicast", ip: "10.1.3.50", virtualMac: "02:00:00:00:aa:13" },
      { id: "havip-other", subnetId: "subnet-other", ip: "10.1.1.50", virtualMac: "02:00:00:00:aa:14" },
    ],
    eips: [],
  };
}

function advert(from: Node, version: 2 | 3, vip: string): Uint8Array {
  return vrrpAdvertFrame({ srcMac: from.mac, src: from.ip, version, vrid: 51, addresses: [vip] });
}

function receivers(h: Harness): string[] {
  return Object.keys(h.drain()).sort();
}

describe("broadcast domain", () => {
  for (const version of [2, 3] as const) {
    it(`carries VRRPv${version} multicast to the other vNICs of a HAVIP subnet, and nowhere else`, () => {
      const h = harness(spec());
      const frame = advert(N.h1, version, "10.1.1.50");
      h.port(N.h1.port).inject(frame);
      const out = h.drain();
      assert.deepEqual(Object.keys(out).sort(), [N.h2.port, N.h3.port]);
      for (const frames of Object.values(out)) {
        assert.equal(frames.length, 1);
        assert.deepEqual(frames[0], frame, "flooded unchanged");
        assert.equal(checkFrame(frames[0]).vrrp?.version, version);
      }
      // The same advert in the overlapping VPC stays there.
      h.port(N.o1.port).inject(advert(N.o1, version, "10.1.1.50"));
      assert.deepEqual(receivers(h), [N.o2.port]);
    });
  }

  it("with a member list, carries multicast among the members only", () => {
    const h = harness(spec());
    h.port(N.m1.port).inject(advert(N.m1, 2, "10.1.2.50"));
    assert.deepEqual(receivers(h), [N.m2.port]);
    h.port(N.m3.port).inject(advert(N.m3, 2, "10.1.2.50"));
    assert.deepEqual(receivers(h), []);
    assert.equal(h.fabric.lastOutcome().reason, "not-in-broadcast-domain");
  });

  it("carries no broadcast or multicast in a unicast-only subnet or a subnet without HAVIPs", () => {
    const h = harness(spec());
    for (const [n, vip] of [
      [N.u1, "10.1.3.50"],
      [N.n1, "10.1.4.50"],
    ] as const) {
      h.port(n.port).inject(advert(n, 2, vip));
      assert.deepEqual(receivers(h), []);
      assert.equal(h.fabric.lastOutcome().reason, "broadcast-not-carried");
      h.port(n.port).inject(
        udpFrame({
          srcMac: n.mac,
          dstMac: "ff:ff:ff:ff:ff:ff",
          src: n.ip,
          dst: "255.255.255.255",
          srcPort: 68,
          dstPort: 67,
        }),
      );
      assert.deepEqual(receivers(h), []);
      h.port(n.port).inject(gratuitousArp({ mac: n.mac, ip: n.ip }));
      assert.deepEqual(receivers(h), []);
      assert.equal(h.fabric.lastOutcome().reason, "broadcast-not-carried");
    }
    assert.equal(h.fabric.counters().drops["broadcast-not-carried"], 6);
  });

  it("carries a gratuitous ARP for a vNIC's own address in a HAVIP subnet", () => {
    const h = harness(spec());
    const garp = gratuitousArp({ mac: N.h2.mac, ip: N.h2.ip });
    h.port(N.h2.port).inject(garp);
    const out = h.drain();
    assert.deepEqual(Object.keys(out).sort(), [N.h1.port, N.h3.port]);
    assert.deepEqual(out[N.h1.port]?.[0], garp);
  });

  it("never floods ARP requests, even in a broadcast domain", () => {
    const h = harness(spec());
    h.port(N.h1.port).inject(arpRequest({ mac: N.h1.mac, ip: N.h1.ip, targetIp: "10.1.1.99" }));
    assert.deepEqual(receivers(h), []);
    assert.equal(h.fabric.lastOutcome().reason, "arp-unknown-target");
  });

  const pairs: [Node, Node][] = [
    [N.h1, N.h2],
    [N.m1, N.m3],
    [N.u1, N.u2],
    [N.n1, N.n2],
    [N.o1, N.o2],
  ];
  for (const [a, b] of pairs) {
    it(`carries unicast VRRP between peers (${a.subnetId})`, () => {
      const h = harness(spec());
      // The peer's MAC comes from the fabric's ARP answer, as keepalived's kernel would learn it.
      h.port(a.port).inject(arpRequest({ mac: a.mac, ip: a.ip, targetIp: b.ip }));
      const answer = h.drain()[a.port]?.[0];
      assert.ok(answer);
      const peerMac = checkFrame(answer).arp?.senderMac;
      assert.equal(peerMac, mac(b.mac));
      for (const version of [2, 3] as const) {
        const frame = vrrpAdvertFrame({
          srcMac: a.mac,
          dstMac: b.mac,
          src: a.ip,
          dst: b.ip,
          version,
          vrid: 7,
          addresses: ["10.1.9.9"],
        });
        h.port(a.port).inject(frame);
        const out = h.drain();
        assert.deepEqual(Object.keys(out), [b.port]);
        assert.deepEqual(out[b.port]?.[0], frame);
        assert.equal(checkFrame(out[b.port]![0]!).vrrp?.vrid, 7);
      }
    });
  }
});
