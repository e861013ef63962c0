// The MTU: jumbo frames pass every path of a jumbo VPC (switch, route, HAVIP delivery, flood, NAT both ways);
// a frame over its VPC's MTU is dropped as `too-big`; between a VPC and the internet the smaller MTU wins and a
// DF packet is answered with ICMP fragmentation needed (PMTUD).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { checkFrame, gratuitousArp, icmpErrorFrame, ip, ipPacketOf, mac, udpFrame } from "@havip/testkit";
import { ICMP_TYPE, IPPROTO } from "@havip/wire";
import { Fabric, SpecError } from "../fabric.ts";
import type { NetworkSpec } from "../spec.ts";
import {
  EDGE_MAC,
  EIP_CLIENT,
  HAVIP,
  NET,
  ROUTER_MAC,
  VM,
  harness,
  resolveGateway,
  seedSpec,
  type Harness,
} from "../test-support.ts";

type Vm = (typeof VM)[keyof typeof VM];

const ETH = 14;
const IP_UDP = 28;

/** The seed network with vpc-a (vm-A, B, C, client) at `mtu`, vpc-b (vm-X) at the default, the internet at `inet`. */
function specWith(mtu: number, inet?: number): NetworkSpec {
  const spec = seedSpec();
  spec.vpcs = spec.vpcs.map((v) => (v.id === "vpc-a" ? { ...v, mtu } : v));
  if (inet !== undefined) spec.internet = { ...spec.internet!, mtu: inet };
  return spec;
}

/** A UDP frame whose IP packet is `ipLen` bytes. */
function udpOfSize(
  from: Vm,
  ipLen: number,
  o: { dstMac?: string; dst: string; src?: string; dontFragment?: boolean },
): Uint8Array {
  const payload = new Uint8Array(ipLen - IP_UDP);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  return udpFrame({
    srcMac: from.mac,
    dstMac: o.dstMac ?? ROUTER_MAC,
    src: o.src ?? from.ip,
    dst: o.dst,
    srcPort: 40000,
    dstPort: 5001,
    payload,
    dontFragment: o.dontFragment ?? true,
  });
}

/** A UDP frame from the internet host (on-link) to `dst`, whose IP packet is `ipLen` bytes. */
function inboundOfSize(dst: string, ipLen: number, dontFragment = true): Uint8Array {
  return udpFrame({
    srcMac: NET.hostMac,
    dstMac: EDGE_MAC,
    src: NET.hostIp,
    dst,
    srcPort: 443,
    dstPort: 40000,
    payload: new Uint8Array(ipLen - IP_UDP),
    dontFragment,
  });
}

function only(h: Harness): [string, Uint8Array] {
  const out = Object.entries(h.drain());
  assert.equal(out.length, 1, `expected one receiving port, got ${out.map(([p]) => p).join(",") || "none"}`);
  assert.equal(out[0]![1].length, 1);
  return [out[0]![0], out[0]![1][0]!];
}

function assertTooBig(h: Harness): void {
  const o = h.fabric.lastOutcome();
  assert.equal(o.verdict, "dropped");
  assert.equal(o.reason, "too-big");
}

