// Verification (DESIGN §2.2): the fabric asks who has the HAVIP and corrects what it believes. Instances are
// simulated: each one that "has the address" answers the fabric's probes as Linux does (a unicast ARP reply to the
// router MAC, target the gateway address).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arpReply, checkFrame, gratuitousArp, ip, mac, udpFrame, vrrpAdvertFrame } from "@havip/testkit";
import type { FabricOptions } from "./fabric.ts";
import { HAVIP, ROUTER_MAC, VM, harness, seedSpec, type Harness } from "./test-support.ts";

type Vm = (typeof VM)[keyof typeof VM];
const GATEWAY = "10.0.1.1";
const OPTIONS: FabricOptions = { verification: true };
/** Long enough for one round: the next tick (25 ms), the answer window (100 ms), the tick that weighs it. */
const ROUND = 175;

/** Delivers pending frames; every probe reaching an instance in `having` is answered. Returns the probes seen. */
function answerProbes(h: Harness, having: readonly Vm[]): Record<string, number> {
  const seen: Record<string, number> = {};
  for (const [port, frames] of Object.entries(h.drain())) {
    for (const f of frames) {
      const s = checkFrame(f);
      if (s.arp?.op !== 1 || s.arp.targetIp !== ip(HAVIP.ip) || s.src !== mac(ROUTER_MAC)) continue;
      assert.equal(s.arp.senderIp, ip(GATEWAY), "asked from the gateway address");
      seen[port] = (seen[port] ?? 0) + 1;
      const vm = having.find((v) => v.port === port);
      if (vm !== undefined) {
        h.port(port).inject(arpReply({ mac: vm.mac, ip: HAVIP.ip, targetMac: ROUTER_MAC, targetIp: GATEWAY }));
      }
    }
  }
  return seen;
}

/** Runs verification for `ms`, the instances in `having` answering every probe (ticks of 25 ms). */
function run(h: Harness, having: readonly Vm[], ms: number): Record<string, number> {
  const seen: Record<string, number> = {};
  for (let t = 0; t < ms; t += 5) {
    h.clock.advance(5);
    for (const [port, n] of Object.entries(answerProbes(h, having))) seen[port] = (seen[port] ?? 0) + n;
  }
  return seen;
}

function announce(h: Harness, vm: Vm): void {
  h.port(vm.port).inject(gratuitousArp({ mac: vm.mac, ip: HAVIP.ip }));
  h.drain();
}

const kinds = (h: Harness) => h.observations.map((o) => o.kind);

