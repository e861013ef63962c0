// The lab's memory of what it made, on disk. Every namespace, link, process and file is recorded BEFORE it
// is created, so that `labDown` can remove all of it even when the process that made it crashed.
// Writes are atomic (temporary file, fsync, rename): a crash leaves the old state or the new, never half.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { LabError } from "./errors.ts";
import type { ProcessIdentity } from "./proc.ts";

export const STATE_FILE = "lab-state.json";

export type NamespaceRole = "fabric" | "underlay" | "internet" | "instance";

export interface NamespaceRecord {
  name: string;
  role: NamespaceRole;
}

export interface LinkRecord {
  /** The namespace the link ends up in. */
  namespace: string;
  name: string;
  kind: "veth" | "vxlan";
  /**
   * For a VXLAN device: where it is created and its name there before it moves. For a veth pair made for an
   * instance: the namespace and name of its other end (the fabric's end).
   */
  createdIn?: string;
  createdAs?: string;
}

export interface InstanceRecord {
  name: string;
  namespace: string;
  /** "veth": eth0 is a veth pair into the fabric namespace; absent: a VXLAN device (the default). */
  attach?: "veth";
  vni: number;
  mac: string;
  ip: string;
  prefixLen: number;
  gateway: string | null;
  mtu: number;
}

export interface ProcessRecord {
  id: string;
  /** What it is, e.g. "keepalived" or "http-service"; at most one running process per (namespace, label). */
  label: string;
  namespace: string;
  command: string[];
  logFile: string;
  /** null between recording and spawning (a crash there leaves nothing to kill but the namespace's processes). */
  pid: number | null;
  startTime: number | null;
  /** The boot it was started in (absent in older records): after a reboot its pid means nothing. */
  bootId?: string;
}

export interface LabState {
  version: 1;
  prefix: string;
  createdAt: string;
  namespaces: NamespaceRecord[];
  links: LinkRecord[];
  instances: InstanceRecord[];
  processes: ProcessRecord[];
  /** Files and directories the lab made; removed recursively by `labDown`. */
  files: string[];
}

export function emptyState(prefix: string, now = new Date()): LabState {
  return {
    version: 1,
    prefix,
    createdAt: now.toISOString(),
    namespaces: [],
    links: [],
    instances: [],
    processes: [],
    files: [],
  };
}

export function stateFile(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

/** Writes the state atomically. */
export function writeState(stateDir: string, state: LabState): void {
  const file = stateFile(stateDir);
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(state, null, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** What identifies a recorded process on the machine; null when it was recorded but never started. */
export function identityOf(p: ProcessRecord): ProcessIdentity | null {
  if (p.pid === null || p.startTime === null) return null;
  return p.bootId === undefined
    ? { pid: p.pid, startTime: p.startTime }
    : { pid: p.pid, startTime: p.startTime, bootId: p.bootId };
}

/** The recorded state, or undefined when there is no state file. */
export function readState(stateDir: string): LabState | undefined {
  const file = stateFile(stateDir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new LabError("Lab.StateCorrupt", `The lab state file ${file} is not valid JSON`, { cause: e });
  }
  if (!isLabState(value)) {
    throw new LabError("Lab.StateCorrupt", `The lab state file ${file} does not have the expected shape`);
  }
  return value;
}

export function removeStateFile(stateDir: string): void {
  try {
    unlinkSync(stateFile(stateDir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

function isLabState(v: unknown): v is LabState {
  if (!isObject(v)) return false;
  return (
    v.version === 1 &&
    typeof v.prefix === "string" &&
    typeof v.createdAt === "string" &&
    isArrayOf(v.namespaces, (n) => typeof n.name === "string" && typeof n.role === "string") &&
    isArrayOf(v.links, (l) => typeof l.namespace === "string" && typeof l.name === "string") &&
    isArrayOf(v.instances, (i) => typeof i.name === "string" && typeof i.namespace === "string") &&
    isArrayOf(
      v.processes,
      (p) =>
        typeof p.id === "string" &&
        typeof p.namespace === "string" &&
        (p.pid === null || typeof p.pid === "number") &&
        (p.startTime === null || typeof p.startTime === "number") &&
        (p.bootId === undefined || typeof p.bootId === "string"),
    ) &&
    Array.isArray(v.files) &&
    v.files.every((f) => typeof f === "string")
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isArrayOf(v: unknown, check: (item: Record<string, unknown>) => boolean): boolean {
  return Array.isArray(v) && v.every((item) => isObject(item) && check(item));
}

/**
 * The state of one lab, held in memory and written through on every change. Changes are synchronous, so
 * within one process they never interleave.
 */
export class StateStore {
  readonly stateDir: string;
  #state: LabState;

  constructor(stateDir: string, state: LabState) {
    this.stateDir = stateDir;
    this.#state = state;
  }

  get state(): Readonly<LabState> {
    return this.#state;
  }

  /** Applies a change and writes it before returning. */
  update(change: (state: LabState) => void): void {
    const next = structuredClone(this.#state);
    change(next);
    writeState(this.stateDir, next);
    this.#state = next;
  }
}
