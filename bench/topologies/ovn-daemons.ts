// Open vSwitch (userspace datapath) and OVN, started by hand for one benchmark run: every database, socket,
// pidfile and log lives in a private directory, and ovs-vswitchd runs in a namespace of its own, so its tap
// devices (br-int, ovs-netdev) never appear in the root namespace and parallel runs never collide. Nothing under
// /etc, /var/run or /var/lib is read or written.
import { execFile, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end; never throws on a non-zero exit (the caller decides). `inflight` holds it while it
 * runs, so a teardown can kill a client still waiting on a daemon (e.g. `ovn-nbctl --wait=hv`).
 */
export function run(
  file: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
  inflight?: Set<ChildProcess>,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        inflight?.delete(child);
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    inflight?.add(child);
  });
}

/** Like run, but a non-zero exit is an error naming the command and its stderr. */
export async function must(
  file: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
  inflight?: Set<ChildProcess>,
): Promise<string> {
  const r = await run(file, args, env, inflight);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} → exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

const OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";
const NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema";
const SB_SCHEMA = "/usr/share/ovn/ovn-sb.ovsschema";

/** The daemons, in start order; stopped in reverse. */
const DAEMONS = ["ovsdb-server", "ovn-nb", "ovn-sb", "ovs-vswitchd", "ovn-northd", "ovn-controller"] as const;

export interface OvnDaemons {
  /** The private directory holding databases, sockets, pidfiles and logs. */
  readonly dir: string;
  /** The namespace ovs-vswitchd (and so br-int and the switch ends of the veths) lives in. */
  readonly namespace: string;
  readonly vsctl: (args: readonly string[]) => Promise<string>;
  readonly nbctl: (args: readonly string[]) => Promise<string>;
  readonly sbctl: (args: readonly string[]) => Promise<string>;
  /** Kills every daemon started (by pidfile), deletes the namespace and the directory; safe to call twice. */
  readonly stop: () => void;
  /** The tail of every daemon's log, for error messages. */
  readonly logs: () => string;
}

/** The environment every OVS/OVN tool gets: every default directory points into `dir`. */
function privateEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of ["OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"]) env[v] = dir;
  for (const v of ["OVN_RUNDIR", "OVN_DBDIR", "OVN_LOGDIR", "OVN_SYSCONFDIR"]) env[v] = dir;
  return env;
}