describe("MTU: jumbo frames in a jumbo VPC", () => {
  const JUMBO = 9000; // the fabric takes any MTU a frame buffer holds; 9000-byte frames and more must pass
  const big = JUMBO; // IP packet of 9000 bytes: a 9014-byte frame

  it("switches a 9014-byte frame unchanged", () => {
    const h = harness(specWith(JUMBO));
    const f = udpOfSize(VM.C, big, { dstMac: VM.B.mac, dst: VM.B.ip });
    assert.equal(f.length, 9014);
    h.port(VM.C.port).inject(f);
    const [port, out] = only(h);
    assert.equal(port, VM.B.port);
    assert.deepEqual(out, f);
  });

  it("routes it to another subnet (TTL and checksums valid)", () => {
    const h = harness(specWith(JUMBO));
    h.port(VM.A.port).inject(udpOfSize(VM.A, big, { dst: VM.CLIENT.ip }));
    const [port, out] = only(h);
    assert.equal(port, VM.CLIENT.port);
    const s = checkFrame(out);
    assert.equal(s.len, 9014);
    assert.equal(s.ip?.ttl, 63);
    assert.equal(s.udp?.payloadLen, big - IP_UDP);
  });

  it("delivers it to a HAVIP's holder, by virtual MAC and routed", () => {
    const h = harness(specWith(JUMBO));
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    h.drain();
    h.port(VM.C.port).inject(udpOfSize(VM.C, big, { dstMac: HAVIP.virtualMac, dst: HAVIP.ip }));
    let [port, out] = only(h);
    assert.equal(port, VM.B.port);
    assert.equal(checkFrame(out).len, 9014);
    h.port(VM.CLIENT.port).inject(udpOfSize(VM.CLIENT, big, { dst: HAVIP.ip }));
    [port, out] = only(h);
    assert.equal(port, VM.B.port);
    assert.equal(checkFrame(out).dst, mac(VM.B.mac));
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.delivered, 2);
  });

  it("floods a jumbo multicast frame to the broadcast domain", () => {
    const h = harness(specWith(JUMBO));
    const f = udpOfSize(VM.A, big, { dstMac: "01:00:5e:00:00:12", dst: "224.0.0.18" });
    h.port(VM.A.port).inject(f);
    const out = h.drain();
    assert.deepEqual(Object.keys(out), [VM.B.port], "members A and B form the domain");
    assert.deepEqual(out[VM.B.port], [f]);
  });

  it("translates it both ways at an internet edge that carries jumbo frames", () => {
    const h = harness(specWith(JUMBO, JUMBO));
    resolveGateway(h);
    h.port(VM.CLIENT.port).inject(udpOfSize(VM.CLIENT, big, { dst: NET.remoteIp }));
    let [port, out] = only(h);
    assert.equal(port, NET.port);
    let s = checkFrame(out);
    assert.equal(s.ip?.src, ip(EIP_CLIENT.publicIp));
    assert.equal(s.len, 9014);
    h.port(NET.port).inject(inboundOfSize(EIP_CLIENT.publicIp, big));
    [port, out] = only(h);
    assert.equal(port, VM.CLIENT.port);
    s = checkFrame(out);
    assert.equal(s.ip?.dst, ip(VM.CLIENT.ip));
    assert.equal(s.len, 9014);
  });

  it("still drops a frame over the VPC's MTU", () => {
    const h = harness(specWith(8950));
    h.port(VM.C.port).inject(udpOfSize(VM.C, 8950, { dstMac: VM.B.mac, dst: VM.B.ip }));
    assert.equal(only(h)[0], VM.B.port);
    h.port(VM.C.port).inject(udpOfSize(VM.C, 8951, { dstMac: VM.B.mac, dst: VM.B.ip }));
    assertTooBig(h);
    assert.deepEqual(h.drain(), {});
  });
});

