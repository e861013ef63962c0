// The fabric-lab suites: havipd itself runs the fabric inside the lab's fabric namespace (DESIGN §7) and
// serves its API on a Unix socket that the test (in the root namespace) reaches through the filesystem.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createLab, INTERNET_DEFAULTS, labDown } from "@havip/lab";
import type { KeepalivedConfig, Lab, LabProcess, VrrpInstance } from "@havip/lab";
import type { HaVip, Instance } from "@havip/control";
import type { FabricCounters } from "@havip/fabric";
import { assertNothingLeft, eventually, namespaceInodes, removeDir, tempStateDir, testPrefix } from "../lab/helpers.ts";

export const isRoot = process.getuid?.() === 0;

/**
 * The options for a root-only suite: skipped, LOUDLY, when not root; and when CI is set and we are not root,
 * an extra test that FAILS, so that CI can never pass without having run the lab. (The gate of e2e/lab.)
 */
export function rootOnly(suite: string): { skip: string | false } {
  if (isRoot) return { skip: false };
  const reason = `!!! ${suite}: SKIPPED — needs root (network namespaces, VXLAN, keepalived); run as root !!!`;
  process.stderr.write(`\n${reason}\n\n`);
  if (process.env.CI !== undefined && process.env.CI !== "") {
    test(`${suite} must run as root in CI`, () => {
      assert.fail(`${suite} needs root and CI is set: run the lab suites as root`);
    });
  }
  return { skip: reason };
}

const HAVIPD = fileURLToPath(new URL("../../packages/daemon/src/main.ts", import.meta.url));

export interface Reply<T> {
  status: number;
  json: T;
}

const AGENT = fileURLToPath(new URL("../../packages/daemon/src/agent/main.ts", import.meta.url));

/**
 * Where the fabric runs: `in-fabric-ns` — havipd itself in the lab's fabric namespace, its in-process
 * fabric on the lab's fabric endpoint; `agent` — the fabric agent there, havipd in the root namespace
 * driving it over a Unix socket (the DESIGN §7 layout).
 */
export type Layout = "in-fabric-ns" | "agent";

/** Starts the fabric agent in the lab's fabric namespace, on the lab's fabric endpoint (`args`: more options). */
export async function startAgent(lab: Lab, socket: string, args: readonly string[] = []): Promise<LabProcess> {
  const { address, port } = lab.fabricEndpoint;
  const agentArgs = [AGENT, "--socket", socket, "--vxlan", `${address}:${port}`, ...args];
  const agent = lab.spawn("fabric", process.execPath, agentArgs, { label: "fabric-agent" });
  await agent.waitForLog(/"ready":true/, 20_000);
  return agent;
}

/** havipd for a lab: its API on a Unix socket in its data directory. */
export class LabDaemon {
  readonly socket: string;
  readonly token: string;
  readonly stop: () => Promise<void>;

  private constructor(socket: string, token: string, stop: () => Promise<void>) {
    this.socket = socket;
    this.token = token;
    this.stop = stop;
  }

  /** With `agentSocket`, havipd runs in this (root) namespace and drives the agent; else in the lab's. */
  static async start(lab: Lab, dataDir: string, agentSocket?: string): Promise<LabDaemon> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const socket = join(dataDir, "havipd.sock");
    const common = ["--listen", `unix:${socket}`, "--data-dir", dataDir, "--log-format", "json"];
    let stop: () => Promise<void>;
    if (agentSocket === undefined) {
      const { address, port } = lab.fabricEndpoint;
      const proc = lab.spawn("fabric", process.execPath, [HAVIPD, ...common, "--fabric-listen", `${address}:${port}`], {
        label: "havipd",
      });
      await proc.waitForLog(/havipd listening/, 20_000);
      stop = async () => {
        await lab.stopProcess("fabric", "havipd");
      };
    } else {
      const child = spawn(process.execPath, [HAVIPD, ...common, "--fabric-agent", `unix:${agentSocket}`], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = new Promise<void>((resolve) =>
        child.once("exit", () => {
          resolve();
        }),
      );
      let log = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (log += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (log += c));
      for (let i = 0; !log.includes("havipd listening"); i++) {
        if (child.exitCode !== null || i > 400) assert.fail(`havipd did not start:\n${log}`);
        await sleep(50);
      }
      stop = async () => {
        if (child.exitCode === null) child.kill("SIGTERM");
        await exited;
      };
    }
    const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    return new LabDaemon(socket, token, stop);
  }

