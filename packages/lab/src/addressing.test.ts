import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ipv4ToNumber, isIpv4, isUnicastMac, numberToIpv4, sameSubnet } from "./addressing.ts";
import { isLabError } from "./errors.ts";
import { requireInteger } from "./addressing.ts";

test("isIpv4 accepts dotted quads only", () => {
  for (const ok of ["0.0.0.0", "10.0.0.1", "255.255.255.255", "203.0.113.10"]) assert.ok(isIpv4(ok), ok);
  for (const bad of ["256.0.0.1", "10.0.0", "10.0.0.01", "1.2.3.4 ", "::1", "a.b.c.d", "1.2.3.4/24", ""]) {
    assert.equal(isIpv4(bad), false, bad);
  }
});

test("IPv4 text and numbers round-trip", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => ipv4ToNumber(numberToIpv4(n)) === n));
  fc.assert(fc.property(fc.ipV4(), (ip) => numberToIpv4(ipv4ToNumber(ip)) === ip && isIpv4(ip)));
});

test("sameSubnet compares network parts", () => {
  assert.ok(sameSubnet("10.0.0.10", "10.0.0.1", 24));
  assert.equal(sameSubnet("10.0.1.10", "10.0.0.1", 24), false);
  assert.ok(sameSubnet("10.0.1.10", "10.0.0.1", 16));
  assert.ok(sameSubnet("1.2.3.4", "200.1.1.1", 0));
  assert.equal(sameSubnet("10.0.0.1", "10.0.0.2", 32), false);
});

test("isUnicastMac refuses group, zero and malformed MACs", () => {
  assert.ok(isUnicastMac("02:00:0a:00:00:0a"));
  assert.ok(isUnicastMac("02:00:0A:00:00:0A"));
  assert.equal(isUnicastMac("01:00:5e:00:00:01"), false, "multicast");
  assert.equal(isUnicastMac("ff:ff:ff:ff:ff:ff"), false, "broadcast");
  assert.equal(isUnicastMac("00:00:00:00:00:00"), false, "zero");
  assert.equal(isUnicastMac("02:00:0a:00:00"), false, "short");
  assert.equal(isUnicastMac("02-00-0a-00-00-0a"), false, "dashes");
});

test("requireInteger throws Lab.InvalidParameter naming the bounds", () => {
  requireInteger("MTU", 1500, 68, 9000);
  for (const bad of [67, 9001, 1500.5, Number.NaN]) {
    assert.throws(
      () => {
        requireInteger("MTU", bad, 68, 9000);
      },
      (e: unknown) => isLabError(e, "Lab.InvalidParameter") && /MTU must be an integer from 68 to 9000/.test(e.message),
    );
  }
});
