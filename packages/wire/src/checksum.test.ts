import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readU16, writeU16, writeU32 } from "./bytes.ts";
import {
  checksumAdjust16,
  checksumAdjust32,
  internetChecksum,
  onesComplementSum,
  pseudoHeaderSum,
} from "./checksum.ts";
import { UDP_DATAGRAM } from "./fixtures.ts";

test("RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2", () => {
  const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(onesComplementSum(bytes, 0, 8), 0xddf2);
  assert.equal(internetChecksum(bytes, 0, 8), 0x220d);
  // The sum is byte-order independent (RFC 1071 1.2.B): swapping every pair swaps the result.
  const swapped = Uint8Array.of(0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6);
  assert.equal(onesComplementSum(swapped, 0, 8), 0xf2dd);
});

test("an odd trailing byte is padded with zero; initial is added", () => {
  assert.equal(onesComplementSum(Uint8Array.of(0x12, 0x34, 0x56), 0, 3), 0x6834);
  assert.equal(onesComplementSum(Uint8Array.of(0xff, 0xff, 0x00, 0x02), 0, 4), 0x0002);
  assert.equal(onesComplementSum(Uint8Array.of(0x00, 0x01), 0, 2, 0xfffe), 0xffff);
  assert.equal(onesComplementSum(new Uint8Array(0), 0, 0, 0x1234), 0x1234);
  assert.equal(onesComplementSum(Uint8Array.of(9, 0x12, 0x34, 9), 1, 3), 0x1234);
});

test("a long buffer of 0xff folds to 0xffff", () => {
  const big = new Uint8Array(65536).fill(0xff);
  assert.equal(onesComplementSum(big, 0, big.length), 0xffff);
  assert.equal(internetChecksum(big, 0, big.length), 0);
});

test("RFC 1624 section 4 example: eqn. 3 gives 0x0000 where eqn. 2 gave -0 (0xffff)", () => {
  // HC = 0xDD2F (so C = 0x22D0); a field m = 0x5555 becomes m' = 0x3285.
  assert.equal(checksumAdjust16(0xdd2f, 0x5555, 0x3285), 0x0000);
  // Eqn. 2 (HC + m + ~m'), for contrast, lands on -0.
  const eqn2 = 0xdd2f + 0x5555 + (~0x3285 & 0xffff);
  assert.equal((eqn2 & 0xffff) + (eqn2 >>> 16), 0xffff);
  // The same change on a real buffer: one word 0x5555 and the rest summing to C - 0x5555.
  const buf = new Uint8Array(4);
  writeU16(buf, 0, 0x5555);
  writeU16(buf, 2, (0x22d0 - 0x5555 + 0xffff) % 0xffff);
  assert.equal(internetChecksum(buf, 0, 4), 0xdd2f);
  writeU16(buf, 0, 0x3285);
  assert.equal(internetChecksum(buf, 0, 4), 0x0000);
});

test("pseudoHeaderSum matches the captured UDP datagram's checksum", () => {
  const ip = 14;
  const udp = ip + 20;
  const udpLen = readU16(UDP_DATAGRAM, udp + 4);
  const sum = pseudoHeaderSum(0x0ac8_0001, 0x0ac8_0002, 17, udpLen);
  assert.equal(onesComplementSum(UDP_DATAGRAM, udp, udp + udpLen, sum), 0xffff);
  // Written out: 0ac8 + 0001 + 0ac8 + 0002 + 0011 + 0014.
  assert.equal(sum, 0x0ac8 + 0x0001 + 0x0ac8 + 0x0002 + 0x11 + 0x14);
});

// Random packets with a non-zero first word, as every real header has (version, pseudo-header protocol):
// the sum of an all-zero buffer is the one case where "+0" and "-0" differ.
const packet = fc
  .tuple(fc.integer({ min: 1, max: 0xffff }), fc.uint8Array({ minLength: 2, maxLength: 200 }))
  .map(([first, rest]) => {
    const buf = new Uint8Array(2 + rest.length + (rest.length & 1));
    writeU16(buf, 0, first);
    buf.set(rest, 2);
    return buf;
  });

test("property: checksumAdjust16 equals recomputing from scratch", () => {
  fc.assert(
    fc.property(packet, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (buf, at, newWord) => {
      const word = 2 + 2 * (at % ((buf.length - 2) / 2)); // any aligned word after the first
      const before = internetChecksum(buf, 0, buf.length);
      const oldWord = readU16(buf, word);
      writeU16(buf, word, newWord);
      assert.equal(checksumAdjust16(before, oldWord, newWord), internetChecksum(buf, 0, buf.length));
    }),
  );
});

test("property: checksumAdjust32 equals recomputing from scratch", () => {
  fc.assert(
    fc.property(
      packet.filter((b) => b.length >= 6),
      fc.nat(),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      (buf, at, newValue) => {
        const word = 2 + 2 * (at % ((buf.length - 4) / 2));
        const before = internetChecksum(buf, 0, buf.length);
        const oldValue = ((readU16(buf, word) << 16) | readU16(buf, word + 2)) >>> 0;
        writeU32(buf, word, newValue);
        assert.equal(checksumAdjust32(before, oldValue, newValue), internetChecksum(buf, 0, buf.length));
      },
    ),
  );
});

test("property: a stored checksum verifies (the sum with it included is 0xffff)", () => {
  fc.assert(
    fc.property(packet, (buf) => {
      const withField = new Uint8Array(buf.length + 2);
      withField.set(buf, 2);
      writeU16(withField, 0, internetChecksum(buf, 0, buf.length));
      assert.equal(onesComplementSum(withField, 0, withField.length), 0xffff);
    }),
  );
});
