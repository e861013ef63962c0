// A host reboot, simulated: every process of the lab and of the havipd that drives it dies at once (SIGKILL,
// no goodbye: keepalived sends no priority 0, the agent saves nothing), every network namespace of the lab's
// prefix disappears with its links, and what is on disk stays exactly as it was (the data directory, the lab
// directory with lab-state.json and its stale pids, the agent's socket file). Shared by the reboot suite and
// the fault-injection suite.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { livePids, namespacesWithPrefix, rootLinksWithPrefix } from "./helpers.ts";

export interface RebootReport {
  /** The pids killed (lab processes, processes in the lab's namespaces, havipd and its agent). */
  killed: number[];
  namespaces: string[];
  rootLinks: string[];
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Processes whose command line names the directory or a path inside it (havipd --data-dir, the agent's socket). */
function processesUsing(dirs: readonly string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const args = readOr(`/proc/${entry}/cmdline`)?.split("\0") ?? [];
    const names = (arg: string) =>
      dirs.some((d) => arg === d || arg.startsWith(`${d}/`) || arg.startsWith(`unix:${d}/`));
    if (args.some(names)) pids.push(Number(entry));
  }
  return pids;
}

/** Pids of the processes inside a named namespace (none when it is gone). */
function namespacePids(name: string): number[] {
  try {
    const out = execFileSync("ip", ["netns", "pids", name], { encoding: "utf8" });
    return out
      .split("\n")
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
  } catch {
    return [];
  }
}

/** The pids lab-state.json records (stale or not: only ones that still run are killed). */
function recordedPids(labDir: string): number[] {
  const text = readOr(resolve(labDir, "lab-state.json"));
  if (text === undefined) return [];
  const state = JSON.parse(text) as { processes?: { pid: number | null }[] };
  return (state.processes ?? []).flatMap((p) => (p.pid === null ? [] : [p.pid]));
}

function havipdPid(dataDir: string): number[] {
  const text = readOr(resolve(dataDir, "havipd.pid"))?.trim();
  return text !== undefined && /^\d+$/.test(text) ? [Number(text)] : [];
}

function belongs(pid: number, dirs: readonly string[], namespaceInodes: Set<string>): boolean {
  const args = readOr(`/proc/${pid}/cmdline`)?.split("\0") ?? [];
  if (args.some((a) => dirs.some((d) => a.includes(d)))) return true;
  try {
    return namespaceInodes.has(readlinkSync(`/proc/${pid}/ns/net`));
  } catch {
    return false;
  }
}

/**
 * Kills (SIGKILL) every process of the lab in `labDir` and of the havipd whose data directory is `dataDir`,
 * deletes every namespace whose name starts with `prefix` and every root-namespace link that does, and leaves
 * both directories untouched. A recorded pid is killed only while it still belongs to the lab (its command line
 * names one of the directories, or it runs in one of the lab's namespaces): pids are reused.
 */
export async function simulateReboot(labDir: string, dataDir: string, prefix: string): Promise<RebootReport> {
  const dirs = [resolve(labDir), resolve(dataDir)];
  const namespaces = namespacesWithPrefix(prefix);
  const inodes = new Set<string>();
  for (const n of namespaces) {
    const pid = namespacePids(n)[0];
    if (pid === undefined) continue;
    try {
      inodes.add(readlinkSync(`/proc/${pid}/ns/net`));
    } catch {
      // gone meanwhile
    }
  }
  const candidates = new Set([
    ...namespaces.flatMap(namespacePids),
    ...processesUsing(dirs),
    ...[...recordedPids(labDir), ...havipdPid(dataDir)].filter((pid) => belongs(pid, dirs, inodes)),
  ]);
  candidates.delete(process.pid);
  const killed = [...candidates];
  // Repeated: a process forked meanwhile (keepalived's children, a service's respawn) dies in a later round.
  for (let round = 0; round < 20; round++) {
    const alive = livePids(new Set([...killed, ...namespaces.flatMap(namespacePids), ...processesUsing(dirs)]));
    const targets = alive.filter((p) => p !== process.pid);
    if (targets.length === 0) break;
    for (const pid of targets) {
      if (!killed.includes(pid)) killed.push(pid);
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await sleep(50);
  }
  const left = livePids(killed);
  if (left.length > 0) throw new Error(`simulateReboot: still running after SIGKILL: ${left.join(", ")}`);
  for (const n of namespaces) execFileSync("ip", ["netns", "delete", n]);
  const rootLinks = rootLinksWithPrefix(prefix);
  for (const l of rootLinks) execFileSync("ip", ["link", "delete", l]);
  return { killed: killed.sort((a, b) => a - b), namespaces, rootLinks };
}