describe("MTU: a VPC at 1500", () => {
  it("carries 1500-byte packets and drops bigger ones on every path, counted as too-big", () => {
    const h = harness(specWith(1500));
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    h.drain();
    const frames: [Vm, Uint8Array][] = [
      [VM.C, udpOfSize(VM.C, 1501, { dstMac: VM.B.mac, dst: VM.B.ip })],
      [VM.A, udpOfSize(VM.A, 1501, { dst: VM.CLIENT.ip })],
      [VM.C, udpOfSize(VM.C, 1501, { dstMac: HAVIP.virtualMac, dst: HAVIP.ip })],
      [VM.A, udpOfSize(VM.A, 3028, { dstMac: "01:00:5e:00:00:12", dst: "224.0.0.18" })],
    ];
    for (const [vm, f] of frames) {
      h.port(vm.port).inject(f);
      assertTooBig(h);
      assert.deepEqual(h.drain(), {}, "nothing sent, not even an ICMP error: the sender's own link is too small");
    }
    h.port(VM.C.port).inject(udpOfSize(VM.C, 1500, { dstMac: VM.B.mac, dst: VM.B.ip }));
    assert.equal(only(h)[0], VM.B.port);
    assert.equal(h.fabric.counters().drops["too-big"], frames.length);
    assert.equal(h.fabric.counters().ports[VM.C.port]?.drops, 2);
  });

  it("is the default: a spec without mtu carries 1500 bytes, not 1501", () => {
    const h = harness(seedSpec());
    h.port(VM.X.port).inject(udpOfSize(VM.X, 1501, { dst: "10.0.2.99" }));
    assertTooBig(h);
    h.port(VM.A.port).inject(udpOfSize(VM.A, 1500, { dst: VM.CLIENT.ip }));
    assert.equal(only(h)[0], VM.CLIENT.port);
  });

  it("applies the MTU of the sender's VPC, not another's", () => {
    const h = harness(specWith(8950)); // vpc-b (vm-X) stays at 1500
    h.port(VM.A.port).inject(udpOfSize(VM.A, 4000, { dst: VM.CLIENT.ip }));
    assert.equal(only(h)[0], VM.CLIENT.port);
    h.port(VM.X.port).inject(udpOfSize(VM.X, 4000, { dst: "10.0.2.99" }));
    assertTooBig(h);
  });

  it("takes effect on the next frame when a spec change raises the MTU", () => {
    const h = harness(specWith(1500));
    const f = udpOfSize(VM.C, 4000, { dstMac: VM.B.mac, dst: VM.B.ip });
    h.port(VM.C.port).inject(f);
    assertTooBig(h);
    h.fabric.applyChanges([{ op: "upsert", kind: "vpc", value: { id: "vpc-a", cidr: "10.0.0.0/16", mtu: 8950 } }]);
    h.port(VM.C.port).inject(f);
    assert.equal(only(h)[0], VM.B.port);
  });
});

