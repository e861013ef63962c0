// Shared by the lab's root-only suites: the root gate, temporary state directories, the test relay (a dumb
// VXLAN hub standing in for the fabric) and the check that a lab left nothing behind.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Lab, LabProcess, VxlanEndpoint } from "@havip/lab";

export const isRoot = process.getuid?.() === 0;

/**
 * The options for a root-only suite: skipped, LOUDLY, when not root; and when CI is set and we are not root,
 * an extra test that FAILS, so that CI can never pass without having run the lab.
 */
export function rootOnly(suite: string): { skip: string | false } {
  if (isRoot) return { skip: false };
  const reason = `!!! ${suite}: SKIPPED — needs root (network namespaces, VXLAN, keepalived); run as root !!!`;
  process.stderr.write(`\n${reason}\n\n`);
  if (process.env.CI !== undefined && process.env.CI !== "") {
    test(`${suite} must run as root in CI`, () => {
      assert.fail(`${suite} needs root and CI is set: run the lab suites as root`);
    });
  }
  return { skip: reason };
}

/**
 * A prefix for one run of one suite: the suite's tag and three random characters (e.g. "hvt1k3z-"), so two
 * runs of the same suite on one machine (a developer's and the lead's, say) never sweep each other's lab.
 */
export function testPrefix(tag: string): string {
  return `${tag}${randomBytes(3).toString("hex").slice(0, 3)}-`;
}

export function tempStateDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `havip-lab-${name}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const RELAY_SCRIPT = fileURLToPath(new URL("./fixture-l2-relay.ts", import.meta.url));

/** The test relay, running in the lab's fabric namespace and driven through its stdin. */
export class TestRelay {
  readonly process: LabProcess;
  #statsAsked = 0;

  private constructor(process: LabProcess) {
    this.process = process;
  }

  static async start(lab: Lab): Promise<TestRelay> {
    const { address, port } = lab.fabricEndpoint;
    const process = lab.spawn("fabric", globalThis.process.execPath, [RELAY_SCRIPT, address, String(port)], {
      label: "test-relay",
      stdin: "pipe",
      keepAlive: true,
    });
    await process.waitForLog(/"ready":true/, 10_000);
    return new TestRelay(process);
  }

  async attach(endpoint: VxlanEndpoint): Promise<void> {
    this.#send({ attach: endpoint });
    await this.process.waitForLog(new RegExp(`"attached":\\{[^}]*"vni":${endpoint.vni}\\}`), 5000);
  }

  /** Frames relayed and ignored so far. */
  async stats(): Promise<{ relayed: number; ignored: number; endpoints: number }> {
    this.#statsAsked++;
    this.#send({ stats: true });
    for (let i = 0; i < 250; i++) {
      const lines = this.process
        .log()
        .split("\n")
        .filter((l) => l.includes('"stats"'));
      const line = lines[this.#statsAsked - 1];
      if (line !== undefined) {
        return (JSON.parse(line) as { stats: { relayed: number; ignored: number; endpoints: number } }).stats;
      }
      await sleep(20);
    }
    throw new Error(`the relay did not answer a stats request; log:\n${this.process.log()}`);
  }

  #send(command: unknown): void {
    const stdin = this.process.stdin;
    assert.ok(stdin !== null, "the relay's stdin is a pipe");
    stdin.write(JSON.stringify(command) + "\n");
  }
}

/** The inode of each named namespace (what /proc/<pid>/ns/net of a process inside it points at). */
export function namespaceInodes(names: readonly string[]): Map<string, number> {
  return new Map(names.map((n) => [n, statSync(`/run/netns/${n}`).ino]));
}

export function namespacesWithPrefix(prefix: string): string[] {
  const out = execFileSync("ip", ["-j", "netns", "list"], { encoding: "utf8" }).trim();
  const names = out === "" ? [] : (JSON.parse(out) as { name: string }[]).map((n) => n.name);
  return names.filter((n) => n.startsWith(prefix));
}

/** Links of the root namespace whose name carries the prefix (the lab must never make any). */
export function rootLinksWithPrefix(prefix: string): string[] {
  const out = execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" });
  return (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n.startsWith(prefix));
}

/** Pids of the processes whose network namespace has one of these inodes. */
export function processesInNamespaces(inodes: Iterable<number>): number[] {
  const wanted = new Set([...inodes].map((i) => `net:[${i}]`));
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (wanted.has(readlinkSync(`/proc/${entry}/ns/net`))) pids.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

/** Pids that are still running, among these. */
export function livePids(pids: Iterable<number>): number[] {
  return [...pids].filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      return state !== "Z" && state !== "X";
    } catch {
      return false;
    }
  });
}

/** Asserts that nothing of a lab with this prefix remains: namespace, root link or process. */
export function assertNothingLeft(prefix: string, inodes: Map<string, number>, pids: Iterable<number> = []): void {
  assert.deepEqual(namespacesWithPrefix(prefix), [], "no namespace with the lab's prefix");
  assert.deepEqual(rootLinksWithPrefix(prefix), [], "no link with the lab's prefix in the root namespace");
  assert.deepEqual(processesInNamespaces(inodes.values()), [], "no process in any of the lab's namespaces");
  assert.deepEqual(livePids(pids), [], "no process the lab recorded is still running");
}

/** Polls until `probe` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
