// Announcements (DESIGN §2.2–2.3): who may claim, refreshes, denials counted per HAVIP, the storm guard.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arpFrame, arpReply, arpRequest, gratuitousArp } from "@havip/testkit";
import { HAVIP, VM, harness } from "../test-support.ts";

describe("announcements", () => {
  it("accepts a gratuitous ARP reply (arping -A) and a unicast ARP reply with the HAVIP as sender", () => {
    const h = harness();
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip, op: "reply" }));
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    h.port(VM.B.port).inject(arpReply({ mac: VM.B.mac, ip: HAVIP.ip, targetMac: VM.C.mac, targetIp: VM.C.ip }));
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    // A unicast announcement is taken in, not flooded.
    assert.equal(h.fabric.lastOutcome().verdict, "consumed");
  });

  it("does not hand the address back when the former holder answers the new holder's flooded announcement", () => {
    // Seen with keepalived on a loaded machine: vm-B takes over, and vm-A, whose keepalived has not yet removed
    // the address, answers the flooded gratuitous ARP (sender = the virtual MAC) with a unicast reply "10.0.1.50
    // is-at vm-A". That reply answers an announcement; it is not one.
    const h = harness();
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    h.drain();
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    const flooded = h.drain()[VM.A.port]?.[0];
    assert.ok(flooded !== undefined, "vm-A receives vm-B's announcement");
    const answer = arpReply({ mac: VM.A.mac, ip: HAVIP.ip, targetMac: HAVIP.virtualMac, targetIp: HAVIP.ip });
    assert.deepEqual(answer.subarray(0, 6), flooded.subarray(6, 12), "addressed to the flooded frame's sender");
    h.port(VM.A.port).inject(answer);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 2);
    assert.equal(h.fabric.lastOutcome().reason, "fenced-stale-holder");
    assert.deepEqual(h.drain(), {});
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.fenced, 1);
    // From a non-member it is a spoofed source, not a denied claim.
    h.port(VM.C.port).inject(
      arpReply({ mac: VM.C.mac, ip: HAVIP.ip, targetMac: HAVIP.virtualMac, targetIp: HAVIP.ip }),
    );
    assert.equal(h.fabric.lastOutcome().reason, "spoofed-source-ip");
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.deniedClaims, 0);
    // The same reply broadcast is the `arping -A` form of an announcement, and is taken.
    h.clock.advance(1000);
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip, op: "reply" }));
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
  });

  it("does not take an ordinary ARP request sourced from the HAVIP, or a probe, as an announcement", () => {
    const h = harness();
    h.port(VM.A.port).inject(arpRequest({ mac: VM.A.mac, ip: HAVIP.ip, targetIp: VM.B.ip }));
    assert.equal(h.fabric.holderOf(HAVIP.id), null);
    assert.equal(h.fabric.lastOutcome().reason, "fenced-stale-holder");
    h.port(VM.A.port).inject(arpFrame({ op: "request", src: VM.A.mac, senderIp: 0, targetIp: HAVIP.ip }));
    assert.equal(h.fabric.holderOf(HAVIP.id), null);
    // Once it holds the address, the holder resolves its neighbours from it like any host.
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    h.drain();
    h.port(VM.A.port).inject(arpRequest({ mac: VM.A.mac, ip: HAVIP.ip, targetIp: VM.C.ip }));
    assert.equal(h.fabric.lastOutcome().verdict, "replied");
  });

  it("denies and counts a claim by a non-member, an instance of another subnet, and a spoofed MAC", () => {
    const h = harness();
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    h.drain();
    const before = h.observations.length;
    const attempts: [string, Uint8Array, string][] = [
      // vm-C is in the subnet but not in the member list.
      [VM.C.port, gratuitousArp({ mac: VM.C.mac, ip: HAVIP.ip }), "claim-not-member"],
      // The client lives in another subnet of the same VPC.
      [VM.CLIENT.port, gratuitousArp({ mac: VM.CLIENT.mac, ip: HAVIP.ip }), "claim-wrong-subnet"],
      // vm-C sends with vm-B's MAC (a member's), Ethernet and ARP sender alike.
      [VM.C.port, gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }), "spoofed-source-mac"],
      // vm-C's own Ethernet source, a member's MAC as ARP sender.
      [
        VM.C.port,
        arpFrame({ op: "request", src: VM.C.mac, senderMac: VM.B.mac, senderIp: HAVIP.ip, targetIp: HAVIP.ip }),
        "spoofed-source-mac",
      ],
      // vm-B's genuine frame arriving on vm-A's port is not vm-B's claim (own MAC on its own port).
      [VM.A.port, gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }), "spoofed-source-mac"],
    ];
    for (const [port, frame, reason] of attempts) {
      // A second apart: one pair's denials for one reason within a second are coalesced (claim-denials.test.ts).
      h.clock.advance(1000);
      h.port(port).inject(frame);
      assert.equal(h.fabric.lastOutcome().reason, reason);
      assert.deepEqual(h.drain(), {}, "a denied claim is not flooded");
      assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    }
    const denied = h.observations.slice(before);
    assert.deepEqual(
      denied.map((o) => (o.kind === "claim-denied" ? [o.vnicId, o.reason] : o.kind)),
      [
        [VM.C.id, "claim-not-member"],
        [VM.CLIENT.id, "claim-wrong-subnet"],
        [VM.C.id, "spoofed-source-mac"],
        [VM.C.id, "spoofed-source-mac"],
        [VM.A.id, "spoofed-source-mac"],
      ],
    );
    const c = h.fabric.counters();
    assert.equal(c.havips[HAVIP.id]?.deniedClaims, 5);
    assert.equal(c.havips[HAVIP.id]?.generation, 1);
    assert.equal(c.drops["claim-not-member"], 1);
    assert.equal(c.drops["claim-wrong-subnet"], 1);
    assert.equal(c.drops["spoofed-source-mac"], 3);
  });

  it("gives an instance of another VPC no way to claim, and says nothing about the other tenant's HAVIP", () => {
    const h = harness();
    // vm-X lives in vpc-b, whose subnet has the very same CIDR; 10.0.1.50 is nothing there.
    h.port(VM.X.port).inject(gratuitousArp({ mac: VM.X.mac, ip: HAVIP.ip }));
    assert.equal(h.fabric.lastOutcome().reason, "spoofed-source-ip");
    assert.equal(h.fabric.holderOf(HAVIP.id), null);
    assert.deepEqual(h.observations, []);
    assert.deepEqual(h.drain(), {});
    assert.equal(h.fabric.counters().drops["spoofed-source-ip"], 1);
  });

  it("limits holder changes per HAVIP per second (storm guard) and reports it once per window", () => {
    const h = harness(undefined, { maxHolderChangesPerSecond: 3 });
    const garpA = gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip });
    const garpB = gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip });
    for (let i = 0; i < 10; i++) {
      h.port(i % 2 === 0 ? VM.A.port : VM.B.port).inject(i % 2 === 0 ? garpA : garpB);
      h.clock.advance(10);
    }
    let c = h.fabric.counters().havips[HAVIP.id]!;
    assert.equal(c.holderChanges, 3);
    // A, B, A change the holder; every later B is guarded, every later A is the holder's refresh.
    assert.equal(c.stormGuarded, 4);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    const storm = h.observations.filter((o) => o.kind === "claim-denied");
    assert.equal(storm.length, 1);
    assert.equal(storm[0]?.kind === "claim-denied" ? storm[0].reason : "", "storm-guarded");
    // The holder's own refreshes are never limited.
    h.port(VM.A.port).inject(garpA);
    assert.equal(h.fabric.lastOutcome().verdict, "flooded");
    // A second later the guard lets changes through again.
    h.clock.advance(1000);
    h.port(VM.B.port).inject(garpB);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    c = h.fabric.counters().havips[HAVIP.id]!;
    assert.equal(c.holderChanges, 4);
    assert.equal(h.fabric.counters().drops["storm-guarded"], 4);
  });

  it("is generous by default: without flap detection a pair well above keepalived's rates changes holder every time", () => {
    const h = harness(undefined, { flapChanges: 0 });
    for (let i = 0; i < 20; i++) {
      const vm = i % 2 === 0 ? VM.A : VM.B;
      h.port(vm.port).inject(gratuitousArp({ mac: vm.mac, ip: HAVIP.ip }));
      h.clock.advance(50);
    }
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.holderChanges, 20);
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.stormGuarded, 0);
  });

  it("marks a HAVIP contested when claims alternate faster than failovers, and then keeps the holder", () => {
    const h = harness();
    for (let i = 0; i < 20; i++) {
      const vm = i % 2 === 0 ? VM.A : VM.B;
      h.port(vm.port).inject(gratuitousArp({ mac: vm.mac, ip: HAVIP.ip }));
      h.clock.advance(50);
    }
    const c = h.fabric.counters().havips[HAVIP.id]!;
    assert.equal(c.holderChanges, 4, "the fourth change within 2 s makes it contested");
    assert.equal(c.contestDamped, 8, "vm-A's claims after the fourth change (vm-B's are refreshes)");
    assert.equal(c.stormGuarded, 0);
    assert.deepEqual(c.contest?.claimants, [VM.A.id, VM.B.id]);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id, "the holder of the fourth change stays");
    const started = h.observations.filter((o) => o.kind === "contest-started");
    assert.equal(started.length, 1);
    assert.equal(h.fabric.counters().drops["claim-contested"], 8);
    // The holder's own refreshes still pass.
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    assert.equal(h.fabric.lastOutcome().verdict, "flooded");
  });

  it("does not call an ordinary failover and failback contested", () => {
    const h = harness();
    for (const vm of [VM.A, VM.B, VM.A]) {
      h.port(vm.port).inject(gratuitousArp({ mac: vm.mac, ip: HAVIP.ip }));
      h.clock.advance(100);
    }
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.contest, null);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
  });
});
