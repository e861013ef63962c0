// The VXLAN port set over loopback: dgram sockets play the instances' VTEPs. No root needed. Every test runs
// with both kinds of I/O (Node's dgram, and the batched recvmmsg/sendmmsg addon).
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, describe, it, test } from "node:test";
import { ManualClock, checkFrame, gratuitousArp, ip, mac, udpFrame } from "@havip/testkit";
import { readVni, writeVxlanHeader } from "@havip/wire";
import { Fabric } from "../fabric.ts";
import { HAVIP, ROUTER_MAC, VM, seedSpec } from "../test-support.ts";
import { loadBatchUdp } from "./batch-socket.ts";
import { VxlanPortSet } from "./vxlan.ts";

interface Vtep {
  socket: dgram.Socket;
  port: number;
  inbox: Buffer[];
  waiters: (() => void)[];
}

async function vtep(address = "127.0.0.1"): Promise<Vtep> {
  // A large receive buffer: this process reads it, and a burst from the port set arrives all at once.
  const socket = dgram.createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 });
  const v: Vtep = { socket, port: 0, inbox: [], waiters: [] };
  socket.on("message", (msg) => {
    v.inbox.push(msg);
    for (const w of v.waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  v.port = socket.address().port;
  return v;
}

function next(v: Vtep, timeoutMs = 2000): Promise<Buffer> {
  const ready = v.inbox.shift();
  if (ready) return Promise.resolve(ready);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      reject(new Error("no datagram"));
    }, timeoutMs);
    v.waiters.push(() => {
      clearTimeout(t);
      resolve(v.inbox.shift()!);
    });
  });
}

function encap(vni: number, frame: Uint8Array): Buffer {
  const b = Buffer.alloc(8 + frame.length);
  writeVxlanHeader(b, 0, vni);
  b.set(frame, 8);
  return b;
}

