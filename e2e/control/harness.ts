// Runs the real havipd and havip as child processes for the end-to-end suites: a free loopback port, a
// temporary data directory, readiness by polling /v1/health, and cleanup of every child and directory.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@havip/testkit";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const HAVIPD = join(REPO, "packages/daemon/bin/havipd.js");
export const HAVIP = join(REPO, "packages/cli/bin/havip.js");
export const OPERATOR_TOKEN = "e2e-operator-token-0123456789abcdef";

/** The part of node:test's TestContext these helpers need. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export async function tempDir(t: Cleanup, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Havipd {
  url: string;
  port: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Sends a signal and waits for the exit (SIGKILL after `ms` if it does not come). */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<Exit>;
}

export interface HavipdOptions {
  dataDir: string;
  port?: number;
  env?: Record<string, string | undefined>;
  args?: string[];
  waitReady?: boolean;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  // The suites set the operator token themselves, and never read a developer's CLI settings.
  const inherited = Object.entries(process.env).filter(
    ([key]) => !["HAVIP_ADMIN_TOKEN", "HAVIP_API", "HAVIP_TOKEN", "HAVIP_DATA_DIR"].includes(key) && !(key in extra),
  );
  const given = Object.entries(extra).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return Object.fromEntries([...inherited, ...given]);
}

export async function startHavipd(t: Cleanup, options: HavipdOptions): Promise<Havipd> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [
      HAVIPD,
      "--listen",
      `127.0.0.1:${port}`,
      "--data-dir",
      options.dataDir,
      "--log-format",
      "json",
      ...(options.args ?? []),
    ],
    { env: childEnv({ HAVIP_ADMIN_TOKEN: OPERATOR_TOKEN, ...options.env }), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    });
  });
  let running = true;
  void exited.then(() => (running = false));
  t.after(async () => {
    if (running) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  const daemon: Havipd = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop(signal = "SIGTERM", ms = 15_000) {
      if (running) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  if (options.waitReady !== false) await waitReady(daemon);
  return daemon;
}

/** Polls /v1/health until it answers 200; fails with havipd's output when it exits or takes too long. */
export async function waitReady(daemon: Havipd, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  let exit: Exit | undefined;
  void daemon.exited.then((e) => (exit = e));
  while (Date.now() < deadline) {
    if (exit)
      throw new Error(
        `havipd exited (${JSON.stringify(exit)}) before it was ready:\n${daemon.stderr()}${daemon.stdout()}`,
      );
    try {
      const response = await fetch(`${daemon.url}/v1/health`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`havipd was not ready within ${ms} ms:\n${daemon.stderr()}${daemon.stdout()}`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `havip` as a child process (no config file unless HAVIP_CONFIG is given). */
export async function havip(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [HAVIP, ...args], {
    env: childEnv({ HAVIP_CONFIG: join(tmpdir(), "havip-e2e-no-config", "config.json"), ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

/** Runs `havip` and returns its stdout; fails with its stderr when it exits non-zero. */
export async function havipOk(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const result = await havip(args, env);
  if (result.code !== 0) throw new Error(`havip ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** A JSON request to the API (for set-up and checks that need no CLI). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the answer's shape
export async function api<T = unknown>(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
}

/** True when the text looks like a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[(:]\d+/m.test(text);
}
