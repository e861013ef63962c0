// The `claim denied` lines' limits: one line per (HAVIP, vNIC) a second, ten a second over all pairs, the
// suppressed counts carried by the next line, and the final count written by the timer when a flood stops.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClaimDenied } from "@havip/fabric";
import { ManualClock } from "@havip/testkit";
import { ClaimDeniedLogLimiter } from "./log-limiter.ts";

function denial(vnicId: string, at: number, suppressed?: number): ClaimDenied {
  const o: ClaimDenied = { kind: "claim-denied", havipId: "havip-1", vnicId, reason: "claim-not-member", at };
  return suppressed === undefined ? o : { ...o, suppressed };
}

/** A limiter whose written lines (its own flushes through `admit`, as havipd's log does) are collected. */
function setup(options: { linesPerSecond?: number } = {}) {
  const clock = new ManualClock();
  const lines: ClaimDenied[] = [];
  /** When each line was written, on the clock. */
  const writtenAt: number[] = [];
  const offer = (o: ClaimDenied) => {
    const shown = limiter.admit(o);
    if (shown === null) return;
    lines.push(shown);
    writtenAt.push(clock.now());
  };
  const limiter: ClaimDeniedLogLimiter = new ClaimDeniedLogLimiter({ ...options, clock, flush: offer });
  return { clock, lines, writtenAt, limiter, offer };
}

const stands = (lines: readonly ClaimDenied[]) => lines.reduce((n, l) => n + 1 + (l.suppressed ?? 0), 0);

describe("the claim-denied log limiter", () => {
  it("writes one line per pair a second, the next one carrying what was suppressed, and the last from a timer", () => {
    const { clock, lines, offer } = setup();
    offer(denial("c", 0));
    offer(denial("c", 100, 4)); // the fabric's coalesced report of 5 denials
    offer(denial("c", 200));
    assert.equal(lines.length, 1);
    clock.advance(1000);
    // The timer wrote the pair's pending count: the latest suppressed observation with the 5 + 1 - 1 before it.
    assert.deepEqual(lines[1], denial("c", 200, 5));
    // A pair goes on: at most one line a second, each with the count before it.
    for (let i = 0; i < 30; i++) {
      offer(denial("c", 1000 + i * 100, 9));
      clock.advance(100);
    }
    clock.advance(2000);
    assert.ok(lines.length <= 2 + 4, `${lines.length} lines`);
    assert.equal(stands(lines), 1 + 5 + 1 + 30 * 10, "the lines stand for every denial");
    for (let i = 0; i < 5; i++) clock.advance(1000);
    const settled = lines.length;
    clock.advance(10_000);
    assert.equal(lines.length, settled, "nothing more once the counts are written");
  });

  it("writes at most linesPerSecond lines over all pairs, and every pair's count in the end", () => {
    const { clock, lines, writtenAt, offer } = setup({ linesPerSecond: 10 });
    // 200 flooding vNICs, each reported by the fabric once a second for 3 s.
    for (let s = 0; s < 3; s++) {
      for (let v = 0; v < 200; v++) offer(denial(`v${v}`, s * 1000, s === 0 ? undefined : 99));
      clock.advance(1000);
    }
    assert.ok(lines.length <= 10 + 30, `${lines.length} lines in 3 s`);
    // Afterwards the timer drains the counts, ten lines a second.
    for (let s = 0; s < 30; s++) clock.advance(1000);
    assert.equal(stands(lines), 200 * (1 + 100 + 100), "every denial is in some line");
    assert.equal(new Set(lines.map((l) => l.vnicId)).size, 200, "every pair has a line");
    const start = writtenAt[0]!;
    const perSecond = new Map<number, number>();
    for (const t of writtenAt)
      perSecond.set(Math.floor((t - start) / 1000), (perSecond.get(Math.floor((t - start) / 1000)) ?? 0) + 1);
    for (const [second, n] of perSecond) assert.ok(n <= 20, `${n} lines in second ${second}`);
  });

  it("writes nothing after close()", () => {
    const { clock, lines, limiter, offer } = setup();
    offer(denial("c", 0));
    offer(denial("c", 1));
    limiter.close();
    clock.advance(5000);
    assert.equal(lines.length, 1);
  });
});
