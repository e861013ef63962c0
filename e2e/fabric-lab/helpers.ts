// The fabric-lab suites: havipd itself runs the fabric inside the lab's fabric namespace (DESIGN §7) and
// serves its API on a Unix socket that the test (in the root namespace) reaches through the filesystem.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Lab, LabProcess } from "@havip/lab";

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

/** Starts the fabric agent in the lab's fabric namespace, on the lab's fabric endpoint. */
export async function startAgent(lab: Lab, socket: string): Promise<LabProcess> {
  const { address, port } = lab.fabricEndpoint;
  const agent = lab.spawn("fabric", process.execPath, [AGENT, "--socket", socket, "--vxlan", `${address}:${port}`], {
    label: "fabric-agent",
  });
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
