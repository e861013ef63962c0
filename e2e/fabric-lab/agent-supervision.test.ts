// The data plane outlives the control plane (issue 15 §4): havipd --lab-dir with two instances attached and a
// HAVIP held. (a) The fabric agent killed (-9): havipd starts a new one within 2 s and restores its spec and
// attachments. (b) The agent stopped (SIGSTOP): the heartbeat calls it hung and havipd replaces it within about
// 5 s; the old process is gone when it is continued. (c) A graceful havipd restart under a ping flood: the agent is
// adopted, not replaced, and not one probe is lost. (d) havipd killed (-9) and started again: the agent is adopted.
// (e) havipd killed while the agent is stopped: the next havipd does not adopt an agent that does not answer.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { labDown, openLab } from "@havip/lab";
import type { Lab } from "@havip/lab";
import type { HaVip, Instance } from "@havip/control";
import type { FabricCounters } from "@havip/fabric";
import { assertNothingLeft, eventually, namespaceInodes, removeDir, tempStateDir, testPrefix } from "../lab/helpers.ts";
import { gratuitousArp, rootOnly } from "./helpers.ts";

const HAVIPD = fileURLToPath(new URL("../../packages/daemon/src/main.ts", import.meta.url));
const HAVIP_IP = "10.0.1.50";
const VMS = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5101 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5102 },
] as const;

interface Reply<T> {
  status: number;
  json: T;
}

