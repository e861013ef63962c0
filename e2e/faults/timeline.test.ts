// The checker's arithmetic on hand-made timelines (no lab, no root).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { measure, settled, type Probe, type Timeline } from "./timeline.ts";

/** Probes every 20 ms from 0 to `endMs`; those sent in a `gaps` span go unanswered; answers take 1 ms. */
function probes(endMs: number, gaps: readonly [number, number][], by = "vm-a"): Probe[] {
  const out: Probe[] = [];
  for (let t = 0, seq = 0; t <= endMs; t += 20, seq++) {
    const lost = gaps.some(([a, b]) => t >= a && t < b);
    out.push(lost ? { seq, sentAt: t } : { seq, sentAt: t, answer: { at: t + 1, by, hadAddress: true } });
  }
  return out;
}

function timeline(p: Probe[], apiHolder: (at: number) => string | null | undefined, holders = ["vm-a"]): Timeline {
  const api = [];
  for (let t = 0; t <= 10_000; t += 100) api.push({ at: t, holder: apiHolder(t) });
  return { probes: p, addresses: [{ at: 0, holders }], api };
}

describe("measure", () => {
  it("no loss: no black hole, the API right from the end", () => {
    const m = measure(
      timeline(probes(10_000, []), () => "vm-a"),
      1000,
      2000,
      10_000,
    );
    assert.equal(m.blackHoleMs, 0);
    assert.equal(m.lostProbes, 0);
    assert.equal(m.apiCorrectAfterMs, 0, "right before the end and after it");
    assert.equal(m.recovered, true);
    assert.equal(m.answeredBy, "vm-a");
  });

  it("loss that straddles the fault's end counts only after the end", () => {
    const m = measure(
      timeline(probes(10_000, [[1500, 3000]]), () => "vm-a"),
      1000,
      2000,
      10_000,
    );
    assert.equal(m.blackHoleMs, 1000);
    assert.equal(m.lostProbes, 75);
    assert.equal(m.lostAfterEnd, 50);
  });

  it("the longest of several holes after the end", () => {
    const m = measure(
      timeline(
        probes(10_000, [
          [2500, 2700],
          [4000, 5200],
        ]),
        () => "vm-a",
      ),
      1000,
      2000,
      10_000,
    );
    assert.equal(m.blackHoleMs, 1200);
  });

  it("a hole that never closes lasts until the observation's end and is not recovered", () => {
    const m = measure(
      timeline(probes(10_000, [[3000, 20_000]]), () => "vm-a"),
      1000,
      2000,
      10_000,
    );
    assert.equal(m.recovered, false);
    assert.equal(m.blackHoleMs, 9000 - 3000);
  });

  it("an answer from an instance that did not have the address is no delivery", () => {
    const p = probes(5000, []).map((x) => (x.answer ? { ...x, answer: { ...x.answer, hadAddress: false } } : x));
    const m = measure(
      timeline(p, () => "vm-a"),
      0,
      0,
      5000,
    );
    assert.equal(m.recovered, false);
    assert.equal(m.lostProbes, p.filter((x) => x.sentAt <= 4000).length);
  });

  it("the API counts from the start of its last right streak; the first right answer is kept apart", () => {
    const api = (t: number) => (t < 3000 ? "vm-b" : t < 4000 ? "vm-a" : t < 5000 ? undefined : "vm-a");
    const m = measure(timeline(probes(10_000, []), api), 1000, 2000, 10_000);
    assert.equal(m.apiFirstCorrectAfterMs, 1000);
    assert.equal(m.apiCorrectAfterMs, 3000);
  });

  it("with nobody holding the address, the API is right when it names nobody", () => {
    const m = measure(
      timeline(probes(10_000, [[0, 20_000]]), (t) => (t < 4000 ? "vm-a" : null), []),
      0,
      2000,
      10_000,
    );
    assert.equal(m.apiCorrectAfterMs, 2000);
    assert.equal(m.recovered, false);
  });

  it("an API that never names the holder gives null", () => {
    const m = measure(
      timeline(probes(10_000, []), () => "vm-b"),
      0,
      2000,
      10_000,
    );
    assert.equal(m.apiCorrectAfterMs, null);
    assert.equal(m.apiFirstCorrectAfterMs, null);
  });
});

describe("settled", () => {
  it("needs the whole stable span after the end, every probe delivered and the API right", () => {
    const good = timeline(probes(10_000, [[2000, 4000]]), () => "vm-a");
    assert.equal(settled(good, 2000, 5000, 2000), false, "the hole is inside the span");
    assert.equal(settled(good, 2000, 7000, 2000), true);
    assert.equal(settled(good, 6000, 7000, 2000), false, "the span starts before the end");
    const wrongApi = timeline(probes(10_000, []), () => "vm-b");
    assert.equal(settled(wrongApi, 2000, 7000, 2000), false);
  });
});
