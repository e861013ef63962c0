// A simulated host reboot for a lab: every process of the lab and havipd killed with SIGKILL (nothing gets to
// clean up), every network namespace of the lab's prefix deleted, the lab's links in the root namespace (there
// should be none) deleted; the data directory and the lab directory stay exactly as they are.
// The lab-reboot branch writes the shared version of this (e2e/lab/): this minimal one is the fault suite's
// until the two are unified.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  livePids,
  namespaceInodes,
  namespacesWithPrefix,
  processesInNamespaces,
  rootLinksWithPrefix,
} from "../lab/helpers.ts";
import { signal, waitGone } from "./havipd.ts";

const run = promisify(execFile);

export interface RebootReport {
  killed: number[];
  namespaces: string[];
}

/**
 * `pids`: processes of the lab that live outside its namespaces (havipd); a havipd started by scripts/run.sh is
 * also found through `<dataDir>/havipd.pid`.
 */
export async function simulateReboot(
  _labDir: string,
  dataDir: string,
  prefix: string,
  pids: readonly number[] = [],
): Promise<RebootReport> {
  const namespaces = namespacesWithPrefix(prefix);
  const inodes = namespaceInodes(namespaces);
  const pidFile = join(dataDir, "havipd.pid");
  const fromFile = existsSync(pidFile) ? [Number(readFileSync(pidFile, "utf8").trim())].filter((p) => p > 0) : [];
  // havipd first, so that it cannot start anything again while the rest dies.
  const outside = livePids([...pids, ...fromFile]);
  for (const pid of outside) signal(pid, "SIGKILL");
  // Every lab process runs inside one of its namespaces (recorded pids may belong to someone else by now).
  const inside = livePids(processesInNamespaces(inodes.values()));
  for (const pid of inside) signal(pid, "SIGKILL");
  const killed = [...outside, ...inside];
  for (const pid of killed) await waitGone(pid, 5000);
  for (const ns of namespaces) await run("ip", ["netns", "del", ns]).catch(() => undefined);
  for (const link of rootLinksWithPrefix(prefix)) await run("ip", ["link", "del", link]).catch(() => undefined);
  return { killed, namespaces };
}
