// Every program the lab runs goes through here: execFile with an argument vector (never a shell string),
// a timeout, and an error that names the command and quotes its stderr.
import { execFile } from "node:child_process";
import { LabError, programMissing } from "./errors.ts";
import { findProgram } from "./preflight.ts";

export interface RunOptions {
  /** Kill the command after this many milliseconds (default 10 s). */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit code; non-zero only from runResult(). */
  code: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** The command as an operator would type it, for messages. */
export function commandLine(program: string, args: readonly string[]): string {
  return [program, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/** Runs a program; resolves with its exit code, whatever it is. Rejects when it cannot run or times out. */
export function runResult(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const path = lookupProgram(program);
  // Not found is not installed (execFile would say ENOENT, or EACCES when PATH has an unreadable directory).
  if (path === undefined) return Promise.reject(programMissing(program));
  return new Promise((resolve, reject) => {
    const child = execFile(
      path,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr, code: 0 });
          return;
        }
        const e = error as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        if (e.code === "ENOENT") {
          reject(programMissing(program));
        } else if (e.killed === true) {
          reject(
            new LabError(
              "Lab.CommandTimedOut",
              `${commandLine(program, args)} did not finish within ${timeoutMs} ms${tail(stderr)}`,
              { cause: error },
            ),
          );
        } else if (typeof e.code === "number") {
          resolve({ stdout, stderr, code: e.code });
        } else {
          reject(
            new LabError("Lab.CommandFailed", `${commandLine(program, args)} failed: ${error.message}`, {
              cause: error,
            }),
          );
        }
      },
    );
    child.stdin?.on("error", () => undefined); // a command that exits before reading its input is not our error
    child.stdin?.end(options.input ?? "");
  });
}

/** Runs a program and rejects unless it exits with 0. */
export async function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runResult(program, args, options);
  if (result.code !== 0) {
    throw new LabError(
      "Lab.CommandFailed",
      `${commandLine(program, args)} exited with code ${result.code}${tail(result.stderr)}`,
    );
  }
  return result;
}

const found = new Map<string, string>();

// PATH may lack the sbin directories where ip and keepalived live, so look names up ourselves, once.
function lookupProgram(program: string): string | undefined {
  if (program.includes("/")) return program;
  let path = found.get(program);
  if (path === undefined) {
    path = findProgram(program);
    if (path !== undefined) found.set(program, path);
  }
  return path;
}

/** The path of a program for an argument vector (its bare name when it is not installed). */
export function resolveProgram(program: string): string {
  return lookupProgram(program) ?? program;
}

function tail(stderr: string): string {
  const text = stderr.trim();
  if (text === "") return "";
  return `: ${text.length > 2000 ? "…" + text.slice(-2000) : text}`;
}
