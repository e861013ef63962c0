import assert from "node:assert/strict";
import { test } from "node:test";
import { WIRE_ERRORS, WIRE_ERROR_REASONS, isWireError } from "./errors.ts";
import { parseArp } from "./arp.ts";
import { parseIpv4Packet } from "./ipv4.ts";

test("errors are preallocated, frozen and returned by identity", () => {
  for (const reason of WIRE_ERROR_REASONS) {
    const error = WIRE_ERRORS[reason];
    assert.equal(error.wireError, reason);
    assert.ok(Object.isFrozen(error));
  }
  assert.ok(Object.isFrozen(WIRE_ERRORS));
  const short = new Uint8Array(4);
  assert.equal(parseArp(short, 0, 4), parseArp(short, 0, 4));
  assert.equal(parseIpv4Packet(short, 0, 4), WIRE_ERRORS.truncated);
});

test("isWireError tells errors from records", () => {
  assert.equal(isWireError(WIRE_ERRORS["bad-checksum"]), true);
  assert.equal(isWireError({ src: 1 }), false);
  assert.equal(isWireError(undefined), false);
  assert.equal(isWireError(null), false);
  assert.equal(isWireError(7), false);
});