function send(v: Vtep, to: number, datagram: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    v.socket.send(datagram, to, "127.0.0.1", (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Waits until `cond` holds (the fabric processes datagrams asynchronously to the sender). */
async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

// Batch I/O needs the addon (scripts/build-native.sh). Without it that half is skipped loudly, and fails in CI.
const batchUnavailable = loadBatchUdp().reason;
if (batchUnavailable !== null) {
  process.stderr.write(`\n*** VXLAN batch I/O tests SKIPPED: ${batchUnavailable} ***\n\n`);
  if (process.env.CI !== undefined && process.env.CI !== "") {
    test("VXLAN batch I/O must be available in CI", () => {
      assert.fail(batchUnavailable);
    });
  }
}

for (const io of ["dgram", "batch"] as const)
  describe(
    `VXLAN port set (${io} I/O)`,
    { skip: io === "batch" && batchUnavailable !== null ? batchUnavailable : false },
    () => {
      let set: VxlanPortSet;
      let fabricPort: number;
      let a: Vtep;
      let b: Vtep;
      let client: Vtep;
      let stranger: Vtep;
      let fabric: Fabric;

      before(async () => {
        set = new VxlanPortSet({ address: "127.0.0.1", port: 0, io });
        assert.equal(set.io, io);
        fabricPort = (await set.open()).port;
        [a, b, client, stranger] = await Promise.all([vtep(), vtep(), vtep(), vtep("127.0.0.2")]);
        fabric = new Fabric(seedSpec(), { clock: new ManualClock() });
        // One VNI per vNIC; all three instance VTEPs share 127.0.0.1 and differ by VNI.
        fabric.attachPort(set.addPort(VM.A.port, { remoteAddress: "127.0.0.1", remotePort: a.port, vni: 1001 }));
        fabric.attachPort(set.addPort(VM.B.port, { remoteAddress: "127.0.0.1", remotePort: b.port, vni: 1002 }));
        fabric.attachPort(
          set.addPort(VM.CLIENT.port, {
            remoteAddress: "127.0.0.1",
            remotePort: client.port,
            vni: 1004,
            matchSourcePort: true,
          }),
        );
      });

      after(async () => {
        fabric.close();
        await set.close();
        for (const v of [a, b, client, stranger]) v.socket.close();
      });

      it("carries an announcement in and the flooded copy out, each on its vNIC's VNI", async () => {
        await send(a, fabricPort, encap(1001, gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip })));
        const flooded = await next(b);
        assert.equal(readVni(flooded, 0), 1002);
        const f = checkFrame(flooded.subarray(8));
        assert.equal(f.arp?.senderMac, mac(HAVIP.virtualMac));
        assert.equal(fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
      });

      it("delivers a client's frame to the holder", async () => {
        const frame = udpFrame({
          srcMac: VM.CLIENT.mac,
          dstMac: ROUTER_MAC,
          src: VM.CLIENT.ip,
          dst: HAVIP.ip,
          srcPort: 5,
          dstPort: 6,
        });
        await send(client, fabricPort, encap(1004, frame));
        const got = await next(a);
        assert.equal(readVni(got, 0), 1001);
        assert.equal(checkFrame(got.subarray(8)).ip?.dst, ip(HAVIP.ip));
      });

      it("drops and counts frames from an unknown VNI, an unknown source, and malformed datagrams", async () => {
        const before = { ...set.counters };
        const frame = gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip });
        await send(b, fabricPort, encap(4242, frame)); // unknown VNI
        await send(stranger, fabricPort, encap(1002, frame)); // vm-B's VNI from another address
        await send(a, fabricPort, encap(1004, frame)); // the client's VNI from the right address, wrong source port
        const noFlag = encap(1002, frame);
        noFlag[0] = 0;
        await send(b, fabricPort, noFlag);
        await send(b, fabricPort, encap(1002, new Uint8Array(6))); // no room for an Ethernet header
        await until(() => set.counters.rxDatagrams - before.rxDatagrams === 5);
        assert.equal(set.counters.unknownVni - before.unknownVni, 1);
        assert.equal(set.counters.unknownSource - before.unknownSource, 2);
        assert.equal(set.counters.malformed - before.malformed, 2);
        assert.equal(fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id, "none of them reached the fabric");
      });

      it("refuses a duplicate attachment and stops carrying a removed port", async () => {
        assert.throws(
          () => set.addPort("p-dup", { remoteAddress: "127.0.0.1", remotePort: a.port, vni: 1001 }),
          /already attached/,
        );
        set.removePort(VM.B.port);
        const before = set.counters.unknownVni;
        await send(b, fabricPort, encap(1002, gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip })));
        await until(() => set.counters.unknownVni === before + 1);
        assert.equal(fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
      });

      it("carries a jumbo frame (9014 bytes, a 9022-byte datagram) both ways, byte for byte", async () => {
        const jumbo = new Uint8Array(9014).map((_, i) => (i * 7) & 0xff);
        const port = set.addPort("p-jumbo", { remoteAddress: "127.0.0.1", remotePort: a.port, vni: 4000 });
        const got: Uint8Array[] = [];
        port.setReceiver((frame, len) => got.push(new Uint8Array(frame.subarray(0, len))));
        try {
          port.send(jumbo, jumbo.length);
          const out = await next(a);
          assert.equal(out.length, 8 + jumbo.length);
          assert.equal(readVni(out, 0), 4000);
          assert.deepEqual(new Uint8Array(out.subarray(8)), jumbo);
          await send(a, fabricPort, encap(4000, jumbo));
          await until(() => got.length === 1);
          assert.deepEqual(got[0], jumbo);
        } finally {
          set.removePort("p-jumbo");
        }
      });

      it("sends from the fabric's reused buffer: each datagram keeps the bytes it had when sent", async () => {
        const port = set.addPort("p-reuse", { remoteAddress: "127.0.0.1", remotePort: a.port, vni: 4001 });
        const scratch = new Uint8Array(64);
        try {
          for (let i = 0; i < 50; i++) {
            scratch.fill(i);
            port.send(scratch, 60);
          }
          for (let i = 0; i < 50; i++) {
            const out = await next(a);
            assert.equal(out.length, 68);
            assert.ok(
              out.subarray(8).every((b) => b === i),
              `datagram ${i} carries its own bytes`,
            );
          }
        } finally {
          set.removePort("p-reuse");
        }
      });

      it("counts a datagram the kernel refuses as a send error instead of throwing", async () => {
        const port = set.addPort("p-huge", { remoteAddress: "127.0.0.1", remotePort: a.port, vni: 4002 });
        const before = set.counters.sendErrors;
        try {
          const huge = new Uint8Array(65_530); // 65,538 bytes with the header: more than a UDP datagram holds
          assert.doesNotThrow(() => {
            port.send(huge, huge.length);
          });
          await until(() => set.counters.sendErrors === before + 1);
        } finally {
          set.removePort("p-huge");
        }
      });

      it("carries a burst of 300 frames in order, in and out, with no loss", async () => {
        const inbound = set.addPort("p-burst-in", { remoteAddress: "127.0.0.1", remotePort: b.port, vni: 4010 });
        const outbound = set.addPort("p-burst-out", { remoteAddress: "127.0.0.1", remotePort: client.port, vni: 4011 });
        // Each frame received on one port goes out of the other, from inside the receive (batch) callback.
        inbound.setReceiver((frame, len) => {
          outbound.send(frame, len);
        });
        try {
          const sent: Promise<void>[] = [];
          for (let i = 0; i < 300; i++) {
            const frame = new Uint8Array(60).fill(i & 0xff);
            frame[0] = i >> 8;
            sent.push(send(b, fabricPort, encap(4010, frame)));
          }
          await Promise.all(sent);
          for (let i = 0; i < 300; i++) {
            const out = await next(client);
            assert.equal(readVni(out, 0), 4011);
            assert.equal(out.length, 68);
            assert.equal(out[8], i >> 8, `datagram ${i} in order`);
            assert.equal(out[9], i & 0xff, `datagram ${i} in order`);
          }
          assert.equal(set.counters.sendDropped, 0);
        } finally {
          set.removePort("p-burst-in");
          set.removePort("p-burst-out");
        }
      });

      it("refuses a remote that is not an IPv4 address (destinations are never looked up)", () => {
        assert.throws(() => set.addPort("p-name", { remoteAddress: "localhost", vni: 4003 }), /not an IPv4 address/);
        assert.throws(() => set.addPort("p-v6", { remoteAddress: "::1", vni: 4003 }), /not an IPv4 address/);
      });
    },
  );

describe("VXLAN port set I/O choice", () => {
  it('"auto" uses batch I/O when the addon loads, else dgram with one warning saying why', async () => {
    const warnings: string[] = [];
    const set = new VxlanPortSet({ address: "127.0.0.1", port: 0, onWarning: (w) => warnings.push(w) });
    try {
      assert.equal(set.io, batchUnavailable === null ? "batch" : "dgram");
      assert.equal(set.ioFallbackReason, batchUnavailable);
      assert.equal(warnings.length, batchUnavailable === null ? 0 : 1);
      assert.ok((await set.open()).port > 0);
      await assert.rejects(set.open()); // bound once, whatever the I/O
    } finally {
      await set.close();
    }
    await set.close(); // twice is fine
  });

  it('"dgram" never loads the addon and never warns', async () => {
    const warnings: string[] = [];
    const set = new VxlanPortSet({ address: "127.0.0.1", port: 0, io: "dgram", onWarning: (w) => warnings.push(w) });
    assert.equal(set.io, "dgram");
    assert.equal(set.ioFallbackReason, null);
    assert.deepEqual(warnings, []);
    await set.close();
  });
});