describe("MTU: property", () => {
  it("any packet up to the VPC's MTU passes, any bigger one drops as too-big", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1280, max: 8950 }),
        fc.integer({ min: 64, max: 9100 }),
        fc.boolean(),
        (mtu, size, routed) => {
          const h = harness(specWith(mtu));
          const f = routed
            ? udpOfSize(VM.A, size, { dst: VM.CLIENT.ip })
            : udpOfSize(VM.C, size, { dstMac: VM.B.mac, dst: VM.B.ip });
          h.port(routed ? VM.A.port : VM.C.port).inject(f);
          const out = h.drain();
          if (size <= mtu) {
            assert.equal(h.fabric.lastOutcome().verdict, "forwarded");
            assert.equal(out[routed ? VM.CLIENT.port : VM.B.port]?.[0]?.length, size + ETH);
          } else {
            assertTooBig(h);
            assert.deepEqual(out, {});
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("MTU: the internet edge (PMTUD)", () => {
  it("answers an outbound DF packet over the edge's 1500 with ICMP fragmentation needed", () => {
    const h = harness(specWith(8950));
    resolveGateway(h);
    const f = udpOfSize(VM.CLIENT, 1501, { dst: NET.remoteIp });
    h.port(VM.CLIENT.port).inject(f);
    assertTooBig(h);
    const [port, out] = only(h);
    assert.equal(port, VM.CLIENT.port, "back to the sender");
    const s = checkFrame(out);
    assert.equal(s.dst, mac(VM.CLIENT.mac));
    assert.equal(s.src, mac(ROUTER_MAC));
    assert.equal(s.ip?.src, ip("10.0.2.1"), "from the sender's subnet gateway");
    assert.equal(s.ip.dst, ip(VM.CLIENT.ip));
    assert.equal(s.ip.protocol, IPPROTO.ICMP);
    assert.equal(s.icmp?.type, ICMP_TYPE.DEST_UNREACHABLE);
    assert.equal(s.icmp.code, 4);
    const icmp = ETH + 20;
    assert.equal((out[icmp + 6]! << 8) | out[icmp + 7]!, 1500, "next-hop MTU");
    assert.deepEqual(s.icmp.embedded, { src: ip(VM.CLIENT.ip), dst: ip(NET.remoteIp), protocol: IPPROTO.UDP });
    // The original header and the start of its payload, as sent (RFC 1812: up to 576 bytes in all).
    assert.equal(s.ip.totalLen, 576);
    assert.deepEqual(out.subarray(icmp + 8, icmp + 8 + 548), f.subarray(ETH, ETH + 548));
    assert.equal(h.fabric.counters().frames.natOutbound, 0);
  });

  it("sends the edge exactly its MTU, and drops a packet without DF silently", () => {
    const h = harness(specWith(8950));
    resolveGateway(h);
    h.port(VM.CLIENT.port).inject(udpOfSize(VM.CLIENT, 1500, { dst: NET.remoteIp }));
    assert.equal(only(h)[0], NET.port);
    h.port(VM.CLIENT.port).inject(udpOfSize(VM.CLIENT, 2000, { dst: NET.remoteIp, dontFragment: false }));
    assertTooBig(h);
    assert.deepEqual(h.drain(), {}, "the fabric does not fragment");
  });

  it("answers the HAVIP's holder when it sends from the HAVIP", () => {
    const h = harness(specWith(8950));
    resolveGateway(h);
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    h.drain();
    h.port(VM.B.port).inject(udpOfSize(VM.B, 3000, { src: HAVIP.ip, dst: NET.remoteIp }));
    assertTooBig(h);
    const [port, out] = only(h);
    assert.equal(port, VM.B.port);
    const s = checkFrame(out);
    assert.equal(s.ip?.src, ip("10.0.1.1"));
    assert.equal(s.ip.dst, ip(HAVIP.ip));
  });

  it("never answers an ICMP error with another", () => {
    const h = harness(specWith(8950));
    resolveGateway(h);
    const embedded = new Uint8Array(2000); // an error quoting much of a packet: over the edge's MTU
    embedded.set(ipPacketOf(udpOfSize(VM.A, 100, { dst: NET.remoteIp })));
    const err = icmpErrorFrame({
      srcMac: VM.CLIENT.mac,
      dstMac: ROUTER_MAC,
      src: VM.CLIENT.ip,
      dst: NET.remoteIp,
      type: ICMP_TYPE.DEST_UNREACHABLE,
      code: 3,
      embedded,
    });
    h.port(VM.CLIENT.port).inject(err);
    assertTooBig(h);
    assert.deepEqual(h.drain(), {});
  });

  it("answers an inbound DF packet over a small VPC's MTU toward the internet sender", () => {
    const h = harness(specWith(1280));
    resolveGateway(h);
    h.port(NET.port).inject(inboundOfSize(EIP_CLIENT.publicIp, 1400));
    assertTooBig(h);
    const [port, out] = only(h);
    assert.equal(port, NET.port);
    const s = checkFrame(out);
    assert.equal(s.dst, mac(NET.hostMac));
    assert.equal(s.src, mac(EDGE_MAC));
    assert.equal(s.ip?.src, ip(NET.edgeIp));
    assert.equal(s.ip.dst, ip(NET.hostIp));
    assert.equal(s.icmp?.code, 4);
    assert.equal((out[ETH + 20 + 6]! << 8) | out[ETH + 20 + 7]!, 1280);
    assert.equal(s.icmp.embedded?.dst, ip(EIP_CLIENT.publicIp), "the packet as the sender sent it");
    h.port(NET.port).inject(inboundOfSize(EIP_CLIENT.publicIp, 1280));
    assert.equal(only(h)[0], VM.CLIENT.port);
  });
});

describe("MTU in the spec", () => {
  it("refuses an MTU that is not an integer a frame buffer can hold", () => {
    for (const mtu of [0, 67, 1500.5, 65523, Number.NaN]) {
      assert.throws(() => new Fabric(specWith(mtu)), SpecError, String(mtu));
    }
    assert.throws(() => new Fabric(specWith(1500, 10)), SpecError);
    const bad = specWith(1500) as unknown as { vpcs: { mtu: unknown }[] };
    bad.vpcs[0]!.mtu = "9000";
    assert.throws(() => new Fabric(bad as unknown as NetworkSpec), /MTU must be an integer/);
  });

  it("keeps the MTU in the current spec", () => {
    const f = new Fabric(specWith(8950));
    assert.equal(f.currentSpec().vpcs.find((v) => v.id === "vpc-a")?.mtu, 8950);
  });
});
