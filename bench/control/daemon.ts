// havipd as the benchmarks drive it: a separate child process (what users run), on a free loopback port, with a
// temporary data directory, its JSON log lines kept for timings the daemon reports, and removed at the end.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@havip/testkit";

const HAVIPD = fileURLToPath(new URL("../../packages/daemon/bin/havipd.js", import.meta.url));
export const BENCH_OPERATOR_TOKEN = "bench-operator-token-0123456789abcdef";

export interface BenchDaemon {
  readonly url: string;
  readonly pid: number;
  /** When the process was spawned and when /v1/health first answered (performance.now()). */
  readonly spawnedAt: number;
  readonly readyAt: number;
  /** havipd's log records (JSON lines) so far. */
  logs(): Record<string, unknown>[];
  /** SIGTERM, then SIGKILL after 15 s; safe to call twice. */
  stop(): Promise<void>;
}

export interface DaemonOptions {
  dataDir: string;
  /** A SQLite path or postgres:// URL; default: havip.db in dataDir. */
  database?: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  args?: string[];
}

// Children still running when the benchmark is interrupted (Ctrl-C) are killed on the way out.
const running = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

export async function startDaemon(options: DaemonOptions): Promise<BenchDaemon> {
  hookExit();
  const port = await freePort();
  // HAVIP_BENCH_NODE_ARGS: node flags for every havipd the benchmarks start, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const envArgs = (process.env.HAVIP_BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const args = [
    ...envArgs,
    ...(options.nodeArgs ?? []),
    HAVIPD,
    "--listen",
    `127.0.0.1:${port}`,
    "--data-dir",
    options.dataDir,
    "--log-format",
    "json",
    ...(options.database === undefined ? [] : ["--database", options.database]),
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, HAVIP_ADMIN_TOKEN: BENCH_OPERATOR_TOKEN };
  delete env.HAVIP_DATA_DIR;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const records: Record<string, unknown>[] = [];
  let partial = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const state = { exited: false };
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      state.exited = true;
      running.delete(child);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (state.exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (state.exited) throw new Error(`havipd exited before it was ready:\n${stderr}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`havipd not ready within 120 s:\n${stderr}`);
    }
    try {
      const response = await fetch(`${url}/v1/health`);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const readyAt = performance.now();
  if (child.pid === undefined) throw new Error("havipd has no pid");
  return { url, pid: child.pid, spawnedAt, readyAt, logs: () => records, stop };
}

/** A temporary directory removed at exit (also on Ctrl-C, through process exit). */
export function benchDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => {
    rmSync(path, { recursive: true, force: true });
  };
  process.once("exit", remove);
  return { path, remove };
}
