import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { keepFabricWarm, warmUpFabric } from "./warm-up.ts";
import { Fabric } from "./fabric.ts";

describe("warmUpFabric", () => {
  it("runs its rounds through a scratch fabric and leaves other fabrics untouched", () => {
    const other = new Fabric();
    const before = JSON.stringify(other.counters().frames);
    const r = warmUpFabric(50);
    assert.equal(r.rounds, 50);
    assert.equal(r.holderChanges, 50, "every round is a real holder change (not storm-guarded, not a refresh)");
    assert.ok(r.durationMs >= 0);
    assert.equal(JSON.stringify(other.counters().frames), before);
  });

  it("keepFabricWarm runs a holder change on its own scratch fabric every interval until stopped", async () => {
    const other = new Fabric();
    const before = JSON.stringify(other.counters());
    const warm = keepFabricWarm(5);
    await sleep(100);
    const changes = warm.holderChanges();
    assert.ok(changes >= 2, `${changes} holder changes in 100 ms at one per 5 ms`);
    warm.stop();
    const stopped = warm.holderChanges();
    await sleep(30);
    assert.equal(warm.holderChanges(), stopped, "nothing runs after stop()");
    assert.equal(JSON.stringify({ ...other.counters(), at: 0 }), JSON.stringify({ ...JSON.parse(before), at: 0 }));
  });
});
