import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readU16, writeU16 } from "./bytes.ts";
import { WIRE_ERRORS, isWireError } from "./errors.ts";
import { UDP_DATAGRAM, VXLAN_ICMP } from "./fixtures.ts";
import {
  UDP_CSUM,
  UDP_HEADER_LEN,
  UDP_LEN,
  checkUdp,
  emitUdp,
  parseUdp,
  udpChecksum,
  udpChecksumAdjust16,
  udpChecksumAdjust32,
  verifyUdpChecksum,
  type UdpRepr,
} from "./udp.ts";

const A = 0x0ac8_0001;
const B = 0x0ac8_0002;
const UDP = 14 + 20;

function filled(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

test("parses the captured datagram, every field, and verifies its checksum", () => {
  const len = UDP_DATAGRAM.length - UDP;
  assert.equal(checkUdp(UDP_DATAGRAM, UDP, len), undefined);
  assert.deepEqual(parseUdp(UDP_DATAGRAM, UDP, len), { srcPort: 33553, dstPort: 5000, payloadLen: 12 });
  assert.equal(new TextDecoder().decode(UDP_DATAGRAM.subarray(UDP + 8)), "hello havip\n");
  assert.notEqual(readU16(UDP_DATAGRAM, UDP + UDP_CSUM), 0);
  assert.equal(verifyUdpChecksum(UDP_DATAGRAM, UDP, 20, A, B), true);
  assert.equal(udpChecksum(UDP_DATAGRAM, UDP, 20, A, B), readU16(UDP_DATAGRAM, UDP + UDP_CSUM));
  // The pseudo-header matters: another source address does not verify.
  assert.equal(verifyUdpChecksum(UDP_DATAGRAM, UDP, 20, A + 1, B), false);
});

test("every single flipped bit in the datagram fails verification", () => {
  for (let bit = 0; bit < 20 * 8; bit++) {
    const copy = UDP_DATAGRAM.slice();
    copy[UDP + (bit >>> 3)]! ^= 0x80 >>> (bit & 7);
    if (readU16(copy, UDP + UDP_CSUM) === 0) continue; // cannot happen here, but 0 would mean "none"
    assert.equal(verifyUdpChecksum(copy, UDP, 20, A, B), false, `bit ${bit}`);
  }
});

test("emit reproduces the captured datagram byte for byte", () => {
  const out = filled(UDP_DATAGRAM.length + 1);
  out.set(UDP_DATAGRAM.subarray(UDP + 8), UDP + 8); // the payload is in place first
  const repr = parseUdp(UDP_DATAGRAM, UDP, 20) as UdpRepr;
  assert.equal(emitUdp(repr, out, UDP, A, B), UDP_HEADER_LEN);
  assert.deepEqual(out.subarray(UDP, UDP + 20), UDP_DATAGRAM.subarray(UDP));
  assert.equal(out[UDP - 1], 0xa5);
});

test("the captured kernel VXLAN datagram carries a valid outer checksum; 0 (none) verifies too", () => {
  const len = VXLAN_ICMP.length - UDP;
  const repr = parseUdp(VXLAN_ICMP, UDP, len) as UdpRepr;
  assert.deepEqual(repr, { srcPort: 49151, dstPort: 4789, payloadLen: len - 8 });
  assert.notEqual(readU16(VXLAN_ICMP, UDP + UDP_CSUM), 0);
  assert.equal(verifyUdpChecksum(VXLAN_ICMP, UDP, len, A, B), true);
  const out = VXLAN_ICMP.slice();
  out.fill(0xa5, UDP, UDP + 8);
  emitUdp(repr, out, UDP, A, B);
  assert.deepEqual(out, VXLAN_ICMP);
  // Without a checksum (withChecksum false) the field is 0, which receivers accept.
  emitUdp(repr, out, UDP, A, B, false);
  assert.equal(readU16(out, UDP + UDP_CSUM), 0);
  assert.equal(verifyUdpChecksum(out, UDP, len, A, B), true);
  assert.equal(verifyUdpChecksum(out, UDP, len, A + 1, B), true);
});

test("truncated and malformed datagrams return a reason", () => {
  assert.equal(parseUdp(UDP_DATAGRAM, UDP, 7), WIRE_ERRORS.truncated);
  assert.equal(parseUdp(UDP_DATAGRAM, UDP, 19), WIRE_ERRORS.truncated, "length field beyond len");
  assert.equal(parseUdp(UDP_DATAGRAM.subarray(0, 50), UDP, 20), WIRE_ERRORS.truncated, "len beyond the buffer");
  const copy = UDP_DATAGRAM.slice();
  writeU16(copy, UDP + UDP_LEN, 7);
  assert.equal(parseUdp(copy, UDP, 20), WIRE_ERRORS["bad-length"]);
});

test("a computed checksum of 0 is sent as 0xffff", () => {
  // Find a payload word that makes the sum come out at 0, then check emit's mapping.
  const buf = new Uint8Array(10);
  emitUdp({ srcPort: 1, dstPort: 2, payloadLen: 2 }, buf, 0, A, B);
  const natural = readU16(buf, UDP_CSUM);
  // Adding `natural` to the covered data lowers the inverted sum by exactly that amount.
  writeU16(buf, 8, natural === 0xffff ? 0 : natural);
  assert.equal(udpChecksum(buf, 0, 10, A, B), 0xffff);
  assert.equal(verifyUdpChecksum(buf, 0, 10, A, B), false); // the field still holds the old value
  emitUdp({ srcPort: 1, dstPort: 2, payloadLen: 2 }, buf, 0, A, B);
  assert.equal(readU16(buf, UDP_CSUM), 0xffff);
  assert.equal(verifyUdpChecksum(buf, 0, 10, A, B), true);
});

const datagram = fc.record(
  {
    srcPort: fc.integer({ min: 0, max: 0xffff }),
    dstPort: fc.integer({ min: 0, max: 0xffff }),
    payload: fc.uint8Array({ maxLength: 100 }),
    src: fc.integer({ min: 0, max: 0xffff_ffff }),
    dst: fc.integer({ min: 0, max: 0xffff_ffff }),
  },
  { noNullPrototype: true },
);

test("property: parse(emit(repr)) = repr, and the checksum verifies", () => {
  fc.assert(
    fc.property(datagram, ({ srcPort, dstPort, payload, src, dst }) => {
      const repr = { srcPort, dstPort, payloadLen: payload.length };
      const out = filled(8 + payload.length);
      out.set(payload, 8);
      emitUdp(repr, out, 0, src, dst);
      assert.deepEqual(parseUdp(out, 0, out.length), repr);
      assert.notEqual(readU16(out, UDP_CSUM), 0);
      assert.equal(verifyUdpChecksum(out, 0, out.length, src, dst), true);
    }),
  );
});

test("property: NAT of an address or port via udpChecksumAdjust equals a full recomputation", () => {
  fc.assert(
    fc.property(
      datagram,
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.integer({ min: 0, max: 0xffff }),
      ({ srcPort, dstPort, payload, src, dst }, newSrc, newPort) => {
        const out = new Uint8Array(8 + payload.length);
        out.set(payload, 8);
        emitUdp({ srcPort, dstPort, payloadLen: payload.length }, out, 0, src, dst);
        let checksum = udpChecksumAdjust32(readU16(out, UDP_CSUM), src, newSrc);
        checksum = udpChecksumAdjust16(checksum, srcPort, newPort);
        writeU16(out, 0, newPort);
        assert.equal(checksum, udpChecksum(out, 0, out.length, newSrc, dst));
      },
    ),
  );
});

test("udpChecksumAdjust leaves 'no checksum' alone", () => {
  assert.equal(udpChecksumAdjust32(0, A, B), 0);
  assert.equal(udpChecksumAdjust16(0, 1, 2), 0);
  assert.ok(!isWireError(parseUdp(VXLAN_ICMP, UDP, VXLAN_ICMP.length - UDP)));
});
