// PostgreSQL for the control-plane benchmark. With HAVIP_TEST_PG_URL (CI, the smoke test) a fresh schema on that
// server; otherwise a throw-away cluster of our own on a free loopback port with PostgreSQL's durable defaults
// (fsync on, synchronous_commit on) — the test cluster of scripts/pg-test.sh runs with fsync off, which would
// flatter PostgreSQL against SQLite's synchronous=FULL. Everything is removed at the end, also on Ctrl-C.
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "@havip/testkit";

export interface BenchPostgres {
  /** The URL to give havipd (`?schema=` when on a shared server). */
  url: string;
  /** "on" or "off": the server's fsync setting, reported with the numbers. */
  fsync: string;
  /** "own cluster" or "HAVIP_TEST_PG_URL". */
  source: string;
  stop(): Promise<void>;
}

/** HAVIP_BENCH_PG_PORT, else a port free right now (two benchmark runs at once must not share a cluster). */
async function clusterPort(): Promise<number> {
  const fixed = process.env.HAVIP_BENCH_PG_PORT;
  if (fixed !== undefined && fixed !== "") return Number(fixed);
  return freePort();
}

function serverBin(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  for (const v of readdirSync(root).sort().reverse()) {
    const bin = join(root, v, "bin");
    if (existsSync(join(bin, "initdb"))) return bin;
  }
  return null;
}

async function showFsync(connectionString: string): Promise<string> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const result = await client.query<{ fsync: string }>("show fsync");
    return result.rows[0]?.fsync ?? "unknown";
  } finally {
    await client.end();
  }
}

async function sharedServer(base: string): Promise<BenchPostgres> {
  const schema = `bench_${process.pid}_${Date.now().toString(36)}`;
  const url = new URL(base);
  url.searchParams.set("schema", schema);
  const drop = async () => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  };
  return { url: url.toString(), fsync: await showFsync(base), source: "HAVIP_TEST_PG_URL", stop: drop };
}

function ownCluster(port: number): BenchPostgres {
  const bin = serverBin();
  if (bin === null) throw new Error("no PostgreSQL server binaries (apt-get install postgresql)");
  const dir = mkdtempSync(join(tmpdir(), "havip-bench-pg-"));
  const root = process.getuid?.() === 0;
  // initdb refuses to run as root: as root the cluster belongs to the postgres user.
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = root ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
  };
  let started = false;
  const stopSync = () => {
    if (started) {
      const [file, argv] = root
        ? [
            "runuser",
            ["-u", "postgres", "--", join(bin, "pg_ctl"), "-D", join(dir, "data"), "-m", "immediate", "-w", "stop"],
          ]
        : [join(bin, "pg_ctl"), ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]];
      spawnSync(file, argv, { stdio: "ignore" });
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stopSync);
  try {
    if (root) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString().trim()), 0);
    run("initdb", ["-D", join(dir, "data"), "-U", "havip", "--auth=trust", "-E", "UTF8"]);
    run("pg_ctl", [
      "-D",
      join(dir, "data"),
      "-l",
      join(dir, "server.log"),
      "-w",
      "-t",
      "60",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      "start",
    ]);
    started = true;
    run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "havip", "havip_bench"]);
  } catch (e) {
    stopSync();
    throw e;
  }
  return {
    url: `postgres://havip@127.0.0.1:${port}/havip_bench`,
    fsync: "on",
    source: "own cluster",
    stop: () => {
      stopSync();
      return Promise.resolve();
    },
  };
}

export async function startPostgres(): Promise<BenchPostgres> {
  const shared = process.env.HAVIP_TEST_PG_URL;
  if (shared !== undefined && shared !== "") return sharedServer(shared);
  const own = ownCluster(await clusterPort());
  own.fsync = await showFsync(own.url);
  return own;
}
