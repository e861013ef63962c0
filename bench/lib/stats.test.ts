import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { median, quantile, ratio, summarise } from "./stats.ts";

describe("bench stats", () => {
  it("median and quantiles interpolate between neighbours", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(quantile([0, 10], 0.9), 9);
    assert.ok(Number.isNaN(median([])));
  });

  it("summarise: spread is (max − min) / median in percent", () => {
    const s = summarise([90, 100, 110]);
    assert.equal(s.median, 100);
    assert.equal(s.min, 90);
    assert.equal(s.max, 110);
    assert.equal(s.spreadPct, 20);
    assert.equal(s.n, 3);
  });

  it("summarise takes a failover run's worth of samples (more than a call's arguments can hold)", () => {
    const xs = Array.from({ length: 500_000 }, (_, i) => (i * 7919) % 500_000);
    const s = summarise(xs);
    assert.equal(s.min, 0);
    assert.equal(s.max, 499_999);
    assert.equal(s.n, 500_000);
  });

  it("quantiles are ordered and lie within the samples", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }), (xs) => {
        const s = summarise(xs);
        assert.ok(s.min <= s.median && s.median <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max);
      }),
    );
  });

  it("ratio to a missing or zero baseline is NaN, never Infinity", () => {
    assert.equal(ratio(3, 2), 1.5);
    assert.ok(Number.isNaN(ratio(3, 0)));
    assert.ok(Number.isNaN(ratio(3, undefined)));
  });
});
