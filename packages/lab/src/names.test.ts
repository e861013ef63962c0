import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isLabError } from "./errors.ts";
import { checkInstanceName, checkPrefix, MAX_INTERFACE_NAME, namespaceName, vxlanTempName } from "./names.ts";

const invalidName = (e: unknown) => isLabError(e, "Lab.InvalidName");

test("prefixes: a letter, up to four letters or digits, and a dash", () => {
  for (const ok of ["hvl-", "hvt1-", "a-", "abcde-"]) checkPrefix(ok);
  for (const bad of ["hvl", "-", "1hv-", "abcdef-", "HV-", "hv_", "hv--", ""]) {
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

test("every valid prefix and VNI gives a temporary VXLAN name that fits IFNAMSIZ", () => {
  const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,4}-$/);
  fc.assert(
    fc.property(prefix, fc.integer({ min: 1, max: 2 ** 24 - 1 }), (p, vni) => {
      checkPrefix(p);
      return vxlanTempName(p, vni).length <= MAX_INTERFACE_NAME;
    }),
  );
  assert.equal(vxlanTempName("abcde-", 16777215).length, 15);
  assert.equal(namespaceName("hvl-", "vm-a"), "hvl-vm-a");
});
