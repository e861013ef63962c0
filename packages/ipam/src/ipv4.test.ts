import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv4, parseIPv4 } from "./ipv4.ts";

test("parses strict dotted quads", () => {
  assert.deepEqual(parseIPv4("10.0.1.50"), { ok: true, value: 0x0a000132 });
  assert.deepEqual(parseIPv4("0.0.0.0"), { ok: true, value: 0 });
  assert.deepEqual(parseIPv4("255.255.255.255"), { ok: true, value: 0xffffffff });
});

test("rejects loose IPv4 forms as malformed", () => {
  for (const text of [
    "01.2.3.4",
    "1.2.3",
    "1.2.3.256",
    "0x1.2.3.4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "",
    "a.b.c.d",
    "1.2.3.4/32",
  ]) {
    assert.deepEqual(parseIPv4(text), { ok: false, error: "malformed" }, text);
  }
});

test("reports IPv6 apart from malformed text", () => {
  for (const text of ["::1", "fe80::1", "2001:db8::5", "::ffff:10.0.0.1"]) {
    assert.deepEqual(parseIPv4(text), { ok: false, error: "ipv6" }, text);
  }
});

test("format and parse are inverse", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (ip) => {
      assert.deepEqual(parseIPv4(formatIPv4(ip)), { ok: true, value: ip });
    }),
  );
});

test("format refuses values outside uint32", () => {
  assert.throws(() => formatIPv4(-1), RangeError);
  assert.throws(() => formatIPv4(2 ** 32), RangeError);
  assert.throws(() => formatIPv4(1.5), RangeError);
});
