import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucketQuantile, parseHistogram } from "./havipd-metrics.ts";

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
});
