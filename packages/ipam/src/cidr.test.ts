import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Cidr,
  broadcastAddress,
  cidrContains,
  cidrContainsCidr,
  cidrSize,
  cidrsOverlap,
  firstUsable,
  formatCidr,
  lastUsable,
  networkAddress,
  nthAddress,
  parseCidr,
} from "./cidr.ts";
import { parseIPv4 } from "./ipv4.ts";

function cidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`bad test CIDR ${text}: ${r.error}`);
  return r.value;
}
function ip(text: string): number {
  const r = parseIPv4(text);
  if (!r.ok) throw new Error(`bad test address ${text}`);
  return r.value;
}

const arbCidr = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([addr, prefix]): Cidr => {
    const size = 2 ** (32 - prefix);
    return { network: addr - (addr % size), prefix };
  });

test("parses a CIDR and its bounds", () => {
  const c = cidr("10.0.1.0/24");
  assert.equal(c.network, ip("10.0.1.0"));
  assert.equal(c.prefix, 24);
  assert.equal(networkAddress(c), ip("10.0.1.0"));
  assert.equal(broadcastAddress(c), ip("10.0.1.255"));
  assert.equal(firstUsable(c), ip("10.0.1.1"));
  assert.equal(lastUsable(c), ip("10.0.1.254"));
  assert.equal(cidrSize(c), 256);
  assert.equal(nthAddress(c, 50), ip("10.0.1.50"));
  assert.throws(() => nthAddress(c, 256), RangeError);
  assert.throws(() => nthAddress(c, -1), RangeError);
  assert.equal(formatCidr(c), "10.0.1.0/24");
});

test("/0, /31 and /32 bounds", () => {
  const all = cidr("0.0.0.0/0");
  assert.equal(cidrSize(all), 2 ** 32);
  assert.equal(broadcastAddress(all), 0xffffffff);
  const p2p = cidr("192.0.2.4/31");
  assert.equal(firstUsable(p2p), ip("192.0.2.4"));
  assert.equal(lastUsable(p2p), ip("192.0.2.5"));
  const host = cidr("192.0.2.9/32");
  assert.equal(firstUsable(host), lastUsable(host));
});

test("rejects host bits, malformed text and IPv6 distinctly", () => {
  assert.deepEqual(parseCidr("10.0.1.1/24"), { ok: false, error: "host-bits" });
  for (const text of ["10.0.1.0", "10.0.1.0/33", "10.0.1.0/", "10.0.1.0/024", "10.0.1.0/-1", "10.0.1/24", "x/8", ""]) {
    assert.deepEqual(parseCidr(text), { ok: false, error: "malformed" }, text);
  }
  for (const text of ["2001:db8::/32", "::/0", "fe80::1"]) {
    assert.deepEqual(parseCidr(text), { ok: false, error: "ipv6" }, text);
  }
});

test("format and parse are inverse", () => {
  fc.assert(
    fc.property(arbCidr, (c) => {
      assert.deepEqual(parseCidr(formatCidr(c)), { ok: true, value: c });
    }),
  );
});

test("overlaps is symmetric and matches a brute force on small prefixes", () => {
  // Blocks inside 10.0.0.0/24, so that enumerating every address is cheap.
  const small = fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 24, max: 32 }))
    .map(([offset, prefix]): Cidr => {
      const size = 2 ** (32 - prefix);
      return { network: ip("10.0.0.0") + offset - (offset % size), prefix };
    });
  fc.assert(
    fc.property(small, small, (a, b) => {
      const brute = Array.from({ length: cidrSize(a) }, (_, i) => a.network + i).some((x) => cidrContains(b, x));
      assert.equal(cidrsOverlap(a, b), brute);
      assert.equal(cidrsOverlap(b, a), cidrsOverlap(a, b));
    }),
  );
});

test("containment of blocks implies overlap, and two CIDRs either nest or are disjoint", () => {
  fc.assert(
    fc.property(arbCidr, arbCidr, (a, b) => {
      if (cidrContainsCidr(a, b)) assert.ok(cidrsOverlap(a, b));
      if (cidrsOverlap(a, b)) assert.ok(cidrContainsCidr(a, b) || cidrContainsCidr(b, a));
    }),
  );
});

test("contains matches the bounds", () => {
  fc.assert(
    fc.property(arbCidr, fc.integer({ min: 0, max: 0xffffffff }), (c, x) => {
      assert.equal(cidrContains(c, x), x >= networkAddress(c) && x <= broadcastAddress(c));
    }),
  );
});