describe("verification", () => {
  it("asks only the vNICs that may claim the HAVIP, from the gateway address, and confirms a holder that answers", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    const seen = run(h, [VM.A], 1100);
    assert.deepEqual(Object.keys(seen).sort(), [VM.A.port, VM.B.port], "members only: not vm-C, not other subnets");
    assert.ok((seen[VM.A.port] ?? 0) >= 1);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 1);
    assert.deepEqual(kinds(h), ["holder-changed"]);
    const c = h.fabric.counters().havips[HAVIP.id]!;
    assert.ok(c.verifications >= 1 && c.probeAnswers >= 1 && c.probesSent >= 2);
  });

  it("moves the holder to the one vNIC that has the address when the holder is silent (a missed failover)", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    run(h, [VM.B], 1100); // vm-B took the address without the announcement reaching the fabric
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    const moved = h.observations.at(-1);
    assert.deepEqual(moved && { ...moved, at: 0 }, {
      kind: "holder-changed",
      havipId: HAVIP.id,
      vnicId: VM.B.id,
      previousVnicId: VM.A.id,
      generation: 2,
      reason: "verified",
      at: 0,
    });
    // Traffic follows at once.
    h.port(VM.C.port).inject(
      udpFrame({ srcMac: VM.C.mac, dstMac: HAVIP.virtualMac, src: VM.C.ip, dst: HAVIP.ip, srcPort: 1, dstPort: 2 }),
    );
    assert.deepEqual(h.fabric.lastOutcome().sentTo, [VM.B.port]);
  });

  it("takes a holder nobody announced when exactly one vNIC has the address", () => {
    const h = harness(seedSpec(), OPTIONS);
    run(h, [VM.B], ROUND);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 1);
  });

  it("releases the holder after three silent rounds in a row (withdrawn), and drops the HAVIP's traffic", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    run(h, [VM.A], 1100);
    run(h, [], 400);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id, "one silent round is not enough");
    run(h, [], 1000);
    assert.equal(h.fabric.holderOf(HAVIP.id), null);
    const released = h.observations.at(-1);
    assert.ok(released?.kind === "holder-released");
    assert.equal(released.reason, "withdrawn");
    assert.equal(released.generation, 2);
    h.port(VM.C.port).inject(
      udpFrame({ srcMac: VM.C.mac, dstMac: HAVIP.virtualMac, src: VM.C.ip, dst: HAVIP.ip, srcPort: 1, dstPort: 2 }),
    );
    assert.equal(h.fabric.lastOutcome().reason, "havip-no-holder");
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.withdrawals, 1);
    // The next announcement starts generation 3.
    announce(h, VM.B);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 3);
  });

  it("reports a contest when several answer, keeps the holder, damps the others' claims, and ends it", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    run(h, [VM.A, VM.B], 1100);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    const started = h.observations.find((o) => o.kind === "contest-started");
    assert.ok(started?.kind === "contest-started");
    assert.deepEqual(started.claimants, [VM.A.id, VM.B.id]);
    assert.equal(started.holderVnicId, VM.A.id);
    assert.deepEqual(h.fabric.counters().havips[HAVIP.id]?.contest?.claimants, [VM.A.id, VM.B.id]);
    // vm-B's announcement does not take the address while it is contested.
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    assert.equal(h.fabric.lastOutcome().reason, "claim-contested");
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    // The partition heals: vm-A steps down and removes the address; vm-B keeps it and never re-announces.
    run(h, [VM.B], 1100);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    assert.deepEqual(kinds(h).slice(-2), ["contest-ended", "holder-changed"]);
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.contest, null);
  });

  it("in a contest without the holder, keeps the most recent announcer", () => {
    const h = harness(specWith({ members: null }), OPTIONS);
    announce(h, VM.A);
    h.clock.advance(10);
    announce(h, VM.C);
    h.clock.advance(10);
    announce(h, VM.B); // the holder; then vm-B loses the address while vm-A and vm-C both have it
    run(h, [VM.A, VM.C], ROUND);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.C.id, "vm-C announced after vm-A");
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 4);
    assert.deepEqual(h.fabric.counters().havips[HAVIP.id]?.contest?.claimants, [VM.A.id, VM.C.id]);
  });

  it("verifies a holder taken from the spec before trusting it (a restore), and corrects it", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    run(h, [VM.A], 1100);
    // A control plane that remembers an older failover hands vm-B back with a newer generation than the fabric's.
    h.fabric.applyChanges([
      { op: "upsert", kind: "havip", value: { ...havipSpec(), holderVnicId: VM.B.id, generation: 5 } },
    ]);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    run(h, [VM.A], ROUND);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id, "the one that has the address");
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 6, "max seen + 1");
  });

  it("answers a spec holder of the same generation but another vNIC with a new generation", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A); // generation 1
    h.fabric.applyChanges([
      { op: "upsert", kind: "havip", value: { ...havipSpec(), holderVnicId: VM.B.id, generation: 1 } },
    ]);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id, "not taken: not newer");
    run(h, [VM.A], ROUND);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 2, "re-issued, so that the control plane converges");
    assert.equal(h.observations.at(-1)?.kind, "holder-changed");
  });

  it("asks at once when the holder's port goes away", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    run(h, [VM.A], 1100);
    const before = h.fabric.counters().havips[HAVIP.id]!.verifications;
    h.fabric.detachPort(VM.A.port);
    run(h, [VM.B], ROUND);
    assert.equal(h.fabric.counters().havips[HAVIP.id]!.verifications, before + 1);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
  });

  it("asks at once when the holder resigns with a VRRP advert of priority 0", () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    run(h, [VM.A], 1100);
    const before = h.fabric.counters().havips[HAVIP.id]!.verifications;
    // keepalived stopping on vm-A: its last advert has priority 0; vm-B's announcement is lost on the way.
    h.port(VM.A.port).inject(
      vrrpAdvertFrame({ srcMac: VM.A.mac, src: VM.A.ip, vrid: 51, priority: 0, addresses: [HAVIP.ip] }),
    );
    run(h, [VM.B], ROUND);
    assert.equal(h.fabric.counters().havips[HAVIP.id]!.verifications, before + 1, "well before the next 1 s round");
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.B.id);
    // A backup's advert of priority 0 (it holds nothing) asks nothing.
    const after = h.fabric.counters().havips[HAVIP.id]!.verifications;
    h.port(VM.A.port).inject(
      vrrpAdvertFrame({ srcMac: VM.A.mac, src: VM.A.ip, vrid: 51, priority: 0, addresses: [HAVIP.ip] }),
    );
    run(h, [VM.B], ROUND);
    assert.equal(h.fabric.counters().havips[HAVIP.id]!.verifications, after);
  });

  it("resolves verify() with each round's outcome", async () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    const outcome = h.fabric.verify([HAVIP.id, "havip-unknown"]);
    run(h, [VM.B], ROUND);
    const [only, ...rest] = await outcome;
    assert.deepEqual(rest, []);
    assert.equal(only?.outcome, "moved");
    assert.equal(only.holderVnicId, VM.B.id);
    assert.deepEqual(only.answered, [VM.B.id]);
  });

  it("never takes a probe answer as an announcement, and refuses one from a vNIC that may not claim", () => {
    const h = harness(seedSpec(), OPTIONS);
    h.port(VM.B.port).inject(arpReply({ mac: VM.B.mac, ip: HAVIP.ip, targetMac: ROUTER_MAC, targetIp: GATEWAY }));
    assert.equal(h.fabric.lastOutcome().verdict, "consumed");
    assert.deepEqual(h.fabric.lastOutcome().sentTo, []);
    assert.equal(h.fabric.holderOf(HAVIP.id), null, "unasked: it changes nothing");
    h.port(VM.C.port).inject(arpReply({ mac: VM.C.mac, ip: HAVIP.ip, targetMac: ROUTER_MAC, targetIp: GATEWAY }));
    assert.equal(h.fabric.lastOutcome().reason, "spoofed-source-ip");
    run(h, [VM.C], ROUND);
    assert.equal(h.fabric.holderOf(HAVIP.id), null, "vm-C is not a member: never asked, never taken");
  });

  it("changes nothing when nobody who may claim the HAVIP is attached (no evidence either way)", async () => {
    const h = harness(seedSpec(), OPTIONS);
    announce(h, VM.A);
    h.fabric.detachPort(VM.A.port);
    h.fabric.detachPort(VM.B.port);
    const outcome = h.fabric.verify([HAVIP.id]);
    run(h, [], 5000);
    assert.equal((await outcome)[0]?.outcome, "unasked");
    assert.equal(h.fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id, "an API-only control plane keeps its reported holder");
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.withdrawals, 0);
  });

  it("sends nothing when verification is off (the default)", () => {
    const h = harness();
    h.clock.advance(5000);
    assert.deepEqual(h.drain(), {});
  });

  it("refuses options that cannot work", () => {
    assert.throws(() => harness(seedSpec(), { verification: { answerWindowMs: 2000 } }), /shorter than intervalMs/);
    assert.throws(() => harness(seedSpec(), { verification: { releaseAfterMisses: 0 } }), /releaseAfterMisses/);
  });
});

function havipSpec(o: { members?: string[] | null } = {}) {
  return { ...HAVIP, subnetId: "subnet-app", members: o.members === undefined ? [VM.A.id, VM.B.id] : o.members };
}

function specWith(o: { members?: string[] | null }) {
  const spec = seedSpec();
  spec.havips = [havipSpec(o)];
  return spec;
}