  /** One API call over the Unix socket. */
  call<T = { error: { code: string } }>(
    method: string,
    path: string,
    body?: unknown,
    token: string = this.token,
  ): Promise<Reply<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socket,
          path,
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload === undefined ? {} : { "content-type": "application/json" }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, json: (text === "" ? null : JSON.parse(text)) as T });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Like call, but the status must be 2xx. */
  async ok<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const r = await this.call<T>(method, path, body, token);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
}

// ---- Shared by the issue-4 case suites (vrrp3-fast, unicast-only, failback, members, eip, isolation) ----

/** One instance of a case suite: its lab name (also what its HTTP service answers), API name, address, VNI. */
export interface CaseVm {
  lab: string;
  name: string;
  ip: string;
  vni: number;
}

/** What `from` gets from http://<address>/ (the serving instance's name), or undefined on failure. */
export async function fetchName(
  lab: Lab,
  from: string,
  address: string,
  timeoutMs = 2000,
): Promise<string | undefined> {
  const script = `fetch(process.argv[1],{signal:AbortSignal.timeout(${timeoutMs})}).then(r=>r.text()).then(t=>process.stdout.write(t))`;
  const r = await lab.execResult(from, process.execPath, ["-e", script, `http://${address}/`]);
  return r.code === 0 ? r.stdout.split(" ")[0] : undefined;
}

/** A tenant's view of the API: every call with the project's token, every status 2xx. */
export type TenantCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * A new project through the API with the seed's VPC 10.0.0.0/16 (with `mtu` when given), subnet 10.0.1.0/24
 * (zone lab-a) and one instance per `vms` entry (by lab name); nothing attached yet. `token` is the project's.
 */
export async function tenantNetwork(
  havipd: LabDaemon,
  project: string,
  vms: readonly { lab: string; name: string; ip: string }[],
  options: { broadcast?: "auto" | "unicast-only"; mtu?: number } = {},
): Promise<{
  token: string;
  tenant: TenantCall;
  subnet: { id: string; gatewayIp: string };
  instances: Map<string, Instance>;
}> {
  const { token } = await havipd.ok<{ token: string }>("POST", "/v1/projects", { name: project });
  const tenant: TenantCall = (method, path, body) => havipd.ok(method, path, body, token);
  const vpc = await tenant<{ id: string }>("POST", "/v1/vpcs", {
    cidr: "10.0.0.0/16",
    region: "lab",
    ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
  });
  const subnet = await tenant<{ id: string; gatewayIp: string }>("POST", "/v1/subnets", {
    vpcId: vpc.id,
    cidr: "10.0.1.0/24",
    zone: "lab-a",
    ...(options.broadcast === undefined ? {} : { broadcast: options.broadcast }),
  });
  const instances = new Map<string, Instance>();
  for (const vm of vms) {
    const body = { name: vm.name, subnetId: subnet.id, ipAddress: vm.ip };
    instances.set(vm.lab, await tenant<Instance>("POST", "/v1/instances", body));
  }
  return { token, tenant, subnet, instances };
}

/** The seed's network in one project: a VPC, a subnet, instances attached to the lab, a HAVIP. */
export interface CaseNetwork {
  tenant: TenantCall;
  subnet: { id: string; gatewayIp: string };
  havip: HaVip;
  instances: Map<string, Instance>;
  /** The primary vNIC id of an instance, by lab name. */
  vnicOf(lab: string): string;
  /** The HAVIP as the API shows it now. */
  shown(): Promise<HaVip>;
  /** Waits until the API shows this instance (by lab name) as the holder. */
  holderIs(lab: string, timeoutMs?: number): Promise<HaVip>;
}

/**
 * One lab with havipd running the fabric in its fabric namespace, for one case suite. `start` registers the
 * cleanup (havipd, labDown, the state directory) with the test; `down` takes everything down and checks that
 * nothing of the lab is left: namespace, root link or process.
 */
export class CaseLab {
  readonly lab: Lab;
  readonly havipd: LabDaemon;
  readonly prefix: string;

