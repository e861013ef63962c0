import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOperatorToken } from "./operator-token.ts";
import { StartupError } from "./startup-error.ts";

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "havipd-token-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("the first start generates a token in admin-token with mode 0600; a restart reuses it", async (t) => {
  const dir = await tempDir(t);
  const first = await loadOperatorToken(dir, undefined);
  assert.equal(first.source, "created");
  const path = join(dir, "admin-token");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await readFile(path, "utf8")).trim(), first.token);
  assert.ok(first.token.length >= 40);
  const second = await loadOperatorToken(dir, undefined);
  assert.equal(second.source, "file");
  assert.equal(second.token, first.token);
});

test("HAVIP_ADMIN_TOKEN wins and writes no file", async (t) => {
  const dir = await tempDir(t);
  const token = await loadOperatorToken(dir, "operator-token-from-env");
  assert.deepEqual(token, { token: "operator-token-from-env", source: "environment" });
  await assert.rejects(stat(join(dir, "admin-token")), { code: "ENOENT" });
  await assert.rejects(loadOperatorToken(dir, "short"), StartupError);
});

test("a token file readable by others is tightened to 0600; an empty one is refused", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "admin-token");
  await writeFile(path, "an-operator-token-written-by-hand\n");
  await chmod(path, 0o644);
  const token = await loadOperatorToken(dir, undefined);
  assert.equal(token.token, "an-operator-token-written-by-hand");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  await writeFile(path, "\n");
  await assert.rejects(loadOperatorToken(dir, undefined), StartupError);
});

test("concurrent first starts agree on one token", async (t) => {
  const dir = await tempDir(t);
  const tokens = await Promise.all(Array.from({ length: 8 }, () => loadOperatorToken(dir, undefined)));
  assert.equal(new Set(tokens.map((x) => x.token)).size, 1);
});
