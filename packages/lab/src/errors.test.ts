import assert from "node:assert/strict";
import { test } from "node:test";
import { DEBIAN_PACKAGE_OF, isLabError, LAB_ERROR_CATALOGUE, LabError, notRoot, programMissing } from "./errors.ts";

test("every code in the catalogue is Lab.<Name> with a sentence", () => {
  for (const [code, description] of Object.entries(LAB_ERROR_CATALOGUE)) {
    assert.match(code, /^Lab\.[A-Z][A-Za-z]+$/);
    assert.match(description, /^[A-Z].*\.$/);
  }
});

test("a missing program names its Debian package and how to install it", () => {
  const e = programMissing("keepalived");
  assert.equal(e.code, "Lab.ProgramMissing");
  assert.match(e.message, /'keepalived'.*apt-get install -y keepalived/);
  assert.match(programMissing("ping").message, /iputils-ping/);
  assert.match(programMissing("frobnicate").message, /'frobnicate'.*install it/);
  assert.equal(DEBIAN_PACKAGE_OF.ip, "iproute2");
});

test("not root says what needed root", () => {
  const e = notRoot("create network namespaces");
  assert.ok(isLabError(e, "Lab.NotRoot"));
  assert.match(e.message, /needs root to create network namespaces.*sudo/);
});

test("isLabError checks the class and, when given, the code", () => {
  const e = new LabError("Lab.NotUp", "no lab");
  assert.ok(isLabError(e));
  assert.ok(isLabError(e, "Lab.NotUp"));
  assert.equal(isLabError(e, "Lab.AlreadyUp"), false);
  assert.equal(isLabError(new Error("x")), false);
});
