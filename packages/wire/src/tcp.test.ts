import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readU16, writeU16 } from "./bytes.ts";
import { checksumAdjust16, checksumAdjust32 } from "./checksum.ts";
import { WIRE_ERRORS } from "./errors.ts";
import { TCP_RST_ACK, TCP_SYN } from "./fixtures.ts";
import {
  TCP_CSUM,
  TCP_FLAGS,
  TCP_MIN_HEADER_LEN,
  TCP_OFFSET_FLAGS,
  TCP_SRC_PORT,
  checkTcp,
  emitTcp,
  parseTcp,
  tcpChecksum,
  verifyTcpChecksum,
  type TcpRepr,
} from "./tcp.ts";

const A = 0x0ac8_0001;
const B = 0x0ac8_0002;
const TCP = 14 + 20;

function filled(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

const SYN: TcpRepr = {
  srcPort: 45786,
  dstPort: 80,
  seq: 3009948011,
  ack: 0,
  flags: TCP_FLAGS.SYN,
  window: 64240,
  headerLen: 40,
};
const RST_ACK: TcpRepr = {
  srcPort: 80,
  dstPort: 45786,
  seq: 0,
  ack: 3009948012,
  flags: TCP_FLAGS.RST | TCP_FLAGS.ACK,
  window: 0,
  headerLen: 20,
};

test("parses the captured SYN (with options) and RST/ACK, every field", () => {
  assert.deepEqual(parseTcp(TCP_SYN, TCP, 40), SYN);
  assert.deepEqual(parseTcp(TCP_RST_ACK, TCP, 20), RST_ACK);
  assert.equal(checkTcp(TCP_SYN, TCP, 40), undefined);
  // The options start with MSS 1460 (kind 2, length 4).
  assert.deepEqual([...TCP_SYN.subarray(TCP + 20, TCP + 24)], [2, 4, 0x05, 0xb4]);
});

test("the captured checksums verify and equal tcpChecksum", () => {
  assert.equal(verifyTcpChecksum(TCP_SYN, TCP, 40, A, B), true);
  assert.equal(verifyTcpChecksum(TCP_RST_ACK, TCP, 20, B, A), true);
  assert.equal(tcpChecksum(TCP_SYN, TCP, 40, A, B), readU16(TCP_SYN, TCP + TCP_CSUM));
  assert.equal(tcpChecksum(TCP_RST_ACK, TCP, 20, B, A), readU16(TCP_RST_ACK, TCP + TCP_CSUM));
  assert.equal(verifyTcpChecksum(TCP_SYN, TCP, 40, B, A + 1), false, "pseudo-header counts");
});

test("every single flipped bit in the SYN fails verification", () => {
  for (let bit = 0; bit < 40 * 8; bit++) {
    const copy = TCP_SYN.slice();
    copy[TCP + (bit >>> 3)]! ^= 0x80 >>> (bit & 7);
    assert.equal(verifyTcpChecksum(copy, TCP, 40, A, B), false, `bit ${bit}`);
  }
});

test("emit reproduces the captured segments byte for byte (options in place first)", () => {
  const syn = filled(TCP_SYN.length);
  syn.set(TCP_SYN.subarray(TCP + 20), TCP + 20);
  assert.equal(emitTcp(SYN, syn, TCP, A, B, 0), 40);
  assert.deepEqual(syn.subarray(TCP), TCP_SYN.subarray(TCP));
  const rst = filled(TCP_RST_ACK.length);
  assert.equal(emitTcp(RST_ACK, rst, TCP, B, A, 0), 20);
  assert.deepEqual(rst.subarray(TCP), TCP_RST_ACK.subarray(TCP));
});

test("truncated and malformed headers return a reason", () => {
  assert.equal(parseTcp(TCP_RST_ACK, TCP, 19), WIRE_ERRORS.truncated);
  assert.equal(parseTcp(TCP_SYN, TCP, 39), WIRE_ERRORS.truncated, "options beyond len");
  assert.equal(parseTcp(TCP_SYN.subarray(0, 60), TCP, 40), WIRE_ERRORS.truncated, "len beyond the buffer");
  const copy = TCP_RST_ACK.slice();
  copy[TCP + TCP_OFFSET_FLAGS] = 0x40 | (copy[TCP + TCP_OFFSET_FLAGS]! & 0x0f);
  assert.equal(parseTcp(copy, TCP, 20), WIRE_ERRORS["bad-header-length"]);
});

const segment = fc.record(
  {
    srcPort: fc.integer({ min: 0, max: 0xffff }),
    dstPort: fc.integer({ min: 0, max: 0xffff }),
    seq: fc.integer({ min: 0, max: 0xffff_ffff }),
    ack: fc.integer({ min: 0, max: 0xffff_ffff }),
    flags: fc.integer({ min: 0, max: 0x0fff }),
    window: fc.integer({ min: 0, max: 0xffff }),
    options: fc
      .integer({ min: 0, max: 10 })
      .chain((words) => fc.uint8Array({ minLength: 4 * words, maxLength: 4 * words })),
    payload: fc.uint8Array({ maxLength: 64 }),
    src: fc.integer({ min: 0, max: 0xffff_ffff }),
    dst: fc.integer({ min: 0, max: 0xffff_ffff }),
  },
  { noNullPrototype: true },
);

test("property: parse(emit(repr)) = repr, and the checksum verifies", () => {
  fc.assert(
    fc.property(segment, ({ options, payload, src, dst, ...fields }) => {
      const repr: TcpRepr = { ...fields, headerLen: TCP_MIN_HEADER_LEN + options.length };
      const out = filled(repr.headerLen + payload.length);
      out.set(options, TCP_MIN_HEADER_LEN);
      out.set(payload, repr.headerLen);
      assert.equal(emitTcp(repr, out, 0, src, dst, payload.length), repr.headerLen);
      assert.deepEqual(parseTcp(out, 0, out.length), repr);
      assert.equal(verifyTcpChecksum(out, 0, out.length, src, dst), true);
    }),
  );
});

test("property: NAT of an address and a port via checksumAdjust equals a full recomputation", () => {
  fc.assert(
    fc.property(
      segment,
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.integer({ min: 0, max: 0xffff }),
      ({ options, payload, src, dst, ...fields }, newDst, newPort) => {
        const repr: TcpRepr = { ...fields, headerLen: TCP_MIN_HEADER_LEN + options.length };
        const out = new Uint8Array(repr.headerLen + payload.length);
        out.set(options, TCP_MIN_HEADER_LEN);
        out.set(payload, repr.headerLen);
        emitTcp(repr, out, 0, src, dst, payload.length);
        let checksum = checksumAdjust32(readU16(out, TCP_CSUM), dst, newDst);
        checksum = checksumAdjust16(checksum, repr.srcPort, newPort);
        writeU16(out, TCP_SRC_PORT, newPort);
        assert.equal(checksum, tcpChecksum(out, 0, out.length, src, newDst));
      },
    ),
  );
});
