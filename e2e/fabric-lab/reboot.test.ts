// A host reboot, then the README's first command: scripts/run.sh (with a private data directory, API address
// and lab prefix) brings the seed example up; vm-B becomes the holder; every process dies and every namespace
// goes (simulateReboot); scripts/run.sh again must exit 0 and bring everything back with no manual step: the
// lab made again with the same VNIs (no clash with the attachments havipd restores from fabric.json),
// keepalived restarted, and the HAVIP answered by whichever instance keepalived elects, which the API names.
// Run once more at once, it changes nothing.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { labDown, openLab } from "@havip/lab";
import type { Lab } from "@havip/lab";
import type { HaVip, Instance } from "@havip/control";
import { eventually, livePids, namespacesWithPrefix, removeDir, tempStateDir, testPrefix } from "../lab/helpers.ts";
import { simulateReboot } from "../lab/reboot.ts";
import { fetchName, rootOnly } from "./helpers.ts";

const RUN_SH = fileURLToPath(new URL("../../scripts/run.sh", import.meta.url));
const HAVIP_IP = "10.0.1.50";
const MEMBERS = ["vm-a", "vm-b"] as const;

interface Ran {
  code: number | null;
  output: string;
}

function runScript(env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [RUN_SH], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ code, output });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

function readPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(join(dataDir, "havipd.pid"), "utf8").trim());
  } catch {
    return undefined;
  }
}

/** The seed HAVIP and the instances' names by id, as the demo project sees them. */
async function shown(api: string, dataDir: string): Promise<{ havip: HaVip; names: Map<string, string> }> {
  const token = readFileSync(join(dataDir, "demo-project-token"), "utf8").trim();
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `GET ${path}`);
    return (await r.json()) as T;
  };
  const havips = await get<{ items: HaVip[] }>("/v1/havips");
  const havip = havips.items.find((h) => h.ipAddress === HAVIP_IP);
  assert.ok(havip !== undefined, `the seed HAVIP ${HAVIP_IP} exists`);
  const instances = await get<{ items: Instance[] }>("/v1/instances");
  return { havip, names: new Map(instances.items.map((i) => [i.id, i.name.toLowerCase()])) };
}

/** The member whose keepalived is MASTER and has the address on eth0, once exactly one is. */
async function keepalivedMaster(lab: Lab): Promise<string | undefined> {
  const masters: string[] = [];
  for (const name of MEMBERS) {
    const hasAddress = (await lab.addresses(name)).some((a) => a.address === HAVIP_IP);
    if (lab.vrrpState(name) === "MASTER" && hasAddress) masters.push(name);
  }
  return masters.length === 1 ? masters[0] : undefined;
}

/** Waits until the API names `member` as the holder; returns the HAVIP. */
function apiHolderIs(api: string, dataDir: string, member: string, timeoutMs: number): Promise<HaVip> {
  return eventually(`the API to name ${member} as the holder`, timeoutMs, async () => {
    const { havip, names } = await shown(api, dataDir);
    return names.get(havip.holder?.instanceId ?? "") === member ? havip : undefined;
  });
}

function ok(r: Ran, what: string, t: TestContext): string {
  t.diagnostic(`${what}:\n${r.output.trim()}`);
  assert.equal(r.code, 0, `${what} exited ${String(r.code)}:\n${r.output}`);
  return r.output;
}

