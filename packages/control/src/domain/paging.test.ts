import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isApiError } from "../errors.ts";
import { decodeCursor, encodeCursor, pageLimit, toPage } from "./paging.ts";

const invalid = (e: unknown) => isApiError(e) && e.code === "InvalidParameter";

test("limit defaults to 100 and must be 1–1000", () => {
  assert.equal(pageLimit(undefined), 100);
  assert.equal(pageLimit(1), 1);
  assert.equal(pageLimit(1000), 1000);
  for (const bad of [0, 1001, -1, 1.5, Number.NaN]) assert.throws(() => pageLimit(bad), invalid);
});

test("cursors round-trip and anything else is InvalidParameter", () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      assert.deepEqual(decodeCursor(encodeCursor([a, b]), ["string", "string"] as const), [a, b]);
    }),
  );
  assert.deepEqual(decodeCursor(encodeCursor([7]), ["number"] as const), [7]);
  for (const bad of [
    "",
    "!!",
    "e30",
    encodeCursor(["a"]),
    encodeCursor([1, 2]),
    Buffer.from("{").toString("base64url"),
  ]) {
    assert.throws(() => decodeCursor(bad, ["string", "string"] as const), invalid, bad);
  }
  assert.throws(() => decodeCursor(encodeCursor(["x"]), ["number"] as const), invalid);
});

test("toPage keeps limit rows and points after the last", () => {
  const rows = [1, 2, 3, 4];
  const page = toPage(
    rows,
    3,
    (n) => n * 10,
    (n) => [n],
  );
  assert.deepEqual(page.items, [10, 20, 30]);
  assert.deepEqual(decodeCursor(page.nextCursor ?? "", ["number"] as const), [3]);
  assert.equal(
    toPage(
      rows,
      4,
      (n) => n,
      (n) => [n],
    ).nextCursor,
    null,
  );
});
