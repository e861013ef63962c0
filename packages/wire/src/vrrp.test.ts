import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ipv4MulticastMac, readMac } from "./addr.ts";
import { readU16 } from "./bytes.ts";
import { IPPROTO } from "./constants.ts";
import { WIRE_ERRORS, isWireError } from "./errors.ts";
import { VRRP2_ADVERT, VRRP2_AUTH_ADVERT, VRRP2_RESIGN, VRRP3_ADVERT, VRRP3_RESIGN } from "./fixtures.ts";
import { IPV4_PROTO, IPV4_TTL, parseIpv4Packet, type Ipv4Repr } from "./ipv4.ts";
import {
  VRRP_COUNT,
  VRRP_CSUM,
  VRRP_MULTICAST,
  VRRP_TTL,
  checkVrrp,
  emitVrrp,
  parseVrrp,
  vrrpLength,
  vrrpVirtualMac,
  type VrrpRepr,
} from "./vrrp.ts";

const A = 0x0ac8_0001;
const IP = 14;
const VRRP = IP + 20;
const NO_AUTH = new Uint8Array(8);

function filled(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

const captured: [name: string, frame: Uint8Array, repr: VrrpRepr][] = [
  [
    "v2 advert",
    VRRP2_ADVERT,
    {
      version: 2,
      vrid: 51,
      priority: 150,
      advertInterval: 1,
      authType: 0,
      authData: NO_AUTH,
      addresses: [0x0ac8_0064, 0x0ac8_0065],
    },
  ],
  [
    "v2 priority-0 advert",
    VRRP2_RESIGN,
    {
      version: 2,
      vrid: 51,
      priority: 0,
      advertInterval: 1,
      authType: 0,
      authData: NO_AUTH,
      addresses: [0x0ac8_0064, 0x0ac8_0065],
    },
  ],
  [
    "v2 advert with a simple password",
    VRRP2_AUTH_ADVERT,
    {
      version: 2,
      vrid: 53,
      priority: 100,
      advertInterval: 1,
      authType: 1,
      authData: Uint8Array.of(...new TextEncoder().encode("havip"), 0, 0, 0),
      addresses: [0x0ac8_0067],
    },
  ],
  ["v3 advert", VRRP3_ADVERT, { version: 3, vrid: 52, priority: 200, advertInterval: 10, addresses: [0x0ac8_0066] }],
  [
    "v3 priority-0 advert",
    VRRP3_RESIGN,
    { version: 3, vrid: 52, priority: 0, advertInterval: 10, addresses: [0x0ac8_0066] },
  ],
];

for (const [name, frame, expected] of captured) {
  test(`parses the captured keepalived ${name}, every field`, () => {
    const ip = parseIpv4Packet(frame, IP, frame.length - IP) as Ipv4Repr;
    assert.equal(ip.protocol, IPPROTO.VRRP);
    assert.equal(frame[IP + IPV4_PROTO], 112);
    assert.equal(ip.ttl, VRRP_TTL);
    assert.equal(frame[IP + IPV4_TTL], 255);
    assert.equal(ip.dst, VRRP_MULTICAST);
    assert.equal(readMac(frame, 0), ipv4MulticastMac(VRRP_MULTICAST));
    assert.equal(ip.payloadLen, vrrpLength(expected.version, expected.addresses.length));
    assert.equal(checkVrrp(frame, VRRP, ip.payloadLen, ip.src, ip.dst), undefined);
    assert.deepEqual(parseVrrp(frame, VRRP, ip.payloadLen, ip.src, ip.dst), expected);
  });

  test(`emit reproduces the captured ${name} byte for byte`, () => {
    const len = frame.length - VRRP;
    const out = filled(len + 2);
    assert.equal(emitVrrp(expected, out, 1, A, VRRP_MULTICAST), len);
    assert.deepEqual(out.subarray(1, 1 + len), frame.subarray(VRRP));
    assert.equal(out[0], 0xa5);
    assert.equal(out[len + 1], 0xa5);
  });

  test(`every flipped bit of the captured ${name} is detected`, () => {
    const len = frame.length - VRRP;
    for (let bit = 0; bit < len * 8; bit++) {
      const copy = frame.slice();
      copy[VRRP + (bit >>> 3)]! ^= 0x80 >>> (bit & 7);
      assert.ok(isWireError(parseVrrp(copy, VRRP, len, A, VRRP_MULTICAST)), `bit ${bit}`);
    }
  });
}

test("v3 checksums include the pseudo-header; v2 checksums do not", () => {
  assert.equal(checkVrrp(VRRP3_ADVERT, VRRP, 12, A + 1, VRRP_MULTICAST), WIRE_ERRORS["bad-checksum"]);
  assert.equal(checkVrrp(VRRP3_ADVERT, VRRP, 12, A, 0xe000_0013), WIRE_ERRORS["bad-checksum"]);
  assert.equal(checkVrrp(VRRP2_ADVERT, VRRP, 24, 0, 0), undefined);
  // The stored v3 checksum is not the plain message checksum keepalived's v2 would use.
  const copy = VRRP3_ADVERT.slice();
  emitVrrp({ version: 2, vrid: 52, priority: 200, advertInterval: 1, addresses: [] }, copy, VRRP, A, VRRP_MULTICAST);
  assert.notEqual(readU16(copy, VRRP + VRRP_CSUM), readU16(VRRP3_ADVERT, VRRP + VRRP_CSUM));
});

test("malformed adverts return a reason", () => {
  const bad = (mutate: (b: Uint8Array) => void, len = 24) => {
    const copy = VRRP2_ADVERT.slice();
    mutate(copy);
    return checkVrrp(copy, VRRP, len, A, VRRP_MULTICAST);
  };
  assert.equal(
    bad(() => undefined, 7),
    WIRE_ERRORS.truncated,
  );
  assert.equal(
    bad(() => undefined, 23),
    WIRE_ERRORS.truncated,
    "auth data cut",
  );
  assert.equal(
    bad((b) => (b[VRRP] = 0x11)),
    WIRE_ERRORS["bad-version"],
  );
  assert.equal(
    bad((b) => (b[VRRP] = 0x22)),
    WIRE_ERRORS["bad-type"],
  );
  assert.equal(
    bad((b) => (b[VRRP + VRRP_COUNT] = 3)),
    WIRE_ERRORS.truncated,
  );
  assert.equal(checkVrrp(VRRP3_ADVERT.subarray(0, 45), VRRP, 12, A, VRRP_MULTICAST), WIRE_ERRORS.truncated);
  assert.equal(parseVrrp(VRRP3_ADVERT, VRRP, 11, A, VRRP_MULTICAST), WIRE_ERRORS.truncated);
});

test("vrrpVirtualMac is 00:00:5e:00:01:{VRID}", () => {
  assert.equal(vrrpVirtualMac(51), 0x0000_5e00_0133);
});

const address = fc.integer({ min: 0, max: 0xffff_ffff });
const vrrpRepr: fc.Arbitrary<VrrpRepr> = fc.oneof(
  fc.record(
    {
      version: fc.constant(2 as const),
      vrid: fc.integer({ min: 1, max: 255 }),
      priority: fc.integer({ min: 0, max: 255 }),
      advertInterval: fc.integer({ min: 0, max: 255 }),
      authType: fc.integer({ min: 0, max: 255 }),
      authData: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      addresses: fc.array(address, { maxLength: 20 }),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      version: fc.constant(3 as const),
      vrid: fc.integer({ min: 1, max: 255 }),
      priority: fc.integer({ min: 0, max: 255 }),
      advertInterval: fc.integer({ min: 0, max: 0x0fff }),
      addresses: fc.array(address, { maxLength: 20 }),
    },
    { noNullPrototype: true },
  ),
);

test("property: parse(emit(repr)) = repr for v2 and v3", () => {
  fc.assert(
    fc.property(vrrpRepr, address, address, (repr, src, dst) => {
      const out = filled(vrrpLength(repr.version, repr.addresses.length));
      assert.equal(emitVrrp(repr, out, 0, src, dst), out.length);
      assert.deepEqual(parseVrrp(out, 0, out.length, src, dst), repr);
    }),
  );
});

test("v2 without authType/authData emits zeros", () => {
  const out = filled(16);
  emitVrrp({ version: 2, vrid: 1, priority: 100, advertInterval: 1, addresses: [] }, out, 0, 0, 0);
  assert.deepEqual(parseVrrp(out, 0, 16, 0, 0), {
    version: 2,
    vrid: 1,
    priority: 100,
    advertInterval: 1,
    authType: 0,
    authData: NO_AUTH,
    addresses: [],
  });
});
