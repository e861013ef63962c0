// Holder truth as a property: random interleavings of announcements, instances gaining and losing the address
// silently, time passing (verification rounds), a control plane that records observations with a compare-and-set
// and echoes them back as spec upserts, and fabric restarts from the store. Whatever happens: generations never go
// backwards (in the fabric, in the store, across restarts), and once exactly one instance has the address and
// verification has had its rounds, both the fabric and the store name that instance, with the same generation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ManualClock, MemoryPort, arpReply, checkFrame, gratuitousArp, ip, mac } from "@havip/testkit";
import { Fabric } from "./fabric.ts";
import type { Observation } from "./observations.ts";
import type { HaVipSpec, NetworkSpec } from "./spec.ts";
import { HAVIP, ROUTER_MAC, VM, seedSpec } from "./test-support.ts";

const MEMBERS = [VM.A, VM.B] as const;
type Member = (typeof MEMBERS)[number];
const GATEWAY = "10.0.1.1";

type Step =
  | { kind: "announce"; who: number }
  | { kind: "gain"; who: number }
  | { kind: "lose"; who: number }
  | { kind: "advance"; ms: number }
  | { kind: "echo" }
  | { kind: "restart" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("announce" as const), who: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant("gain" as const), who: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant("lose" as const), who: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 1500 }) }),
  fc.record({ kind: fc.constant("echo" as const) }),
  fc.record({ kind: fc.constant("restart" as const) }),
);

/** The control plane's record of the HAVIP: what observations set, with a compare-and-set on the generation. */
interface Store {
  holder: string | null;
  generation: number;
}

class World {
  readonly clock = new ManualClock();
  readonly having = new Set<Member>();
  readonly store: Store = { holder: null, generation: 0 };
  fabric!: Fabric;
  private ports = new Map<string, MemoryPort>();
  /** The highest generation any fabric of this world has had. */
  highest = 0;

  constructor() {
    this.start(seedSpec());
  }

  start(spec: NetworkSpec): void {
    this.fabric = new Fabric(spec, { clock: this.clock, verification: true });
    this.ports = new Map();
    for (const v of spec.vnics) {
      const p = new MemoryPort(v.port);
      this.ports.set(v.port, p);
      this.fabric.attachPort(p);
    }
    this.fabric.onObservation((o) => {
      this.record(o);
    });
    this.checkGeneration();
  }

  /** The store's compare-and-set (as observeHolder with an issued generation). */
  private record(o: Observation): void {
    if (o.kind === "holder-changed" && o.generation > this.store.generation) {
      this.store.holder = o.vnicId;
      this.store.generation = o.generation;
    }
    if (o.kind === "holder-released" && o.reason === "withdrawn" && o.generation > this.store.generation) {
      this.store.holder = null;
      this.store.generation = o.generation;
    }
  }

  private havipSpec(): HaVipSpec {
    return {
      ...HAVIP,
      subnetId: "subnet-app",
      members: MEMBERS.map((m) => m.id),
      holderVnicId: this.store.holder,
      generation: this.store.generation,
    };
  }

  apply(s: Step): void {
    switch (s.kind) {
      case "announce": {
        const vm = MEMBERS[s.who]!;
        this.having.add(vm);
        this.ports.get(vm.port)!.inject(gratuitousArp({ mac: vm.mac, ip: HAVIP.ip }));
        break;
      }
      case "gain":
        this.having.add(MEMBERS[s.who]!);
        break;
      case "lose":
        this.having.delete(MEMBERS[s.who]!);
        break;
      case "advance":
        this.advance(s.ms);
        break;
      case "echo":
        // The control plane's holder-changed event comes back as a HAVIP upsert.
        this.fabric.applyChanges([{ op: "upsert", kind: "havip", value: this.havipSpec() }]);
        break;
      case "restart": {
        // A new fabric built from the store (an agent restarted, havipd's in-process fabric after a restart).
        this.fabric.close();
        const spec = seedSpec();
        spec.havips = [this.havipSpec()];
        this.start(spec);
        break;
      }
    }
    this.answer();
    this.checkGeneration();
  }

  advance(ms: number): void {
    for (let t = 0; t < ms; t += 5) {
      this.clock.advance(Math.min(5, ms - t));
      this.answer();
    }
  }

  /** Every instance that has the address answers the fabric's probes, as Linux does. */
  private answer(): void {
    for (const [port, p] of this.ports) {
      for (const f of p.take()) {
        const s = checkFrame(f);
        if (s.arp?.op !== 1 || s.src !== mac(ROUTER_MAC) || s.arp.targetIp !== ip(HAVIP.ip)) continue;
        const vm = [...this.having].find((v) => v.port === port);
        if (vm !== undefined) {
          p.inject(arpReply({ mac: vm.mac, ip: HAVIP.ip, targetMac: ROUTER_MAC, targetIp: GATEWAY }));
        }
      }
    }
  }

  private checkGeneration(): void {
    const g = this.fabric.holderOf(HAVIP.id)?.generation ?? this.fabric.currentSpec().havips[0]!.generation ?? 0;
    assert.ok(g >= this.store.generation, `fabric generation ${g} behind the store's ${this.store.generation}`);
    assert.ok(g >= this.highest, `generation went back from ${this.highest} to ${g}`);
    this.highest = g;
  }
}

describe("holder truth", () => {
  it("generations never go back, and verification makes fabric and store name whoever has the address", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 0, max: 1 }), (steps, finalHolder) => {
        const w = new World();
        const storeGenerations = [0];
        for (const s of steps) {
          w.apply(s);
          storeGenerations.push(w.store.generation);
        }
        for (let i = 1; i < storeGenerations.length; i++) {
          assert.ok(storeGenerations[i]! >= storeGenerations[i - 1]!, "the store's generation never goes back");
        }
        // The partition heals, a reboot ends, …: exactly one instance has the address, and it announces nothing.
        const holder = MEMBERS[finalHolder]!;
        w.having.clear();
        w.having.add(holder);
        w.advance(4000);
        w.apply({ kind: "echo" });
        w.advance(2000);
        assert.equal(w.fabric.holderOf(HAVIP.id)?.vnicId, holder.id, "the fabric names the instance that has it");
        assert.equal(w.store.holder, holder.id, "the store names it too");
        assert.equal(w.store.generation, w.fabric.holderOf(HAVIP.id)?.generation, "with the same generation");
        assert.equal(w.fabric.counters().havips[HAVIP.id]?.contest, null, "and nobody contests it");
        w.fabric.close();
      }),
      { numRuns: 150 },
    );
  });
});
