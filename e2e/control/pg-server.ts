// A throw-away PostgreSQL server that a test owns (so it may stop and start it): Debian's server binaries,
// a cluster in a temporary directory on a free loopback port, run as `postgres` when the test runs as root
// (initdb refuses root), removed at the end. Without the binaries the suite skips loudly (fails in CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { freePort } from "@havip/testkit";
import type { Cleanup } from "./harness.ts";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

function serverBinaries(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest === undefined ? null : join(base, newest, "bin");
}

/** `{skip}` for a suite that needs PostgreSQL's server binaries; says so loudly when they are missing. */
export function needsPostgresServer(suite: string): { skip: string | false } {
  if (serverBinaries() !== null) return { skip: false };
  const reason = `!!! ${suite}: SKIPPED — needs PostgreSQL's server binaries (apt-get install postgresql) !!!`;
  process.stderr.write(`\n${reason}\n\n`);
  if (process.env.CI !== undefined && process.env.CI !== "") {
    test(`${suite} must run with PostgreSQL in CI`, () => {
      assert.fail(`${suite} needs PostgreSQL's server binaries and CI is set`);
    });
  }
  return { skip: reason };
}

export interface PostgresServer {
  /** postgres://… of the test database (no schema parameter). */
  readonly url: string;
  readonly port: number;
  /** Stops the server: `immediate` is a crash (no checkpoint, connections cut). */
  stop(mode?: "immediate" | "fast"): Promise<void>;
  /** Starts it again on the same data directory and port; resolves once it accepts connections. */
  start(): Promise<void>;
}

export async function startPostgres(t: Cleanup): Promise<PostgresServer> {
  const bin = serverBinaries();
  if (bin === null) throw new Error("no PostgreSQL server binaries");
  const dir = await mkdtemp(join(tmpdir(), "havip-pg-"));
  const data = join(dir, "data");
  const port = await freePort();
  if (isRoot) await chown(dir, ...(await postgresIds()));
  const asPostgres = (command: string, args: string[]) =>
    isRoot ? run("runuser", ["-u", "postgres", "--", join(bin, command), ...args]) : run(join(bin, command), args);
  await asPostgres("initdb", ["-D", data, "-U", "havip", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  let running = false;
  const server: PostgresServer = {
    url: `postgres://havip@127.0.0.1:${port}/havip_test`,
    port,
    async stop(mode = "fast") {
      await asPostgres("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);
      running = false;
    },
    async start() {
      await asPostgres("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-w", "-t", "60", "-o", options, "start"]);
      running = true;
    },
  };
  t.after(async () => {
    if (running) await server.stop("immediate").catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  await server.start();
  await asPostgres("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "havip", "havip_test"]);
  return server;
}

async function postgresIds(): Promise<[number, number]> {
  const { stdout } = await run("id", ["postgres"]);
  const uid = /uid=(\d+)/.exec(stdout)?.[1];
  const gid = /gid=(\d+)/.exec(stdout)?.[1];
  if (uid === undefined || gid === undefined) throw new Error(`no postgres user: ${stdout}`);
  return [Number(uid), Number(gid)];
}
