// The long-running programs of a failover run, each inside a host's namespace: keepalived on the parents (same
// configuration on every system, rendered by @havip/lab) and UDP responders on the parents, tcpdump and a 1 kHz
// UDP prober on the client.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { renderKeepalivedConfig, type KeepalivedConfig } from "@havip/lab";
import type { BenchHost } from "../lib/topology.ts";
import { execIn } from "../topologies/shared.ts";
import { PROBE_PORT } from "./analyse.ts";

function ipNetnsExec(host: BenchHost, command: readonly string[]): Promise<string> {
  return execIn(host.namespace, command[0]!, command.slice(1));
}

export interface Running {
  readonly label: string;
  readonly log: string;
  /** Stops it (SIGTERM, or `signal`; SIGKILL after `graceMs`) and waits until it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Resolves when `pattern` appears in its log; rejects after `timeoutMs` or if it exits first. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<void>;
}

/** Runs `program args` inside `host`'s namespace (ip netns exec execs it: the pid is the program's). */
export function runIn(host: BenchHost, label: string, dir: string, program: string, args: readonly string[]): Running {
  const log = join(dir, `${host.name}-${label}.log`);
  const fd = openSync(log, "a");
  const child: ChildProcess = spawn("ip", ["netns", "exec", host.namespace, program, ...args], {
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
    child.once("error", () => {
      exited = true;
      resolve();
    });
  });
  const read = (): string => {
    try {
      return readFileSync(log, "utf8");
    } catch {
      return "";
    }
  };
  return {
    label,
    log,
    async stop(signal = "SIGTERM", graceMs = 3000) {
      if (exited) return;
      child.kill(signal);
      const killed = await Promise.race([exit.then(() => true), sleep(graceMs).then(() => false)]);
      if (!killed) {
        child.kill("SIGKILL");
        await exit;
      }
    },
    async waitForLog(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(read())) {
        if (exited) throw new Error(`${label} in ${host.name} exited:\n${read()}`);
        if (Date.now() > deadline)
          throw new Error(`${label} in ${host.name}: no ${String(pattern)} in its log:\n${read()}`);
        await sleep(20);
      }
    },
  };
}

/** keepalived in `host` with its own configuration, pid files and log in `dir` (like the lab starts it). */
export async function startKeepalived(host: BenchHost, dir: string, config: KeepalivedConfig): Promise<Running> {
  const conf = join(dir, `${host.name}-keepalived.conf`);
  writeFileSync(conf, renderKeepalivedConfig(config), { mode: 0o600 });
  // -n foreground, -l log to stdout, -D detailed, -G no syslog, -P VRRP only; own pid files (no /run collisions).
  // prettier-ignore
  const args = [
    "-n", "-l", "-D", "-G", "-P", "-f", conf,
    "-p", join(dir, `${host.name}-keepalived.pid`), "-r", join(dir, `${host.name}-keepalived-vrrp.pid`),
  ];
  const k = runIn(host, "keepalived", dir, "keepalived", args);
  await k.waitForLog(/Startup complete|Entering (?:BACKUP|MASTER|FAULT) STATE/, 10_000);
  return k;
}

/** tcpdump on the client's eth0: ARP and the probes to and from the VIP, nanosecond stamps, written unbuffered. */
export async function startCapture(
  host: BenchHost,
  dir: string,
  vip: string,
): Promise<{ file: string; tcpdump: Running }> {
  const file = join(dir, `${host.name}.pcap`);
  // prettier-ignore
  const args = [
    "-i", "eth0", "-n", "-U", "-w", file, "-s", "96", "-B", "16384", "--time-stamp-precision=nano",
    `arp or (udp and host ${vip} and port ${PROBE_PORT})`,
  ];
  const tcpdump = runIn(host, "tcpdump", dir, "tcpdump", args);
  await tcpdump.waitForLog(/listening on/, 10_000);
  return { file, tcpdump };
}

/**
 * tcpdump of a parent's ARP and of the probes it receives and answers, on `any` (cooked headers): unlike eth0,
 * that capture survives the parent's link being cut and restored.
 */
export async function startParentCapture(
  host: BenchHost,
  dir: string,
  vip: string,
): Promise<{ file: string; tcpdump: Running }> {
  const file = join(dir, `${host.name}-parent.pcap`);
  // prettier-ignore
  const args = [
    "-i", "any", "-y", "LINUX_SLL", "-n", "-U", "-w", file, "-s", "96", "--time-stamp-precision=nano",
    `arp or (udp and host ${vip} and port ${PROBE_PORT})`,
  ];
  const tcpdump = runIn(host, "tcpdump-parent", dir, "tcpdump", args);
  await tcpdump.waitForLog(/listening on/, 10_000);
  return { file, tcpdump };
}

const PROBER = fileURLToPath(new URL("./prober.ts", import.meta.url));
const RESPONDER = fileURLToPath(new URL("./responder.ts", import.meta.url));

/** The client's prober: a UDP datagram to the VIP every `intervalMs`, answered or not. */
export async function startProber(host: BenchHost, dir: string, vip: string, intervalMs: number): Promise<Running> {
  const prober = runIn(host, "prober", dir, process.execPath, [PROBER, vip, String(PROBE_PORT), String(intervalMs)]);
  await prober.waitForLog(/probing/, 15_000);
  return prober;
}

/** A parent's responder, bound to the VIP whether or not it holds it (non-local bind in its namespace). */
export async function startResponder(host: BenchHost, dir: string, vip: string): Promise<Running> {
  await ipNetnsExec(host, ["sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"]);
  const responder = runIn(host, "responder", dir, process.execPath, [RESPONDER, vip, String(PROBE_PORT)]);
  await responder.waitForLog(/listening/, 15_000);
  return responder;
}
