import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failoverSelection } from "./selection.ts";

const KNOWN = ["havip", "ovn"];

describe("which systems and advert_int values a failover run measures", () => {
  it("every system at 0.1 and 1 s by default; 0.1 only when quick", () => {
    assert.deepEqual(failoverSelection({}, KNOWN, false), { systems: KNOWN, adverts: [0.1, 1] });
    assert.deepEqual(failoverSelection({ BENCH_FAILOVER_ADVERTS: "" }, KNOWN, true).adverts, [0.1]);
  });

  it("narrows to the systems and values named", () => {
    const env = { BENCH_FAILOVER_SYSTEMS: "havip", BENCH_FAILOVER_ADVERTS: " 0.1 , 2" };
    assert.deepEqual(failoverSelection(env, KNOWN, false), { systems: ["havip"], adverts: [0.1, 2] });
  });

  it("refuses unknown systems and values that are no advert_int, in one line", () => {
    assert.throws(
      () => failoverSelection({ BENCH_FAILOVER_SYSTEMS: "havip,foo" }, KNOWN, false),
      /^Error: BENCH_FAILOVER_SYSTEMS: unknown foo \(known: havip, ovn\)$/,
    );
    for (const bad of ["abc", "0", "-1", "256", "0.1,x"]) {
      assert.throws(
        () => failoverSelection({ BENCH_FAILOVER_ADVERTS: bad }, KNOWN, false),
        new RegExp(`^Error: BENCH_FAILOVER_ADVERTS: .* got '${bad.replace(".", "\\.")}'$`),
      );
    }
  });
});
