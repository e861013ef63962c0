import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { warmUpFabric } from "./warm-up.ts";
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
});
