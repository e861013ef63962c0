// The token bucket of one vNIC, on a manual time line: burst, refill, the cap, a clock that goes back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BUCKET, DEFAULT_POLICING, Policers, VnicPolicer, policingProblems, type PolicingConfig } from "./policers.ts";

const T0 = 1_700_000_000_000;
const CONFIG: PolicingConfig = { arpPerSecond: 10, arpBurst: 20, broadcastPerSecond: 100, broadcastBurst: 5 };

/** How many of `n` frames at `now` the bucket lets through. */
function passed(p: VnicPolicer, bucket: typeof BUCKET.ARP | typeof BUCKET.BROADCAST, n: number, now: number): number {
  const [rate, burst] =
    bucket === BUCKET.ARP ? [CONFIG.arpPerSecond, CONFIG.arpBurst] : [CONFIG.broadcastPerSecond, CONFIG.broadcastBurst];
  let ok = 0;
  for (let i = 0; i < n; i++) if (p.take(bucket, rate, burst, now)) ok++;
  return ok;
}

describe("a vNIC's token buckets", () => {
  it("let a full burst through at once, then the rate, and never more than the burst after a quiet spell", () => {
    const p = new VnicPolicer(CONFIG, T0);
    assert.equal(passed(p, BUCKET.ARP, 100, T0), 20);
    assert.equal(p.policedArp, 80);
    assert.equal(passed(p, BUCKET.ARP, 100, T0 + 500), 5, "half a second at 10/s");
    assert.equal(passed(p, BUCKET.ARP, 100, T0 + 600), 1, "a tenth of a second");
    assert.equal(passed(p, BUCKET.ARP, 100, T0 + 60_000), 20, "a minute refills the burst, no more");
    assert.equal(p.policedArp, 80 + 95 + 99 + 80);
  });

  it("keep ARP and broadcast apart", () => {
    const p = new VnicPolicer(CONFIG, T0);
    assert.equal(passed(p, BUCKET.BROADCAST, 10, T0), 5);
    assert.equal(passed(p, BUCKET.ARP, 10, T0), 10, "ARP has its own bucket");
    assert.equal(p.policedBroadcast, 5);
    assert.equal(p.policedArp, 0);
  });

  it("add nothing when the clock goes back, and count from the earlier time on", () => {
    const p = new VnicPolicer(CONFIG, T0);
    assert.equal(passed(p, BUCKET.ARP, 20, T0), 20);
    assert.equal(passed(p, BUCKET.ARP, 5, T0 - 10_000), 0);
    assert.equal(passed(p, BUCKET.ARP, 5, T0 - 9_800), 2, "0.2 s after the earlier time");
  });

  it("never pass more than burst + rate × time, whatever the arrivals (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 40 })), { maxLength: 60 }),
        (arrivals) => {
          const p = new VnicPolicer(CONFIG, T0);
          let now = T0;
          let ok = 0;
          let total = 0;
          for (const [gap, n] of arrivals) {
            now += gap;
            ok += passed(p, BUCKET.ARP, n, now);
            total += n;
          }
          const bound = CONFIG.arpBurst + (CONFIG.arpPerSecond * (now - T0)) / 1000;
          assert.ok(ok <= bound + 1e-9, `${ok} passed, bound ${bound}`);
          assert.equal(ok + p.policedArp, total, "every frame either passes or is counted");
        },
      ),
    );
  });
});

describe("the policers of a fabric", () => {
  it("keep a vNIC's buckets by id, report only vNICs with drops, and forget vNICs that are gone", () => {
    const policers = new Policers();
    const live = new Map<string, unknown>([
      ["eni-a", 1],
      ["eni-b", 1],
    ]);
    const a = policers.of("eni-a", CONFIG, T0, live);
    policers.of("eni-b", CONFIG, T0, live);
    assert.equal(policers.of("eni-a", CONFIG, T0, live), a, "the same buckets for the same vNIC");
    passed(a, BUCKET.ARP, 25, T0);
    assert.deepEqual(policers.policed(live), { "eni-a": { arp: 5, broadcast: 0 } });
    live.delete("eni-a");
    assert.deepEqual(policers.policed(live), {}, "a vNIC that is gone is not reported");
    policers.forgetAllBut(live);
    live.set("eni-a", 1);
    assert.notEqual(policers.of("eni-a", CONFIG, T0, live), a, "a vNIC made again starts afresh");
  });

  it("check a configuration: rates ≥ 0, and a burst of at least one frame where the rate is not 0", () => {
    assert.deepEqual(policingProblems(DEFAULT_POLICING), []);
    assert.deepEqual(policingProblems({ ...CONFIG, arpPerSecond: 0, arpBurst: 0 }), []);
    assert.equal(policingProblems({ ...CONFIG, arpPerSecond: -1 }).length, 1);
    assert.equal(policingProblems({ ...CONFIG, broadcastBurst: 0.5 }).length, 1);
    assert.equal(policingProblems({ ...CONFIG, arpPerSecond: Number.NaN, broadcastBurst: 0 }).length, 2);
  });
});
