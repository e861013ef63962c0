import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readU16, writeU16 } from "./bytes.ts";
import { checksumAdjust16, checksumAdjust32 } from "./checksum.ts";
import { IPPROTO } from "./constants.ts";
import { WIRE_ERRORS, isWireError } from "./errors.ts";
import {
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_PORT_UNREACHABLE,
  IPV4_RECORD_ROUTE,
  TCP_RST_ACK,
  TCP_SYN,
  UDP_DATAGRAM,
  VRRP2_ADVERT,
  VRRP3_ADVERT,
  VXLAN_ICMP,
} from "./fixtures.ts";
import {
  IPV4_CSUM,
  IPV4_DST,
  IPV4_FLAGS_FRAGMENT,
  IPV4_MIN_HEADER_LEN,
  IPV4_SRC,
  IPV4_TOTAL_LEN,
  IPV4_TTL,
  checkIpv4,
  emitIpv4,
  ipv4HeaderChecksum,
  ipv4HeaderLen,
  isFragment,
  parseIpv4,
  parseIpv4Packet,
  type Ipv4Repr,
} from "./ipv4.ts";

const A = 0x0ac8_0001;
const B = 0x0ac8_0002;
const IP = 14;

function filled(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

function ipOf(frame: Uint8Array, off = IP): Ipv4Repr {
  const repr = parseIpv4(frame, off, frame.length - off);
  assert.ok(!isWireError(repr), "parses");
  return repr;
}

const captured: [name: string, frame: Uint8Array, repr: Ipv4Repr][] = [
  [
    "ICMP echo request",
    ICMP_ECHO_REQUEST,
    { src: A, dst: B, protocol: IPPROTO.ICMP, ttl: 64, tos: 0, id: 0xc179, dontFragment: true, payloadLen: 64 },
  ],
  [
    "ICMP echo reply",
    ICMP_ECHO_REPLY,
    { src: B, dst: A, protocol: IPPROTO.ICMP, ttl: 64, tos: 0, id: 0xbc30, dontFragment: false, payloadLen: 64 },
  ],
  [
    "UDP datagram",
    UDP_DATAGRAM,
    { src: A, dst: B, protocol: IPPROTO.UDP, ttl: 64, tos: 0, id: 33314, dontFragment: true, payloadLen: 20 },
  ],
  [
    "ICMP port unreachable",
    ICMP_PORT_UNREACHABLE,
    { src: B, dst: A, protocol: IPPROTO.ICMP, ttl: 64, tos: 0xc0, id: 49137, dontFragment: false, payloadLen: 48 },
  ],
  [
    "TCP SYN",
    TCP_SYN,
    { src: A, dst: B, protocol: IPPROTO.TCP, ttl: 64, tos: 0, id: 1526, dontFragment: true, payloadLen: 40 },
  ],
  [
    "TCP RST/ACK",
    TCP_RST_ACK,
    { src: B, dst: A, protocol: IPPROTO.TCP, ttl: 64, tos: 0, id: 0, dontFragment: true, payloadLen: 20 },
  ],
  [
    "VRRPv2 advert",
    VRRP2_ADVERT,
    {
      src: A,
      dst: 0xe000_0012,
      protocol: IPPROTO.VRRP,
      ttl: 255,
      tos: 0xc0,
      id: 1,
      dontFragment: false,
      payloadLen: 24,
    },
  ],
  [
    "VRRPv3 advert",
    VRRP3_ADVERT,
    {
      src: A,
      dst: 0xe000_0012,
      protocol: IPPROTO.VRRP,
      ttl: 255,
      tos: 0xc0,
      id: 1,
      dontFragment: false,
      payloadLen: 12,
    },
  ],
  [
    "VXLAN outer header",
    VXLAN_ICMP,
    { src: A, dst: B, protocol: IPPROTO.UDP, ttl: 64, tos: 0, id: 27299, dontFragment: false, payloadLen: 114 },
  ],
];

for (const [name, frame, expected] of captured) {
  test(`parses the captured ${name} header, every field`, () => {
    assert.equal(checkIpv4(frame, IP, frame.length - IP), undefined);
    assert.equal(ipv4HeaderLen(frame, IP), 20);
    assert.deepEqual(ipOf(frame), expected);
    assert.equal(isFragment(frame, IP), false);
  });

  test(`emit reproduces the captured ${name} header byte for byte`, () => {
    const out = filled(IPV4_MIN_HEADER_LEN + 2);
    assert.equal(emitIpv4(ipOf(frame), out, 1), IPV4_MIN_HEADER_LEN);
    assert.deepEqual(out.subarray(1, 21), frame.subarray(IP, IP + 20));
    assert.equal(out[0], 0xa5);
    assert.equal(out[21], 0xa5);
  });
}

test("tolerates options: the Record Route header is 60 bytes", () => {
  const frame = IPV4_RECORD_ROUTE;
  assert.equal(checkIpv4(frame, IP, frame.length - IP), undefined);
  assert.equal(ipv4HeaderLen(frame, IP), 60);
  assert.deepEqual(ipOf(frame), {
    src: A,
    dst: B,
    protocol: IPPROTO.ICMP,
    ttl: 64,
    tos: 0,
    id: readU16(frame, IP + 4),
    dontFragment: true,
    payloadLen: 64,
  });
  assert.equal(ipv4HeaderChecksum(frame, IP, 60), readU16(frame, IP + IPV4_CSUM));
  // The options are NOP, then Record Route (type 7, length 39, pointer 8) holding 10.200.0.1.
  assert.deepEqual([...frame.subarray(IP + 20, IP + 24)], [1, 7, 39, 8]);
});

test("ipv4HeaderChecksum equals every captured checksum", () => {
  for (const [name, frame] of captured) {
    assert.equal(ipv4HeaderChecksum(frame, IP, 20), readU16(frame, IP + IPV4_CSUM), name);
  }
});

test("every single flipped bit in a header is detected", () => {
  for (const frame of [ICMP_ECHO_REQUEST, IPV4_RECORD_ROUTE]) {
    const headerLen = ipv4HeaderLen(frame, IP);
    for (let bit = 0; bit < headerLen * 8; bit++) {
      const copy = frame.slice();
      copy[IP + (bit >>> 3)]! ^= 0x80 >>> (bit & 7);
      assert.ok(isWireError(checkIpv4(copy, IP, copy.length - IP)), `bit ${bit}`);
    }
  }
  const copy = ICMP_ECHO_REQUEST.slice();
  copy[IP + IPV4_TTL]! ^= 1;
  assert.equal(checkIpv4(copy, IP, copy.length - IP), WIRE_ERRORS["bad-checksum"]);
});

test("truncated and malformed headers return a reason", () => {
  const frame = ICMP_ECHO_REQUEST;
  const len = frame.length - IP;
  assert.equal(checkIpv4(frame, IP, 19), WIRE_ERRORS.truncated);
  assert.equal(checkIpv4(frame, IP, len - 1), WIRE_ERRORS.truncated, "total length beyond len");
  assert.equal(checkIpv4(frame.subarray(0, 60), IP, len), WIRE_ERRORS.truncated, "len beyond the buffer");
  assert.equal(checkIpv4(IPV4_RECORD_ROUTE, IP, 40), WIRE_ERRORS.truncated, "options beyond len");
  const with0 = (pos: number, value: number) => {
    const copy = frame.slice();
    copy[IP + pos] = value;
    return parseIpv4Packet(copy, IP, len);
  };
  assert.equal(with0(0, 0x65), WIRE_ERRORS["bad-version"]);
  assert.equal(with0(0, 0x44), WIRE_ERRORS["bad-header-length"]);
  const short = frame.slice();
  writeU16(short, IP + IPV4_TOTAL_LEN, 19);
  assert.equal(checkIpv4(short, IP, len), WIRE_ERRORS["bad-total-length"]);
});

test("Ethernet padding after the total length is tolerated", () => {
  const frame = new Uint8Array(60);
  frame.set(VRRP3_ADVERT);
  assert.equal(VRRP3_ADVERT.length, 46);
  assert.equal(checkIpv4(frame, IP, frame.length - IP), undefined);
  assert.equal(ipOf(frame).payloadLen, 12);
});

test("isFragment: MF or a fragment offset", () => {
  const copy = ICMP_ECHO_REPLY.slice();
  writeU16(copy, IP + IPV4_FLAGS_FRAGMENT, 0x2000); // MF
  assert.equal(isFragment(copy, IP), true);
  writeU16(copy, IP + IPV4_FLAGS_FRAGMENT, 0x0001); // offset 8
  assert.equal(isFragment(copy, IP), true);
  writeU16(copy, IP + IPV4_FLAGS_FRAGMENT, 0x4000); // DF only
  assert.equal(isFragment(copy, IP), false);
});

test("a TTL decrement and a NAT rewrite keep the checksum valid with the RFC 1624 helpers", () => {
  const copy = ICMP_ECHO_REQUEST.slice();
  const word = readU16(copy, IP + IPV4_TTL);
  copy[IP + IPV4_TTL]! -= 1;
  let checksum = checksumAdjust16(readU16(copy, IP + IPV4_CSUM), word, readU16(copy, IP + IPV4_TTL));
  writeU16(copy, IP + IPV4_CSUM, checksum);
  assert.equal(checkIpv4(copy, IP, copy.length - IP), undefined);
  const eip = 0xcb00_7105; // 203.0.113.5
  checksum = checksumAdjust32(checksum, A, eip);
  copy.set([203, 0, 113, 5], IP + IPV4_SRC);
  writeU16(copy, IP + IPV4_CSUM, checksum);
  assert.equal(checkIpv4(copy, IP, copy.length - IP), undefined);
  assert.equal(ipOf(copy).src, eip);
  assert.equal(checksum, ipv4HeaderChecksum(copy, IP, 20));
});

const ipv4Repr: fc.Arbitrary<Ipv4Repr> = fc.record(
  {
    src: fc.integer({ min: 0, max: 0xffff_ffff }),
    dst: fc.integer({ min: 0, max: 0xffff_ffff }),
    protocol: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 0, max: 255 }),
    tos: fc.integer({ min: 0, max: 255 }),
    id: fc.integer({ min: 0, max: 0xffff }),
    dontFragment: fc.boolean(),
    payloadLen: fc.integer({ min: 0, max: 0xffff - 20 }),
  },
  { noNullPrototype: true },
);

