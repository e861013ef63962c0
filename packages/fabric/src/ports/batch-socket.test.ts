// The batched UDP socket over loopback, against Node dgram sockets as peers. Needs the native addon
// (scripts/build-native.sh): without it the suite is skipped loudly, and an extra test fails when CI is set.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, describe, it, test } from "node:test";
import fc from "fast-check";
import { BatchSocket, copyFrame, ipv4ToUint32, loadBatchUdp, type BatchUdpAddon } from "./batch-socket.ts";

const LOOPBACK = 0x7f000001;
const load = loadBatchUdp();
if (load.reason !== null) {
  process.stderr.write(`\n*** batch socket tests SKIPPED: ${load.reason} ***\n\n`);
  if (process.env.CI !== undefined && process.env.CI !== "") {
    test("the batch-udp addon must load in CI", () => {
      assert.fail(load.reason);
    });
  }
}

describe("ipv4ToUint32", () => {
  it("is the address's four bytes, most significant first", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (bytes) => {
        const expected = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
        assert.equal(ipv4ToUint32(bytes.join(".")), expected);
      }),
    );
  });

  it("answers -1 for anything but a dotted quad", () => {
    for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "a.b.c.d", "1.2.3.-4", "::1", "1..2.3"]) {
      assert.equal(ipv4ToUint32(bad), -1, bad);
    }
  });
});

interface Peer {
  socket: dgram.Socket;
  port: number;
  inbox: Buffer[];
}

async function peer(): Promise<Peer> {
  const socket = dgram.createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 });
  const p: Peer = { socket, port: 0, inbox: [] };
  socket.on("message", (m) => p.inbox.push(m));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  p.port = socket.address().port;
  return p;
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function sendAll(from: Peer, to: number, datagrams: Uint8Array[]): Promise<unknown> {
  return Promise.all(
    datagrams.map(
      (d) =>
        new Promise<void>((resolve, reject) => {
          from.socket.send(d, to, "127.0.0.1", (err) => {
            if (err) reject(err);
            else resolve();
          });
        }),
    ),
  );
}