/** havipd --lab-dir as a child process, its API on a Unix socket, its log kept. */
class Havipd {
  readonly socket: string;
  log = "";
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, socket: string) {
    this.child = child;
    this.socket = socket;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code) => {
        resolve(code);
      });
    });
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (this.log += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (this.log += c));
  }

  static async start(dataDir: string, labDir: string, prefix: string): Promise<Havipd> {
    const socket = join(dataDir, "havipd.sock");
    const args = ["--listen", `unix:${socket}`, "--data-dir", dataDir, "--log-format", "json"];
    const child = spawn(process.execPath, [HAVIPD, ...args, "--lab-dir", labDir, "--lab-prefix", prefix], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HAVIP_ADMIN_TOKEN: "" },
    });
    const havipd = new Havipd(child, socket);
    for (let i = 0; !havipd.log.includes("havipd listening"); i++) {
      if (child.exitCode !== null || i > 600) assert.fail(`havipd did not start:\n${havipd.log}`);
      await sleep(50);
    }
    return havipd;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The JSON log lines with this message. */
  lines(msg: string): Record<string, unknown>[] {
    return this.log
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === msg || (typeof l.msg === "string" && l.msg.startsWith(msg)));
  }

  /** SIGTERM, and the exit status it ends with. */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill("SIGTERM");
    return this.exited;
  }

  async kill9(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  call<T>(token: string, method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const headers = {
        authorization: `Bearer ${token}`,
        ...(payload === undefined ? {} : { "content-type": "application/json" }),
      };
      const req = request({ socketPath: this.socket, path, method, headers }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c));
        res.on("end", () => {
          const json = (res.headers["content-type"] ?? "").includes("json") ? (JSON.parse(text) as T) : (text as T);
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  }

  async ok<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(token, method, path, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
}

/** The lab's fabric agent as recorded now (read afresh: havipd rewrites the record when it restarts the agent). */
function recordedAgent(labDir: string): { pid: number; startTime: number } | undefined {
  const record = openLab({ stateDir: labDir })
    .processes()
    .find((p) => p.label === "fabric-agent");
  return record?.pid == null || record.startTime == null ? undefined : { pid: record.pid, startTime: record.startTime };
}

/** Whether that very process runs (not a zombie; the same start time). */
function alive(p: { pid: number; startTime: number }): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] !== "Z" && fields[0] !== "X" && Number(fields[19]) === p.startTime;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/** Whether `from` gets an answer to one ping of `to` within a second. */
async function pings(lab: Lab, from: string, to: string): Promise<boolean> {
  const r = await lab.execResult(from, "ping", ["-c", "1", "-W", "1", to]);
  return r.code === 0;
}

test(
  "the fabric agent: restarted when it dies or hangs, adopted across havipd restarts",
  rootOnly("agent supervision"),
  async (t) => {
    const prefix = testPrefix("hsv");
    const dir = tempStateDir("agent-supervision");
    const dataDir = join(dir, "data");
    const labDir = join(dir, "lab");
    let havipd = await Havipd.start(dataDir, labDir, prefix);
    const pids = new Set<number>();
    t.after(async () => {
      await havipd.stop();
      await labDown({ stateDir: labDir, prefix }).catch(() => undefined);
      removeDir(dir);
    });
    assert.equal(havipd.lines("fabric agent started").length, 1, havipd.log);
    const operator = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    const lab = openLab({ stateDir: labDir });

    // Two instances in one subnet, attached to the lab; vm-A holds the HAVIP.
    const { token } = await havipd.ok<{ token: string }>(operator, "POST", "/v1/projects", { name: "supervision" });
    const vpc = await havipd.ok<{ id: string }>(token, "POST", "/v1/vpcs", { cidr: "10.0.0.0/16", region: "lab" });
    const subnet = await havipd.ok<{ id: string; gatewayIp: string }>(token, "POST", "/v1/subnets", {
      vpcId: vpc.id,
      cidr: "10.0.1.0/24",
      zone: "lab-a",
    });
    const instances = new Map<string, Instance>();
    for (const vm of VMS) {
      const body = { name: vm.name, subnetId: subnet.id, ipAddress: vm.ip };
      instances.set(vm.lab, await havipd.ok<Instance>(token, "POST", "/v1/instances", body));
    }
    const havip = await havipd.ok<HaVip>(token, "POST", "/v1/havips", { subnetId: subnet.id, ipAddress: HAVIP_IP });
    for (const vm of VMS) {
      const vnic = instances.get(vm.lab)!.vnics[0]!;
      const attached = await lab.attachInstance({
        name: vm.lab,
        vni: vm.vni,
        mac: vnic.macAddress,
        ip: vm.ip,
        prefixLen: 24,
        gateway: subnet.gatewayIp,
      });
      await havipd.ok(operator, "PUT", `/v1/fabric/attachments/${vnic.id}`, {
        remoteAddress: attached.endpoint.address,
        remotePort: attached.endpoint.port,
        vni: attached.endpoint.vni,
      });
    }
    const vnicA = instances.get("vm-a")!.primaryVnicId;
    await lab.exec("vm-a", "ip", ["addr", "add", `${HAVIP_IP}/24`, "dev", "eth0"]);
    const [arping, ...arpArgs] = await gratuitousArp(lab, "vm-a", HAVIP_IP, 2);
    await lab.execResult("vm-a", arping!, arpArgs); // unanswered by design: arping's status says so
    await eventually("vm-A to hold the HAVIP", 10_000, async () => {
      const h = await havipd.ok<HaVip>(token, "GET", `/v1/havips/${havip.id}`);
      return h.holder?.vnicId === vnicA ? h : undefined;
    });
    assert.ok(await pings(lab, "vm-b", HAVIP_IP), "vm-B reaches the HAVIP on vm-A");

    /** The fabric (the agent's) counters say vm-A holds the HAVIP. */
    const fabricHolds = async (): Promise<boolean> => {
      const r = await havipd.call<{ fabric: FabricCounters }>(operator, "GET", "/v1/fabric/counters");
      return r.status === 200 && r.json.fabric.havips[havip.id]?.holderVnicId === vnicA;
    };
    /** After a restart: the spec and the attachments are back (traffic flows; the HAVIP is held by vm-A). */
    const restored = async (what: string): Promise<void> => {
      await eventually(`${what}: vm-B reaches the HAVIP again`, 15_000, async () =>
        (await pings(lab, "vm-b", HAVIP_IP)) ? true : undefined,
      );
      await eventually(`${what}: the fabric counters show the HAVIP held by vm-A`, 5_000, async () =>
        (await fabricHolds()) ? true : undefined,
      );
    };
    const restartsMetric = async (): Promise<number> => {
      const r = await havipd.call<string>(operator, "GET", "/metrics");
      const line = r.json.split("\n").find((l) => l.startsWith("havip_fabric_agent_restarts_total "));
      return Number(line?.split(" ")[1]);
    };
    assert.equal(await restartsMetric(), 0);

    await t.test("(a) kill -9 the agent: a new one runs within 2 s; spec and attachments restored", async () => {
      const before = recordedAgent(labDir)!;
      pids.add(before.pid);
      const killedAt = performance.now();
      signal(before.pid, "SIGKILL");
      const after = await eventually("a new fabric agent", 5_000, () => {
        const now = recordedAgent(labDir);
        return Promise.resolve(now !== undefined && now.pid !== before.pid && alive(now) ? now : undefined);
      });
      const tookMs = performance.now() - killedAt;
      pids.add(after.pid);
      t.diagnostic(`new agent running ${tookMs.toFixed(0)} ms after kill -9`);
      assert.ok(tookMs < 2000, `a new agent ran ${tookMs.toFixed(0)} ms after kill -9`);
      await restored("after kill -9");
      const restarted = havipd.lines("fabric agent restarted");
      assert.equal(restarted.length, 1, havipd.log.slice(-3000));
      assert.equal(restarted[0]!.reason, "exited");
      assert.equal(restarted[0]!.previousPid, before.pid);
      assert.equal(restarted[0]!.pid, after.pid);
      assert.equal(restarted[0]!.level, 40);
      assert.equal(await restartsMetric(), 1);
    });

    await t.test("(b) kill -STOP the agent: replaced within about 5 s; the old one is gone on SIGCONT", async () => {
      const before = recordedAgent(labDir)!;
      const stoppedAt = performance.now();
      signal(before.pid, "SIGSTOP");
      try {
        const after = await eventually("the hung agent replaced", 10_000, () => {
          const now = recordedAgent(labDir);
          return Promise.resolve(now !== undefined && now.pid !== before.pid && alive(now) ? now : undefined);
        });
        const tookMs = performance.now() - stoppedAt;
        pids.add(after.pid);
        t.diagnostic(`hung agent replaced ${tookMs.toFixed(0)} ms after SIGSTOP`);
        assert.ok(tookMs < 6500, `replaced ${tookMs.toFixed(0)} ms after SIGSTOP`);
      } finally {
        signal(before.pid, "SIGCONT");
      }
      await sleep(200);
      assert.ok(!alive(before), "the stopped agent was killed, not left to come back");
      await restored("after SIGSTOP");
      const hung = havipd.lines("fabric agent restarted").filter((l) => l.reason === "hung");
      assert.equal(hung.length, 1, havipd.log.slice(-3000));
      assert.equal(hung[0]!.signal, "SIGKILL");
      assert.equal(await restartsMetric(), 2);
    });

    await t.test("(c) a graceful havipd restart under a ping flood: the agent is adopted; no probe lost", async () => {
      const before = recordedAgent(labDir)!;
      // 600 probes 20 ms apart (12 s) from vm-B to the HAVIP on vm-A, across havipd's stop and start.
      const flood = lab.execResult("vm-b", "ping", ["-n", "-q", "-i", "0.02", "-c", "600", "-W", "2", HAVIP_IP], {
        timeoutMs: 60_000,
      });
      await sleep(1000);
      assert.equal(await havipd.stop(), 0, havipd.log.slice(-3000));
      assert.equal(havipd.lines("fabric agent left running").length, 1, havipd.log.slice(-3000));
      assert.ok(alive(before), "the agent outlives havipd");
      havipd = await Havipd.start(dataDir, labDir, prefix);
      const adopted = havipd.lines("fabric agent adopted");
      assert.equal(adopted.length, 1, havipd.log);
      assert.equal(adopted[0]!.pid, before.pid);
      assert.equal(havipd.lines("fabric agent started").length, 0);
      const r = await flood;
      const summary = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
      assert.ok(summary !== null, r.stdout + r.stderr);
      t.diagnostic(summary[0]);
      assert.equal(summary[1], "600");
      assert.equal(summary[2], "600", `probes lost across a graceful havipd restart: ${r.stdout}`);
      assert.ok(alive(before));
      assert.deepEqual(recordedAgent(labDir), before, "the same agent, not a replacement");
      assert.ok(await fabricHolds());
    });

    await t.test("(d) kill -9 havipd and start it again: the agent is adopted, not replaced", async () => {
      const before = recordedAgent(labDir)!;
      await havipd.kill9();
      rmSync(havipd.socket, { force: true }); // a killed havipd leaves its API socket behind
      assert.ok(alive(before), "the agent outlives a killed havipd");
      assert.ok(await pings(lab, "vm-b", HAVIP_IP), "and keeps forwarding meanwhile");
      havipd = await Havipd.start(dataDir, labDir, prefix);
      const adopted = havipd.lines("fabric agent adopted");
      assert.equal(adopted.length, 1, havipd.log);
      assert.equal(adopted[0]!.pid, before.pid);
      assert.deepEqual(recordedAgent(labDir), before);
      assert.ok(await pings(lab, "vm-b", HAVIP_IP));
      assert.ok(await fabricHolds());
    });

    await t.test("(e) a stopped agent found at start is replaced, not adopted", async () => {
      const before = recordedAgent(labDir)!;
      await havipd.kill9();
      rmSync(havipd.socket, { force: true });
      signal(before.pid, "SIGSTOP");
      try {
        havipd = await Havipd.start(dataDir, labDir, prefix);
      } finally {
        signal(before.pid, "SIGCONT");
      }
      assert.equal(havipd.lines("fabric agent adopted").length, 0, havipd.log);
      const started = havipd.lines("fabric agent started");
      assert.equal(started.length, 1, havipd.log);
      assert.match(String(started[0]!.reason), new RegExp(`pid ${before.pid}\\) did not answer`));
      assert.ok(!alive(before), "the stopped agent was killed");
      const after = recordedAgent(labDir)!;
      pids.add(after.pid);
      assert.equal(started[0]!.pid, after.pid);
      await restored("after a stopped agent was replaced at start");
    });

    // Stopping havipd leaves the agent; `lab down` removes it with everything else.
    const inodes = namespaceInodes(lab.state.namespaces.map((n) => n.name));
    const agent = recordedAgent(labDir)!;
    assert.equal(await havipd.stop(), 0);
    assert.ok(alive(agent));
    await labDown({ stateDir: labDir, prefix });
    assertNothingLeft(prefix, inodes, pids);
  },
);
