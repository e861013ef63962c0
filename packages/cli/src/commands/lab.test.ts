import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../errors.ts";
import { connectionRefused, runWith } from "../testing.ts";
import { execArguments, labNameOf, labPlaces } from "./lab-context.ts";
import { FIRST_VNI, freeVni } from "./lab-instance.ts";

const isRoot = process.geteuid?.() === 0;

test("lab places: flags, then HAVIP_DATA_DIR / HAVIP_LAB_DIR, then ./data and <data-dir>/lab", () => {
  assert.deepEqual(labPlaces({}, {}, "/repo"), { dataDir: "/repo/data", labDir: "/repo/data/lab" });
  assert.deepEqual(labPlaces({}, { HAVIP_DATA_DIR: "/srv/d" }, "/repo"), { dataDir: "/srv/d", labDir: "/srv/d/lab" });
  assert.deepEqual(labPlaces({}, { HAVIP_DATA_DIR: "", HAVIP_LAB_DIR: "l" }, "/repo"), {
    dataDir: "/repo/data",
    labDir: "/repo/l",
  });
  assert.deepEqual(labPlaces({ dataDir: "x", labDir: "/y" }, { HAVIP_LAB_DIR: "/z" }, "/repo"), {
    dataDir: "/repo/x",
    labDir: "/y",
  });
});

test("an API instance's lab name is its name in lower case", () => {
  assert.equal(labNameOf("vm-A"), "vm-a");
  assert.equal(labNameOf("web1"), "web1");
});

test("exec needs a command after --", () => {
  assert.deepEqual(execArguments(["ip", "-br", "addr"]), { program: "ip", args: ["-br", "addr"] });
  assert.throws(() => execArguments([]), UsageError);
  assert.throws(() => execArguments([""]), UsageError);
});

test("the lowest free VNI from the first one", () => {
  assert.equal(freeVni([]), FIRST_VNI);
  assert.equal(freeVni([FIRST_VNI, FIRST_VNI + 1, FIRST_VNI + 3]), FIRST_VNI + 2);
  assert.equal(freeVni([7, 9]), FIRST_VNI);
});

test("lab up knows its examples; exec needs a command (usage errors, exit 2)", async () => {
  const unknown = await runWith(["lab", "up", "nope"], () => undefined);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown example "nope": choose seed-example/);
  const bare = await runWith(["lab", "exec", "vm-a"], () => undefined);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /missing required argument 'command'/);
});

test("lab commands say what they need: root, else a running havipd", async () => {
  const r = await runWith(["lab", "instance", "up", "vm-A"], () => connectionRefused(), {
    env: { HAVIP_ADMIN_TOKEN: "t".repeat(20), HAVIP_API: "http://127.0.0.1:7480" },
  });
  assert.equal(r.code, 1);
  if (isRoot) assert.match(r.stderr, /^error: havipd is not running at http:\/\/127\.0\.0\.1:7480 .*--lab-dir/);
  else assert.match(r.stderr, /^error: The lab needs root to create the instance's network namespace/);
  assert.equal(r.stderr.split("\n").length, 2, "one line");
});
