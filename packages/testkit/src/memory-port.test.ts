import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CountingPort, MemoryPort } from "./memory-port.ts";

describe("MemoryPort", () => {
  it("copies what it is sent, and injects into its receiver", () => {
    const p = new MemoryPort("p1");
    const buf = new Uint8Array([1, 2, 3, 4]);
    p.send(buf, 3);
    buf[0] = 9;
    assert.deepEqual(p.delivered, [new Uint8Array([1, 2, 3])]);
    assert.throws(() => {
      p.inject(buf);
    }, /not attached/);
    const got: number[] = [];
    p.setReceiver((_f, len) => got.push(len));
    assert.equal(p.attached, true);
    p.inject(buf, 2);
    assert.deepEqual(got, [2]);
    assert.equal(p.take().length, 1);
    assert.equal(p.delivered.length, 0);
  });

  it("CountingPort counts without keeping frames", () => {
    const p = new CountingPort("c");
    p.send(new Uint8Array(64), 60);
    p.send(new Uint8Array(64), 64);
    assert.equal(p.frames, 2);
    assert.equal(p.bytes, 124);
  });
});
