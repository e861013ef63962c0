import assert from "node:assert/strict";
import { test } from "node:test";
import { PCAP_FILE_VLAN_GARP, VLAN_GARP, ARP_REQUEST } from "./fixtures.ts";
import { PcapWriter, pcapFileHeader, pcapRecord, readPcap } from "./pcap.ts";

const TS = 1795222946129022n;

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

test("reads the file tcpdump wrote", () => {
  const file = readPcap(PCAP_FILE_VLAN_GARP);
  assert.equal(file.linktype, 1);
  assert.equal(file.snaplen, 262144);
  assert.equal(file.records.length, 1);
  assert.equal(file.records[0]!.tsMicros, TS);
  assert.deepEqual(file.records[0]!.data, VLAN_GARP);
  assert.equal(file.records[0]!.origLen, 62);
});

test("header and record reproduce tcpdump's file byte for byte", () => {
  assert.deepEqual(concat([pcapFileHeader(262144), pcapRecord(TS, VLAN_GARP)]), PCAP_FILE_VLAN_GARP);
});

test("the file header layout", () => {
  assert.deepEqual(
    [...pcapFileHeader()],
    [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0],
  );
});

test("PcapWriter: header first, then records, cut to snaplen; readPcap reads them back", () => {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter((chunk) => chunks.push(chunk), 50);
  assert.equal(chunks.length, 1);
  writer.write(1_000_001n, ARP_REQUEST);
  writer.write(2_500_000n, VLAN_GARP);
  const big = new Uint8Array(100);
  writer.write(3n, big, 20); // only 20 bytes of the buffer are the frame
  const file = readPcap(concat(chunks));
  assert.equal(file.snaplen, 50);
  assert.deepEqual(
    file.records.map((r) => [r.tsMicros, r.data.length, r.origLen]),
    [
      [1_000_001n, 42, 42],
      [2_500_000n, 50, 62],
      [3n, 20, 20],
    ],
  );
  assert.deepEqual(file.records[0]!.data, ARP_REQUEST);
  assert.deepEqual(file.records[1]!.data, VLAN_GARP.subarray(0, 50));
});

test("readPcap reads big-endian files and nanosecond timestamps", () => {
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, 0xa1b23c4d, false); // nanoseconds, big-endian
  h.setUint16(4, 2, false);
  h.setUint16(6, 4, false);
  h.setUint32(16, 65535, false);
  h.setUint32(20, 1, false);
  const record = new Uint8Array(16 + 2);
  const r = new DataView(record.buffer);
  r.setUint32(0, 7, false);
  r.setUint32(4, 123_456_789, false);
  r.setUint32(8, 2, false);
  r.setUint32(12, 2, false);
  record.set([0xab, 0xcd], 16);
  const file = readPcap(concat([header, record]));
  assert.equal(file.linktype, 1);
  assert.deepEqual(file.records, [{ tsMicros: 7_123_456n, data: Uint8Array.of(0xab, 0xcd), origLen: 2 }]);
});

test("readPcap throws on malformed files", () => {
  assert.throws(() => readPcap(new Uint8Array(10)), /shorter than the file header/);
  assert.throws(() => readPcap(new Uint8Array(24)), /unknown magic/);
  assert.throws(() => readPcap(PCAP_FILE_VLAN_GARP.subarray(0, 30)), /record header cut/);
  assert.throws(() => readPcap(PCAP_FILE_VLAN_GARP.subarray(0, 60)), /record data cut/);
});
