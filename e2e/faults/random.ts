// The randomized run's dice: a small seeded generator (mulberry32), so that a seed names one sequence of faults
// and one set of random choices inside them, on every machine.

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` picks from `pool` (repeats allowed, never the same twice in a row when the pool has more than one). */
export function randomSequence<T>(random: () => number, pool: readonly T[], count: number): T[] {
  if (pool.length === 0) throw new Error("an empty pool");
  const out: T[] = [];
  while (out.length < count) {
    const pick = pool[Math.floor(random() * pool.length)];
    if (pick === undefined || (pool.length > 1 && pick === out.at(-1))) continue;
    out.push(pick);
  }
  return out;
}

/** A fresh seed (32 bits) for a run that was not given one. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