test("after a host reboot, scripts/run.sh brings the seed example back", rootOnly("reboot suite"), async (t) => {
  const prefix = testPrefix("hrb");
  const dir = tempStateDir("reboot");
  const dataDir = join(dir, "data");
  const labDir = join(dir, "lab");
  const listen = `127.0.0.1:${String(await freePort())}`;
  const api = `http://${listen}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HAVIP_DATA_DIR: dataDir,
    HAVIP_LAB_DIR: labDir,
    HAVIP_LISTEN: listen,
    HAVIP_LAB_PREFIX: prefix,
    HAVIP_ADMIN_TOKEN: "",
    HAVIP_TOKEN: "",
    HAVIP_API: "",
  };
  t.after(async () => {
    const pid = readPid(dataDir);
    if (pid !== undefined && livePids([pid]).length > 0) {
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && livePids([pid]).length > 0; i++) await sleep(100);
    }
    await labDown({ stateDir: labDir, prefix }).catch(() => undefined);
    // A reboot left nothing else: the lab's namespaces and processes were gone, and the lab is down now.
    assert.deepEqual(namespacesWithPrefix(prefix), []);
    removeDir(dir);
  });

  const first = ok(await runScript(env), "scripts/run.sh (first start)", t);
  assert.match(first, /seed example up: HAVIP demo-vip 10\.0\.1\.50/);
  let lab = openLab({ stateDir: labDir });
  assert.equal(lab.prefix, prefix, "run.sh passes HAVIP_LAB_PREFIX to havipd");
  await eventually("vm-a to serve the HAVIP", 15_000, async () =>
    (await fetchName(lab, "vm-c", HAVIP_IP)) === "vm-a" ? true : undefined,
  );
  const vnisBefore = new Map(lab.instances().map((i) => [i.name, i.vni]));
  // vm-B takes over, so the holder that havipd stores is not necessarily the one keepalived elects after.
  await lab.stopKeepalived("vm-a");
  await apiHolderIs(api, dataDir, "vm-b", 15_000);
  const generationBefore = (await shown(api, dataDir)).havip.generation;

  const report = await simulateReboot(labDir, dataDir, prefix);
  t.diagnostic(`reboot: killed ${report.killed.length} processes, deleted ${report.namespaces.join(", ")}`);
  assert.ok(report.namespaces.length >= 6, "fabric, underlay, vm-a, vm-b, vm-c, internet were deleted");
  assert.deepEqual(namespacesWithPrefix(prefix), []);

  const second = ok(await runScript(env), "scripts/run.sh (after the reboot)", t);
  const back = Date.now();
  assert.match(second, /starting havipd/, "the havipd recorded in the pid file is gone: a new one starts");
  // vm-a's keepalived was stopped before the reboot (no record): started, not restarted.
  assert.doesNotMatch(second, /restarted keepalived in vm-a/);
  for (const p of ["keepalived in vm-b", "http-service in vm-a", "http-service in vm-b", "echo-service in internet"]) {
    assert.match(second, new RegExp(`lab: restarted ${p} \\(pid \\d+ was not running\\)`));
  }
  assert.match(second, new RegExp(`lab: re-made namespace ${prefix}vm-c`), "havipd made the lab again");
  assert.doesNotMatch(second, /already attached/);
  lab = openLab({ stateDir: labDir });
  assert.deepEqual(
    new Map(lab.instances().map((i) => [i.name, i.vni])),
    vnisBefore,
    "the instances come back on their VNIs",
  );
  const afterLab = lab;
  await eventually(`${HAVIP_IP} to answer ping from vm-c`, 10_000, async () => {
    const r = await afterLab.execResult("vm-c", "ping", ["-c", "1", "-W", "1", HAVIP_IP]);
    return r.code === 0 ? true : undefined;
  });
  t.diagnostic(`the HAVIP answered ping ${String(Date.now() - back)} ms after run.sh returned`);
  const master = await eventually("exactly one keepalived MASTER with the address", 10_000, () =>
    keepalivedMaster(afterLab),
  );
  assert.equal(await fetchName(lab, "vm-c", HAVIP_IP), master, "the instance that answers is keepalived's MASTER");
  const holder = await apiHolderIs(api, dataDir, master, 5_000);
  assert.ok(holder.generation >= generationBefore, "generations never go backwards across a reboot");

  // At once again: nothing to restart, the same holder, still served.
  const third = ok(await runScript(env), "scripts/run.sh (again)", t);
  assert.match(third, /havipd already running/);
  assert.doesNotMatch(third, /restarted|re-made/);
  assert.equal(await fetchName(lab, "vm-c", HAVIP_IP), master);
  assert.equal((await shown(api, dataDir)).havip.holder?.vnicId, holder.holder?.vnicId);
});
