// Named network namespaces (`ip netns`), and the processes inside them.
import { setTimeout as sleep } from "node:timers/promises";
import { resolveProgram, run, runResult } from "./run.ts";
import type { RunOptions, RunResult } from "./run.ts";
import { signalPid } from "./proc.ts";

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run("ip", ["-j", "netns", "list"]);
  if (stdout.trim() === "") return [];
  const parsed = JSON.parse(stdout) as { name: string }[];
  return parsed.map((n) => n.name);
}

export async function namespaceExists(name: string): Promise<boolean> {
  return (await listNamespaces()).includes(name);
}

export async function addNamespace(name: string): Promise<void> {
  await run("ip", ["netns", "add", name]);
  // Loopback is down in a fresh namespace; services bound to 127.0.0.1 and keepalived expect it up.
  await run("ip", ["-n", name, "link", "set", "lo", "up"]);
}

export async function deleteNamespace(name: string): Promise<void> {
  const result = await runResult("ip", ["netns", "delete", name]);
  if (result.code !== 0 && (await namespaceExists(name))) {
    await run("ip", ["netns", "delete", name]); // again, to throw with its message
  }
}

/** Pids of the processes whose network namespace is `name` (none when it does not exist). */
export async function namespacePids(name: string): Promise<number[]> {
  const result = await runResult("ip", ["netns", "pids", name]);
  if (result.code !== 0) return [];
  return result.stdout
    .split("\n")
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

/** SIGKILLs everything running in the namespace, until nothing is left; returns how many it killed. */
export async function killNamespaceProcesses(name: string): Promise<number> {
  const killed = new Set<number>();
  let remaining = await namespacePids(name);
  for (let round = 0; remaining.length > 0 && round < 20; round++) {
    for (const pid of remaining) {
      if (pid === process.pid) continue;
      signalPid(pid, "SIGKILL");
      killed.add(pid);
    }
    await sleep(25);
    remaining = (await namespacePids(name)).filter((pid) => pid !== process.pid);
  }
  return killed.size;
}

/** Runs a program inside a namespace, rejecting unless it exits with 0. */
export function runIn(
  namespace: string,
  program: string,
  args: readonly string[],
  options?: RunOptions,
): Promise<RunResult> {
  return run("ip", ["netns", "exec", namespace, resolveProgram(program), ...args], options);
}

/** Runs a program inside a namespace and resolves with its exit code, whatever it is. */
export function runResultIn(
  namespace: string,
  program: string,
  args: readonly string[],
  options?: RunOptions,
): Promise<RunResult> {
  return runResult("ip", ["netns", "exec", namespace, resolveProgram(program), ...args], options);
}
