// Fault injection: loss, delay on the clock, duplication, partition; reproducible from the seed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, MemoryPort } from "@havip/testkit";
import { FaultyPort, type FaultOptions } from "./faults.ts";

function frame(i: number): Uint8Array {
  return new Uint8Array([i & 0xff, i >> 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
}

function run(options: FaultOptions, n = 1000): { delivered: number[]; port: FaultyPort; clock: ManualClock } {
  const clock = new ManualClock();
  const inner = new MemoryPort("p");
  const port = new FaultyPort(inner, clock, options);
  for (let i = 0; i < n; i++) port.send(frame(i), 14);
  clock.advance(10_000);
  return { delivered: inner.take().map((f) => f[0]! | (f[1]! << 8)), port, clock };
}

describe("fault injection", () => {
  it("loses about the configured share of frames, the same ones for the same seed", () => {
    const r1 = run({ loss: 0.3, seed: 7 });
    const r2 = run({ loss: 0.3, seed: 7 });
    const r3 = run({ loss: 0.3, seed: 8 });
    assert.deepEqual(r1.delivered, r2.delivered);
    assert.notDeepEqual(r1.delivered, r3.delivered);
    assert.ok(r1.port.counters.lost > 230 && r1.port.counters.lost < 370, `${r1.port.counters.lost} lost`);
    assert.equal(r1.delivered.length + r1.port.counters.lost, 1000);
  });

  it("duplicates frames", () => {
    const r = run({ duplicate: 0.5, seed: 3 }, 200);
    assert.equal(r.delivered.length, 200 + r.port.counters.duplicated);
    assert.ok(r.port.counters.duplicated > 60);
  });

  it("delays frames on the clock, in order without jitter", () => {
    const clock = new ManualClock();
    const inner = new MemoryPort("p");
    const port = new FaultyPort(inner, clock, { delayMs: 40 });
    port.send(frame(1), 14);
    clock.advance(20);
    port.send(frame(2), 14);
    assert.equal(inner.delivered.length, 0);
    clock.advance(20);
    assert.deepEqual(
      inner.take().map((f) => f[0]),
      [1],
    );
    clock.advance(20);
    assert.deepEqual(
      inner.take().map((f) => f[0]),
      [2],
    );
  });

  it("copies a delayed frame (the sender may reuse its buffer)", () => {
    const clock = new ManualClock();
    const inner = new MemoryPort("p");
    const port = new FaultyPort(inner, clock, { delayMs: 1 });
    const buf = frame(9);
    port.send(buf, 14);
    buf[0] = 0;
    clock.advance(1);
    assert.equal(inner.take()[0]?.[0], 9);
  });

  it("partitions the port both ways, including frames still in flight", () => {
    const clock = new ManualClock();
    const inner = new MemoryPort("p");
    const port = new FaultyPort(inner, clock, { delayMs: 10 });
    const received: number[] = [];
    port.setReceiver((f) => received.push(f[0]!));
    port.send(frame(1), 14);
    port.partitioned = true;
    clock.advance(10);
    port.send(frame(2), 14);
    inner.inject(frame(3));
    clock.advance(10);
    assert.equal(inner.delivered.length, 0);
    assert.deepEqual(received, []);
    assert.equal(port.counters.partitioned, 3);
    port.partitioned = false;
    inner.inject(frame(4));
    clock.advance(10);
    assert.deepEqual(received, [4]);
  });

  it("applies faults in one direction only when asked", () => {
    const clock = new ManualClock();
    const inner = new MemoryPort("p");
    const port = new FaultyPort(inner, clock, { loss: 1, direction: "rx" });
    const received: Uint8Array[] = [];
    port.setReceiver((f) => received.push(f));
    port.send(frame(1), 14);
    inner.inject(frame(2));
    assert.equal(inner.delivered.length, 1);
    assert.equal(received.length, 0);
    port.setFaults({ loss: 0 });
    inner.inject(frame(3));
    assert.equal(received.length, 1);
  });
});
