import assert from "node:assert/strict";
import { test } from "node:test";
import { type ErrorCode, isApiError } from "../errors.ts";
import { VPC_PREFIX, requireCidr, requireIPv4, requireLabel, requireText } from "./values.ts";

const code = (c: ErrorCode) => (e: unknown) => isApiError(e) && e.code === c;

test("addresses: malformed and IPv6 are told apart", () => {
  assert.equal(requireIPv4("10.0.1.50", "ip"), 0x0a000132);
  assert.throws(() => requireIPv4("10.0.1", "ip"), code("InvalidIpAddress.Malformed"));
  assert.throws(() => requireIPv4("fe80::1", "ip"), code("InvalidIpAddress.NotIPv4"));
  assert.throws(() => requireIPv4(5, "ip"), code("InvalidParameter"));
});

test("CIDRs: malformed, IPv6, host bits and prefix range", () => {
  assert.deepEqual(requireCidr("10.0.0.0/16", "c", VPC_PREFIX), { network: 0x0a000000, prefix: 16 });
  assert.throws(() => requireCidr("10.0.0.0/8", "c", VPC_PREFIX), code("InvalidCidr.PrefixLength"));
  assert.throws(() => requireCidr("10.0.0.1/16", "c", VPC_PREFIX), code("InvalidCidr.HostBits"));
  assert.throws(() => requireCidr("10.0.0.0", "c", VPC_PREFIX), code("InvalidCidr.Malformed"));
  assert.throws(() => requireCidr("fd00::/16", "c", VPC_PREFIX), code("InvalidCidr.NotIPv4"));
});

test("labels and text", () => {
  assert.equal(requireLabel("eu-west-1", "region"), "eu-west-1");
  for (const bad of ["", "EU", "-a", "a-", "a b", "a".repeat(65)])
    assert.throws(() => requireLabel(bad, "r"), code("InvalidParameter"));
  assert.equal(requireText(undefined, "name", { max: 5 }), "");
  assert.throws(() => requireText(undefined, "name", { max: 5, required: true }), code("InvalidParameter"));
  assert.throws(() => requireText("abcdef", "name", { max: 5 }), code("InvalidParameter"));
  assert.throws(() => requireText("a\nb", "name", { max: 5 }), code("InvalidParameter"));
});
