import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "./clock.ts";

describe("ManualClock", () => {
  it("moves only when advanced, firing timers in time order at their due time", () => {
    const c = new ManualClock(1000);
    const fired: [string, number][] = [];
    c.setTimer(30, () => fired.push(["b", c.now()]));
    c.setTimer(10, () => {
      fired.push(["a", c.now()]);
      c.setTimer(5, () => fired.push(["a2", c.now()]));
    });
    const cancelled = c.setTimer(20, () => fired.push(["x", c.now()]));
    cancelled.cancel();
    assert.equal(c.now(), 1000);
    c.advance(25);
    assert.deepEqual(fired, [
      ["a", 1010],
      ["a2", 1015],
    ]);
    assert.equal(c.now(), 1025);
    assert.equal(c.pendingTimers, 1);
    c.advance(5);
    assert.deepEqual(fired.at(-1), ["b", 1030]);
    assert.throws(() => {
      c.advance(-1);
    }, RangeError);
  });

  it("fires timers due at the same time in the order they were set", () => {
    const c = new ManualClock();
    const order: number[] = [];
    for (let i = 0; i < 5; i++) c.setTimer(7, () => order.push(i));
    c.advance(7);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });
});
