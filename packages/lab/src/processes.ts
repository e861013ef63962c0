// Long-running processes the lab starts (keepalived, services, the fabric): each one detached in its own
// process group, so that it outlives a short-lived CLI and so that its whole tree can be stopped, with its
// output appended to a log file.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { LabError } from "./errors.ts";
import { isRunning, processIdentity, stopProcessTree } from "./proc.ts";
import type { ProcessIdentity, StopOutcome } from "./proc.ts";
import { commandLine } from "./run.ts";

export interface SpawnOptions {
  logFile: string;
  /** "pipe" gives the caller the process's stdin (closing it is how the caller says goodbye). */
  stdin?: "ignore" | "pipe";
  /** Keep this Node process alive while the child runs (default false: a CLI may exit and leave it running). */
  keepAlive?: boolean;
}

export interface SpawnedProcess {
  /** null when the process had already gone by the time it was looked at. */
  identity: ProcessIdentity | null;
  stdin: Writable | null;
}

/** Starts `argv` detached with stdout and stderr appended to the log file. */
export function spawnLogged(argv: readonly string[], options: SpawnOptions): SpawnedProcess {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("spawnLogged needs a program");
  const log = openSync(options.logFile, "a", 0o600);
  try {
    const child = spawn(program, args, {
      detached: true,
      stdio: [options.stdin ?? "ignore", log, log],
    });
    const pid = child.pid;
    // An exec failure (ENOENT) is reported here asynchronously; the missing pid already tells the caller.
    child.on("error", () => undefined);
    if (options.keepAlive !== true) child.unref();
    if (pid === undefined) {
      throw new LabError("Lab.ProcessFailed", `${commandLine(program, args)} could not be started`);
    }
    const identity = processIdentity(pid);
    return { identity: identity ?? null, stdin: child.stdin };
  } finally {
    closeSync(log);
  }
}

/** The log's text from a byte offset on (empty when there is no log yet). */
export function readLog(logFile: string, fromOffset = 0): string {
  try {
    return readFileSync(logFile).subarray(fromOffset).toString("utf8");
  } catch {
    return "";
  }
}

export function logTail(logFile: string, lines = 15): string {
  return readLog(logFile).trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Waits until the log (from `fromOffset` on) matches; fails early, quoting the log, when the process exits
 * first. Returns the match.
 */
export async function waitForLog(
  logFile: string,
  pattern: RegExp,
  timeoutMs: number,
  process?: ProcessIdentity | null,
  fromOffset = 0,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Check for an exit first, then the log: a line written just before the exit still counts.
    const exited = process !== undefined && (process === null || !isRunning(process));
    const match = pattern.exec(readLog(logFile, fromOffset));
    if (match !== null) return match;
    if (exited || Date.now() >= deadline) {
      const why = exited ? "exited before it printed" : `did not print, within ${timeoutMs} ms,`;
      throw new LabError(
        "Lab.ProcessFailed",
        `The process logging to ${logFile} ${why} a line matching ${String(pattern)}; its log ends:\n${logTail(logFile)}`,
      );
    }
    await sleep(20);
  }
}

export { stopProcessTree };
export type { StopOutcome };
