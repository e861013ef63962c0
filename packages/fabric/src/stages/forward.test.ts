// Switching and routing: vNIC MACs, HAVIP virtual MACs, the router (TTL, checksum), the internet edge with EIP
// NAT in both directions, and the drops in between.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkFrame,
  gratuitousArp,
  icmpEchoFrame,
  icmpErrorFrame,
  ip,
  ipPacketOf,
  mac,
  udpFrame,
} from "@havip/testkit";
import { ICMP_TYPE } from "@havip/wire";
import {
  EDGE_MAC,
  EIP_CLIENT,
  EIP_HAVIP,
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

function udp(from: Vm, o: { dstMac?: string; dst: string; ttl?: number; src?: string }): Uint8Array {
  return udpFrame({
    srcMac: from.mac,
    dstMac: o.dstMac ?? ROUTER_MAC,
    src: o.src ?? from.ip,
    dst: o.dst,
    srcPort: 33000,
    dstPort: 7,
    ttl: o.ttl ?? 64,
    payload: new Uint8Array([1, 2, 3, 4, 5]),
  });
}

function single(h: Harness): [string, Uint8Array] {
  const out = Object.entries(h.drain());
  assert.equal(out.length, 1, `expected one receiving port, got ${out.map(([p]) => p).join(",") || "none"}`);
  assert.equal(out[0]![1].length, 1);
  return [out[0]![0], out[0]![1][0]!];
}

function dropped(h: Harness, port: string, frame: Uint8Array, reason: string): void {
  h.port(port).inject(frame);
  assert.deepEqual(h.drain(), {});
  assert.equal(h.fabric.lastOutcome().reason, reason);
}

describe("switching", () => {
  it("delivers a frame to a vNIC MAC of the subnet unchanged", () => {
    const h = harness();
    const f = udp(VM.C, { dstMac: VM.B.mac, dst: VM.B.ip });
    h.port(VM.C.port).inject(f);
    const [port, out] = single(h);
    assert.equal(port, VM.B.port);
    assert.deepEqual(out, f);
  });

  it("delivers a frame to the HAVIP's virtual MAC to the holder, destination MAC rewritten", () => {
    const h = harness();
    const f = udp(VM.C, { dstMac: HAVIP.virtualMac, dst: HAVIP.ip });
    dropped(h, VM.C.port, f, "havip-no-holder");
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    h.drain();
    h.port(VM.C.port).inject(f);
    const [port, out] = single(h);
    assert.equal(port, VM.B.port);
    const expected = f.slice();
    expected.set(out.subarray(0, 6));
    assert.deepEqual(out, expected, "only the destination MAC changed");
    assert.equal(checkFrame(out).dst, mac(VM.B.mac));
  });

  it("drops frames to a MAC of another subnet, an unknown MAC, or a detached port", () => {
    const h = harness();
    dropped(h, VM.A.port, udp(VM.A, { dstMac: VM.CLIENT.mac, dst: VM.CLIENT.ip }), "unknown-destination-mac");
    dropped(h, VM.A.port, udp(VM.A, { dstMac: "02:00:00:00:99:99", dst: VM.B.ip }), "unknown-destination-mac");
    dropped(h, VM.A.port, udp(VM.A, { dstMac: VM.X.mac, dst: VM.X.ip }), "unknown-destination-mac");
    h.fabric.detachPort(VM.B.port);
    dropped(h, VM.A.port, udp(VM.A, { dstMac: VM.B.mac, dst: VM.B.ip }), "port-not-attached");
  });
});

describe("routing", () => {
  it("routes between subnets of a VPC: MACs rewritten, TTL decremented, checksums valid", () => {
    const h = harness();
    h.port(VM.A.port).inject(udp(VM.A, { dst: VM.CLIENT.ip, ttl: 9 }));
    const [port, out] = single(h);
    assert.equal(port, VM.CLIENT.port);
    const f = checkFrame(out);
    assert.equal(f.src, mac(ROUTER_MAC));
    assert.equal(f.dst, mac(VM.CLIENT.mac));
    assert.equal(f.ip?.ttl, 8);
    assert.equal(f.ip.src, ip(VM.A.ip));
  });

  it("drops what it cannot route", () => {
    const h = harness();
    dropped(h, VM.A.port, udp(VM.A, { dst: VM.CLIENT.ip, ttl: 1 }), "ttl-exceeded");
    dropped(h, VM.A.port, udp(VM.A, { dst: "10.0.9.9" }), "no-route");
    dropped(h, VM.A.port, udp(VM.A, { dst: "10.0.2.1" }), "to-router");
    dropped(h, VM.A.port, udp(VM.A, { dst: "224.0.0.18" }), "no-route");
    dropped(h, VM.A.port, udp(VM.A, { dst: "255.255.255.255" }), "no-route");
    dropped(h, VM.A.port, udp(VM.A, { dst: HAVIP.ip }), "havip-no-holder");
    // VPCs are isolated even when they overlap: vm-X reaches nothing of vpc-a.
    dropped(h, VM.X.port, udp(VM.X, { dst: VM.CLIENT.ip }), "no-route");
    dropped(h, VM.X.port, udp(VM.X, { dst: VM.B.ip }), "no-route");
  });
});

describe("the internet edge", () => {
  it("translates a vNIC's EIP out and in, and resolves the next hop itself", () => {
    const h = harness();
    const out = udp(VM.CLIENT, { dst: NET.remoteIp });
    // The next hop is not known yet (the request sent at attach time went unanswered): dropped, and once the
    // interval has passed the fabric asks again, once.
    h.port(VM.CLIENT.port).inject(out);
    assert.equal(h.fabric.lastOutcome().reason, "neighbour-unresolved");
    assert.deepEqual(h.drain(), {});
    h.clock.advance(1000);
    h.port(VM.CLIENT.port).inject(out);
    assert.equal(h.fabric.lastOutcome().reason, "neighbour-unresolved");
    const asked = h.drain()[NET.port];
    assert.equal(asked?.length, 1);
    assert.equal(checkFrame(asked[0]!).arp?.targetIp, ip(NET.gatewayIp));
    h.port(VM.CLIENT.port).inject(out);
    assert.deepEqual(h.drain(), {}, "no second request within the interval");
    resolveGateway(h);

    h.port(VM.CLIENT.port).inject(out);
    let [port, frame] = single(h);
    assert.equal(port, NET.port);
    let f = checkFrame(frame);
    assert.equal(f.dst, mac(NET.gatewayMac));
    assert.equal(f.src, mac(EDGE_MAC));
    assert.equal(f.ip?.src, ip(EIP_CLIENT.publicIp));
    assert.equal(f.ip.dst, ip(NET.remoteIp));
    assert.equal(f.ip.ttl, 63);

    const back = udpFrame({
      srcMac: NET.gatewayMac,
      dstMac: EDGE_MAC,
      src: NET.remoteIp,
      dst: EIP_CLIENT.publicIp,
      srcPort: 7,
      dstPort: 33000,
      ttl: 50,
    });
    h.port(NET.port).inject(back);
    [port, frame] = single(h);
    assert.equal(port, VM.CLIENT.port);
    f = checkFrame(frame);
    assert.equal(f.dst, mac(VM.CLIENT.mac));
    assert.equal(f.src, mac(ROUTER_MAC));
    assert.equal(f.ip?.dst, ip(VM.CLIENT.ip));
    assert.equal(f.ip.ttl, 49);
    assert.equal(h.fabric.counters().frames.natOutbound, 1);
    assert.equal(h.fabric.counters().frames.natInbound, 1);
  });

  it("drops traffic leaving the VPC without an EIP, and inbound traffic it cannot place", () => {
    const h = harness();
    resolveGateway(h);
    dropped(h, VM.A.port, udp(VM.A, { dst: NET.remoteIp }), "no-eip");
    const inbound = (dst: string, dstMac = EDGE_MAC) =>
      udpFrame({ srcMac: NET.gatewayMac, dstMac, src: NET.remoteIp, dst, srcPort: 1, dstPort: 2 });
    dropped(h, NET.port, inbound(EIP_HAVIP.publicIp), "havip-no-holder");
    dropped(h, NET.port, inbound("198.51.100.99"), "no-route");
    dropped(h, NET.port, inbound(NET.edgeIp), "to-router");
    dropped(h, NET.port, inbound(EIP_CLIENT.publicIp, ROUTER_MAC), "unknown-destination-mac");
    h.fabric.applyChanges([
      { op: "upsert", kind: "eip", value: { id: "eip-spare", publicIp: "198.51.100.12", target: null } },
    ]);
    dropped(h, NET.port, inbound("198.51.100.12"), "eip-unbound");
  });

  it("drops when the internet is not configured", () => {
    const spec = seedSpec();
    spec.internet = null;
    const h = harness(spec);
    dropped(h, VM.CLIENT.port, udp(VM.CLIENT, { dst: NET.remoteIp }), "no-route");
  });

  it("translates the embedded header of ICMP errors in both directions", () => {
    const h = harness();
    resolveGateway(h);
    // Outbound: the client's packet left as the EIP; a router on the way answers "TTL exceeded" to the EIP.
    h.port(VM.CLIENT.port).inject(udp(VM.CLIENT, { dst: NET.remoteIp }));
    const [, left] = single(h);
    const err = icmpErrorFrame({
      srcMac: NET.gatewayMac,
      dstMac: EDGE_MAC,
      src: NET.gatewayIp,
      dst: EIP_CLIENT.publicIp,
      type: ICMP_TYPE.TIME_EXCEEDED,
      code: 0,
      embedded: ipPacketOf(left),
    });
    h.port(NET.port).inject(err);
    let [port, frame] = single(h);
    assert.equal(port, VM.CLIENT.port);
    let f = checkFrame(frame); // checks the ICMP checksum and the embedded header's
    assert.equal(f.ip?.dst, ip(VM.CLIENT.ip));
    assert.deepEqual(f.icmp?.embedded, { src: ip(VM.CLIENT.ip), dst: ip(NET.remoteIp), protocol: 17 });
    // The embedded UDP checksum was adjusted too: the embedded packet is the client's original one, bar TTL.
    const original = ipPacketOf(udp(VM.CLIENT, { dst: NET.remoteIp }));
    const embedded = frame.subarray(14 + 20 + 8);
    assert.deepEqual(embedded.subarray(20, 28), original.subarray(20, 28));

    // Inbound: the internet sends to the EIP; the client answers "port unreachable", which leaves as the EIP.
    const inbound = udpFrame({
      srcMac: NET.gatewayMac,
      dstMac: EDGE_MAC,
      src: NET.remoteIp,
      dst: EIP_CLIENT.publicIp,
      srcPort: 9,
      dstPort: 9999,
    });
    h.port(NET.port).inject(inbound);
    const [, delivered] = single(h);
    const unreachable = icmpErrorFrame({
      srcMac: VM.CLIENT.mac,
      dstMac: ROUTER_MAC,
      src: VM.CLIENT.ip,
      dst: NET.remoteIp,
      type: ICMP_TYPE.DEST_UNREACHABLE,
      code: 3,
      embedded: ipPacketOf(delivered),
    });
    h.port(VM.CLIENT.port).inject(unreachable);
    [port, frame] = single(h);
    assert.equal(port, NET.port);
    f = checkFrame(frame);
    assert.equal(f.ip?.src, ip(EIP_CLIENT.publicIp));
    assert.deepEqual(f.icmp?.embedded, { src: ip(NET.remoteIp), dst: ip(EIP_CLIENT.publicIp), protocol: 17 });
  });

  it("answers nothing for the gateway's ping (the router does not terminate traffic)", () => {
    const h = harness();
    dropped(
      h,
      VM.A.port,
      icmpEchoFrame({ srcMac: VM.A.mac, dstMac: ROUTER_MAC, src: VM.A.ip, dst: "10.0.1.1" }),
      "to-router",
    );
  });
});
