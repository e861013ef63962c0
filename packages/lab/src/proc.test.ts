import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import {
  commandLineOf,
  currentBootId,
  isRunning,
  processGroupMembers,
  processIdentity,
  runsCommand,
  stopProcessTree,
  waitUntil,
} from "./proc.ts";

const node = process.execPath;

/** A detached node process (its own process group) that starts `children` more node processes. */
function tree(opts: { ignoreTerm: boolean; children: number }) {
  const script = `
    ${opts.ignoreTerm ? "process.on('SIGTERM', () => {});" : ""}
    const { spawn } = require('child_process');
    for (let i = 0; i < ${opts.children}; i++) {
      spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
    }
    setInterval(() => {}, 1000);`;
  const child = spawn(node, ["-e", script], { detached: true, stdio: "ignore" });
  assert.ok(child.pid !== undefined);
  return child.pid;
}

test("a process's identity is its pid and start time; a changed start time is another process", () => {
  const me = processIdentity(process.pid);
  assert.ok(me !== undefined);
  assert.ok(me.startTime > 0);
  assert.ok(isRunning(me));
  assert.equal(isRunning({ pid: me.pid, startTime: me.startTime + 1 }), false);
  assert.equal(processIdentity(2 ** 22 + 12345), undefined, "no such pid");
});

test("stopProcessTree: SIGTERM is enough for a well-behaved process, and its children go too", async () => {
  const pid = tree({ ignoreTerm: false, children: 2 });
  const leader = processIdentity(pid);
  assert.ok(leader !== undefined);
  assert.ok(await waitUntil(() => processGroupMembers(leader).length === 3, 5000), "leader and two children");
  const outcome = await stopProcessTree(leader, 3000);
  assert.deepEqual(outcome, { how: "term" });
  assert.equal(isRunning(leader), false);
  assert.deepEqual(processGroupMembers(leader), [], "the children that ignored SIGTERM were killed");
});

test("stopProcessTree: a process that ignores SIGTERM is killed after the grace time", async () => {
  const pid = tree({ ignoreTerm: true, children: 1 });
  const leader = processIdentity(pid);
  assert.ok(leader !== undefined);
  assert.ok(await waitUntil(() => processGroupMembers(leader).length === 2, 5000));
  const started = Date.now();
  const outcome = await stopProcessTree(leader, 300);
  assert.deepEqual(outcome, { how: "kill" });
  assert.ok(Date.now() - started >= 300);
  assert.deepEqual(processGroupMembers(leader), []);
});

test("stopProcessTree of a process that is gone does nothing", async () => {
  assert.deepEqual(await stopProcessTree({ pid: 2 ** 22 + 12345, startTime: 1 }, 100), { how: "gone" });
});

test("a process recorded in another boot is not running, whatever its pid and start time", () => {
  const me = processIdentity(process.pid);
  assert.ok(me !== undefined);
  assert.equal(me.bootId, currentBootId());
  assert.match(currentBootId(), /^[0-9a-f-]{36}$/);
  assert.equal(isRunning({ ...me, bootId: "00000000-0000-0000-0000-000000000000" }), false);
  assert.deepEqual(processGroupMembers({ ...me, bootId: "00000000-0000-0000-0000-000000000000" }), []);
  assert.equal(isRunning({ pid: me.pid, startTime: me.startTime }), true, "an older record without a boot id");
});

test("runsCommand: the recorded command line or the tail a wrapper execs, nothing else", async () => {
  const script = "setInterval(() => {}, 1000)";
  const child = spawn(node, ["-e", script], { stdio: "ignore" });
  try {
    assert.ok(child.pid !== undefined);
    const pid = child.pid;
    assert.ok(await waitUntil(() => commandLineOf(pid).at(-1) === script, 5000), "the child has exec'd");
    const identity = processIdentity(pid);
    assert.ok(identity !== undefined);
    assert.deepEqual(commandLineOf(pid), [node, "-e", script]);
    assert.equal(runsCommand(identity, [node, "-e", script]), true);
    assert.equal(runsCommand(identity, ["/usr/sbin/ip", "netns", "exec", "ns1", node, "-e", script]), true);
    assert.equal(runsCommand(identity, [node, "-e", "other"]), false, "a reused pid running something else");
    assert.equal(runsCommand(identity, ["-e", script]), false, "more arguments than recorded");
    assert.equal(runsCommand({ ...identity, startTime: identity.startTime + 1 }, [node, "-e", script]), false);
  } finally {
    child.kill("SIGKILL");
  }
});
