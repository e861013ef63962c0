// Hostile input never throws: every check and parse returns a record or a WireError (or -1/false) for
// random bytes, random offsets and lengths, and for captured frames with random bytes corrupted.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { checkArp, parseArp } from "./arp.ts";
import { isWireError } from "./errors.ts";
import { ethernetPayloadOffset, ethernetType, ethernetVlanId, parseEthernet } from "./ethernet.ts";
import * as fixtures from "./fixtures.ts";
import { checkIcmp, parseIcmpEcho, parseIcmpError, verifyIcmpChecksum } from "./icmp.ts";
import { checkIpv4, ipv4HeaderLen, isFragment, parseIpv4 } from "./ipv4.ts";
import { checkTcp, parseTcp, verifyTcpChecksum } from "./tcp.ts";
import { checkUdp, parseUdp, verifyUdpChecksum } from "./udp.ts";
import { checkVrrp, parseVrrp } from "./vrrp.ts";
import { readVni } from "./vxlan.ts";

function resultOk(x: unknown): void {
  assert.ok(x === undefined || isWireError(x) || (typeof x === "object" && x !== null), "a record or an error");
}

/** Runs every reader on (buf, off, len); any throw fails the property. */
function readAll(buf: Uint8Array, off: number, len: number, src: number, dst: number): void {
  const frameLen = Math.min(len, buf.length);
  const payloadOff = ethernetPayloadOffset(buf, frameLen);
  assert.ok(payloadOff === -1 || payloadOff === 14 || payloadOff === 18);
  assert.ok(Number.isInteger(ethernetType(buf, frameLen)));
  assert.ok(Number.isInteger(ethernetVlanId(buf, frameLen)));
  resultOk(parseEthernet(buf, frameLen));
  resultOk(checkArp(buf, off, len));
  resultOk(parseArp(buf, off, len));
  resultOk(checkIpv4(buf, off, len));
  const ip = parseIpv4(buf, off, len);
  resultOk(ip);
  if (!isWireError(ip)) {
    // After a successful check every accessor is within the buffer.
    assert.ok(off + ipv4HeaderLen(buf, off) + ip.payloadLen <= buf.length);
    assert.equal(typeof isFragment(buf, off), "boolean");
  }
  resultOk(checkUdp(buf, off, len));
  resultOk(parseUdp(buf, off, len));
  resultOk(checkTcp(buf, off, len));
  resultOk(parseTcp(buf, off, len));
  resultOk(checkIcmp(buf, off, len));
  resultOk(parseIcmpEcho(buf, off, len));
  resultOk(parseIcmpError(buf, off, len));
  resultOk(checkVrrp(buf, off, len, src, dst));
  resultOk(parseVrrp(buf, off, len, src, dst));
  assert.ok(Number.isInteger(readVni(buf, off)));
  if (off >= 0 && len >= 0 && off + len <= buf.length) {
    assert.equal(typeof verifyUdpChecksum(buf, off, len, src, dst), "boolean");
    assert.equal(typeof verifyTcpChecksum(buf, off, len, src, dst), "boolean");
    assert.equal(typeof verifyIcmpChecksum(buf, off, len), "boolean");
  }
}

const address = fc.integer({ min: 0, max: 0xffff_ffff });

test("property: random bytes at random offsets and lengths never throw", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 120 }),
      fc.integer({ min: -4, max: 130 }),
      fc.integer({ min: -4, max: 130 }),
      address,
      address,
      (buf, off, len, src, dst) => {
        readAll(buf, off, len, src, dst);
      },
    ),
    { numRuns: 2000 },
  );
});

const frames = Object.entries(fixtures).filter(([name]) => name !== "PCAP_FILE_VLAN_GARP");

test("property: captured frames with corrupted bytes never throw", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...frames),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: -2, max: 2 }),
      ([, frame], corruptions, off, lenDelta) => {
        const buf = frame.slice();
        for (const [at, value] of corruptions) buf[at % buf.length] = value;
        const start = Math.min(off, buf.length);
        readAll(buf, start, buf.length - start + lenDelta, 0x0ac8_0001, 0x0ac8_0002);
      },
    ),
    { numRuns: 2000 },
  );
});
