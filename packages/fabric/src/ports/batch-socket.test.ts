// The batched UDP socket over loopback, against Node dgram sockets as peers. Needs the native addon
// (scripts/build-native.sh): without it the suite is skipped loudly, and an extra test fails when CI is set.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, describe, it, test } from "node:test";
import fc from "fast-check";
import {
  BatchSocket,
  checkReceiveModeration,
  copyFrame,
  ipv4ToUint32,
  loadBatchUdp,
  type BatchUdpAddon,
} from "./batch-socket.ts";

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

describe("BatchSocket receive moderation", { skip: load.reason ?? false }, () => {
  const addon = load.addon as BatchUdpAddon;
  const HOLD_MS = 100; // the longest hold the addon takes
  let rx: BatchSocket;
  let tx: BatchSocket;
  /** Datagrams delivered so far, and the size of each batch. */
  let delivered = 0;
  const batches: number[] = [];

  before(() => {
    rx = new BatchSocket(addon, {
      address: "127.0.0.1",
      port: 0,
      bufferBytes: 1 << 20,
      onBatch: (count) => {
        delivered += count;
        batches.push(count);
      },
      moderation: { holdUs: HOLD_MS * 1000, minFrames: 4 },
    });
    tx = new BatchSocket(addon, { address: "127.0.0.1", port: 0, bufferBytes: 1 << 20, onBatch: () => undefined });
  });
  after(() => {
    rx.close();
    tx.close();
  });

  /** Queues `n` datagrams on the receiver at once (one sendmmsg, before this task yields). */
  const burst = (n: number) => {
    for (let i = 0; i < n; i++) {
      tx.sendSlot().writeUInt32BE(i);
      tx.commit(4, LOOPBACK, rx.port);
    }
    assert.equal(tx.flush(), n);
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("holds after a wake-up of minFrames or more, reads the hold's arrivals in one go, then polls again", async () => {
    burst(6);
    await until(() => delivered === 6);
    assert.equal(rx.counters.holds, 1, "six at once reach minFrames: held");
    burst(5); // arrive during the hold
    await sleep(HOLD_MS / 4);
    assert.equal(delivered, 6, "nothing is read while the socket is held");
    await until(() => delivered === 11);
    assert.equal(batches.at(-1), 5, "the hold's arrivals come in one batch");
    assert.equal(rx.counters.holds, 2, "that read found minFrames again: held again");
    await until(() => rx.counters.holds === 2 && delivered === 11);
    await sleep(HOLD_MS * 1.5); // the second hold ends with an empty read: polling again
    const start = Date.now();
    burst(1);
    await until(() => delivered === 12);
    assert.ok(Date.now() - start < HOLD_MS, "a single datagram after the flood is read at once, not a hold later");
    assert.equal(rx.counters.holds, 2, "under minFrames: no hold");
  });

  it("turning moderation off while held reads at once", async () => {
    rx.moderate({ holdUs: 100_000, minFrames: 2 });
    const before = delivered;
    burst(3);
    await until(() => delivered === before + 3);
    const holds = rx.counters.holds;
    burst(1);
    await sleep(20);
    assert.equal(delivered, before + 3, "held");
    rx.moderate({ holdUs: 0, minFrames: 1 });
    await until(() => delivered === before + 4, 80);
    burst(3);
    await until(() => delivered === before + 7);
    assert.equal(rx.counters.holds, holds, "off: no further hold");
  });

  it("refuses a hold or a frame count out of range, before the addon sees it", () => {
    for (const bad of [
      { holdUs: -1, minFrames: 8 },
      { holdUs: 100_001, minFrames: 8 },
      { holdUs: 1.5, minFrames: 8 },
      { holdUs: 100, minFrames: 0 },
      { holdUs: 100, minFrames: Number.NaN },
    ]) {
      assert.throws(
        () => {
          rx.moderate(bad);
        },
        RangeError,
        JSON.stringify(bad),
      );
      assert.throws(() => {
        checkReceiveModeration(bad);
      }, RangeError);
    }
    assert.throws(() => {
      addon.moderate!(rx, 100, 8);
    }, /not a socket handle/);
  });

  it("closes while held: nothing is delivered after close, and the hold's timer goes with the socket", async () => {
    let after = 0;
    const s = new BatchSocket(addon, {
      address: "127.0.0.1",
      port: 0,
      bufferBytes: 1 << 20,
      onBatch: (count) => (after += count),
      moderation: { holdUs: 50_000, minFrames: 1 },
    });
    for (let i = 0; i < 2; i++) {
      tx.sendSlot().writeUInt32BE(i);
      tx.commit(4, LOOPBACK, s.port);
      tx.flush();
      await until(() => after === i + 1);
    }
    assert.equal(s.counters.holds, 2, "the second arrived in the first hold, whose read held again");
    s.close(); // in the second hold
    await sleep(80); // past the hold: its timer must not fire into a closed socket
    assert.equal(after, 2);
    assert.equal(s.counters.holds, 2);
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
