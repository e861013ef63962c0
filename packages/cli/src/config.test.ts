import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configPath, normaliseApi, readConfigFile, resolveSettings, writeConfigFile } from "./config.ts";
import { UsageError } from "./errors.ts";

test("config path: HAVIP_CONFIG, else XDG_CONFIG_HOME, else ~/.config", () => {
  assert.equal(configPath({ HAVIP_CONFIG: "/x/c.json", XDG_CONFIG_HOME: "/xdg" }, "/home/u"), "/x/c.json");
  assert.equal(configPath({ XDG_CONFIG_HOME: "/xdg" }, "/home/u"), "/xdg/havip/config.json");
  assert.equal(configPath({ XDG_CONFIG_HOME: "" }, "/home/u"), "/home/u/.config/havip/config.json");
});

test("precedence per setting: flag > environment > config file > default", () => {
  const file = { api: "http://file:1", token: "file-token" };
  const env = { HAVIP_API: "http://env:2", HAVIP_TOKEN: "env-token" };
  const all = resolveSettings({ api: "http://flag:3", token: "flag-token" }, env, file, "p");
  assert.deepEqual(
    [all.api, all.apiSource, all.token, all.tokenSource],
    ["http://flag:3", "flag", "flag-token", "flag"],
  );
  const noFlags = resolveSettings({}, env, file, "p");
  assert.deepEqual([noFlags.api, noFlags.token, noFlags.tokenSource], ["http://env:2", "env-token", "environment"]);
  const fileOnly = resolveSettings({}, {}, file, "p");
  assert.deepEqual([fileOnly.api, fileOnly.token, fileOnly.apiSource], ["http://file:1", "file-token", "config file"]);
  const nothing = resolveSettings({}, { HAVIP_API: "" }, {}, "p");
  assert.deepEqual([nothing.api, nothing.token, nothing.apiSource], ["http://127.0.0.1:7480", undefined, "default"]);
  // The settings are independent: a flag for the API keeps the token from the environment.
  const mixed = resolveSettings({ api: "http://flag:3" }, { HAVIP_TOKEN: "env-token" }, file, "p");
  assert.deepEqual([mixed.api, mixed.token], ["http://flag:3", "env-token"]);
});

test("API addresses are normalised; non-HTTP ones are usage errors", () => {
  assert.equal(normaliseApi("localhost:7480"), "http://localhost:7480");
  assert.equal(normaliseApi("https://havip.example/api/"), "https://havip.example/api");
  assert.equal(normaliseApi("http://[::1]:7480"), "http://[::1]:7480");
  for (const bad of ["ftp://x", "http://u:p@x", "http://x/?q=1", "http://"]) {
    assert.throws(() => normaliseApi(bad), UsageError, bad);
  }
});

test("the config file is written 0600 and read back; a broken one is a clear error", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "havip-config-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "nested", "config.json");
  assert.deepEqual(await readConfigFile(path), {});
  await writeConfigFile(path, { api: "http://h:1", token: "t0k" });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, "nested"))).mode & 0o777, 0o700);
  assert.deepEqual(await readConfigFile(path), { api: "http://h:1", token: "t0k" });
  assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { api: "http://h:1", token: "t0k" });
  await writeFile(path, "{not json");
  await assert.rejects(readConfigFile(path), /not valid JSON/);
  await writeFile(path, "[1]");
  await assert.rejects(readConfigFile(path), /JSON object/);
});
