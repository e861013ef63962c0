// Taking a lab down, also after a crash: stop the recorded processes, kill whatever else runs in the lab's
// namespaces, delete every namespace that is recorded or carries the lab's prefix (their links and VXLAN
// devices go with them), and remove the lab's files. Running it again finds nothing and does nothing.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { isLabError } from "./errors.ts";
import { deleteNamespace, killNamespaceProcesses, listNamespaces } from "./netns.ts";
import { checkPrefix, DEFAULT_PREFIX } from "./names.ts";
import { requireRoot } from "./preflight.ts";
import { stopProcessTree } from "./proc.ts";
import { identityOf, readState, removeStateFile, STATE_FILE } from "./state.ts";
import type { LabState } from "./state.ts";

export const FILES_DIR = "lab";

export interface DownOptions {
  stateDir: string;
  /** The prefix to sweep when the state file is missing or unreadable (default: the recorded one, else "hvl-"). */
  prefix?: string;
  /** How long a recorded process gets after SIGTERM before SIGKILL (default 3 s). */
  graceMs?: number;
}

export interface DownReport {
  namespaces: string[];
  /** Processes stopped from the record plus processes killed inside the namespaces. */
  processes: number;
  stateWasCorrupt: boolean;
}

export async function labDown(options: DownOptions): Promise<DownReport> {
  requireRoot("remove the lab's network namespaces and processes");
  let state: LabState | undefined;
  let stateWasCorrupt = false;
  try {
    state = readState(options.stateDir);
  } catch (e) {
    if (!isLabError(e, "Lab.StateCorrupt")) throw e;
    stateWasCorrupt = true; // sweep by prefix all the same
  }
  const prefix = options.prefix ?? state?.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);

  // Recorded processes first, gracefully: keepalived then withdraws its VIPs and says goodbye (priority 0).
  let processes = 0;
  const recorded = (state?.processes ?? []).flatMap((p) => identityOf(p) ?? []);
  const outcomes = await Promise.all(recorded.map((p) => stopProcessTree(p, options.graceMs ?? 3000)));
  processes += outcomes.filter((o) => o.how !== "gone").length;

  const existing = await listNamespaces();
  const names = new Set([
    ...(state?.namespaces ?? []).map((n) => n.name).filter((n) => existing.includes(n)),
    ...existing.filter((n) => n.startsWith(prefix)),
  ]);
  const killed = await Promise.all(
    [...names].map(async (name) => {
      const count = await killNamespaceProcesses(name);
      await deleteNamespace(name);
      return count;
    }),
  );
  processes += killed.reduce((sum, n) => sum + n, 0);
  const removed = [...names];
  // Links need no step of their own: the lab makes links only inside its namespaces (never in the root
  // namespace), and a VXLAN device or veth dies with its namespace.

  // Only inside the state directory, whatever the (possibly damaged) record says.
  const stateDir = resolve(options.stateDir);
  const inside = (file: string) => {
    const rel = relative(stateDir, resolve(stateDir, file));
    return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  };
  for (const file of (state?.files ?? []).filter(inside))
    rmSync(resolve(stateDir, file), { recursive: true, force: true });
  rmSync(join(stateDir, FILES_DIR), { recursive: true, force: true });
  for (const entry of existsSync(stateDir) ? readdirSync(stateDir) : []) {
    if (entry.startsWith(`${STATE_FILE}.`) && entry.endsWith(".tmp")) rmSync(join(stateDir, entry), { force: true });
  }
  removeStateFile(stateDir);
  return { namespaces: removed.sort(), processes, stateWasCorrupt };
}