  private constructor(lab: Lab, havipd: LabDaemon, prefix: string) {
    this.lab = lab;
    this.havipd = havipd;
    this.prefix = prefix;
  }

  static async start(t: TestContext, tag: string): Promise<CaseLab> {
    const prefix = testPrefix(tag);
    const stateDir = tempStateDir(`fabric-${tag}`);
    const stops: (() => Promise<void>)[] = [];
    t.after(async () => {
      try {
        for (const stop of stops) await stop().catch(() => undefined);
        await labDown({ stateDir, prefix });
      } finally {
        removeDir(stateDir);
      }
    });
    const lab = await createLab({ stateDir, prefix });
    const havipd = await LabDaemon.start(lab, `${stateDir}/havipd`);
    stops.push(() => havipd.stop());
    return new CaseLab(lab, havipd, prefix);
  }

  /**
   * The seed's network in a new project: VPC 10.0.0.0/16, subnet 10.0.1.0/24, the instances, the HAVIP. With
   * `mtu`, the VPC has that MTU and the instances' eth0 too (else both keep their default, 1500).
   */
  async network(
    project: string,
    vms: readonly CaseVm[],
    options: {
      havipIp?: string;
      broadcast?: "auto" | "unicast-only";
      members?: readonly string[];
      mtu?: number;
    } = {},
  ): Promise<CaseNetwork> {
    const havipd = this.havipd;
    const { tenant, subnet, instances } = await tenantNetwork(havipd, project, vms, options);
    const members = options.members?.map((lab) => instances.get(lab)!.id);
    const havip = await tenant<HaVip>("POST", "/v1/havips", {
      subnetId: subnet.id,
      ipAddress: options.havipIp ?? "10.0.1.50",
      ...(members === undefined ? {} : { members }),
    });
    for (const vm of vms) {
      const vnic = instances.get(vm.lab)!.vnics[0]!;
      const attached = await this.lab.attachInstance({
        name: vm.lab,
        vni: vm.vni,
        mac: vnic.macAddress,
        ip: vm.ip,
        prefixLen: 24,
        gateway: subnet.gatewayIp,
        ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
      });
      await havipd.ok("PUT", `/v1/fabric/attachments/${vnic.id}`, {
        remoteAddress: attached.endpoint.address,
        remotePort: attached.endpoint.port,
        vni: attached.endpoint.vni,
      });
    }
    const vnicOf = (lab: string): string => instances.get(lab)!.primaryVnicId;
    const shown = (): Promise<HaVip> => tenant<HaVip>("GET", `/v1/havips/${havip.id}`);
    const holderIs = (lab: string, timeoutMs = 15_000): Promise<HaVip> =>
      eventually(`${lab} to hold the HAVIP in the API`, timeoutMs, async () => {
        const h = await shown();
        return h.holder?.vnicId === vnicOf(lab) ? h : undefined;
      });
    return { tenant, subnet, havip, instances, vnicOf, shown, holderIs };
  }

  /** The internet host behind the fabric's edge, registered as the internet port; its echo service started. */
  async internet(vni: number): Promise<void> {
    const internet = await this.lab.attachInternet({ vni });
    await this.havipd.ok("PUT", "/v1/fabric/internet", {
      ip: INTERNET_DEFAULTS.gateway,
      cidr: "203.0.113.0/24",
      gateway: null,
      remoteAddress: internet.endpoint.address,
      remotePort: internet.endpoint.port,
      vni: internet.endpoint.vni,
    });
    await this.lab.startEchoService();
  }

  /** The fabric's counters, as havipd reports them. */
  counters(): Promise<{ fabric: FabricCounters }> {
    return this.havipd.ok<{ fabric: FabricCounters }>("GET", "/v1/fabric/counters");
  }

  /** Takes everything down (havipd, the lab) and asserts that nothing of the lab is left. */
  async down(): Promise<void> {
    const inodes = namespaceInodes(this.lab.state.namespaces.map((n) => n.name));
    const pids = this.lab.processes().flatMap((p) => (p.pid === null ? [] : [p.pid]));
    await this.havipd.stop();
    await this.lab.down();
    assertNothingLeft(this.prefix, inodes, pids);
  }
}

