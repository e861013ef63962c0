// Seed 001, "A Failover, Step by Step", replayed on memory ports with frames built like keepalived's: HAVIP
// 10.0.1.50, vm-A the holder, vm-B the standby; a client in another subnet, a client in the same subnet, and an
// internet host reaching the HAVIP through its EIP.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TCP_FLAGS } from "@havip/wire";
import { checkFrame, gratuitousArp, arpRequest, ip, mac, tcpFrame, udpFrame, type FrameSummary } from "@havip/testkit";
import {
  EDGE_MAC,
  EIP_HAVIP,
  HAVIP,
  NET,
  ROUTER_MAC,
  VM,
  harness,
  resolveGateway,
  type Harness,
} from "./test-support.ts";

/** The only frame delivered anywhere since the last drain, checked (checksums first), and its port. */
function onlyDelivery(h: Harness): { port: string; frame: FrameSummary } {
  const out = h.drain();
  const entries = Object.entries(out);
  assert.equal(entries.length, 1, `expected one port to receive, got ${Object.keys(out).join(", ") || "none"}`);
  const [port, frames] = entries[0]!;
  assert.equal(frames.length, 1);
  return { port, frame: checkFrame(frames[0]!) };
}

function clientSyn(seq: number): Uint8Array {
  return tcpFrame({
    srcMac: VM.CLIENT.mac,
    dstMac: ROUTER_MAC,
    src: VM.CLIENT.ip,
    dst: HAVIP.ip,
    srcPort: 40000 + seq,
    dstPort: 80,
    seq,
  });
}

function internetSyn(seq: number): Uint8Array {
  return tcpFrame({
    srcMac: NET.hostMac,
    dstMac: EDGE_MAC,
    src: NET.hostIp,
    dst: EIP_HAVIP.publicIp,
    srcPort: 50000 + seq,
    dstPort: 443,
    seq,
  });
}

function replyFromHavip(vm: typeof VM.A | typeof VM.B, dstPort: number): Uint8Array {
  return tcpFrame({
    srcMac: vm.mac,
    dstMac: ROUTER_MAC,
    src: HAVIP.ip,
    dst: NET.hostIp,
    srcPort: 443,
    dstPort,
    flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK,
  });
}

