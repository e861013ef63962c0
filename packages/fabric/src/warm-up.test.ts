import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gratuitousArp } from "@havip/testkit";
import { keepFabricWarm, warmUpFabric } from "./warm-up.ts";
import { Fabric } from "./fabric.ts";
import { HAVIP, VM, harness } from "./test-support.ts";

describe("warmUpFabric", () => {
  it("runs its rounds through a scratch fabric and leaves other fabrics untouched", () => {
    const other = new Fabric();
    const before = JSON.stringify(other.counters().frames);
    // More rounds than a vNIC's default ARP burst: the scratch is not policed out of its holder changes.
    const r = warmUpFabric(1000);
    assert.equal(r.rounds, 1000);
    assert.equal(r.holderChanges, 1000, "every round is a real holder change (not storm-guarded, not a refresh)");
    assert.ok(r.durationMs >= 0);
    assert.equal(JSON.stringify(other.counters().frames), before);
  });

  it("keepFabricWarm runs a holder change on its own scratch fabric every interval until stopped", async () => {
    const other = new Fabric();
    const before = JSON.stringify(other.counters());
    const warm = keepFabricWarm({ everyMs: 5 });
    await sleep(100);
    const changes = warm.holderChanges();
    assert.ok(changes >= 2, `${changes} holder changes in 100 ms at one per 5 ms`);
    warm.stop();
    const stopped = warm.holderChanges();
    await sleep(30);
    assert.equal(warm.holderChanges(), stopped, "nothing runs after stop()");
    assert.equal(JSON.stringify({ ...other.counters(), at: 0 }), JSON.stringify({ ...JSON.parse(before), at: 0 }));
  });

  it("rides on the live fabric's wake-ups: a rehearsal after a run of its frames, none once stopped", async () => {
    const h = harness();
    const warm = keepFabricWarm({ fabric: h.fabric, everyMs: 60_000, busyEveryMs: 0 });
    try {
      for (const vm of [VM.A, VM.B]) h.port(vm.port).inject(gratuitousArp({ mac: vm.mac, ip: HAVIP.ip }));
      await Promise.resolve();
      assert.deepEqual(warm.rehearsals(), { onTraffic: 1, onTimer: 0 }, "one for the run of two frames");
      assert.equal(warm.holderChanges(), 1, "a holder change in the scratch fabric");
      assert.equal(h.fabric.counters().havips[HAVIP.id]?.holderChanges, 2, "the live fabric's own, and only those");
    } finally {
      warm.stop();
    }
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    await Promise.resolve();
    assert.deepEqual(warm.rehearsals(), { onTraffic: 1, onTimer: 0 }, "nothing after stop()");
  });

  it("rehearses on traffic at most every busyEveryMs", async () => {
    const h = harness();
    const warm = keepFabricWarm({ fabric: h.fabric, everyMs: 60_000, busyEveryMs: 40 });
    const wake = async () => {
      h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
      await Promise.resolve();
    };
    try {
      await wake();
      assert.equal(warm.rehearsals().onTraffic, 0, "too soon after the start");
      await sleep(50);
      await wake();
      await wake();
      assert.equal(warm.rehearsals().onTraffic, 1, "one for two wake-ups within 40 ms");
    } finally {
      warm.stop();
    }
  });
});
