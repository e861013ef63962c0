import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readU16 } from "./bytes.ts";
import { WIRE_ERRORS, isWireError } from "./errors.ts";
import {
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_PORT_UNREACHABLE,
  IPV4_RECORD_ROUTE,
  UDP_DATAGRAM,
} from "./fixtures.ts";
import {
  ICMP_CSUM,
  ICMP_ERROR_EMBEDDED_OFFSET,
  ICMP_TYPE,
  checkIcmp,
  emitIcmpEcho,
  emitIcmpError,
  icmpChecksum,
  isIcmpError,
  parseIcmpEcho,
  parseIcmpError,
  verifyIcmpChecksum,
  type IcmpEchoRepr,
  type IcmpErrorRepr,
} from "./icmp.ts";
import { checkIpv4, parseIpv4Packet } from "./ipv4.ts";
import { parseUdp } from "./udp.ts";

const ICMP = 14 + 20;

function filled(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

function echoOf(frame: Uint8Array, off = ICMP): IcmpEchoRepr {
  const repr = parseIcmpEcho(frame, off, frame.length - off);
  assert.ok(!isWireError(repr), "parses");
  return repr;
}

test("parses the captured echo request and reply, every field", () => {
  const request = echoOf(ICMP_ECHO_REQUEST);
  assert.equal(request.type, ICMP_TYPE.ECHO_REQUEST);
  assert.equal(request.id, 0x20be);
  assert.equal(request.seq, 1);
  assert.equal(request.payload.length, 56);
  assert.deepEqual(request.payload, ICMP_ECHO_REQUEST.subarray(ICMP + 8));
  // iputils ping: an 8-byte timestamp, then 0x10, 0x11, ... 0x37.
  assert.deepEqual([...request.payload.subarray(16, 20)], [0x10, 0x11, 0x12, 0x13]);
  const reply = echoOf(ICMP_ECHO_REPLY);
  assert.deepEqual(reply, { ...request, type: ICMP_TYPE.ECHO_REPLY });
});

test("the echo inside an IPv4 header with options parses at the header length", () => {
  const at = 14 + 60;
  assert.deepEqual(echoOf(IPV4_RECORD_ROUTE, at).seq, 1);
  assert.equal(echoOf(IPV4_RECORD_ROUTE, at).payload.length, 56);
});

test("emit reproduces the captured echoes byte for byte", () => {
  for (const frame of [ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY]) {
    const out = filled(frame.length + 1);
    assert.equal(emitIcmpEcho(echoOf(frame), out, ICMP), 64);
    assert.deepEqual(out.subarray(ICMP, frame.length), frame.subarray(ICMP));
    assert.equal(out[frame.length], 0xa5);
  }
});

test("a reply built in place from the request (payload aliasing the buffer) is the captured reply", () => {
  const buf = ICMP_ECHO_REQUEST.slice();
  const request = echoOf(buf);
  emitIcmpEcho({ ...request, type: ICMP_TYPE.ECHO_REPLY }, buf, ICMP);
  assert.deepEqual(buf.subarray(ICMP), ICMP_ECHO_REPLY.subarray(ICMP));
});

test("parses the captured port unreachable and its embedded datagram", () => {
  const len = ICMP_PORT_UNREACHABLE.length - ICMP;
  const error = parseIcmpError(ICMP_PORT_UNREACHABLE, ICMP, len) as IcmpErrorRepr;
  assert.equal(error.type, ICMP_TYPE.DEST_UNREACHABLE);
  assert.equal(error.code, 3);
  assert.equal(error.restOfHeader, 0);
  assert.deepEqual(error.embedded, UDP_DATAGRAM.subarray(14));
  // The embedded header is a whole IPv4 packet here (Linux quotes as much as fits).
  const embeddedOff = ICMP + ICMP_ERROR_EMBEDDED_OFFSET;
  assert.equal(checkIpv4(ICMP_PORT_UNREACHABLE, embeddedOff, len - 8), undefined);
  assert.ok(!isWireError(parseIpv4Packet(ICMP_PORT_UNREACHABLE, embeddedOff, len - 8)));
  assert.deepEqual(parseUdp(ICMP_PORT_UNREACHABLE, embeddedOff + 20, 20), {
    srcPort: 33553,
    dstPort: 5000,
    payloadLen: 12,
  });
  const out = filled(ICMP_PORT_UNREACHABLE.length);
  assert.equal(emitIcmpError(error, out, ICMP), len);
  assert.deepEqual(out.subarray(ICMP), ICMP_PORT_UNREACHABLE.subarray(ICMP));
});

test("checksums: the captured ones verify, every flipped bit is detected", () => {
  for (const frame of [ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_PORT_UNREACHABLE]) {
    const len = frame.length - ICMP;
    assert.equal(icmpChecksum(frame, ICMP, len), readU16(frame, ICMP + ICMP_CSUM));
    assert.equal(verifyIcmpChecksum(frame, ICMP, len), true);
    for (let bit = 0; bit < len * 8; bit++) {
      const copy = frame.slice();
      copy[ICMP + (bit >>> 3)]! ^= 0x80 >>> (bit & 7);
      assert.equal(checkIcmp(copy, ICMP, len), WIRE_ERRORS["bad-checksum"], `bit ${bit}`);
    }
  }
});

test("wrong kinds and short messages return a reason", () => {
  const len = ICMP_ECHO_REQUEST.length - ICMP;
  assert.equal(parseIcmpError(ICMP_ECHO_REQUEST, ICMP, len), WIRE_ERRORS["bad-type"]);
  assert.equal(parseIcmpEcho(ICMP_PORT_UNREACHABLE, ICMP, 48), WIRE_ERRORS["bad-type"]);
  assert.equal(parseIcmpEcho(ICMP_ECHO_REQUEST, ICMP, 7), WIRE_ERRORS.truncated);
  assert.equal(parseIcmpEcho(ICMP_ECHO_REQUEST, ICMP, len - 1), WIRE_ERRORS["bad-checksum"], "payload cut");
  assert.equal(parseIcmpEcho(ICMP_ECHO_REQUEST.subarray(0, 90), ICMP, len), WIRE_ERRORS.truncated);
});

test("isIcmpError: the RFC 1122 error types", () => {
  assert.deepEqual(Array.from({ length: 20 }, (_, t) => t).filter(isIcmpError), [3, 4, 5, 11, 12]);
});

test("payloads parsed from a Node Buffer are plain Uint8Arrays", () => {
  const repr = echoOf(Buffer.from(ICMP_ECHO_REQUEST));
  assert.equal(Object.getPrototypeOf(repr.payload), Uint8Array.prototype);
});

test("property: parse(emit(repr)) = repr for echoes and errors", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(ICMP_TYPE.ECHO_REQUEST, ICMP_TYPE.ECHO_REPLY),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ maxLength: 100 }),
      (type, id, seq, payload) => {
        const out = filled(8 + payload.length);
        const repr: IcmpEchoRepr = { type, id, seq, payload };
        assert.equal(emitIcmpEcho(repr, out, 0), out.length);
        assert.deepEqual(parseIcmpEcho(out, 0, out.length), repr);
      },
    ),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(3, 4, 5, 11, 12),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.uint8Array({ maxLength: 100 }),
      (type, code, restOfHeader, embedded) => {
        const out = filled(8 + embedded.length);
        const repr: IcmpErrorRepr = { type, code, restOfHeader, embedded };
        assert.equal(emitIcmpError(repr, out, 0), out.length);
        assert.deepEqual(parseIcmpError(out, 0, out.length), repr);
      },
    ),
  );
});
