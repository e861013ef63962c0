// A lab after a reboot, on real namespaces: every process killed and every namespace deleted
// (simulateReboot), the record kept. createLab in the same directory keeps the record and makes the fabric
// and underlay again; restore() makes the instances again exactly as recorded (VXLAN and veth); the recorded
// processes are seen as not running and start again from their records. A single namespace deleted by hand
// is made again alone, with the process that was left running inside it stopped.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { createLab, labDown, vethFabricName } from "@havip/lab";
import type { Lab } from "@havip/lab";
import {
  assertNothingLeft,
  livePids,
  namespaceInodes,
  namespacesWithPrefix,
  removeDir,
  rootOnly,
  tempStateDir,
  TestRelay,
  testPrefix,
} from "./helpers.ts";
import { simulateReboot } from "./reboot.ts";

const PREFIX = testPrefix("hrb");
const FETCH =
  "fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(r=>r.text()).then(t=>process.stdout.write(t))";

const VM_A = { name: "vm-a", vni: 1101, mac: "02:00:0a:00:01:0a", ip: "10.0.0.10", prefixLen: 24, gateway: null };
const VM_B = { name: "vm-b", vni: 1102, mac: "02:00:0a:00:01:0b", ip: "10.0.0.11", prefixLen: 24, gateway: null };
const VM_C = { name: "vm-c", vni: 1103, mac: "02:00:0a:00:01:0c", ip: "10.0.0.12", prefixLen: 24, gateway: null };

async function served(lab: Lab): Promise<string> {
  const r = await lab.execResult("vm-c", process.execPath, ["-e", FETCH, `http://${VM_A.ip}/`]);
  return r.code === 0 ? r.stdout : `failed: ${r.stderr}`;
}

function httpRecord(lab: Lab) {
  const record = lab.processRecord("vm-a", "http-service");
  assert.ok(record !== undefined, "the HTTP service of vm-a is recorded");
  return record;
}

test("lab restore after a reboot", rootOnly("lab restore suite"), async (t) => {
  const stateDir = tempStateDir("restore");
  const dataDir = tempStateDir("restore-data");
  t.after(async () => {
    try {
      await labDown({ stateDir, prefix: PREFIX });
    } finally {
      removeDir(stateDir);
      removeDir(dataDir);
    }
  });

  let lab = await createLab({ stateDir, prefix: PREFIX });
  let relay = await TestRelay.start(lab);
  const a = await lab.attachInstance(VM_A);
  const c = await lab.attachInstance(VM_C);
  await lab.attachInstance({ ...VM_B, attach: "veth", mtu: 1400 });
  await relay.attach(a.endpoint);
  await relay.attach(c.endpoint);
  await lab.startHttpService("vm-a");
  assert.match(await served(lab), /^vm-a /);
  const before = lab.state;

  await t.test("after a reboot createLab keeps the record and makes the fabric and underlay again", async () => {
    const report = await simulateReboot(stateDir, dataDir, PREFIX);
    assert.equal(report.namespaces.length, 5);
    assert.deepEqual(namespacesWithPrefix(PREFIX), []);
    lab = await createLab({ stateDir, prefix: PREFIX });
    assert.deepEqual(namespacesWithPrefix(PREFIX).sort(), [`${PREFIX}fabric`, `${PREFIX}underlay`]);
    assert.deepEqual(lab.instances(), before.instances, "the instances stay recorded, VNIs and all");
    assert.equal(lab.processRunning(httpRecord(lab)), false, "a recorded pid of the last boot is not running");
  });

  await t.test("restore() makes the instances again as recorded; a second restore() does nothing", async () => {
    const made = await lab.restore();
    assert.deepEqual(made, [`${PREFIX}vm-a`, `${PREFIX}vm-c`, `${PREFIX}vm-b`]);
    assert.deepEqual(await lab.linkInfo("vm-a"), {
      name: "eth0",
      mac: VM_A.mac,
      mtu: 1500,
      up: true,
      vni: VM_A.vni,
    });
    assert.deepEqual(await lab.addresses("vm-b"), [{ address: VM_B.ip, prefixLen: 24 }]);
    assert.equal((await lab.linkInfo("vm-b")).mtu, 1400);
    const fabricEnd = execFileSync("ip", ["-n", lab.fabricNs, "-j", "link", "show", vethFabricName(VM_B.vni)], {
      encoding: "utf8",
    });
    assert.match(fabricEnd, /"operstate"/, "the veth pair's fabric end is back in the fabric namespace");
    assert.equal(await lab.txChecksumOffload("vm-a"), false);
    assert.deepEqual(await lab.restore(), []);
  });

  await t.test("a recorded process starts again from its record and serves", async () => {
    relay = await TestRelay.start(lab);
    await relay.attach(a.endpoint);
    await relay.attach(c.endpoint);
    const old = httpRecord(lab);
    const restarted = lab.restartProcess(old);
    await restarted.waitForLog(/"listening"/, 10_000);
    assert.notEqual(restarted.pid, old.pid);
    assert.deepEqual(restarted.command, old.command);
    assert.equal(lab.processRunning(httpRecord(lab)), true);
    assert.throws(() => lab.restartProcess(httpRecord(lab)), /already running/);
    assert.match(await served(lab), /^vm-a /);
  });

  await t.test("one namespace deleted by hand is made again alone; what ran inside is stopped", async () => {
    const inside = httpRecord(lab);
    execFileSync("ip", ["netns", "delete", `${PREFIX}vm-a`]); // the service keeps the namespace alive, unreachable
    assert.equal(lab.processRunning(inside), true);
    assert.deepEqual(await lab.restore(), [`${PREFIX}vm-a`]);
    assert.deepEqual(livePids([inside.pid ?? 0]), [], "the service left in the deleted namespace was stopped");
    assert.equal(lab.processRunning(inside), false);
    assert.ok(relay.process.running(), "the fabric namespace and its processes were left alone");
    await lab.restartProcess(httpRecord(lab)).waitForLog(/"listening"/, 10_000);
    assert.match(await served(lab), /^vm-a /);
  });

  await t.test("labDown removes the restored lab completely", async () => {
    const inodes = namespaceInodes(namespacesWithPrefix(PREFIX));
    const pids = lab.processes().flatMap((p) => (p.pid === null ? [] : [p.pid]));
    relay.process.stdin?.destroy();
    await lab.down();
    assertNothingLeft(PREFIX, inodes, pids);
  });
});
