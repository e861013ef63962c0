import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareDataDir } from "./data-dir.ts";
import { StartupError } from "./startup-error.ts";

test("the data directory is created with its parents, owner-only, and may already exist", async (t) => {
  const base = await mkdtemp(join(tmpdir(), "havipd-data-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dir = join(base, "a", "b", "c");
  await prepareDataDir(dir);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  await prepareDataDir(dir);
});

test("a data directory that cannot exist fails with a StartupError, promptly", async (t) => {
  const base = await mkdtemp(join(tmpdir(), "havipd-data-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const file = join(base, "file");
  await writeFile(file, "");
  await assert.rejects(
    prepareDataDir(join(file, "data")),
    (e: unknown) => e instanceof StartupError && /not a directory/.test(e.message),
  );
  await assert.rejects(
    prepareDataDir(file),
    (e: unknown) => e instanceof StartupError && /a file with that name exists/.test(e.message),
  );
  // Node's own recursive mkdir loops forever under /proc; ours must give up.
  await assert.rejects(prepareDataDir("/proc/havip-test/data"), StartupError);
});
