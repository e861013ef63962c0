import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucketQuantile, histogramSince, parseHistogram, type Histogram } from "./havipd-metrics.ts";

const EXPOSITION = `# HELP havip_fabric_announce_to_repoint_seconds From a valid announcement's arrival …
# TYPE havip_fabric_announce_to_repoint_seconds histogram
havip_fabric_announce_to_repoint_seconds_bucket{le="0.00001"} 0
havip_fabric_announce_to_repoint_seconds_bucket{le="0.0001"} 15
havip_fabric_announce_to_repoint_seconds_bucket{le="0.001"} 19
havip_fabric_announce_to_repoint_seconds_bucket{le="+Inf"} 20
havip_fabric_announce_to_repoint_seconds_sum 0.0042
havip_fabric_announce_to_repoint_seconds_count 20
havip_fabric_frames_total{kind="in"} 7
`;

describe("havipd announcement → re-point histogram", () => {
  it("parses buckets, sum and count, and reads quantiles as bucket upper bounds", () => {
    const h = parseHistogram(EXPOSITION);
    assert.ok(h !== null);
    assert.equal(h.count, 20);
    assert.equal(h.sum, 0.0042);
    assert.deepEqual(
      h.buckets.map((b) => b.le),
      [0.00001, 0.0001, 0.001, Infinity],
    );
    assert.equal(bucketQuantile(h, 0.5), 0.0001);
    assert.equal(bucketQuantile(h, 0.95), 0.001);
    assert.equal(bucketQuantile(h, 1), Infinity);
  });

  it("is null when the exposition has no such histogram", () => {
    assert.equal(parseHistogram('havip_fabric_frames_total{kind="in"} 7\n'), null);
  });

  it("subtracts an earlier scrape: only what was recorded between the two remains", () => {
    const after = parseHistogram(EXPOSITION)!;
    const before: Histogram = {
      buckets: [
        { le: 0.00001, count: 0 },
        { le: 0.0001, count: 0 },
        { le: 0.001, count: 1 },
        { le: Infinity, count: 1 },
      ],
      count: 1,
      sum: 0.0004,
    };
    const since = histogramSince(after, before);
    assert.equal(since.count, 19);
    assert.ok(Math.abs(since.sum - 0.0038) < 1e-12);
    assert.deepEqual(
      since.buckets.map((b) => b.count),
      [0, 15, 18, 19],
    );
    assert.equal(bucketQuantile(since, 0.5), 0.0001);
  });

  it("refuses scrapes of different histograms, or taken in the wrong order", () => {
    const h = parseHistogram(EXPOSITION)!;
    assert.throws(() => histogramSince({ ...h, buckets: h.buckets.slice(1) }, h), /not one histogram/);
    assert.throws(
      () => histogramSince({ buckets: h.buckets.map((b) => ({ ...b, count: 0 })), count: 0, sum: 0 }, h),
      /counts fell/,
    );
  });
});
