// The randomized run is reproducible: a seed names one sequence.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomSequence, seededRandom } from "./random.ts";

describe("seeded randomness", () => {
  it("the same seed gives the same numbers and the same sequence; another seed another", () => {
    const pool = ["a", "b", "c", "d", "e"];
    const one = randomSequence(seededRandom(42), pool, 20);
    assert.deepEqual(randomSequence(seededRandom(42), pool, 20), one);
    assert.notDeepEqual(randomSequence(seededRandom(43), pool, 20), one);
  });

  it("numbers lie in [0, 1) and spread over the range", () => {
    const r = seededRandom(7);
    const xs = Array.from({ length: 10_000 }, () => r());
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const low = xs.filter((x) => x < 0.5).length;
    assert.ok(low > 4500 && low < 5500, `${low} of 10000 below 0.5`);
  });

  it("never the same pick twice in a row, and every pick from the pool", () => {
    const seq = randomSequence(seededRandom(1), ["x", "y"], 50);
    assert.equal(seq.length, 50);
    for (let i = 1; i < seq.length; i++) assert.notEqual(seq[i], seq[i - 1]);
  });
});
