// Denied claims are reported at most once per (HAVIP, vNIC, reason) per second, with the count of what was
// suppressed; a flood that stops still reports its final count; the observations add up to the counters.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, gratuitousArp } from "@havip/testkit";
import fc from "fast-check";
import { ClaimDenials } from "./claim-denials.ts";
import type { ClaimDenied, Observation } from "./observations.ts";
import type { ClaimDenialReason } from "./reasons.ts";
import { HAVIP, VM, harness } from "./test-support.ts";

const T0 = 1_700_000_000_000;

interface Flushed {
  havipId: string;
  vnicId: string;
  reason: ClaimDenialReason;
  at: number;
  suppressed: number;
}

function flushAt(d: ClaimDenials, now: number): Flushed[] {
  const out: Flushed[] = [];
  d.flush(now, (havipId, vnicId, reason, at, suppressed) => out.push({ havipId, vnicId, reason, at, suppressed }));
  return out;
}

const denied = (os: readonly Observation[]): ClaimDenied[] =>
  os.filter((o): o is ClaimDenied => o.kind === "claim-denied");

describe("coalescing denied claims", () => {
  it("reports the first denial of a pair and reason, counts the rest of its second, and flushes them once", () => {
    const d = new ClaimDenials();
    assert.equal(d.admit("h", "c", "claim-not-member", T0), 0);
    assert.equal(d.nextDue(), T0 + 1000);
    for (let i = 1; i <= 9; i++) assert.equal(d.admit("h", "c", "claim-not-member", T0 + i * 100), -1);
    // Another reason and another vNIC have windows of their own.
    assert.equal(d.admit("h", "c", "spoofed-source-mac", T0 + 50), 0);
    assert.equal(d.admit("h", "x", "claim-not-member", T0 + 50), 0);
    assert.deepEqual(flushAt(d, T0 + 999), []);
    assert.deepEqual(flushAt(d, T0 + 1000), [
      { havipId: "h", vnicId: "c", reason: "claim-not-member", at: T0 + 900, suppressed: 8 },
    ]);
    // The flush opened the next window: a flood that goes on is reported once a second.
    assert.equal(d.admit("h", "c", "claim-not-member", T0 + 1200), -1);
    assert.deepEqual(flushAt(d, T0 + 2000), [
      { havipId: "h", vnicId: "c", reason: "claim-not-member", at: T0 + 1200, suppressed: 0 },
    ]);
    // Quiet windows are forgotten; the next denial is reported at once.
    assert.deepEqual(flushAt(d, T0 + 3000), []);
    assert.equal(d.nextDue(), Number.POSITIVE_INFINITY);
    assert.equal(d.admit("h", "c", "claim-not-member", T0 + 3500), 0);
  });

  it("carries a count nobody flushed (a clock without timers) into the pair's next report", () => {
    const d = new ClaimDenials();
    d.admit("h", "c", "storm-guarded", T0);
    d.admit("h", "c", "storm-guarded", T0 + 10);
    d.admit("h", "c", "storm-guarded", T0 + 20);
    assert.equal(d.admit("h", "c", "storm-guarded", T0 + 5000), 2);
  });

  it("reports a pair and reason at most once a window, and the reports add up to the denials (property)", () => {
    const reasons: ClaimDenialReason[] = ["claim-not-member", "spoofed-source-mac", "storm-guarded"];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 1500 }),
            vnic: fc.constantFrom("a", "b"),
            reason: fc.constantFrom(...reasons),
          }),
          { maxLength: 200 },
        ),
        (events) => {
          const d = new ClaimDenials();
          let now = T0;
          const reports: { key: string; at: number; stands: number }[] = [];
          const total = new Map<string, number>();
          // The fabric's timer: a flush at every due time up to `until`.
          const runTimers = (until: number) => {
            while (d.nextDue() <= until) {
              const due = d.nextDue();
              for (const f of flushAt(d, due)) {
                reports.push({ key: `${f.vnicId}/${f.reason}`, at: due, stands: 1 + f.suppressed });
              }
            }
          };
          for (const e of events) {
            now += e.gap;
            runTimers(now);
            const key = `${e.vnic}/${e.reason}`;
            total.set(key, (total.get(key) ?? 0) + 1);
            const carried = d.admit("h", e.vnic, e.reason, now);
            if (carried >= 0) reports.push({ key, at: now, stands: 1 + carried });
          }
          runTimers(now + 10_000);
          assert.equal(d.nextDue(), Number.POSITIVE_INFINITY, "nothing left open");
          for (const [key, n] of total) {
            const mine = reports.filter((r) => r.key === key);
            const stands = mine.reduce((sum, r) => sum + r.stands, 0);
            assert.equal(stands, n, `${key}: the reports stand for every denial`);
            for (let i = 1; i < mine.length; i++) {
              const gap = mine[i]!.at - mine[i - 1]!.at;
              assert.ok(gap >= d.windowMs, `${key}: two reports ${gap} ms apart`);
            }
          }
        },
      ),
    );
  });
});