test("property: parse(emit(repr)) = repr", () => {
  fc.assert(
    fc.property(ipv4Repr, (repr) => {
      const total = 20 + repr.payloadLen;
      const out = filled(total);
      emitIpv4(repr, out, 0);
      assert.deepEqual(parseIpv4(out, 0, total), repr);
    }),
    { numRuns: 200 },
  );
});

test("property: optional fields default to 0 / false", () => {
  fc.assert(
    fc.property(ipv4Repr, ({ src, dst, protocol, ttl, payloadLen }) => {
      const out = filled(20 + payloadLen);
      emitIpv4({ src, dst, protocol, ttl, payloadLen }, out, 0);
      assert.deepEqual(parseIpv4Packet(out, 0, out.length), {
        src,
        dst,
        protocol,
        ttl,
        tos: 0,
        id: 0,
        dontFragment: false,
        payloadLen,
      });
    }),
    { numRuns: 50 },
  );
});

test("property: IPv4 address rewrites via checksumAdjust32 equal a full recomputation", () => {
  fc.assert(
    fc.property(ipv4Repr, fc.integer({ min: 0, max: 0xffff_ffff }), fc.boolean(), (repr, newIp, rewriteSrc) => {
      const out = new Uint8Array(20);
      emitIpv4({ ...repr, payloadLen: 0 }, out, 0);
      const field = rewriteSrc ? IPV4_SRC : IPV4_DST;
      const oldIp = rewriteSrc ? repr.src : repr.dst;
      const adjusted = checksumAdjust32(readU16(out, IPV4_CSUM), oldIp, newIp);
      out.set([newIp >>> 24, (newIp >>> 16) & 0xff, (newIp >>> 8) & 0xff, newIp & 0xff], field);
      assert.equal(adjusted, ipv4HeaderChecksum(out, 0, 20));
    }),
  );
});
