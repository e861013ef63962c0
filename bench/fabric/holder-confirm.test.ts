// The confirmation benchmark's network compiles at the sizes it is run with, and a small run measures both
// paths (it throws when a confirmed holder was not applied).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Fabric } from "@havip/fabric";
import { bigSpec, measureHolderConfirm } from "./holder-confirm.ts";

describe("holder-confirm benchmark", () => {
  it("builds a network of the asked size that compiles, each HAVIP with two members of its subnet", () => {
    const spec = bigSpec(10_000, 1_000);
    assert.equal(spec.vnics.length, 10_000);
    assert.equal(spec.havips.length, 1_000);
    const subnetOf = new Map(spec.vnics.map((v) => [v.id, v.subnetId]));
    for (const h of spec.havips)
      assert.deepEqual(
        h.members?.map((m) => subnetOf.get(m)),
        [h.subnetId, h.subnetId],
      );
    assert.doesNotThrow(() => new Fabric(spec));
  });

  it("measures the in-place path and the full compile the same number of times", () => {
    const r = measureHolderConfirm(500, 50, 4);
    assert.deepEqual([r.vnics, r.havips, r.rounds], [500, 50, 4]);
    for (const side of [r.inPlace, r.fullCompile]) {
      assert.ok(side.p50Ms > 0 && side.p50Ms <= side.p99Ms && side.p99Ms <= side.maxMs, JSON.stringify(side));
    }
  });
});