/** A keepalived configuration for one VRRP instance on eth0 holding `vip`/24. */
export function keepalivedFor(
  vip: string,
  priority: number,
  options: Partial<Omit<VrrpInstance, "priority" | "virtualAddresses">> = {},
): KeepalivedConfig {
  return {
    instances: [
      {
        name: "VI_1",
        version: 2,
        virtualRouterId: 51,
        advertInterval: 1,
        state: "BACKUP",
        garpMasterDelay: 1,
        ...((options.version ?? 2) === 2 ? { authPass: "havip" } : {}),
        ...options,
        priority,
        virtualAddresses: [{ address: vip, prefixLen: 24 }],
      },
    ],
  };
}

/**
 * An `arping` command line that sends `count` gratuitous ARPs for `ip` out of eth0 (sender IP = target IP =
 * `ip`), for either arping Debian ships: Thomas Habets' (package arping) or iputils' (iputils-arping).
 */
export async function gratuitousArp(lab: Lab, from: string, ip: string, count: number): Promise<string[]> {
  const help = await lab.execResult(from, "arping", ["--help"]);
  const habets = /Habets|-S IP/.test(help.stdout + help.stderr);
  return habets
    ? ["arping", "-U", "-i", "eth0", "-S", ip, "-c", String(count), "-W", "0.2", ip]
    : ["arping", "-U", "-I", "eth0", "-s", ip, "-c", String(count), "-i", "0.2", ip];
}

/**
 * What the internet's echo service says it saw (`{"protocol":"tcp","address":…}`) for a TCP connection from
 * `from`, bound to `localAddress` when given; undefined when no answer came within `timeoutMs`.
 */
export async function echoFrom(
  lab: Lab,
  from: string,
  localAddress?: string,
  timeoutMs = 2000,
): Promise<{ address: string } | undefined> {
  const script =
    "const s=require('node:net').connect({host:process.argv[1],port:+process.argv[2]," +
    "localAddress:process.argv[3]||undefined});let d='';s.setEncoding('utf8');" +
    `s.on('data',c=>d+=c);s.on('end',()=>process.stdout.write(d,()=>process.exit(0)));s.on('error',()=>process.exit(2));` +
    `setTimeout(()=>process.exit(3),${timeoutMs});`;
  const address = INTERNET_DEFAULTS.address;
  const args = ["-e", script, address, String(INTERNET_DEFAULTS.echoPort), localAddress ?? ""];
  const r = await lab.execResult(from, process.execPath, args);
  return r.code === 0 && r.stdout !== "" ? (JSON.parse(r.stdout) as { address: string }) : undefined;
}

// A TCP transfer checked end to end (node scripts run in lab namespaces with `node -e`).
/** Accepts one connection on port 5201, answers its length and SHA-256 when the sender is done. */
export const TCP_SINK = `
const net = require("node:net"), crypto = require("node:crypto");
const server = net.createServer((s) => {
  const hash = crypto.createHash("sha256"); let bytes = 0;
  s.on("data", (c) => { bytes += c.length; hash.update(c); });
  s.on("end", () => { s.end(JSON.stringify({ bytes, sha256: hash.digest("hex") })); server.close(); });
});
server.listen(5201, process.argv[1], () => console.log('"listening"'));`;

/** Sends argv[2] random bytes to port 5201 and prints what it sent (SHA-256) and what the sink says it got. */
export const TCP_SOURCE = `
const net = require("node:net"), crypto = require("node:crypto");
const data = crypto.randomBytes(Number(process.argv[2]));
const sent = crypto.createHash("sha256").update(data).digest("hex");
const s = net.connect({ host: process.argv[1], port: 5201 }); let answer = "";
s.setEncoding("utf8").on("data", (c) => { answer += c; });
s.on("end", () => process.stdout.write(JSON.stringify({ sent, got: JSON.parse(answer) })));
s.on("error", (e) => { console.error(String(e)); process.exit(2); });
s.end(data);
setTimeout(() => process.exit(3), 30000).unref();`;

/** `node -e UDP_FLOOD <ip> <count>`: sends `count` 64-byte IP packets (36 bytes of UDP payload) to ip:5300 at once. */
export const UDP_FLOOD = `
const s = require("node:dgram").createSocket("udp4"), payload = Buffer.alloc(36), count = Number(process.argv[2]);
let done = 0;
for (let i = 0; i < count; i++) s.send(payload, 5300, process.argv[1], () => { if (++done === count) s.close(); });
`;
