// The fabric agent as a process, seen through /proc: is it the agent of this socket, does it still run (a zombie
// does not), and killing it. A pid alone is no identity (pids are reused): a process is (pid, start time).
import { closeSync, fstatSync, openSync, readSync, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { readProcStat, type ProcStat } from "@havip/lab";

export interface AgentProcess {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot when the process started. */
  startTime: number;
}

function isDead(stat: ProcStat): boolean {
  return stat.state === "Z" || stat.state === "X";
}

/** True while that very process runs (stopped counts as running; a zombie does not). */
export function isAlive(p: AgentProcess): boolean {
  const stat = readProcStat(p.pid);
  return stat !== undefined && !isDead(stat) && stat.startTime === p.startTime;
}

/** A stopped process (SIGSTOP): it runs, but answers nothing. */
export function isStopped(p: AgentProcess): boolean {
  const stat = readProcStat(p.pid);
  return stat !== undefined && stat.startTime === p.startTime && (stat.state === "T" || stat.state === "t");
}

/**
 * Whether a command line runs the fabric agent (…/daemon/src/agent/main.ts, by any Node) on this socket. The
 * script is matched by its place in the repository, not its absolute path: an agent left by a havipd of another
 * checkout of the same lab directory is still this lab's agent.
 */
export function isAgentCommand(argv: readonly string[], socket: string): boolean {
  const script = argv.findIndex((a) => a.endsWith("/daemon/src/agent/main.ts"));
  if (script < 0) return false;
  for (let i = script + 1; i < argv.length; i++) {
    if (argv[i] === "--socket" && argv[i + 1] === socket) return true;
    if (argv[i] === `--socket=${socket}`) return true;
  }
  return false;
}

function commandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter((a) => a !== "");
  } catch {
    return undefined;
  }
}

/** Every live process that is the fabric agent on this socket (whatever recorded it, or nothing did). */
export function findAgentProcesses(socket: string): AgentProcess[] {
  const found: AgentProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = commandLine(pid);
    if (argv === undefined || !isAgentCommand(argv, socket)) continue;
    const stat = readProcStat(pid);
    if (stat !== undefined && !isDead(stat)) found.push({ pid, startTime: stat.startTime });
  }
  return found;
}

/**
 * Kills the agent with SIGKILL (a stopped process too), and its process group when it leads one (the lab starts
 * it detached); resolves true once it is gone, false if it is still there after `timeoutMs`.
 */
export async function killAgent(p: AgentProcess, timeoutMs = 2000): Promise<boolean> {
  const stat = readProcStat(p.pid);
  if (stat === undefined || isDead(stat) || stat.startTime !== p.startTime) return true;
  try {
    process.kill(stat.pgrp === p.pid ? -p.pid : p.pid, "SIGKILL");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
  const deadline = performance.now() + timeoutMs;
  while (isAlive(p)) {
    if (performance.now() >= deadline) return false;
    await sleep(10);
  }
  return true;
}

/** How an agent that is gone went, as far as its log says (main.ts writes it on its way out). */
export interface AgentExit {
  /** It exited cleanly after SIGTERM or SIGINT: someone stopped it on purpose. */
  deliberate: boolean;
  /** Its exit code; null when it said nothing (killed by a signal: SIGKILL, a crash of the runtime). */
  exitCode: number | null;
  signal: string | null;
  /** The last line it wrote that is not one of its JSON lines (an error message), if any. */
  lastLog?: string;
}

/** Reads how the agent went from its log: only what follows its last ready line counts (earlier runs share it). */
export function agentExitFromLog(log: string): AgentExit {
  const ready = log.lastIndexOf('"ready":true');
  const lines = log.slice(ready < 0 ? 0 : log.indexOf("\n", ready) + 1).split("\n");
  let exitCode: number | null = null;
  let signal: string | null = null;
  let lastLog: string | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "") continue;
    const said = line.startsWith("{") ? parseWord(line) : null;
    if (said !== null && said.exited === true && typeof said.code === "number") exitCode = said.code;
    else if (said !== null && said.stopping === true && typeof said.signal === "string") signal = said.signal;
    else lastLog = line.slice(0, 500);
  }
  return {
    deliberate: signal !== null && exitCode === 0,
    exitCode,
    signal,
    ...(lastLog === undefined ? {} : { lastLog }),
  };
}

interface LogWord {
  exited?: unknown;
  code?: unknown;
  stopping?: unknown;
  signal?: unknown;
}

function parseWord(line: string): LogWord | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}

/** The end of a log file (the part that says how its process went). */
export function logTail(file: string, bytes = 64 * 1024): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}
