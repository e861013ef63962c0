import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isLabError } from "./errors.ts";
import {
  checkInstanceName,
  checkPrefix,
  MAX_INTERFACE_NAME,
  namespaceName,
  vethFabricName,
  vxlanTempName,
} from "./names.ts";

const invalidName = (e: unknown) => isLabError(e, "Lab.InvalidName");

test("prefixes: a letter, up to eleven letters or digits, and a dash", () => {
  for (const ok of ["hvl-", "hvt1-", "a-", "abcde-", "hvt1k3z-", "a23456789012-"]) checkPrefix(ok);
  for (const bad of ["hvl", "-", "1hv-", "a234567890123-", "HV-", "hv_", "hv--", "hv-x-", ""]) {
    assert.throws(() => {
      checkPrefix(bad);
    }, invalidName);
  }
});

test("instance names: lower-case, digits and inner dashes, not a role", () => {
  for (const ok of ["vm-a", "a", "db1", "x".repeat(24)]) checkInstanceName(ok);
  for (const bad of ["", "-a", "a-", "VM", "vm_a", "vm a", "x".repeat(25), "a/b", "fabric", "underlay", "internet"]) {
    assert.throws(() => {
      checkInstanceName(bad);
    }, invalidName);
  }
});

test("every VNI gives a temporary VXLAN name that fits IFNAMSIZ", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 24 - 1 }), (vni) => vxlanTempName(vni).length <= MAX_INTERFACE_NAME),
  );
  assert.equal(vxlanTempName(16777215), "vx16777215");
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 24 - 1 }), fc.integer({ min: 1, max: 2 ** 24 - 1 }), (a, b) => {
      const name = vethFabricName(a);
      // fits the kernel, one per VNI, and never the fabric namespace's own link
      return name.length <= MAX_INTERFACE_NAME && (a === b) === (name === vethFabricName(b)) && name !== "underlay0";
    }),
  );
  assert.equal(namespaceName("hvl-", "vm-a"), "hvl-vm-a");
});

test("property: no lab's namespaces start with another lab's prefix", () => {
  const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,11}-$/);
  const name = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$/);
  fc.assert(
    fc.property(prefix, prefix, name, (mine, theirs, instance) => {
      checkPrefix(mine);
      checkPrefix(theirs);
      return mine === theirs || !namespaceName(theirs, instance).startsWith(mine);
    }),
    { numRuns: 2000 },
  );
});
