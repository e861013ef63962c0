// The user's lab, through the CLI as a child process: havipd started as root with --lab-dir makes the lab's
// fabric namespace and runs the fabric agent there; `havip lab up seed-example` creates seed 001 through the
// API and brings it up with real keepalived; `havip lab failover` prints the timeline and vm-B serves;
// `havip lab down` and stopping havipd leave no namespace, link or process behind.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { labDown } from "@havip/lab";
import { assertNothingLeft, namespaceInodes, removeDir, tempStateDir, testPrefix } from "../lab/helpers.ts";
import { rootOnly } from "./helpers.ts";

const HAVIPD = fileURLToPath(new URL("../../packages/daemon/src/main.ts", import.meta.url));
// Node, not curl, in the namespaces: curl is not among the packages setup.sh installs.
const FETCH =
  "fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>r.text()).then(t=>process.stdout.write(t))";
const HAVIP = fileURLToPath(new URL("../../packages/cli/src/main.ts", import.meta.url));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function havip(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HAVIP, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

function ok(r: Ran, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${String(r.code)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test(
  "havip lab: up seed-example, failover with a timeline, down leaves nothing",
  rootOnly("lab CLI suite"),
  async (t) => {
    const prefix = testPrefix("hvc");
    const dir = tempStateDir("lab-cli");
    const dataDir = join(dir, "data");
    const labDir = join(dir, "lab");
    const port = 17_480 + Math.floor(Math.random() * 500);
    const env = {
      ...process.env,
      HAVIP_API: `http://127.0.0.1:${port}`,
      HAVIP_DATA_DIR: dataDir,
      HAVIP_LAB_DIR: labDir,
      HAVIP_ADMIN_TOKEN: "",
    };
    const daemon = spawn(
      process.execPath,
      [HAVIPD, "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--lab-dir", labDir, "--lab-prefix", prefix],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HAVIP_ADMIN_TOKEN: "" } },
    );
    const exited = new Promise<void>((resolve) =>
      daemon.once("exit", () => {
        resolve();
      }),
    );
    let log = "";
    daemon.stdout.setEncoding("utf8").on("data", (c: string) => (log += c));
    daemon.stderr.setEncoding("utf8").on("data", (c: string) => (log += c));
    t.after(async () => {
      if (daemon.exitCode === null) daemon.kill("SIGTERM");
      await exited;
      await labDown({ stateDir: labDir, prefix }).catch(() => undefined);
      removeDir(dir);
    });
    for (let i = 0; !log.includes("havipd listening"); i++) {
      if (daemon.exitCode !== null || i > 400) assert.fail(`havipd did not start:\n${log}`);
      await sleep(50);
    }
    assert.match(log, /fabric agent started in namespace/);

    // A namespace of the lab's name that the lab did not make: refused in one line, nothing of it touched.
    execFileSync("ip", ["netns", "add", `${prefix}vm-c`]);
    const taken = await havip(env, "lab", "up", "seed-example");
    execFileSync("ip", ["netns", "delete", `${prefix}vm-c`]);
    assert.equal(taken.code, 1);
    assert.match(
      taken.stderr,
      new RegExp(`^error: The network namespace ${prefix}vm-c already exists and is not recorded`),
    );

    const up = ok(await havip(env, "lab", "up", "seed-example"), "lab up seed-example");
    assert.match(up, /seed example up: HAVIP demo-vip 10\.0\.1\.50 \(EIP 198\.51\.100\.\d+\), holder vm-A/);
    assert.match(up, /havip lab failover/);
    const served = await havip(env, "lab", "exec", "vm-c", "--", process.execPath, "-e", FETCH, "http://10.0.1.50/");
    assert.equal(ok(served, "exec fetch").split(" ")[0], "vm-a");
    const again = ok(await havip(env, "lab", "up", "seed-example"), "lab up seed-example (again)");
    assert.match(again, /holder vm-A/, "running it again reuses what exists");
    const status = await havip(env, "lab", "exec", "vm-c", "--", "sh", "-c", "exit 7");
    assert.equal(status.code, 7, "exec passes the command's exit status through");

    const failover = ok(await havip(env, "lab", "failover"), "lab failover");
    t.diagnostic(failover.trim());
    assert.match(failover, /last reply from vm-a/);
    assert.match(failover, /\+ +\d+ ms {2}announcement seen: the fabric took vm-b as holder/);
    assert.match(failover, /\+ +\d+ ms {2}holder changed in the API: vm-b/);
    assert.match(failover, /\+ +\d+ ms {2}first reply from vm-b/);
    assert.match(failover, /client-visible outage: \d+ ms/);
    const after = await havip(env, "lab", "exec", "vm-c", "--", process.execPath, "-e", FETCH, "http://10.0.1.50/");
    assert.equal(ok(after, "exec fetch after").split(" ")[0], "vm-b");
    const token = readFileSync(join(dataDir, "demo-project-token"), "utf8").trim();
    const shown = await havip({ ...env, HAVIP_TOKEN: token }, "--json", "havip", "show", "demo-vip");
    const h = JSON.parse(ok(shown, "havip show")) as { generation: number; holder: { instanceId: string } };
    assert.equal(h.generation, 2);

    const inodes = namespaceInodes([
      ...["fabric", "underlay", "vm-a", "vm-b", "vm-c", "internet"].map((n) => `${prefix}${n}`),
    ]);
    assert.equal(inodes.size, 6);
    const state = JSON.parse(readFileSync(join(labDir, "lab-state.json"), "utf8")) as {
      processes: { pid: number | null }[];
    };
    const pids = state.processes.flatMap((p) => (p.pid === null ? [] : [p.pid]));
    assert.ok(pids.length >= 5, "agent, keepalived on vm-b, http ×2, echo");
    ok(await havip(env, "lab", "down"), "lab down");
    assert.match(ok(await havip(env, "lab", "down"), "lab down again"), /nothing was up/);
    daemon.kill("SIGTERM");
    await exited;
    assert.equal(daemon.exitCode, 0, log.slice(-2000));
    assertNothingLeft(prefix, inodes, [...pids, daemon.pid ?? 0]);
    const stopped = await havip(env, "lab", "status");
    assert.match(stopped.stdout, /no lab is up/);
  },
);

test(
  "havip lab: clear errors when havipd is not running and for a bad example",
  rootOnly("lab CLI errors"),
  async (t) => {
    const dir = tempStateDir("lab-cli-errors");
    t.after(() => {
      removeDir(dir);
    });
    const env = {
      ...process.env,
      HAVIP_API: "http://127.0.0.1:9",
      HAVIP_DATA_DIR: dir,
      HAVIP_ADMIN_TOKEN: "x".repeat(20),
    };
    const down = await havip(env, "lab", "instance", "up", "vm-A");
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^error: havipd is not running at http:\/\/127\.0\.0\.1:9 .*--lab-dir/);
    const bad = await havip(env, "lab", "up", "nope");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown example "nope": choose seed-example/);
  },
);