function pidOf(pidfile: string): number | null {
  try {
    const pid = Number(readFileSync(pidfile, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Synchronous teardown (also usable from a signal handler): SIGTERM to each daemon by pidfile, SIGKILL to any
 * still alive after a short wait, then the namespace and the directory.
 */
export function stopDaemons(dir: string, namespace: string): void {
  const pids = [...DAEMONS]
    .reverse()
    .map((d) => pidOf(join(dir, `${d}.pid`)))
    .filter((p): p is number => p !== null);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 2000;
  while (pids.some(alive) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  if (existsSync(`/run/netns/${namespace}`)) {
    execFileSyncQuiet("ip", ["netns", "delete", namespace]);
  }
  rmSync(dir, { recursive: true, force: true });
}

function execFileSyncQuiet(file: string, args: readonly string[]): void {
  try {
    execFileSync(file, args, { stdio: "ignore" });
  } catch {
    // best effort during teardown
  }
}

/**
 * Starts ovsdb-server (Open_vSwitch), the OVN northbound and southbound databases, ovs-vswitchd (in
 * `<prefix>ovs`), ovn-northd and ovn-controller; returns when br-int exists with the netdev datapath.
 */
export async function startOvnDaemons(prefix: string): Promise<OvnDaemons> {
  const dir = mkdtempSync(join(tmpdir(), `havip-bench-${prefix}ovn-`));
  const namespace = `${prefix}ovs`;
  const env = privateEnv(dir);
  const p = (name: string) => join(dir, name);
  const ovsDb = `unix:${p("db.sock")}`;
  const nbDb = `unix:${p("ovnnb_db.sock")}`;
  const sbDb = `unix:${p("ovnsb_db.sock")}`;
  // ovn-controller has no --unixctl: its control socket goes to OVN_RUNDIR, which is `dir` too.
  const daemonArgs = (name: string) => [
    `--pidfile=${p(`${name}.pid`)}`,
    `--log-file=${p(`${name}.log`)}`,
    ...(name === "ovn-controller" ? [] : [`--unixctl=${p(`${name}.ctl`)}`]),
    "--detach",
    "-vconsole:off",
  ];
  const inflight = new Set<ChildProcess>();
  const daemons: OvnDaemons = {
    dir,
    namespace,
    vsctl: (args) => must("ovs-vsctl", [`--db=${ovsDb}`, "--timeout=30", ...args], env, inflight),
    nbctl: (args) => must("ovn-nbctl", [`--db=${nbDb}`, "--timeout=30", ...args], env, inflight),
    sbctl: (args) => must("ovn-sbctl", [`--db=${sbDb}`, "--timeout=30", ...args], env, inflight),
    stop: () => {
      for (const child of inflight) child.kill("SIGKILL");
      inflight.clear();
      stopDaemons(dir, namespace);
    },
    logs: () =>
      DAEMONS.map((d) => {
        try {
          return `--- ${d}\n${readFileSync(p(`${d}.log`), "utf8")
            .split("\n")
            .slice(-15)
            .join("\n")}`;
        } catch {
          return `--- ${d}: no log`;
        }
      }).join("\n"),
  };
  try {
    await must("ip", ["netns", "add", namespace]);
    await must("ip", ["-n", namespace, "link", "set", "lo", "up"]);
    await must("ovsdb-tool", ["create", p("conf.db"), OVS_SCHEMA], env);
    await must("ovsdb-tool", ["create", p("ovnnb_db.db"), NB_SCHEMA], env);
    await must("ovsdb-tool", ["create", p("ovnsb_db.db"), SB_SCHEMA], env);
    const remote = (sock: string, db: string) => [`--remote=punix:${p(sock)}`, p(db)];
    await must(
      "ovsdb-server",
      [
        ...remote("db.sock", "conf.db"),
        "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
        ...daemonArgs("ovsdb-server"),
      ],
      env,
    );
    await must("ovsdb-server", [...remote("ovnnb_db.sock", "ovnnb_db.db"), ...daemonArgs("ovn-nb")], env);
    await must("ovsdb-server", [...remote("ovnsb_db.sock", "ovnsb_db.db"), ...daemonArgs("ovn-sb")], env);
    await daemons.vsctl(["--no-wait", "init"]);
    await daemons.nbctl(["init"]);
    await daemons.sbctl(["init"]);
    // ovs-vswitchd logs that the kernel module is missing: expected, the netdev datapath needs none.
    await must("ip", ["netns", "exec", namespace, "ovs-vswitchd", ovsDb, ...daemonArgs("ovs-vswitchd")], env);
    await must("ovn-northd", [`--ovnnb-db=${nbDb}`, `--ovnsb-db=${sbDb}`, ...daemonArgs("ovn-northd")], env);
    await daemons.vsctl([
      "set",
      "open_vswitch",
      ".",
      `external_ids:ovn-remote=${sbDb}`,
      "external_ids:ovn-encap-type=geneve",
      "external_ids:ovn-encap-ip=127.0.0.1",
      `external_ids:system-id=${prefix}chassis`,
      "external_ids:ovn-bridge-datapath-type=netdev",
    ]);
    await must("ip", ["netns", "exec", namespace, "ovn-controller", ovsDb, ...daemonArgs("ovn-controller")], env);
    // ovn-controller creates br-int; wait for it (and for its datapath type) before ports are added.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await run("ovs-vsctl", [`--db=${ovsDb}`, "get", "bridge", "br-int", "datapath_type"], env);
      if (r.code === 0 && r.stdout.includes("netdev")) break;
      if (Date.now() > deadline) throw new Error(`br-int did not appear\n${daemons.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return daemons;
  } catch (error) {
    daemons.stop();
    throw error;
  }
}
