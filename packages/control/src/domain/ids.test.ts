import assert from "node:assert/strict";
import { test } from "node:test";
import { isApiError } from "../errors.ts";
import { ID_PREFIX, type IdKind, idKind, isId, newId, requireId } from "./ids.ts";

test("ids are the type prefix and 17 lowercase hex digits, and differ", () => {
  for (const kind of Object.keys(ID_PREFIX) as IdKind[]) {
    const id = newId(kind);
    assert.match(id, new RegExp(`^${ID_PREFIX[kind]}-[0-9a-f]{17}$`));
    assert.ok(isId(kind, id));
    assert.equal(idKind(id), kind);
  }
  assert.equal(new Set(Array.from({ length: 1000 }, () => newId("vpc"))).size, 1000);
});

test("malformed ids are InvalidId", () => {
  for (const bad of [
    "vpc-",
    "vpc-0123456789abcdef",
    "vpc-0123456789abcdef01",
    "vpc-0123456789ABCDEF0",
    "subnet-0123456789abcdef0",
    7,
  ]) {
    assert.throws(
      () => requireId("vpc", bad),
      (e: unknown) => isApiError(e) && e.code === "InvalidId",
    );
  }
  assert.equal(idKind("i-0123456789abcdef0"), "instance");
  assert.equal(idKind("eni-0123456789abcdef0"), "vnic");
  assert.equal(idKind("x-0123456789abcdef0"), null);
});
