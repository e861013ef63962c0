// The packet port: against a fake addon (the ring handling, no privileges), and — as root, with the native
// addon built — over a real veth pair in a namespace this test makes (a Node process cannot enter a
// namespace, so the real part runs packet-fixture.ts inside it with `ip netns exec`).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it, test } from "node:test";
import type { BatchUdpAddon } from "./batch-socket.ts";
import { PacketPort, packetPortsAvailable } from "./packet.ts";

const SLOT = 128;
const SLOTS = 4;

/** A fake addon: one socket, rings of SLOTS × SLOT bytes; `deliver` plays a receive batch, flushes are kept. */
function fakeAddon() {
  const rx = new ArrayBuffer(SLOTS * SLOT);
  const tx = new ArrayBuffer(SLOTS * SLOT);
  const rxMeta = new ArrayBuffer(SLOTS * 16);
  const txMeta = new ArrayBuffer(SLOTS * 16);
  const sent: Buffer[][] = [];
  let onBatch: ((count: number) => void) | null = null;
  const opened: string[] = [];
  const moderated: [number, number][] = [];
  const counters = new ArrayBuffer(64);
  const addon: BatchUdpAddon = {
    open: () => assert.fail("a packet port opens a packet socket"),
    openPacket(ifname, _bufferBytes, callback) {
      opened.push(ifname);
      onBatch = callback;
      return {
        handle: {},
        rx,
        rxMeta,
        tx,
        txMeta,
        counters,
        port: 0,
        slotSize: SLOT,
        slots: SLOTS,
      };
    },
    flush(_handle, count) {
      const meta = new Uint32Array(txMeta);
      sent.push(Array.from({ length: count }, (_, i) => Buffer.from(tx, i * SLOT, meta[i * 4] ?? 0)));
      return count;
    },
    moderate(_handle, holdUs, minFrames) {
      moderated.push([holdUs, minFrames]);
    },
    close: () => undefined,
  };
  const deliver = (frames: { bytes: number[]; truncated?: boolean }[]) => {
    const meta = new Uint32Array(rxMeta);
    frames.forEach((f, i) => {
      new Uint8Array(rx, i * SLOT, SLOT).set(f.bytes);
      meta[i * 4] = f.bytes.length;
      meta[i * 4 + 3] = f.truncated === true ? 1 : 0;
    });
    onBatch!(frames.length);
  };
  return { addon, sent, deliver, opened, moderated, counters: new Float64Array(counters) };
}

const frame = (n: number, len = 60) => Array.from({ length: len }, (_, i) => (i + n) & 0xff);

describe("PacketPort (fake addon)", () => {
  it("opens its interface and hands each whole frame of a batch to the receiver", () => {
    const f = fakeAddon();
    const port = new PacketPort("p1", { interface: "vt5001", addon: f.addon });
    assert.deepEqual(f.opened, ["vt5001"]);
    const got: number[][] = [];
    port.setReceiver((bytes, len) => got.push([...bytes.subarray(0, len)]));
    f.deliver([
      { bytes: frame(1) },
      { bytes: frame(2, 10) },
      { bytes: frame(3), truncated: true },
      { bytes: frame(4) },
    ]);
    assert.deepEqual(got, [frame(1), frame(4)]);
    assert.deepEqual(port.counters, {
      rxFrames: 4,
      txFrames: 0,
      truncated: 1,
      runts: 1,
      sendErrors: 0,
      sendDropped: 0,
      rxHolds: 0,
    });
  });

  it("asks the addon for receive moderation only when given one, and counts its holds", () => {
    const f = fakeAddon();
    new PacketPort("p1", { interface: "vt1", addon: f.addon });
    assert.deepEqual(f.moderated, []);
    const port = new PacketPort("p2", { interface: "vt2", addon: f.addon, moderation: { holdUs: 100, minFrames: 8 } });
    assert.deepEqual(f.moderated, [[100, 8]]);
    f.counters[7] = 3; // the addon's holds counter
    assert.equal(port.counters.rxHolds, 3);
    assert.throws(
      () => new PacketPort("p3", { interface: "vt3", addon: f.addon, moderation: { holdUs: 100, minFrames: 0 } }),
      RangeError,
    );
  });

  it("sends what a batch produces in one flush at its end, copied out of the caller's buffer", () => {
    const f = fakeAddon();
    const port = new PacketPort("p1", { interface: "vt1", addon: f.addon });
    const scratch = new Uint8Array(SLOT);
    port.setReceiver((bytes, len) => {
      scratch.set(bytes.subarray(0, len));
      port.send(scratch, len); // an echo, from a buffer reused for the next frame
      port.send(scratch, len);
    });
    f.deliver([{ bytes: frame(7) }, { bytes: frame(8, 20) }]);
    assert.equal(f.sent.length, 1);
    assert.deepEqual(
      f.sent[0]!.map((b) => [...b]),
      [frame(7), frame(7), frame(8, 20), frame(8, 20)],
    );
  });

  it("flushes a frame sent outside a batch on a microtask, and drops one larger than a slot", async () => {
    const f = fakeAddon();
    const port = new PacketPort("p1", { interface: "vt1", addon: f.addon });
    port.send(Uint8Array.from(frame(1)), 60);
    port.send(new Uint8Array(SLOT + 1), SLOT + 1);
    assert.equal(f.sent.length, 0);
    await Promise.resolve();
    assert.deepEqual(
      f.sent.map((batch) => batch.map((b) => b.length)),
      [[60]],
    );
    assert.equal(port.counters.sendErrors, 1);
    port.close();
    port.send(Uint8Array.from(frame(2)), 60);
    await Promise.resolve();
    assert.equal(f.sent.length, 1, "nothing leaves a closed port");
  });
});

// The real thing: a veth pair inside a namespace of our own, a packet port on one end (in a child process),
// frames written to it and read back from the other end.
const available = packetPortsAvailable();
const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? "needs root (a network namespace)" : !available.ok ? available.reason : false;
if (skip !== false) process.stderr.write(`\n*** packet port veth test SKIPPED: ${skip} ***\n\n`);
if (skip !== false && process.env.CI !== undefined && process.env.CI !== "") {
  test("the packet port veth test must run in CI", () => {
    assert.fail(skip);
  });
}

test("over a real veth pair: frames go out through one end and come in at the other", { skip }, () => {
  const ns = `hvpkt-${process.pid}`;
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
  ip("netns", "add", ns);
  try {
    ip("-n", ns, "link", "add", "pa", "type", "veth", "peer", "name", "pb");
    for (const dev of ["pa", "pb"]) {
      ip("netns", "exec", ns, "sysctl", "-e", "-q", "-w", `net.ipv6.conf.${dev}.disable_ipv6=1`);
      ip("-n", ns, "link", "set", dev, "up");
    }
    const fixture = fileURLToPath(new URL("./packet-fixture.ts", import.meta.url));
    const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, fixture, "pa", "pb", "200"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { received: number; intact: boolean; ownEchoes: number };
    assert.equal(out.received, 200, "every frame arrives at the other end");
    assert.ok(out.intact, "byte for byte");
    assert.equal(out.ownEchoes, 0, "a port never reads back what it sent");
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
});
