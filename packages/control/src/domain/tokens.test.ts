import assert from "node:assert/strict";
import { test } from "node:test";
import { hashToken, newProjectToken, tokensEqual } from "./tokens.ts";

test("project tokens are random and hashed with SHA-256", () => {
  const a = newProjectToken();
  const b = newProjectToken();
  assert.notEqual(a, b);
  assert.ok(a.length >= 40);
  assert.match(hashToken(a), /^[0-9a-f]{64}$/);
  assert.equal(hashToken(a), hashToken(a));
  assert.notEqual(hashToken(a), hashToken(b));
  assert.equal(hashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("token comparison is exact, whatever the lengths", () => {
  assert.ok(tokensEqual("secret-token", "secret-token"));
  assert.ok(!tokensEqual("secret-token", "secret-tokem"));
  assert.ok(!tokensEqual("secret", "secret-token"));
  assert.ok(!tokensEqual("", "secret-token"));
});
