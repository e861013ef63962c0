// havipd's command line. Plain node:util parseArgs: the daemon has few flags and no subcommands.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BadDatabaseUrl, resolveDatabase, type DatabaseTarget } from "./database-url.ts";
import { DEFAULT_LISTEN, parseListenAddress, type ListenAddress } from "./listen-address.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonOptions {
  listen: ListenAddress;
  dataDir: string; // absolute
  database: DatabaseTarget;
  logLevel: LogLevel;
  logFormat: "auto" | "json" | "pretty"; // auto: pretty on a terminal, JSON otherwise
  operatorTokenFromEnv: string | undefined;
  /** Where the in-process fabric's VXLAN port set listens (UDP); null: no VXLAN ports (API-only use). */
  fabricListen: ListenAddress | null;
  /** A fabric agent's Unix socket: the fabric runs there instead of in havipd's process. */
  fabricAgent: string | null;
  /** --lab-dir: havipd sets up the Linux lab's fabric namespace and runs the fabric agent there (root). */
  lab?: { dir: string; prefix: string } | null;
}

export type Invocation = { kind: "run"; options: DaemonOptions } | { kind: "help" } | { kind: "version" };

export class UsageError extends Error {}

export const USAGE = `Usage: havipd [options]

Serves the havip control-plane API (HTTP, JSON) backed by an embedded SQLite database or PostgreSQL.

Options:
  --listen HOST:PORT   address to serve on (default 127.0.0.1:7480; port 0 picks a free port);
                       unix:/abs/path.sock serves on a Unix socket
  --data-dir DIR       directory for the embedded database and the generated operator token
                       (default $HAVIP_DATA_DIR, else ./data; created if missing)
  --database URL       a SQLite file path, sqlite:///abs/path.db, file:///abs/path.db, or
                       postgres://user:password@host:port/db (default: havip.db in the data directory)
  --fabric-listen HOST:PORT
                       run the fabric's VXLAN port set on this UDP address (e.g. 169.254.77.1:4789), so
                       vNICs attached with PUT /v1/fabric/attachments/{vnicId} reach it (default: off; the
                       fabric still runs in-process and follows the control plane)
  --fabric-agent unix:/abs/path.sock
                       drive a fabric agent (src/agent/main.ts, e.g. in the lab's fabric namespace)
                       over its Unix socket instead of running the fabric in-process
  --lab-dir DIR        (root) create or reuse the Linux lab in DIR: its fabric and underlay network
                       namespaces, and the fabric agent inside the fabric namespace, which havipd then
                       drives; on shutdown the agent stops, the lab stays until "havip lab down"
  --lab-prefix PREFIX  prefix of the lab's namespace names (default hvl-; only with --lab-dir)
  --log-level LEVEL    ${LOG_LEVELS.join(", ")} (default info)
  --log-format FORMAT  json or pretty (default: pretty when stdout is a terminal, else json)
  -h, --help           show this help
  -V, --version        show the version

Environment:
  HAVIP_ADMIN_TOKEN    the operator token; when unset, a random one is generated on first start and kept in
                       <data-dir>/admin-token (mode 0600)
  HAVIP_DATA_DIR       default for --data-dir

Signals: SIGINT or SIGTERM shuts down gracefully (in-flight requests finish, event streams close);
a second signal exits at once.`;

export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Invocation {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: "string" },
        "data-dir": { type: "string" },
        database: { type: "string" },
        "fabric-listen": { type: "string" },
        "fabric-agent": { type: "string" },
        "lab-dir": { type: "string" },
        "lab-prefix": { type: "string" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    }));
  } catch (e) {
    throw new UsageError(cleanParseError(e));
  }
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };

  const listen = values.listen === undefined ? DEFAULT_LISTEN : parseListenAddress(values.listen);
  if ("error" in listen) throw new UsageError(listen.error);

  let fabricListen: ListenAddress | null = null;
  if (values["fabric-listen"] !== undefined) {
    const parsed = parseListenAddress(values["fabric-listen"]);
    if ("error" in parsed) throw new UsageError(parsed.error.replace("--listen", "--fabric-listen"));
    if (parsed.path !== undefined) throw new UsageError("--fabric-listen expects HOST:PORT (UDP), not a Unix socket");
    fabricListen = parsed;
  }

  let fabricAgent: string | null = null;
  if (values["fabric-agent"] !== undefined) {
    const path = values["fabric-agent"].replace(/^unix:/, "");
    if (!path.startsWith("/")) throw new UsageError("--fabric-agent expects the agent's socket as unix:/abs/path");
    if (fabricListen !== null) throw new UsageError("--fabric-listen and --fabric-agent exclude each other");
    fabricAgent = path;
  }

  let lab: { dir: string; prefix: string } | null = null;
  if (values["lab-dir"] !== undefined) {
    if (values["lab-dir"] === "") throw new UsageError("--lab-dir is empty");
    if (fabricListen !== null || fabricAgent !== null) {
      throw new UsageError("--lab-dir runs its own fabric agent: leave out --fabric-listen and --fabric-agent");
    }
    const prefix = values["lab-prefix"] ?? "hvl-";
    if (!/^[a-z][a-z0-9]{0,11}-$/.test(prefix)) {
      throw new UsageError(
        `--lab-prefix must be a lower-case letter, up to 11 letters or digits and a '-' (got "${prefix}")`,
      );
    }
    lab = { dir: resolve(cwd, values["lab-dir"]), prefix };
  } else if (values["lab-prefix"] !== undefined) {
    throw new UsageError("--lab-prefix needs --lab-dir");
  }

  const dataDirArg = values["data-dir"] ?? nonEmpty(env.HAVIP_DATA_DIR) ?? "data";
  if (dataDirArg === "") throw new UsageError("--data-dir is empty");
  const dataDir = resolve(cwd, dataDirArg);

  const logLevel = values["log-level"] ?? "info";
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);

  const logFormat = values["log-format"] ?? "auto";
  if (logFormat !== "auto" && logFormat !== "json" && logFormat !== "pretty") {
    throw new UsageError("--log-format must be json or pretty");
  }

  let database: DatabaseTarget;
  try {
    database = resolveDatabase(values.database, dataDir);
  } catch (e) {
    if (e instanceof BadDatabaseUrl) throw new UsageError(e.message);
    throw e;
  }
  return {
    kind: "run",
    options: {
      listen,
      dataDir,
      database,
      logLevel,
      logFormat,
      operatorTokenFromEnv: nonEmpty(env.HAVIP_ADMIN_TOKEN),
      fabricListen,
      fabricAgent,
      lab,
    },
  };
}

function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}

// parseArgs messages mention internals ("To specify a positional argument starting with a '-'…"); keep
// the first sentence, which names the offending flag.
function cleanParseError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split(/\.\s/)[0]?.replace(/\.$/, "") ?? message;
}
