// Processes as /proc sees them. A pid alone is not an identity (pids are reused, and after a reboot the
// same pid may even start at the same tick), so the lab records a process as (pid, start time, boot) and
// never signals a pid whose start time or boot has changed.
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot when the process started. */
  startTime: number;
  /** The kernel's boot id when the process started; absent in records written before it was kept. */
  bootId?: string;
}

let cachedBootId: string | undefined;

/** This boot's id (/proc/sys/kernel/random/boot_id): a process recorded under another boot is gone. */
export function currentBootId(): string {
  cachedBootId ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  return cachedBootId;
}

/** What /proc/<pid>/stat says of a process: its state letter, process group and start time (clock ticks since boot). */
export interface ProcStat {
  state: string;
  pgrp: number;
  startTime: number;
}

/** /proc/<pid>/stat read; undefined when there is no such process (or it cannot be read). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(pgrp) || !Number.isFinite(startTime)) return undefined;
  return { state, pgrp, startTime };
}

/** The identity of a live process, or undefined when there is none with that pid. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  const stat = readProcStat(pid);
  return stat === undefined || isDead(stat) ? undefined : { pid, startTime: stat.startTime, bootId: currentBootId() };
}

/** True while the very process that was recorded runs (a zombie counts as gone). */
export function isRunning(p: ProcessIdentity): boolean {
  if (p.bootId !== undefined && p.bootId !== currentBootId()) return false;
  const stat = readProcStat(p.pid);
  return stat !== undefined && !isDead(stat) && stat.startTime === p.startTime;
}

/** The process's argument vector (empty when it is gone or has none, as a kernel thread). */
export function commandLineOf(pid: number): string[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return [];
  }
  const args = text.split("\0");
  if (args.at(-1) === "") args.pop();
  return args;
}

/**
 * True while the recorded process runs and still runs what was recorded: its command line is the recorded
 * argument vector or a tail of it (`ip netns exec <ns> prog args` execs `prog args`; a wrapper execs the
 * next program). A process caught before its first exec still carries its parent's command line, so this
 * is for deciding what to restart, long after the start, and not for a process just spawned.
 */
export function runsCommand(p: ProcessIdentity, command: readonly string[]): boolean {
  if (!isRunning(p)) return false;
  const args = commandLineOf(p.pid);
  if (args.length === 0 || args.length > command.length) return false;
  const tail = command.slice(command.length - args.length);
  return args.every((a, i) => a === tail[i]);
}

function isDead(stat: ProcStat): boolean {
  return stat.state === "Z" || stat.state === "X";
}

/** Live members of a process group that started no earlier than the group's recorded leader. */
export function processGroupMembers(leader: ProcessIdentity): number[] {
  const members: number[] = [];
  if (leader.bootId !== undefined && leader.bootId !== currentBootId()) return members; // a group of another boot
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat !== undefined && !isDead(stat) && stat.pgrp === leader.pid && stat.startTime >= leader.startTime) {
      members.push(Number(entry));
    }
  }
  return members;
}

/** Sends a signal, ignoring a process that is already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/** Polls until the predicate holds or the time is up; returns whether it held. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

export interface StopOutcome {
  /** How the process ended: it was already gone, SIGTERM was enough, or SIGKILL was needed. */
  how: "gone" | "term" | "kill";
}

/**
 * Stops a process started as the leader of its own process group (spawned detached): SIGTERM to the leader,
 * then, after `graceMs`, SIGKILL to every remaining member of the group (its whole process tree, unless a
 * child left the group).
 */
export async function stopProcessTree(p: ProcessIdentity, graceMs: number): Promise<StopOutcome> {
  let how: StopOutcome["how"] = "gone";
  if (isRunning(p)) {
    signalPid(p.pid, "SIGTERM");
    how = (await waitUntil(() => !isRunning(p), graceMs)) ? "term" : "kill";
  }
  const stragglers = processGroupMembers(p);
  if (how === "kill" || stragglers.length > 0) {
    for (const pid of [p.pid, ...stragglers]) {
      if (pid !== p.pid || isRunning(p)) signalPid(pid, "SIGKILL");
    }
    await waitUntil(() => !isRunning(p) && processGroupMembers(p).length === 0, 2000);
  }
  return { how };
}
