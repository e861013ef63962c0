// The agent as a process: recognised by its command line, found and killed through /proc (real processes of
// this machine, no root needed), and how it went, read from its log.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import {
  agentExitFromLog,
  findAgentProcesses,
  isAgentCommand,
  isAlive,
  isStopped,
  killAgent,
} from "./agent-process.ts";

const SOCKET = "/srv/lab/fabric-agent.sock";

describe("the agent's process", () => {
  it("is recognised by its script and this socket only", () => {
    const node = "/opt/node/bin/node";
    const script = "/home/x/havip/packages/daemon/src/agent/main.ts";
    assert.ok(isAgentCommand([node, script, "--socket", SOCKET, "--vxlan", "169.254.77.1:4789"], SOCKET));
    assert.ok(isAgentCommand([node, script, `--socket=${SOCKET}`], SOCKET));
    assert.ok(!isAgentCommand([node, script, "--socket", "/other/fabric-agent.sock"], SOCKET));
    assert.ok(!isAgentCommand([node, "/x/havipd/main.ts", "--socket", SOCKET], SOCKET));
    assert.ok(!isAgentCommand(["vim", "--socket", SOCKET, script], SOCKET));
  });

  it("is found through /proc, stopped is still alive, and SIGKILL ends it even when stopped", async () => {
    // A stand-in whose command line looks like the agent's: `node -e … <script> --socket <socket>`.
    const socket = `/tmp/havip-adopt-test-${process.pid}.sock`;
    const child = spawn(
      process.execPath,
      ["-e", "setInterval(() => {}, 1000)", "/x/packages/daemon/src/agent/main.ts", "--socket", socket],
      { stdio: "ignore", detached: true },
    );
    const exited = once(child, "exit");
    try {
      let found = findAgentProcesses(socket);
      for (let i = 0; i < 100 && found.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        found = findAgentProcesses(socket);
      }
      assert.equal(found.length, 1);
      const agent = found[0]!;
      assert.equal(agent.pid, child.pid);
      assert.ok(isAlive(agent));
      assert.ok(!isAlive({ pid: agent.pid, startTime: agent.startTime + 1 }), "another start time: not it");
      process.kill(agent.pid, "SIGSTOP");
      for (let i = 0; i < 100 && !isStopped(agent); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(isStopped(agent) && isAlive(agent), "stopped, and still running");
      assert.equal(await killAgent(agent), true);
      const [, signal] = (await exited) as [number | null, string | null];
      assert.equal(signal, "SIGKILL");
      assert.ok(!isAlive(agent));
      assert.deepEqual(findAgentProcesses(socket), []);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("how the agent went, from its log", () => {
  const before = '{"ready":true,"socket":"/old"}\n{"stopping":true,"signal":"SIGTERM"}\n{"exited":true,"code":0}\n';
  const ready = '{"ready":true,"socket":"/s","vxlan":null}\n';

  it("stopped on purpose: SIGTERM, then exit 0", () => {
    const log = `${before}${ready}{"stopping":true,"signal":"SIGTERM"}\n{"exited":true,"code":0}\n`;
    assert.deepEqual(agentExitFromLog(log), { deliberate: true, exitCode: 0, signal: "SIGTERM" });
  });

  it("crashed: the error it wrote and its exit code", () => {
    const log = `${before}${ready}fabric agent: send failed\n    at x (y.ts:1)\n{"exited":true,"code":1}\n`;
    assert.deepEqual(agentExitFromLog(log), {
      deliberate: false,
      exitCode: 1,
      signal: null,
      lastLog: "at x (y.ts:1)",
    });
  });

  it("killed by a signal: it said nothing since it was ready (an earlier run's lines do not count)", () => {
    assert.deepEqual(agentExitFromLog(`${before}${ready}`), { deliberate: false, exitCode: null, signal: null });
    assert.deepEqual(agentExitFromLog(""), { deliberate: false, exitCode: null, signal: null });
  });
});
