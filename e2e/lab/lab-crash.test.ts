// Crash cleanup: a lab built by a child process that is SIGKILLed mid-way is still removed completely by
// `labDown(stateDir)`, from the state file and by sweeping the prefix; a second `labDown` finds nothing.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { labDown } from "@havip/lab";
import type { LabState } from "@havip/lab";
import {
  assertNothingLeft,
  eventually,
  namespaceInodes,
  namespacesWithPrefix,
  removeDir,
  rootOnly,
  tempStateDir,
  testPrefix,
} from "./helpers.ts";

const PREFIX = testPrefix("hvt3");
const CHILD = fileURLToPath(new URL("./fixture-crash-lab.ts", import.meta.url));

test("lab crash cleanup", rootOnly("lab crash suite"), async (t) => {
  const stateDir = tempStateDir("crash");
  t.after(async () => {
    try {
      await labDown({ stateDir, prefix: PREFIX });
    } finally {
      removeDir(stateDir);
    }
  });

  await t.test("a lab whose maker was SIGKILLed mid-way is removed completely by labDown(stateDir)", async (t) => {
    const child = spawn(process.execPath, [CHILD, stateDir, PREFIX], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => {
        resolve(signal);
      }),
    );
    await eventually("the child lab to be ready and busy", 30_000, () =>
      Promise.resolve(/attached vm-3/.test(output) ? true : child.exitCode !== null ? assert.fail(output) : undefined),
    );
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");

    const state = JSON.parse(readFileSync(join(stateDir, "lab-state.json"), "utf8")) as LabState;
    const namespaces = namespacesWithPrefix(PREFIX);
    assert.ok(namespaces.length >= 4, `the crashed lab left namespaces behind: ${namespaces.join(", ")}`);
    const inodes = namespaceInodes(namespaces);
    const pids = state.processes.flatMap((p) => (p.pid === null ? [] : [p.pid]));
    assert.ok(pids.length >= 4, "http service, keepalived, stubborn, fabric stand-in were recorded");
    t.diagnostic(`left behind: ${namespaces.length} namespaces, ${pids.length} recorded processes`);

    const started = Date.now();
    const report = await labDown({ stateDir });
    t.diagnostic(`labDown after the crash took ${Date.now() - started} ms`);
    assert.equal(report.stateWasCorrupt, false);
    assert.deepEqual(report.namespaces, [...namespaces].sort());
    assertNothingLeft(PREFIX, inodes, pids);
    assert.equal(existsSync(join(stateDir, "lab-state.json")), false, "the state file is gone");
    assert.deepEqual(readdirSync(stateDir), [], "and so are the lab's files");

    const again = await labDown({ stateDir });
    assert.deepEqual(again, { namespaces: [], processes: 0, stateWasCorrupt: false });
  });

  await t.test("with no state file, or a corrupt one, labDown still sweeps namespaces with the prefix", async () => {
    execFileSync("ip", ["netns", "add", `${PREFIX}stray`]);
    const inodes = namespaceInodes([`${PREFIX}stray`]);
    // A process inside it, as a crashed lab would leave.
    const sleeper = spawn("ip", ["netns", "exec", `${PREFIX}stray`, "sleep", "300"], {
      stdio: "ignore",
      detached: true,
    });
    sleeper.unref();
    await eventually("the sleeper to be in the namespace", 5000, () =>
      Promise.resolve(
        execFileSync("ip", ["netns", "pids", `${PREFIX}stray`], { encoding: "utf8" }).trim() !== "" || undefined,
      ),
    );
    writeFileSync(join(stateDir, "lab-state.json"), "{ not json");
    const report = await labDown({ stateDir, prefix: PREFIX });
    assert.equal(report.stateWasCorrupt, true);
    assert.deepEqual(report.namespaces, [`${PREFIX}stray`]);
    assert.equal(report.processes, 1);
    assertNothingLeft(PREFIX, inodes, sleeper.pid === undefined ? [] : [sleeper.pid]);
    assert.equal(existsSync(join(stateDir, "lab-state.json")), false);
  });
});
