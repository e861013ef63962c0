// havipd as an operator runs it with the Linux lab: its own process (`havipd --lab-dir`), API on a TCP port of
// the root namespace, log appended to a file in its data directory. A handle works for a havipd this suite
// started and for one that scripts/run.sh started (known by its pid file): faults signal it by pid.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const HAVIPD_BIN = fileURLToPath(new URL("../../packages/daemon/bin/havipd.js", import.meta.url));

export interface HavipdOptions {
  dataDir: string;
  labDir: string;
  labPrefix: string;
  port: number;
  /** The operator token (HAVIP_ADMIN_TOKEN): the same for every replica. */
  adminToken: string;
  /** A PostgreSQL URL; else the embedded SQLite database in the data directory. */
  database?: string;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

/** Whether a process runs (exists and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the process has gone; false if it was still there after `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** GET /v1/health answers 200 within a second. */
export async function healthy(api: string): Promise<boolean> {
  try {
    const r = await fetch(`${api}/v1/health`, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  } catch {
    return false;
  }
}

export class Havipd {
  readonly options: HavipdOptions;
  readonly api: string;
  readonly logFile: string;
  pid: number;

  constructor(options: HavipdOptions, pid: number) {
    this.options = options;
    this.api = `http://127.0.0.1:${options.port}`;
    this.logFile = join(options.dataDir, "havipd.log");
    this.pid = pid;
  }

  /** The command line, as scripts/run.sh has it (plus the lab prefix and the database). */
  static args(o: HavipdOptions): string[] {
    // prettier-ignore
    return [
      HAVIPD_BIN, "--listen", `127.0.0.1:${o.port}`, "--data-dir", o.dataDir, "--log-format", "json",
      "--lab-dir", o.labDir, "--lab-prefix", o.labPrefix, ...(o.database === undefined ? [] : ["--database", o.database]),
    ];
  }

  static async start(options: HavipdOptions, timeoutMs = 30_000): Promise<Havipd> {
    const h = new Havipd(options, 0);
    await h.start(timeoutMs);
    return h;
  }

  /** Starts this havipd (again); resolves once its API is healthy. */
  async start(timeoutMs = 30_000): Promise<void> {
    mkdirSync(this.options.dataDir, { recursive: true, mode: 0o700 });
    const fd = openSync(this.logFile, "a");
    const child = spawn(process.execPath, Havipd.args(this.options), {
      stdio: ["ignore", fd, fd],
      detached: true,
      env: { ...process.env, HAVIP_ADMIN_TOKEN: this.options.adminToken },
    });
    closeSync(fd);
    child.unref();
    this.pid = child.pid ?? 0;
    const deadline = Date.now() + timeoutMs;
    while (!(await healthy(this.api))) {
      if (!pidAlive(this.pid)) throw new Error(`havipd exited at start; its log:\n${this.logTail()}`);
      if (Date.now() > deadline)
        throw new Error(`havipd not healthy after ${timeoutMs} ms; its log:\n${this.logTail()}`);
      await sleep(50);
    }
  }

  alive(): boolean {
    return this.pid !== 0 && pidAlive(this.pid);
  }

  /** kill -9. */
  async kill(): Promise<void> {
    signal(this.pid, "SIGKILL");
    await waitGone(this.pid, 5000);
  }

  /** A graceful stop (SIGTERM), SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive()) return;
    signal(this.pid, "SIGTERM");
    if (!(await waitGone(this.pid, graceMs))) await this.kill();
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}
