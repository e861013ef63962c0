// Shared by the daemon's tests (not exported by the package): havipd in-process with its fabric
// on loopback (or driving a fabric agent), instances attached as VXLAN peers the test owns, and a small parser
// of the Prometheus text exposition.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HaVip, Instance } from "@havip/control";
import { Vtep, gratuitousArp } from "@havip/testkit";
import { startFabricAgent, type FabricAgent } from "./agent/fabric-agent.ts";
import { startDaemon, type RunningDaemon } from "./daemon.ts";
import { resolveDatabase } from "./database-url.ts";
import { createLogging } from "./log.ts";
import type { DaemonOptions } from "./options.ts";

export const OPERATOR_TOKEN = "operator-token-for-metrics-tests";

export type Mode = "in-process" | "agent";

export interface Reply {
  status: number;
  headers: Headers;
  body: Uint8Array;
  text(): string;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the shape the test expects
  json<T = { error: { code: string } }>(): T;
}
export type Call = (method: string, path: string, body?: unknown) => Promise<Reply>;

export function client(url: string, token: string | null): Call {
  return async (method, path, body) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const bytes = new Uint8Array(await r.arrayBuffer());
    const text = () => Buffer.from(bytes).toString("utf8");
    return { status: r.status, headers: r.headers, body: bytes, text, json: () => JSON.parse(text()) as never };
  };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A project with one subnet, instances vm-A, vm-B, vm-C attached to the fabric, and a HAVIP 10.0.1.50. */
export interface World {
  daemon: RunningDaemon;
  op: Call;
  api: Call;
  /** A second project's token (it must not see the first project's resources). */
  stranger: Call;
  a: Instance;
  b: Instance;
  c: Instance;
  havip: HaVip;
  /** Sends a frame from an instance's VTEP to the fabric. */
  send(i: Instance, frame: Uint8Array): void;
  /** An instance's gratuitous ARP for the HAVIP. */
  garp(i: Instance): void;
  vtep(i: Instance): Vtep;
  /** Stops the fabric agent (mode "agent"; nothing in-process). */
  stopAgent(): Promise<void>;
  /** Stops the fabric agent and starts a new, empty one on the same socket and VXLAN port (mode "agent"). */
  restartAgent(): Promise<void>;
  close(): Promise<void>;
}

/**
 * havipd on a free loopback port with its data (SQLite) in `dataDir`, JSON logs at `logLevel`, and the fabric
 * in-process (VXLAN on a free loopback port) or in an agent at `dataDir`/agent.sock.
 */
export function daemonOptions(
  dataDir: string,
  mode: Mode,
  logLevel: DaemonOptions["logLevel"],
  operatorToken = OPERATOR_TOKEN,
): DaemonOptions {
  return {
    listen: { host: "127.0.0.1", port: 0 },
    dataDir,
    database: resolveDatabase(undefined, dataDir),
    logLevel,
    logFormat: "json",
    operatorTokenFromEnv: operatorToken,
    fabricListen: mode === "in-process" ? { host: "127.0.0.1", port: 0 } : null,
    fabricAgent: mode === "agent" ? join(dataDir, "agent.sock") : null,
  };
}

export async function world(mode: Mode, logLines?: string[]): Promise<World> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), "havipd-metrics-"));
    closers.push(() => rm(dataDir, { recursive: true, force: true }));
    let agent: FabricAgent | null = null;
    let agentPort = 0;
    const startAgent = async () => {
      agent = await startFabricAgent({
        socketPath: join(dataDir, "agent.sock"),
        vxlan: { host: "127.0.0.1", port: agentPort },
      });
      agentPort = agent.vxlan!.port;
    };
    const stopAgent = async () => {
      const a = agent;
      agent = null;
      await a?.close();
    };
    if (mode === "agent") {
      await startAgent();
      closers.push(stopAgent);
    }
    const options = daemonOptions(dataDir, mode, "info");
    const sink = { write: (line: string) => logLines?.push(line) };
    const daemon = await startDaemon(options, createLogging("info", "json", sink));
    closers.push(() => daemon.stop());
    const op = client(daemon.url, OPERATOR_TOKEN);
    const project = async () => (await op("POST", "/v1/projects", { name: "p" })).json<{ token: string }>().token;
    const api = client(daemon.url, await project());
    const stranger = client(daemon.url, await project());
    const vpc = (await api("POST", "/v1/vpcs", { cidr: "10.0.0.0/16", region: "r1" })).json<{ id: string }>();
    const subnet = (await api("POST", "/v1/subnets", { vpcId: vpc.id, cidr: "10.0.1.0/24", zone: "z1" })).json<{
      id: string;
    }>();
    const vm = async (name: string, ipAddress: string) =>
      (await api("POST", "/v1/instances", { name, subnetId: subnet.id, ipAddress })).json<Instance>();
    const [a, b, c] = [await vm("vm-A", "10.0.1.11"), await vm("vm-B", "10.0.1.12"), await vm("vm-C", "10.0.1.13")];
    const havip = (await api("POST", "/v1/havips", { subnetId: subnet.id, ipAddress: "10.0.1.50" })).json<HaVip>();
    const vteps = new Map<string, { vtep: Vtep; vni: number }>();
    let vni = 100;
    for (const i of [a, b, c]) {
      const vtep = await new Vtep().open();
      closers.push(() => vtep.close());
      vteps.set(i.id, { vtep, vni: ++vni });
      const r = await op("PUT", `/v1/fabric/attachments/${i.primaryVnicId}`, {
        remoteAddress: "127.0.0.1",
        remotePort: vtep.port,
        vni,
      });
      assert.equal(r.status, 200, r.text());
    }
    const peer = (i: Instance) => vteps.get(i.id)!;
    const send = (i: Instance, frame: Uint8Array) => {
      peer(i).vtep.send(daemon.fabric.vxlan!.port, peer(i).vni, frame);
    };
    return {
      daemon,
      op,
      api,
      stranger,
      a,
      b,
      c,
      havip,
      send,
      garp: (i) => {
        send(i, gratuitousArp({ mac: i.vnics[0]!.macAddress, ip: havip.ipAddress }));
      },
      vtep: (i) => peer(i).vtep,
      stopAgent,
      restartAgent: async () => {
        if (mode !== "agent") throw new Error("restartAgent: the fabric runs in havipd");
        await stopAgent();
        await startAgent();
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** One sample of the exposition: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (0.0.4) into samples; comments and blank lines are skipped. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    const raw = m[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== "NaN") throw new Error(`not a sample value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}