describe("BatchSocket", { skip: load.reason ?? false }, () => {
  const addon = load.addon as BatchUdpAddon;
  let socket: BatchSocket;
  let p: Peer;
  /** What each batch held: [bytes, address, port] per datagram. */
  let received: [Buffer, number, number][];
  let batches: number[];
  /** When set, called inside each batch (to send from there). */
  let inBatch: ((count: number) => void) | null = null;

  before(async () => {
    received = [];
    batches = [];
    socket = new BatchSocket(addon, {
      address: "127.0.0.1",
      port: 0,
      bufferBytes: 4 * 1024 * 1024,
      onBatch: (count) => {
        batches.push(count);
        for (let i = 0; i < count; i++) {
          const bytes = Buffer.from(socket.rxSlots[i]!.subarray(0, socket.rxLength(i)));
          received.push([bytes, socket.rxAddress(i), socket.rxPort(i)]);
        }
        inBatch?.(count);
      },
    });
    p = await peer();
  });

  after(() => {
    socket.close();
    p.socket.close();
  });

  it("binds an ephemeral port and has slots for a jumbo VXLAN datagram", () => {
    assert.ok(socket.port > 0);
    assert.ok(socket.slotSize >= 9022);
    assert.ok(socket.rxSlots.length >= 16);
  });

  it("receives a burst in batches, each datagram with its bytes, source address and port", async () => {
    received = [];
    batches = [];
    const datagrams = Array.from({ length: 200 }, (_, i) => new Uint8Array(10 + (i % 50)).fill(i & 0xff));
    await sendAll(p, socket.port, datagrams);
    await until(() => received.length === 200);
    received.forEach(([bytes, address, port], i) => {
      assert.deepEqual(new Uint8Array(bytes), datagrams[i], `datagram ${i}`);
      assert.equal(address, LOOPBACK);
      assert.equal(port, p.port);
    });
    // The burst was queued before the socket was polled: it arrives in fewer calls than datagrams.
    assert.ok(batches.length < 200, `${batches.length} batches`);
    assert.ok(
      batches.every((n) => n >= 1 && n <= socket.rxSlots.length),
      String(batches),
    );
  });

  it("sends from outside a batch in a microtask, flushing early when the ring is full", async () => {
    p.inbox = [];
    const before = socket.counters.sent;
    for (let i = 0; i < 150; i++) {
      const slot = socket.sendSlot();
      slot.fill(i, 0, 20);
      socket.commit(20, LOOPBACK, p.port);
    }
    // Two full rings went out synchronously; the rest waits for the microtask.
    assert.equal(socket.counters.sent - before, 2 * socket.rxSlots.length);
    await Promise.resolve();
    assert.equal(socket.counters.sent - before, 150);
    await until(() => p.inbox.length === 150);
    p.inbox.forEach((d, i) => {
      assert.equal(d.length, 20);
      assert.ok(
        d.every((b) => b === i),
        `datagram ${i} in order with its own bytes`,
      );
    });
  });

  it("flushes what a batch sends when the batch returns (echo)", async () => {
    p.inbox = [];
    inBatch = (count) => {
      for (let i = 0; i < count; i++) {
        const len = socket.rxLength(i);
        socket.sendSlot().set(socket.rxSlots[i]!.subarray(0, len));
        socket.commit(len, socket.rxAddress(i), socket.rxPort(i));
      }
    };
    try {
      const datagrams = Array.from({ length: 100 }, (_, i) => Buffer.from(`echo ${i}`));
      await sendAll(p, socket.port, datagrams);
      await until(() => p.inbox.length === 100);
      assert.deepEqual(
        p.inbox.map((d) => d.toString()),
        datagrams.map((d) => d.toString()),
      );
    } finally {
      inBatch = null;
    }
  });

  it("counts a datagram the kernel refuses and still sends the ones after it", async () => {
    p.inbox = [];
    const before = socket.counters;
    for (const port of [p.port, 0, p.port]) {
      // UDP port 0 is not a destination: sendmmsg stops there with EINVAL
      socket.sendSlot().write(`to ${port}`);
      socket.commit(`to ${port}`.length, LOOPBACK, port);
    }
    assert.equal(socket.flush(), 2);
    const after = socket.counters;
    assert.equal(after.sent - before.sent, 2);
    assert.equal(after.sendErrors - before.sendErrors, 1);
    assert.equal(after.sendDropped, before.sendDropped);
    await until(() => p.inbox.length === 2);
  });

  it("marks a datagram longer than a slot as truncated", async () => {
    received = [];
    const before = socket.counters.truncated;
    await sendAll(p, socket.port, [new Uint8Array(socket.slotSize + 100)]);
    await until(() => received.length === 1);
    assert.equal(socket.counters.truncated - before, 1);
  });

  it("refuses to bind a port in use, with the errno's code", () => {
    assert.throws(
      () =>
        new BatchSocket(addon, { address: "127.0.0.1", port: socket.port, bufferBytes: 0, onBatch: () => undefined }),
      (e: unknown) => e instanceof Error && (e as NodeJS.ErrnoException).code === "EADDRINUSE",
    );
  });

  it("closes once, and twice safely; then sends nothing and the port is free again", async () => {
    const s = new BatchSocket(addon, { address: "127.0.0.1", port: 0, bufferBytes: 0, onBatch: () => undefined });
    const port = s.port;
    s.close();
    s.close();
    s.commit(4, LOOPBACK, p.port);
    assert.equal(s.flush(), 0);
    assert.throws(() => {
      addon.flush({}, 1);
    }, /not a socket handle/);
    const again = new BatchSocket(addon, { address: "127.0.0.1", port, bufferBytes: 0, onBatch: () => undefined });
    again.close();
    await Promise.resolve();
  });
});

describe("copyFrame", () => {
  it("copies exactly the frame's first len bytes at the offset, small and large, whole or part of the buffer", () => {
    for (const len of [1, 60, 256, 257, 1514, 9014]) {
      const frame = new Uint8Array(len + 100).map((_, i) => (i * 7 + 3) & 0xff);
      for (const source of [frame, frame.subarray(0, len)]) {
        const slot = new Uint8Array(len + 20).fill(0xee);
        copyFrame(slot, 8, source, len);
        assert.deepEqual(slot.subarray(8, 8 + len), frame.subarray(0, len));
        assert.ok(
          slot.subarray(0, 8).every((b) => b === 0xee),
          "nothing written before the offset",
        );
        assert.ok(
          slot.subarray(8 + len).every((b) => b === 0xee),
          "nothing written after the frame",
        );
      }
    }
  });
});
