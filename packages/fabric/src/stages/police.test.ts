// Policing at ingress (DESIGN §2.7): a vNIC's ARP and broadcast beyond its rate are dropped as `rate-limited`
// before any ARP, announcement or flood work; counted per port and per vNIC; unicast never; buckets outlive a
// recompile; the defaults let a failover tool's bursts through.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arpRequest, gratuitousArp, udpFrame, vrrpAdvertFrame } from "@havip/testkit";
import type { PolicingConfig } from "../policers.ts";
import { HAVIP, VM, harness, seedSpec } from "../test-support.ts";

const SMALL: PolicingConfig = { arpPerSecond: 10, arpBurst: 20, broadcastPerSecond: 50, broadcastBurst: 30 };

function advert(from: { mac: string; ip: string }): Uint8Array {
  return vrrpAdvertFrame({ srcMac: from.mac, src: from.ip, version: 3, vrid: 51, addresses: [HAVIP.ip] });
}

describe("policing", () => {
  it("drops a non-member's gratuitous ARP flood past its burst as rate-limited, before the claim is looked at", () => {
    const h = harness(undefined, { policing: SMALL });
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    h.drain();
    const garp = gratuitousArp({ mac: VM.C.mac, ip: HAVIP.ip });
    for (let i = 0; i < 1000; i++) h.port(VM.C.port).inject(garp);
    assert.equal(h.fabric.lastOutcome().reason, "rate-limited");
    const c = h.fabric.counters();
    assert.equal(c.drops["claim-not-member"], 20, "the burst reaches the announcement stage");
    assert.equal(c.drops["rate-limited"], 980);
    assert.equal(c.havips[HAVIP.id]?.deniedClaims, 20, "a policed frame is no claim");
    assert.equal(c.ports[VM.C.port]?.drops, 1000);
    assert.deepEqual(c.policed, { [VM.C.id]: { arp: 980, broadcast: 0 } });
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    // Half a second later, the rate lets five more through.
    h.clock.advance(500);
    for (let i = 0; i < 100; i++) h.port(VM.C.port).inject(garp);
    assert.equal(h.fabric.counters().drops["claim-not-member"], 25);
  });

  it("polices broadcast and multicast (VRRP adverts) in a bucket of their own, and unicast not at all", () => {
    const h = harness(undefined, { policing: SMALL });
    const vrrp = advert(VM.A);
    for (let i = 0; i < 100; i++) h.port(VM.A.port).inject(vrrp);
    const flooded = h.drain()[VM.B.port] ?? [];
    assert.equal(flooded.length, 30, "the burst reaches the other member");
    // ARP has its own bucket: vm-A's announcement passes although its broadcast bucket is empty.
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    const unicast = udpFrame({
      srcMac: VM.A.mac,
      dstMac: VM.B.mac,
      src: VM.A.ip,
      dst: VM.B.ip,
      srcPort: 1,
      dstPort: 2,
    });
    h.drain();
    for (let i = 0; i < 5000; i++) h.port(VM.A.port).inject(unicast);
    assert.equal(h.drain()[VM.B.port]?.length, 5000);
    assert.deepEqual(h.fabric.counters().policed, { [VM.A.id]: { arp: 0, broadcast: 70 } });
  });

  it("by default lets keepalived's takeover through: 5 gratuitous ARPs for each of 80 addresses at once", () => {
    const h = harness();
    const garp = gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip });
    for (let i = 0; i < 400; i++) h.port(VM.A.port).inject(garp);
    assert.equal(h.fabric.counters().drops["rate-limited"], 0);
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.claims, 400);
    // …and again every second (garp_master_refresh 1 with a repeat of 5 for 30 addresses), a minute long,
    // with VRRPv3 adverts every 10 ms and neighbour lookups beside.
    const vrrp = advert(VM.A);
    const lookup = arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: VM.B.ip });
    for (let s = 0; s < 60; s++) {
      for (let t = 0; t < 100; t++) {
        h.port(VM.A.port).inject(vrrp);
        h.clock.advance(10);
      }
      h.port(VM.A.port).inject(lookup);
      for (let i = 0; i < 150; i++) h.port(VM.A.port).inject(garp);
    }
    assert.equal(h.fabric.counters().drops["rate-limited"], 0);
    assert.deepEqual(h.fabric.counters().policed, {});
  });

  it("is off with policing: null, and per class with a rate of 0", () => {
    const garp = gratuitousArp({ mac: VM.C.mac, ip: HAVIP.ip });
    const off = harness(undefined, { policing: null });
    for (let i = 0; i < 5000; i++) off.port(VM.C.port).inject(garp);
    assert.equal(off.fabric.counters().drops["claim-not-member"], 5000);
    const arpOff = harness(undefined, { policing: { ...SMALL, arpPerSecond: 0 } });
    for (let i = 0; i < 100; i++) arpOff.port(VM.C.port).inject(garp);
    for (let i = 0; i < 100; i++) arpOff.port(VM.A.port).inject(advert(VM.A));
    assert.deepEqual(arpOff.fabric.counters().policed, { [VM.A.id]: { arp: 0, broadcast: 70 } });
  });

  it("refuses a negative rate or a burst under one frame", () => {
    assert.throws(() => harness(undefined, { policing: { ...SMALL, arpPerSecond: -5 } }), RangeError);
    assert.throws(() => harness(undefined, { policing: { ...SMALL, broadcastBurst: 0 } }), RangeError);
  });

  it("keeps a vNIC's buckets and counts across a recompile, and forgets a vNIC that is removed", () => {
    const h = harness(undefined, { policing: SMALL });
    const garp = gratuitousArp({ mac: VM.C.mac, ip: HAVIP.ip });
    for (let i = 0; i < 30; i++) h.port(VM.C.port).inject(garp);
    const compiles = h.fabric.compiles;
    const spec = seedSpec();
    h.fabric.applySpec({ ...spec, havips: spec.havips.map((x) => ({ ...x, members: [VM.A.id, VM.B.id, "eni-z"] })) });
    assert.equal(h.fabric.compiles, compiles + 1);
    h.port(VM.C.port).inject(garp);
    assert.equal(h.fabric.lastOutcome().reason, "rate-limited", "the bucket is still empty");
    assert.deepEqual(h.fabric.counters().policed, { [VM.C.id]: { arp: 11, broadcast: 0 } });
    h.fabric.applyChanges([{ op: "delete", kind: "vnic", id: VM.C.id }]);
    assert.deepEqual(h.fabric.counters().policed, {});
  });
});
