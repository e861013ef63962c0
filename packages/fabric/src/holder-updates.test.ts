// Holder-only HAVIP upserts are applied in place (no recompile). They must end exactly where a full compile of
// the same changes ends: same holders, generations, releases, spec, and traffic to the HAVIP.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { gratuitousArp } from "@havip/testkit";
import { holderOnlyUpserts } from "./holder-updates.ts";
import type { Observation } from "./observations.ts";
import { SpecState, type HaVipSpec, type SpecChange } from "./spec.ts";
import { HAVIP, ROUTER_MAC, VM, clientToHavip, harness, seedSpec, type Harness } from "./test-support.ts";

const base = (): HaVipSpec => seedSpec().havips[0]!;
const upsert = (value: HaVipSpec): SpecChange => ({ op: "upsert", kind: "havip", value });

describe("holder-only HAVIP upserts", () => {
  it("are recognised only when subnet, address, virtual MAC and members are unchanged", () => {
    const spec = new SpecState(seedSpec());
    const h = base();
    assert.deepEqual(holderOnlyUpserts(spec, [upsert({ ...h, holderVnicId: VM.B.id, generation: 7 })]), [
      { ...h, holderVnicId: VM.B.id, generation: 7 },
    ]);
    assert.ok(holderOnlyUpserts(spec, [upsert({ ...h, members: [...(h.members ?? [])].reverse() })]) !== null);
    for (const changed of [
      { ...h, ip: "10.0.1.51" },
      { ...h, virtualMac: "02:00:00:00:aa:02" },
      { ...h, members: [VM.A.id] },
      { ...h, members: [VM.A.id, VM.A.id] },
      { ...h, members: null },
      { ...h, id: "havip-new" },
    ]) {
      assert.equal(holderOnlyUpserts(spec, [upsert(changed)]), null, JSON.stringify(changed));
    }
    assert.equal(holderOnlyUpserts(spec, []), null);
    assert.equal(holderOnlyUpserts(spec, [upsert(h), { op: "set-router-mac", routerMac: ROUTER_MAC }]), null);
  });

  it("end where a full compile ends, under any mix of announcements and control-plane holders", () => {
    const holderIds = [VM.A.id, VM.B.id, VM.C.id, "eni-gone", null] as const;
    const step = fc.oneof(
      fc.record({ kind: fc.constant("announce" as const), vm: fc.constantFrom(VM.A, VM.B, VM.C) }),
      fc.record({
        kind: fc.constant("upsert" as const),
        holder: fc.constantFrom(...holderIds),
        generation: fc.integer({ min: 0, max: 12 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        // `fast` takes the in-place path; `full` gets the same upserts with a no-op change that forces a compile.
        // A low storm guard, so that its window is exercised too.
        const fast = observed(harness(undefined, { maxHolderChangesPerSecond: 3 }));
        const full = observed(harness(undefined, { maxHolderChangesPerSecond: 3 }));
        let port = 0;
        for (const s of steps) {
          for (const f of [fast, full]) {
            if (s.kind === "announce") {
              f.h.port(s.vm.port).inject(gratuitousArp({ mac: s.vm.mac, ip: HAVIP.ip }));
            } else {
              const changes = [upsert({ ...base(), holderVnicId: s.holder, generation: s.generation })];
              if (f === full) changes.push({ op: "set-router-mac", routerMac: ROUTER_MAC });
              f.h.fabric.applyChanges(changes);
            }
            f.h.clock.advance(60);
          }
          assert.deepEqual(fast.h.fabric.holderOf(HAVIP.id), full.h.fabric.holderOf(HAVIP.id));
          assert.deepEqual(fast.events, full.events);
          assert.deepEqual(fast.h.fabric.currentSpec(), full.h.fabric.currentSpec());
          // Traffic to the HAVIP reaches the same vNIC (or nobody) in both.
          port++;
          const reached = [fast, full].map((f) => clientToHavip(f.h, port));
          assert.deepEqual(reached[0], reached[1]);
        }
        const counters = [fast, full].map((f) => f.h.fabric.counters().havips[HAVIP.id]);
        assert.deepEqual(counters[0], counters[1]);
      }),
      { numRuns: 500 },
    );
  });

  it("release a holder the control plane names but that may not claim, and report it", () => {
    const h = harness();
    const events: Observation[] = [];
    h.fabric.onObservation((o) => events.push(o));
    h.fabric.applyChanges([upsert({ ...base(), holderVnicId: VM.C.id, generation: 3 })]);
    assert.equal(h.fabric.holderOf(HAVIP.id), null);
    assert.deepEqual(
      events.map((o) => (o.kind === "holder-released" ? [o.previousVnicId, o.generation] : o.kind)),
      [[VM.C.id, 3]],
    );
    // An older generation than the fabric's own is ignored: the fabric's observation wins.
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    h.fabric.applyChanges([upsert({ ...base(), holderVnicId: VM.B.id, generation: 2 })]);
    assert.deepEqual([h.fabric.holderOf(HAVIP.id)?.vnicId, h.fabric.holderOf(HAVIP.id)?.generation], [VM.A.id, 4]);
  });
});

function observed(h: Harness): { h: Harness; events: Observation[] } {
  const events: Observation[] = [];
  h.fabric.onObservation((o) => events.push(o));
  return { h, events };
}