describe("denied claims in the fabric", () => {
  it("a flood of forged announcements is one observation a second, and its final count arrives after it stops", () => {
    const h = harness(undefined, { policing: null });
    const garp = gratuitousArp({ mac: VM.C.mac, ip: HAVIP.ip });
    // 3.5 s at 1000 frames/s.
    for (let i = 0; i < 3500; i++) {
      h.port(VM.C.port).inject(garp);
      h.clock.advance(1);
    }
    const during = denied(h.observations);
    assert.equal(during.length, 4, "one at the start, one as each second ends");
    assert.equal(during[0]?.suppressed, undefined);
    // The first second's window holds 999 more (t = 1…999 ms), each later one 1000.
    assert.deepEqual(
      during.slice(1).map((o) => o.suppressed),
      [998, 999, 999],
    );
    h.clock.advance(1000);
    const all = denied(h.observations);
    assert.equal(all.length, 5, "the last half second's denials, flushed when its window ended");
    assert.equal(all[4]?.suppressed, 499);
    const stands = all.reduce((n, o) => n + 1 + (o.suppressed ?? 0), 0);
    assert.equal(stands, 3500);
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.deniedClaims, 3500, "the counter counts every frame");
    assert.ok(all.every((o) => o.vnicId === VM.C.id && o.reason === "claim-not-member"));
    // Nothing more: the windows are closed.
    h.clock.advance(5000);
    assert.equal(denied(h.observations).length, 5);
  });

  it("folds the storm guard in: one report per flapping vNIC a second, with the count", () => {
    const h = harness(undefined, { maxHolderChangesPerSecond: 2 });
    const garps = [gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }), gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip })];
    for (let i = 0; i < 40; i++) {
      h.port(i % 2 === 0 ? VM.A.port : VM.B.port).inject(garps[i % 2]!);
      h.clock.advance(10);
    }
    h.clock.advance(2000);
    const storm = denied(h.observations).filter((o) => o.reason === "storm-guarded");
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.stormGuarded, 19);
    assert.deepEqual(
      storm.map((o) => [o.vnicId, o.suppressed ?? 0]),
      [
        [VM.A.id, 0],
        [VM.A.id, 17],
      ],
    );
  });

  it("without a clock that has timers, a pending count rides on the pair's next report", () => {
    const manual = new ManualClock();
    const h = harness(undefined, { clock: { now: () => manual.now() }, policing: null });
    const garp = gratuitousArp({ mac: VM.C.mac, ip: HAVIP.ip });
    for (let i = 0; i < 10; i++) h.port(VM.C.port).inject(garp);
    manual.advance(5000);
    assert.equal(denied(h.observations).length, 1);
    h.port(VM.C.port).inject(garp);
    assert.deepEqual(
      denied(h.observations).map((o) => o.suppressed),
      [undefined, 9],
    );
  });
});