describe("seed 001: a failover, step by step", () => {
  it("follows the holder from vm-A to vm-B, fences vm-A, and keeps the EIP working", () => {
    const h = harness();
    const { fabric } = h;
    resolveGateway(h);
    // The internet host asks for the EIP (the fabric answers with its edge MAC and learns the host's MAC).
    h.port(NET.port).inject(arpRequest({ mac: NET.hostMac, ip: NET.hostIp, targetIp: EIP_HAVIP.publicIp }));
    const arp = onlyDelivery(h);
    assert.equal(arp.port, NET.port);
    assert.equal(arp.frame.arp?.senderMac, mac(EDGE_MAC));

    // Before any announcement: no holder, traffic to the HAVIP is dropped and ARP for it is not answered.
    h.port(VM.CLIENT.port).inject(clientSyn(1));
    assert.deepEqual(h.drain(), {});
    assert.equal(fabric.lastOutcome().reason, "havip-no-holder");
    h.port(VM.C.port).inject(arpRequest({ mac: VM.C.mac, ip: VM.C.ip, targetIp: HAVIP.ip }));
    assert.deepEqual(h.drain(), {});
    assert.equal(fabric.lastOutcome().reason, "havip-no-holder");

    // 1. Steady state: vm-A takes the address and announces it (keepalived's gratuitous ARP).
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    assert.deepEqual(fabric.holderOf(HAVIP.id), { vnicId: VM.A.id, generation: 1, since: h.clock.now() });
    assert.deepEqual(h.observations, [
      {
        kind: "holder-changed",
        havipId: HAVIP.id,
        vnicId: VM.A.id,
        previousVnicId: null,
        generation: 1,
        reason: "announcement",
        at: h.clock.now(),
      },
    ]);
    // The announcement reaches the other member with the HAVIP's virtual MAC as sender.
    const flooded = onlyDelivery(h);
    assert.equal(flooded.port, VM.B.port);
    assert.equal(flooded.frame.src, mac(HAVIP.virtualMac));
    assert.equal(flooded.frame.arp?.senderMac, mac(HAVIP.virtualMac));
    assert.equal(flooded.frame.arp.senderIp, ip(HAVIP.ip));

    // Clients are served by vm-A: routed from the other subnet…
    h.port(VM.CLIENT.port).inject(clientSyn(2));
    let d = onlyDelivery(h);
    assert.equal(d.port, VM.A.port);
    assert.equal(d.frame.dst, mac(VM.A.mac));
    assert.equal(d.frame.src, mac(ROUTER_MAC));
    assert.equal(d.frame.ip?.dst, ip(HAVIP.ip));
    assert.equal(d.frame.ip.ttl, 63);
    // …and in the same subnet, through the virtual MAC the fabric answers ARP with.
    h.port(VM.C.port).inject(arpRequest({ mac: VM.C.mac, ip: VM.C.ip, targetIp: HAVIP.ip }));
    d = onlyDelivery(h);
    assert.equal(d.port, VM.C.port);
    assert.equal(d.frame.arp?.senderMac, mac(HAVIP.virtualMac));
    const sameSubnet = udpFrame({
      srcMac: VM.C.mac,
      dstMac: HAVIP.virtualMac,
      src: VM.C.ip,
      dst: HAVIP.ip,
      srcPort: 5000,
      dstPort: 53,
    });
    h.port(VM.C.port).inject(sameSubnet);
    d = onlyDelivery(h);
    assert.equal(d.port, VM.A.port);
    assert.equal(d.frame.dst, mac(VM.A.mac), "destination MAC rewritten to the holder's");
    assert.equal(d.frame.ip?.ttl, 64, "switched, not routed");
    // The EIP reaches vm-A, translated, and vm-A's answer leaves as the EIP.
    h.port(NET.port).inject(internetSyn(1));
    d = onlyDelivery(h);
    assert.equal(d.port, VM.A.port);
    assert.equal(d.frame.ip?.dst, ip(HAVIP.ip));
    assert.equal(d.frame.ip.src, ip(NET.hostIp));
    h.port(VM.A.port).inject(replyFromHavip(VM.A, 50001));
    d = onlyDelivery(h);
    assert.equal(d.port, NET.port);
    assert.equal(d.frame.ip?.src, ip(EIP_HAVIP.publicIp));
    assert.equal(d.frame.dst, mac(NET.hostMac));
    assert.equal(d.frame.src, mac(EDGE_MAC));

    // 2–3. vm-A fails and goes silent; vm-B's keepalived notices. The platform never elects: until vm-B
    // announces, vm-A stays the holder.
    h.clock.advance(3000);
    assert.equal(fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);

    // 4–5. vm-B claims the address and announces it: the holder moves in the very call that processes it.
    let seenDuringCall: string | undefined;
    const stop = fabric.onObservation(() => {
      seenDuringCall = fabric.holderOf(HAVIP.id)?.vnicId;
    });
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    stop();
    assert.equal(seenDuringCall, VM.B.id);
    assert.deepEqual(fabric.holderOf(HAVIP.id), { vnicId: VM.B.id, generation: 2, since: h.clock.now() });
    assert.deepEqual(h.observations.at(-1), {
      kind: "holder-changed",
      havipId: HAVIP.id,
      vnicId: VM.B.id,
      previousVnicId: VM.A.id,
      generation: 2,
      reason: "announcement",
      at: h.clock.now(),
    });
    d = onlyDelivery(h);
    assert.equal(d.port, VM.A.port, "the announcement is flooded to the other member");
    assert.equal(d.frame.src, mac(HAVIP.virtualMac));

    // 6. New steady state: the next client frame reaches vm-B, and vm-A receives nothing.
    h.port(VM.CLIENT.port).inject(clientSyn(3));
    d = onlyDelivery(h);
    assert.equal(d.port, VM.B.port);
    assert.equal(d.frame.dst, mac(VM.B.mac));
    // The same-subnet client kept its ARP entry (the virtual MAC) and needs nothing else.
    h.port(VM.C.port).inject(sameSubnet);
    d = onlyDelivery(h);
    assert.equal(d.port, VM.B.port);
    assert.equal(d.frame.dst, mac(VM.B.mac));

    // vm-A comes back believing it still holds the address: its packets from the HAVIP are dropped…
    h.port(VM.A.port).inject(replyFromHavip(VM.A, 50002));
    assert.deepEqual(h.drain(), {});
    assert.equal(fabric.lastOutcome().reason, "fenced-stale-holder");
    const stale = udpFrame({
      srcMac: VM.A.mac,
      dstMac: ROUTER_MAC,
      src: HAVIP.ip,
      dst: VM.CLIENT.ip,
      srcPort: 53,
      dstPort: 5000,
    });
    h.port(VM.A.port).inject(stale);
    assert.deepEqual(h.drain(), {});
    assert.equal(fabric.lastOutcome().reason, "fenced-stale-holder");
    // …while its own address keeps working.
    h.port(VM.A.port).inject(
      udpFrame({ srcMac: VM.A.mac, dstMac: ROUTER_MAC, src: VM.A.ip, dst: VM.CLIENT.ip, srcPort: 1, dstPort: 2 }),
    );
    assert.equal(onlyDelivery(h).port, VM.CLIENT.port);

    // The EIP follows without any change to its binding, in both directions.
    h.port(NET.port).inject(internetSyn(2));
    d = onlyDelivery(h);
    assert.equal(d.port, VM.B.port);
    assert.equal(d.frame.ip?.dst, ip(HAVIP.ip));
    h.port(VM.B.port).inject(replyFromHavip(VM.B, 50002));
    d = onlyDelivery(h);
    assert.equal(d.port, NET.port);
    assert.equal(d.frame.ip?.src, ip(EIP_HAVIP.publicIp));

    const counters = fabric.counters();
    assert.equal(counters.havips[HAVIP.id]?.holderChanges, 2);
    assert.equal(counters.havips[HAVIP.id]?.fenced, 2);
    assert.equal(counters.drops["fenced-stale-holder"], 2);
    assert.equal(counters.havips[HAVIP.id]?.delivered, 6);
  });

  it("lets vm-A take the address back when it announces again (preemption is the software's choice)", () => {
    const h = harness();
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    assert.deepEqual(h.fabric.holderOf(HAVIP.id), { vnicId: VM.A.id, generation: 3, since: h.clock.now() });
    // keepalived repeats its gratuitous ARP: a refresh, not a new generation.
    h.clock.advance(5000);
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 3);
    assert.equal(h.observations.length, 3);
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.claims, 4);
  });
});
