// What every bench topology needs: commands, host addressing, a sweep of its namespaces (and the processes in
// them) by prefix, and a teardown that also runs on Ctrl-C, so an interrupted benchmark leaves nothing behind.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

/** Runs a program and returns its stdout; rejects with its stderr when it fails (or is killed at `timeoutMs`). */
export async function sh(
  program: string,
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileP(program, args, { maxBuffer: 64 * 2 ** 20, timeout: options.timeoutMs ?? 0 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${program} ${args.join(" ")}: ${(err.stderr ?? "").trim() || err.message}`, { cause: e });
  }
}

/** `ip -n <ns> …`: one ip command inside a namespace. */
export function ipIn(namespace: string, args: readonly string[]): Promise<string> {
  return sh("ip", ["-n", namespace, ...args]);
}

/** Runs a program inside a namespace. */
export function execIn(namespace: string, program: string, args: readonly string[]): Promise<string> {
  return sh("ip", ["netns", "exec", namespace, program, ...args]);
}

/** Host `index` (0-based) of every topology: 10.0.1.11, .12, …/24. */
export function hostAddress(index: number): string {
  return `10.0.1.${11 + index}`;
}

/** A locally administered MAC for host `index`, used where the system does not assign one. */
export function hostMac(index: number): string {
  return `02:00:0a:00:01:${(11 + index).toString(16).padStart(2, "0")}`;
}

/** A topology prefix must be like a lab's: a letter, up to 11 letters or digits, and a final '-'. */
export function checkTopologyPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9]{0,11}-$/.test(prefix)) {
    throw new Error(`topology prefix '${prefix}' must be a lower-case letter, up to 11 letters or digits, and '-'`);
  }
}

export async function namespacesWithPrefix(prefix: string): Promise<string[]> {
  const out = await sh("ip", ["netns", "list"]);
  return out
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(prefix));
}

/** Kills every process in the prefix's namespaces, then deletes the namespaces (and with them their links). */
export async function sweepNamespaces(prefix: string): Promise<void> {
  for (const ns of await namespacesWithPrefix(prefix)) {
    const pids = (await sh("ip", ["netns", "pids", ns]).catch(() => "")).split("\n").filter((p) => p !== "");
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    await sh("ip", ["netns", "del", ns]).catch(() => undefined);
  }
}

/** A host's eth0 in a namespace: address /24, MAC, MTU, up; IPv6 off (its chatter is no part of a benchmark). */
export async function configureEth0(namespace: string, ip: string, mac: string, mtu: number): Promise<void> {
  await execIn(namespace, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
  await ipIn(namespace, ["link", "set", "lo", "up"]);
  await ipIn(namespace, ["link", "set", "eth0", "address", mac, "mtu", String(mtu)]);
  await ipIn(namespace, ["addr", "add", `${ip}/24`, "dev", "eth0"]);
  await ipIn(namespace, ["link", "set", "eth0", "up"]);
}

// ---- Teardown on Ctrl-C: every live topology registers its down(); one handler runs them all, then exits. ----

const liveTeardowns = new Set<() => Promise<void>>();
let handlerInstalled = false;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  process.stderr.write(`\n${signal}: taking ${String(liveTeardowns.size)} topology(ies) down…\n`);
  for (const down of [...liveTeardowns]) await down().catch(() => undefined);
  process.exit(signal === "SIGINT" ? 130 : 143);
}

/** Registers `down` to run on SIGINT/SIGTERM until the returned function is called. */
export function downOnInterrupt(down: () => Promise<void>): () => void {
  liveTeardowns.add(down);
  if (!handlerInstalled) {
    handlerInstalled = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, (s) => {
        void onSignal(s);
      });
    }
  }
  return () => liveTeardowns.delete(down);
}

/** A teardown that runs once however often it is called, and is registered for Ctrl-C meanwhile. */
export function teardown(steps: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const down = (): Promise<void> => {
    done ??= (async () => {
      unregister();
      await steps();
    })();
    return done;
  };
  const unregister = downOnInterrupt(down);
  return down;
}
