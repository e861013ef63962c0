// A throw-away PostgreSQL for the fault suite (scripts/pg-test.sh on a port of its own), and the outage fault's
// two halves: stop it at once (as a crash would: `pg_ctl stop -m immediate`) and start it again on the same data
// directory and port.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
const PG_TEST = fileURLToPath(new URL("../../scripts/pg-test.sh", import.meta.url));

/** The ports this suite and its benchmark may use (other suites use others). */
export const FAULT_PG_PORTS = { suite: 55620, bench: 55621, benchSmoke: 55622 } as const;

function serverBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort() : [];
  for (const v of versions.reverse()) {
    if (existsSync(join(root, v, "bin", "pg_ctl"))) return join(root, v, "bin");
  }
  throw new Error("no PostgreSQL server binaries (apt-get install postgresql)");
}

export class ThrowAwayPostgres {
  readonly url: string;
  readonly port: number;
  readonly #dir: string;

  private constructor(url: string, port: number) {
    this.url = url;
    this.port = port;
    this.#dir = join(process.env.TMPDIR ?? "/tmp", `havip-pg-test-${port}`);
  }

  static async start(port: number): Promise<ThrowAwayPostgres> {
    const env = { ...process.env, HAVIP_PG_PORT: String(port) };
    // A server left by an earlier, interrupted run on this port is replaced: fresh database every time.
    await run("bash", [PG_TEST, "stop"], { env });
    const { stdout } = await run("bash", [PG_TEST, "start"], { env });
    return new ThrowAwayPostgres(stdout.trim(), port);
  }

  /** Stops the server at once: clients' connections break, nothing is shut down cleanly. */
  async crash(): Promise<void> {
    await this.#pgCtl(["-D", join(this.#dir, "data"), "-m", "immediate", "-w", "stop"]);
  }

  /** Starts the server again on its data directory and port (as pg-test.sh started it). */
  async restart(): Promise<void> {
    const options = `-p ${this.port} -k ${this.#dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    await this.#pgCtl([
      "-D",
      join(this.#dir, "data"),
      "-l",
      join(this.#dir, "server.log"),
      "-w",
      "-t",
      "60",
      "-o",
      options,
      "start",
    ]);
  }

  async stop(): Promise<void> {
    await run("bash", [PG_TEST, "stop"], { env: { ...process.env, HAVIP_PG_PORT: String(this.port) } });
  }

  async #pgCtl(args: readonly string[]): Promise<void> {
    const pgCtl = join(serverBinDir(), "pg_ctl");
    if (process.getuid?.() === 0) await run("runuser", ["-u", "postgres", "--", pgCtl, ...args]);
    else await run(pgCtl, [...args]);
  }
}
