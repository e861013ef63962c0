import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isLabError } from "./errors.ts";
import { findProgram, requireRoot } from "./preflight.ts";

test("findProgram finds executables on PATH and skips non-executables", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "havip-preflight-"));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, "havip-tool"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(dir, "havip-data"), "", { mode: 0o644 });
  assert.equal(findProgram("havip-tool", dir), join(dir, "havip-tool"));
  assert.equal(findProgram("havip-data", dir), undefined);
  assert.equal(findProgram("havip-no-such-tool", dir), undefined);
  assert.ok(findProgram("sh", "") !== undefined || findProgram("sh") !== undefined);
});

test("requireRoot throws Lab.NotRoot for any EUID but 0", () => {
  requireRoot("do things", 0);
  assert.throws(
    () => {
      requireRoot("create network namespaces", 1000);
    },
    (e: unknown) => isLabError(e, "Lab.NotRoot") && /needs root to create network namespaces/.test(e.message),
  );
});
