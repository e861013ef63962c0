// Checks made before the lab touches the machine, so that a missing program or privilege is reported as
// such rather than as a confusing failure half-way through.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { notRoot, programMissing } from "./errors.ts";
import type { LabProgram } from "./errors.ts";

// Programs such as ip and keepalived live in sbin, which a non-login root shell may not have on PATH.
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** The absolute path of a program, searching PATH and the sbin directories; undefined when absent. */
export function findProgram(program: string, path = process.env.PATH ?? ""): string | undefined {
  const dirs = [...path.split(delimiter).filter((d) => d !== ""), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, program);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws Lab.ProgramMissing (naming the Debian package) for the first program that is not installed. */
export function requirePrograms(programs: readonly LabProgram[]): void {
  for (const program of programs) {
    if (findProgram(program) === undefined) throw programMissing(program);
  }
}

/** Throws Lab.NotRoot, saying what needed root, unless the effective user is root. */
export function requireRoot(what: string, euid = process.geteuid?.()): void {
  if (euid !== 0) throw notRoot(what);
}
