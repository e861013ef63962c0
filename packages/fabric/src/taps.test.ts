// Live captures (taps): what each target selects, both directions, timestamps, removal, and the
// announcement-to-repoint latency the fabric measures for holder changes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PcapWriter, readPcap } from "@havip/wire";
import { gratuitousArp, ip, tcpFrame, udpFrame } from "@havip/testkit";
import { UnknownCaptureTarget } from "./fabric.ts";
import { carriesAddress } from "./taps.ts";
import { HAVIP, VM, harness } from "./test-support.ts";

/** A recorder that keeps a pcap in memory. */
function memoryPcap() {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter((c) => chunks.push(c.slice()));
  return {
    write: (ts: bigint, frame: Uint8Array, len: number) => {
      writer.write(ts, frame, len);
    },
    records: () => readPcap(Buffer.concat(chunks)).records,
  };
}

describe("captures", () => {
  it("records both directions of one port, timestamped by the fabric's clock, until stopped", () => {
    const h = harness();
    h.clock.advance(123.456);
    const pcap = memoryPcap();
    const stop = h.fabric.startCapture({ kind: "port", portId: VM.B.port }, pcap);
    // vm-A announces: flooded to vm-B (tx on B's port, with the HAVIP's virtual MAC as sender).
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    // vm-B sends to vm-C (rx on B's port), and a spoofed frame (rx, dropped: still recorded).
    const toC = udpFrame({ srcMac: VM.B.mac, dstMac: VM.C.mac, src: VM.B.ip, dst: VM.C.ip, srcPort: 1, dstPort: 2 });
    h.port(VM.B.port).inject(toC);
    h.port(VM.B.port).inject(
      udpFrame({ srcMac: VM.B.mac, dstMac: VM.C.mac, src: "10.0.1.99", dst: VM.C.ip, srcPort: 1, dstPort: 2 }),
    );
    assert.equal(h.fabric.lastOutcome().verdict, "dropped");
    stop();
    h.port(VM.B.port).inject(toC);
    const records = pcap.records();
    assert.equal(records.length, 3);
    assert.equal(records[0]!.tsMicros, 1_700_000_000_123_456n);
    // The flooded announcement leaves with the virtual MAC as its source.
    assert.deepEqual(
      [...records[0]!.data.subarray(6, 12)],
      HAVIP.virtualMac.split(":").map((x) => parseInt(x, 16)),
    );
    assert.deepEqual(records[1]!.data, toC);
  });

  it("a HAVIP target records the frames that carry its address on the ports of its VPC only", () => {
    const h = harness();
    const pcap = memoryPcap();
    const stop = h.fabric.startCapture({ kind: "havip", havipId: HAVIP.id }, pcap);
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip })); // rx A + tx B
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip })); // rx B + tx A
    // Unrelated traffic between vm-A and vm-C: not recorded.
    h.port(VM.A.port).inject(
      tcpFrame({ srcMac: VM.A.mac, dstMac: VM.C.mac, src: VM.A.ip, dst: VM.C.ip, srcPort: 1, dstPort: 2 }),
    );
    // vm-X lives in another VPC whose addresses overlap: its frames for "the same" address are not recorded.
    h.port(VM.X.port).inject(gratuitousArp({ mac: VM.X.mac, ip: HAVIP.ip }));
    stop();
    const records = pcap.records();
    assert.equal(records.length, 4);
    for (const r of records) assert.ok(carriesAddress(r.data, r.data.length, ip(HAVIP.ip)));
    // The second record is what vm-B saw of vm-A's claim; the third is vm-B's own announcement, from its MAC.
    assert.deepEqual(
      [...records[2]!.data.subarray(6, 12)],
      VM.B.mac.split(":").map((x) => parseInt(x, 16)),
    );
  });

  it("refuses a HAVIP it does not know, and costs nothing once every capture stopped", () => {
    const h = harness();
    assert.throws(
      () => h.fabric.startCapture({ kind: "havip", havipId: "havip-nope" }, memoryPcap()),
      UnknownCaptureTarget,
    );
    const a = memoryPcap();
    const b = memoryPcap();
    const stopA = h.fabric.startCapture({ kind: "port", portId: VM.A.port }, a);
    const stopB = h.fabric.startCapture({ kind: "port", portId: VM.A.port }, b);
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    stopA();
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    stopB();
    assert.equal(a.records().length, 1);
    assert.equal(b.records().length, 2);
  });

  it("carriesAddress reads ARP sender/target and IPv4 source/destination, nothing else", () => {
    const v = ip(HAVIP.ip);
    assert.ok(carriesAddress(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }), 42, v));
    const f = udpFrame({ srcMac: VM.A.mac, dstMac: VM.B.mac, src: VM.A.ip, dst: HAVIP.ip, srcPort: 1, dstPort: 2 });
    assert.ok(carriesAddress(f, f.length, v));
    assert.ok(!carriesAddress(f, 20, v)); // cut short
    const other = Uint8Array.from(f);
    other[12] = 0x86; // not IPv4 any more
    other[13] = 0xdd;
    assert.ok(!carriesAddress(other, other.length, v));
  });
});

describe("announcement-to-repoint latency", () => {
  it("is measured for holder changes only, from the frame's arrival, on the latency clock", () => {
    let now = 0;
    const h = harness(undefined, {
      latencyClock: () => {
        now += 0.004; // every read is 4 µs later than the one before
        return now;
      },
    });
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip })); // change
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip })); // refresh: not measured
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip })); // change
    h.port(VM.C.port).inject(gratuitousArp({ mac: VM.C.mac, ip: HAVIP.ip })); // denied: not measured
    const l = h.fabric.counters().announceToRepoint;
    assert.equal(l.count, 2);
    assert.ok(Math.abs(l.sum - 8) < 1e-6, `sum ${l.sum}`);
    assert.equal(l.counts.length, l.bounds.length + 1);
    assert.equal(l.counts[l.bounds.indexOf(5)], 2); // 4 µs falls in the (2.5, 5] bucket
  });

  it("reads no clock for frames that are not ARP", () => {
    let reads = 0;
    const h = harness(undefined, {
      latencyClock: () => {
        reads++;
        return 0;
      },
    });
    h.port(VM.A.port).inject(
      udpFrame({ srcMac: VM.A.mac, dstMac: VM.C.mac, src: VM.A.ip, dst: VM.C.ip, srcPort: 1, dstPort: 2 }),
    );
    assert.equal(reads, 0);
  });
});
