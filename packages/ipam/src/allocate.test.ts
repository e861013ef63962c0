import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  allocatePublicAddress,
  allocateSubnetAddress,
  assignableRange,
  gatewayAddress,
  isReservedInSubnet,
  lowestFree,
} from "./allocate.ts";
import { type Cidr, broadcastAddress, cidrContains, cidrSize, parseCidr } from "./cidr.ts";

function cidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(text);
  return r.value;
}

test("lowestFree skips used addresses and reports exhaustion", () => {
  assert.equal(lowestFree(10, 20, []), 10);
  assert.equal(lowestFree(10, 20, [10, 11, 13]), 12);
  assert.equal(lowestFree(10, 12, [12, 11, 10, 99, 1]), null);
  assert.equal(lowestFree(10, 12, new Set([11])), 10);
});

test("a subnet allocation starts after the gateway", () => {
  const s = cidr("10.0.1.0/24");
  assert.equal(gatewayAddress(s), s.network + 1);
  assert.equal(allocateSubnetAddress(s, []), s.network + 2);
  assert.ok(isReservedInSubnet(s, s.network));
  assert.ok(isReservedInSubnet(s, s.network + 1));
  assert.ok(isReservedInSubnet(s, broadcastAddress(s)));
  assert.ok(!isReservedInSubnet(s, s.network + 2));
  assert.equal(assignableRange(cidr("10.0.0.0/30")), null);
});

test("a full subnet yields null", () => {
  const s = cidr("10.0.0.0/29"); // .2 … .6 assignable
  assert.equal(
    allocateSubnetAddress(
      s,
      [2, 3, 4, 5, 6].map((n) => s.network + n),
    ),
    null,
  );
});

const arbSubnetAndUsed = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 24, max: 29 }))
  .chain(([addr, prefix]) => {
    const size = 2 ** (32 - prefix);
    const subnet: Cidr = { network: addr - (addr % size), prefix };
    return fc.tuple(
      fc.constant(subnet),
      fc.uniqueArray(fc.integer({ min: subnet.network, max: subnet.network + size - 1 }), { maxLength: size }),
    );
  });

test("an allocated address is assignable, never reserved, never used, and the lowest such", () => {
  fc.assert(
    fc.property(arbSubnetAndUsed, ([subnet, used]) => {
      const got = allocateSubnetAddress(subnet, used);
      const free = Array.from({ length: cidrSize(subnet) }, (_, i) => subnet.network + i).filter(
        (x) => !isReservedInSubnet(subnet, x) && !used.includes(x),
      );
      if (got === null) {
        assert.equal(free.length, 0);
        return;
      }
      assert.ok(cidrContains(subnet, got));
      assert.ok(!isReservedInSubnet(subnet, got));
      assert.ok(!used.includes(got));
      assert.equal(got, free[0]);
    }),
  );
});

test("public allocation walks pools in order and skips network/broadcast", () => {
  const a = cidr("203.0.113.0/30"); // hosts .1 .2
  const b = cidr("198.51.100.8/32");
  assert.equal(allocatePublicAddress([a, b], []), a.network + 1);
  assert.equal(allocatePublicAddress([a, b], [a.network + 1]), a.network + 2);
  assert.equal(allocatePublicAddress([a, b], [a.network + 1, a.network + 2]), b.network);
  assert.equal(allocatePublicAddress([a, b], [a.network + 1, a.network + 2, b.network]), null);
  assert.equal(allocatePublicAddress([], []), null);
});
