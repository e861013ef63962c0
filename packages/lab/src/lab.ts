// A lab: the fabric and underlay namespaces joined by a veth pair, instance namespaces whose eth0 is a kernel
// VXLAN device towards the fabric (or, attached by veth, one end of a veth pair into the fabric namespace),
// an "internet" namespace, and the processes running in them. Everything is recorded in
// <stateDir>/lab-state.json before it is made, so `labDown(stateDir)` can always undo it, and `restore()` can
// make it again after a reboot.
import { randomUUID } from "node:crypto";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Writable } from "node:stream";
import { invalid, isIpv4, isUnicastMac, requireInteger, requireIpv4, sameSubnet } from "./addressing.ts";
import { FILES_DIR, labDown } from "./down.ts";
import type { DownReport } from "./down.ts";
import { LabError } from "./errors.ts";
import { ipv4Addresses, linkInfo, setLinkState, txChecksumOffload } from "./interfaces.ts";
import type { InterfaceAddress, LinkInfo } from "./interfaces.ts";
import { renderKeepalivedConfig } from "./keepalived-config.ts";
import type { KeepalivedConfig } from "./keepalived-config.ts";
import { currentVrrpState, parseKeepalivedLog } from "./keepalived-log.ts";
import type { KeepalivedEvent, VrrpState } from "./keepalived-log.ts";
import {
  checkInstanceName,
  checkPrefix,
  DEFAULT_PREFIX,
  isRole,
  namespaceName,
  vethFabricName,
  vxlanTempName,
} from "./names.ts";
import { addNamespace, deleteNamespace, killNamespaceProcesses, listNamespaces, runIn, runResultIn } from "./netns.ts";
import { requirePrograms, requireRoot } from "./preflight.ts";
import { isRunning, runsCommand, stopProcessTree } from "./proc.ts";
import type { ProcessIdentity, StopOutcome } from "./proc.ts";
import { readLog, spawnLogged, waitForLog } from "./processes.ts";
import { resolveProgram, runResult } from "./run.ts";
import type { RunOptions, RunResult } from "./run.ts";
import { emptyState, identityOf, readState, StateStore } from "./state.ts";
import type { InstanceRecord, LabState, LinkRecord, NamespaceRecord, NamespaceRole, ProcessRecord } from "./state.ts";
import { createUnderlayLink, createVethEth0, createVxlanEth0, endpointOf, UNDERLAY } from "./underlay.ts";
import type { LabEndpoint, VethEndpoint, VxlanEndpoint } from "./underlay.ts";

export interface LabOptions {
  /** Where the lab keeps lab-state.json and its files (configs, logs); created when missing. */
  stateDir: string;
  /** Prefix of every namespace the lab makes (default "hvl-"). */
  prefix?: string;
}

export interface InstanceSpec {
  name: string;
  vni: number;
  mac: string;
  ip: string;
  prefixLen: number;
  /** The default route's next hop (the subnet's gateway); null for none. */
  gateway: string | null;
  /** Default 1500; at most 9000. */
  mtu?: number;
  /**
   * How eth0 reaches the fabric: "vxlan" (default), a kernel VXLAN device over the underlay; or "veth", a veth
   * pair whose other end is in the fabric namespace (a local vNIC, no tunnel).
   */
  attach?: "vxlan" | "veth";
}

export interface InternetSpec {
  vni: number;
  /** Default 203.0.113.10/24 (TEST-NET-3) via 203.0.113.1, the fabric's edge address. */
  address?: string;
  prefixLen?: number;
  gateway?: string;
  mac?: string;
  mtu?: number;
}

export const INTERNET_DEFAULTS = {
  address: "203.0.113.10",
  prefixLen: 24,
  gateway: "203.0.113.1",
  mac: "02:49:4e:54:00:0a",
  echoPort: 7777,
} as const;

export interface AttachedInstance<E extends LabEndpoint = VxlanEndpoint> extends InstanceRecord {
  /** What the fabric maps to this instance's port: (underlay address, port 4789, VNI), or its veth interface. */
  endpoint: E;
}

export interface SpawnInOptions {
  /** What the process is; one running process per (namespace, label). Default: the program's name. */
  label?: string;
  stdin?: "ignore" | "pipe";
  /** Keep this Node process alive while the child runs (default false). */
  keepAlive?: boolean;
}

const SERVICES_DIR = fileURLToPath(new URL("./services/", import.meta.url));
const MAX_VNI = 2 ** 24 - 1;

/**
 * Makes a lab: the fabric and underlay namespaces and the veth pair between them. A lab recorded in `stateDir`
 * with the same prefix whose fabric or underlay namespace is gone (after a reboot) is kept: its fabric and
 * underlay are made again, and its instances stay recorded, to be made again as recorded by `Lab.restore()`
 * (same namespaces, VNIs, MACs and addresses, so what others recorded about them still holds).
 */
export async function createLab(options: LabOptions): Promise<Lab> {
  requireRoot("create network namespaces, veth pairs and VXLAN devices");
  requirePrograms(["ip", "ethtool", "sysctl"]);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const stateDir = resolve(options.stateDir);
  const previous = readState(stateDir);
  if (previous !== undefined) {
    const existing = await listNamespaces();
    const alive = previous.namespaces.filter((n) => existing.includes(n.name)).map((n) => n.name);
    const base = [namespaceName(prefix, "fabric"), namespaceName(prefix, "underlay")];
    if (previous.prefix === prefix && base.some((n) => !alive.includes(n))) {
      const lab = new Lab(new StateStore(stateDir, previous));
      await lab.restore({ instances: false });
      return lab;
    }
    if (alive.length > 0) {
      throw new LabError(
        "Lab.AlreadyUp",
        `A lab is already up in ${stateDir} (namespaces ${alive.join(", ")}); open it, or take it down first`,
      );
    }
    await labDown({ stateDir, prefix: previous.prefix }); // leftovers of a lab of another prefix
  }
  const fabricNs = namespaceName(prefix, "fabric");
  const underlayNs = namespaceName(prefix, "underlay");
  await refuseTaken([fabricNs, underlayNs], stateDir);

  mkdirSync(stateDir, { recursive: true });
  const filesDir = join(stateDir, FILES_DIR);
  const store = new StateStore(stateDir, emptyState(prefix));
  store.update((s) => {
    s.files.push(filesDir);
    s.namespaces.push({ name: fabricNs, role: "fabric" }, { name: underlayNs, role: "underlay" });
    s.links.push(
      { namespace: fabricNs, name: UNDERLAY.fabricLink, kind: "veth" },
      { namespace: underlayNs, name: UNDERLAY.underlayLink, kind: "veth" },
    );
  });
  try {
    mkdirSync(filesDir, { recursive: true, mode: 0o700 });
    await addNamespace(fabricNs);
    await addNamespace(underlayNs);
    await createUnderlayLink(fabricNs, underlayNs);
  } catch (e) {
    await labDown({ stateDir, prefix });
    throw e;
  }
  return new Lab(store);
}

/** The lab that is up in `stateDir` (made by this or another process). */
export function openLab(options: { stateDir: string }): Lab {
  requireRoot("work with the lab's network namespaces");
  const stateDir = resolve(options.stateDir);
  const state = readState(stateDir);
  if (state === undefined) throw new LabError("Lab.NotUp", `No lab is up in ${stateDir} (no lab-state.json there)`);
  return new Lab(new StateStore(stateDir, state));
}

async function refuseTaken(names: readonly string[], stateDir: string): Promise<void> {
  const existing = await listNamespaces();
  for (const name of names) {
    if (existing.includes(name)) {
      throw new LabError(
        "Lab.NamespaceTaken",
        `The network namespace ${name} already exists and is not recorded by the lab in ${stateDir}; ` +
          `if a crashed lab left it behind, take that lab down (labDown / havip lab down), else choose another prefix`,
      );
    }
  }
}

export class Lab {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  get stateDir(): string {
    return this.#store.stateDir;
  }
  get prefix(): string {
    return this.#store.state.prefix;
  }
  get fabricNs(): string {
    return namespaceName(this.prefix, "fabric");
  }
  get underlayNs(): string {
    return namespaceName(this.prefix, "underlay");
  }
  /** Where the fabric's UDP socket must listen, inside the fabric namespace. */
  get fabricEndpoint(): { address: string; port: number } {
    return { address: UNDERLAY.fabricAddress, port: UNDERLAY.vxlanPort };
  }
  /** A copy of everything the lab has recorded. */
  get state(): LabState {
    return structuredClone(this.#store.state);
  }
  get filesDir(): string {
    return join(this.stateDir, FILES_DIR);
  }

  /** The attached instances (the internet namespace not included). */
  instances(): InstanceRecord[] {
    return this.#store.state.instances.filter((i) => i.name !== "internet").map((i) => ({ ...i }));
  }

  /** The namespace of an instance or of a role ("fabric", "underlay", "internet"). */
  namespaceOf(name: string): string {
    if (name === "fabric" || name === "underlay") return namespaceName(this.prefix, name);
    const instance = this.#store.state.instances.find((i) => i.name === name);
    if (instance === undefined) {
      const known = ["fabric", "underlay", ...this.#store.state.instances.map((i) => i.name)].join(", ");
      throw new LabError("Lab.UnknownInstance", `The lab has no instance '${name}' (it has: ${known})`);
    }
    return instance.namespace;
  }

  /**
   * Attaches an instance: a namespace whose eth0 is a VXLAN device bound to the vNIC's VNI, or (attach:
   * "veth") one end of a veth pair whose other end, in the fabric namespace, the endpoint names.
   */
  attachInstance(spec: InstanceSpec & { attach: "veth" }): Promise<AttachedInstance<VethEndpoint>>;
  attachInstance(spec: InstanceSpec & { attach?: "vxlan" }): Promise<AttachedInstance>;
  attachInstance(spec: InstanceSpec): Promise<AttachedInstance<LabEndpoint>>;
  async attachInstance(spec: InstanceSpec): Promise<AttachedInstance<LabEndpoint>> {
    checkInstanceName(spec.name);
    return this.#attach("instance", spec);
  }

  /** Attaches the internet namespace: a host with a public documentation address behind the fabric's edge. */
  async attachInternet(spec: InternetSpec): Promise<AttachedInstance> {
    const d = INTERNET_DEFAULTS;
    return this.#attachVxlan("internet", {
      name: "internet",
      vni: spec.vni,
      mac: spec.mac ?? d.mac,
      ip: spec.address ?? d.address,
      prefixLen: spec.prefixLen ?? d.prefixLen,
      gateway: spec.gateway ?? d.gateway,
      mtu: spec.mtu,
    });
  }

  async #attach(role: NamespaceRole, spec: InstanceSpec): Promise<AttachedInstance<LabEndpoint>> {
    return spec.attach === "veth" ? this.#attachVeth(role, spec) : this.#attachVxlan(role, spec);
  }

  async #attachVxlan(role: NamespaceRole, spec: InstanceSpec): Promise<AttachedInstance> {
    const record = await this.#checkNew(spec);
    const tempName = vxlanTempName(spec.vni);
    const link: LinkRecord = {
      namespace: record.namespace,
      name: "eth0",
      kind: "vxlan",
      createdIn: this.underlayNs,
      createdAs: tempName,
    };
    await this.#make(role, record, link, () => createVxlanEth0(this.underlayNs, tempName, record.namespace, record));
    return { ...record, endpoint: endpointOf(record.vni) };
  }

  async #attachVeth(role: NamespaceRole, spec: InstanceSpec): Promise<AttachedInstance<VethEndpoint>> {
    const record: InstanceRecord = { ...(await this.#checkNew(spec)), attach: "veth" };
    const fabricName = vethFabricName(spec.vni);
    const link: LinkRecord = {
      namespace: record.namespace,
      name: "eth0",
      kind: "veth",
      createdIn: this.fabricNs,
      createdAs: fabricName,
    };
    await this.#make(role, record, link, () => createVethEth0(this.fabricNs, fabricName, record.namespace, record));
    return { ...record, endpoint: { kind: "veth", interface: fabricName } };
  }

  /** The record of a new instance; refuses a taken name, VNI or namespace. */
  async #checkNew(spec: InstanceSpec): Promise<InstanceRecord> {
    const record = this.#checkSpec(spec);
    if (this.#store.state.instances.some((i) => i.name === spec.name)) {
      throw new LabError("Lab.InstanceExists", `The lab already has an instance '${spec.name}'`);
    }
    await refuseTaken([record.namespace], this.stateDir);
    return record;
  }

  /** Records the namespace and eth0's link, then makes them; on failure undoes what was made. */
  async #make(role: NamespaceRole, record: InstanceRecord, link: LinkRecord, eth0: () => Promise<void>): Promise<void> {
    this.#store.update((s) => {
      s.namespaces.push({ name: record.namespace, role });
      s.links.push(link);
    });
    try {
      await addNamespace(record.namespace);
      await eth0();
    } catch (e) {
      await this.#forget(record.namespace, link);
      throw e;
    }
    this.#store.update((s) => s.instances.push(record));
  }

  #checkSpec(spec: InstanceSpec): InstanceRecord {
    const what = `instance ${spec.name}:`;
    requireInteger(`${what} VNI`, spec.vni, 1, MAX_VNI);
    const sameVni = this.#store.state.instances.find((i) => i.vni === spec.vni);
    if (sameVni !== undefined) throw invalid(`${what} VNI ${spec.vni} is already used by ${sameVni.name}`);
    if (!isUnicastMac(spec.mac)) throw invalid(`${what} MAC '${spec.mac}' is not a unicast MAC (aa:bb:cc:dd:ee:ff)`);
    requireIpv4(`${what} address`, spec.ip);
    requireInteger(`${what} prefix length`, spec.prefixLen, 1, 32);
    if (spec.gateway !== null) {
      if (!isIpv4(spec.gateway)) throw invalid(`${what} gateway '${spec.gateway}' is not an IPv4 address`);
      if (spec.gateway === spec.ip) throw invalid(`${what} gateway ${spec.gateway} is the instance's own address`);
      if (!sameSubnet(spec.ip, spec.gateway, spec.prefixLen)) {
        throw invalid(`${what} gateway ${spec.gateway} is outside ${spec.ip}/${spec.prefixLen}`);
      }
    }
    const mtu = spec.mtu ?? 1500;
    requireInteger(`${what} MTU`, mtu, 68, UNDERLAY.maxInstanceMtu);
    return {
      name: spec.name,
      namespace: namespaceName(this.prefix, spec.name),
      vni: spec.vni,
      mac: spec.mac.toLowerCase(),
      ip: spec.ip,
      prefixLen: spec.prefixLen,
      gateway: spec.gateway,
      mtu,
    };
  }

  /** Removes an instance: its processes, its namespace (and with it eth0), its files and its records. */
  async detachInstance(name: string): Promise<void> {
    if (isRole(name) && name !== "internet") throw invalid(`'${name}' is the lab's own namespace, not an instance`);
    const namespace = this.namespaceOf(name);
    const link = this.#store.state.links.find((l) => l.namespace === namespace && l.name === "eth0");
    await Promise.all(this.#processRecords(namespace).map((p) => this.#stopRecorded(p, 3000)));
    await this.#forget(namespace, link);
  }

  async #forget(namespace: string, link: LinkRecord | undefined): Promise<void> {
    await killNamespaceProcesses(namespace);
    // A VXLAN device still in the underlay under its temporary name (a failure between create and move), or
    // the fabric's end of a veth pair: deleted now, since a namespace's devices go only when the kernel gets
    // round to it, and the name may be wanted again at once.
    if (link?.createdIn !== undefined && link.createdAs !== undefined) {
      await runResult("ip", ["-n", link.createdIn, "link", "delete", link.createdAs]);
    }
    await deleteNamespace(namespace);
    this.#store.update((s) => {
      s.namespaces = s.namespaces.filter((n) => n.name !== namespace);
      s.links = s.links.filter((l) => l.namespace !== namespace);
      s.instances = s.instances.filter((i) => i.namespace !== namespace);
      s.processes = s.processes.filter((p) => p.namespace !== namespace);
    });
  }

  /**
   * Makes again what the record has and the machine lacks (after a reboot, or a namespace deleted by hand):
   * every recorded namespace that does not exist, with eth0, as recorded (same names, VNIs, MACs, addresses),
   * so the attachments others recorded for it still hold. The instances' VXLAN devices hang off the underlay
   * and their veth pairs off the fabric namespace, so when either of those is missing the whole lab is made
   * again. Processes recorded in a namespace made again are stopped (nobody could reach them any more) and
   * their records kept: `processRunning` says they are not running, and whoever started them starts them
   * again. With `instances: false` only the fabric and underlay are made again, and instance namespaces that
   * would have to be made again are removed and left recorded, for a later `restore()` (havipd makes its fabric;
   * `havip lab up` the instances). Returns the namespaces made again, in the order they were made.
   */
  async restore(options: { instances?: boolean } = {}): Promise<string[]> {
    const state = this.#store.state;
    const existing = await listNamespaces();
    const isBase = (n: NamespaceRecord) => n.role === "fabric" || n.role === "underlay";
    // A namespace recorded without its instance (its maker crashed mid-way) is forgotten, not made again.
    const wanted = state.namespaces.filter((n) => isBase(n) || state.instances.some((i) => i.namespace === n.name));
    for (const orphan of state.namespaces.filter((n) => !wanted.includes(n))) {
      await this.#forget(
        orphan.name,
        state.links.find((l) => l.namespace === orphan.name && l.name === "eth0"),
      );
    }
    const missing = wanted.filter((n) => !existing.includes(n.name));
    if (missing.length === 0) return [];
    const baseAgain = missing.some(isBase);
    const again = baseAgain ? wanted : missing;
    for (const n of again) {
      const identities = this.#processRecords(n.name).flatMap((p) => identityOf(p) ?? []);
      await Promise.all(identities.map((p) => stopProcessTree(p, 1000)));
      if (existing.includes(n.name)) {
        await killNamespaceProcesses(n.name);
        await deleteNamespace(n.name);
      }
    }
    mkdirSync(this.filesDir, { recursive: true, mode: 0o700 });
    const made: string[] = [];
    try {
      if (baseAgain) {
        for (const ns of [this.fabricNs, this.underlayNs]) {
          await addNamespace(ns);
          made.push(ns);
        }
        await createUnderlayLink(this.fabricNs, this.underlayNs);
      }
      const instances = options.instances === false ? [] : state.instances;
      for (const instance of instances.filter((i) => again.some((n) => n.name === i.namespace))) {
        const link = state.links.find((l) => l.namespace === instance.namespace && l.name === "eth0");
        // The fabric's end of an old veth pair, or a VXLAN device left under its temporary name (none in a
        // fabric or underlay namespace just made).
        if (!baseAgain && link?.createdIn !== undefined && link.createdAs !== undefined) {
          await runResult("ip", ["-n", link.createdIn, "link", "delete", link.createdAs]);
        }
        await addNamespace(instance.namespace);
        made.push(instance.namespace);
        if (instance.attach === "veth") {
          await createVethEth0(this.fabricNs, vethFabricName(instance.vni), instance.namespace, instance);
        } else {
          await createVxlanEth0(this.underlayNs, vxlanTempName(instance.vni), instance.namespace, instance);
        }
      }
    } catch (e) {
      // Undone, so that the next attempt finds them missing and starts clean; the records stay.
      for (const ns of made.reverse()) {
        await killNamespaceProcesses(ns);
        await deleteNamespace(ns);
      }
      throw e;
    }
    return made;
  }

  /** Runs a program inside an instance (or role) namespace; rejects unless it exits with 0. */
  exec(name: string, program: string, args: readonly string[] = [], options?: RunOptions): Promise<RunResult> {
    return runIn(this.namespaceOf(name), program, args, options);
  }

  /** Like exec, but resolves with the exit code whatever it is. */
  execResult(name: string, program: string, args: readonly string[] = [], options?: RunOptions): Promise<RunResult> {
    return runResultIn(this.namespaceOf(name), program, args, options);
  }

  /** The argument vector that runs a program inside a namespace, for a caller that spawns it with its own stdio. */
  commandIn(name: string, program: string, args: readonly string[] = []): string[] {
    return [resolveProgram("ip"), "netns", "exec", this.namespaceOf(name), resolveProgram(program), ...args];
  }

  /** Starts a long-running process inside a namespace, recorded so that `down` stops it. */
  spawn(name: string, program: string, args: readonly string[] = [], options: SpawnInOptions = {}): LabProcess {
    this.namespaceOf(name); // an unknown instance is refused before anything is made
    const label = options.label ?? program.split("/").pop() ?? program;
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(label)) throw invalid(`process label '${label}' is not a simple name`);
    const dir = join(this.filesDir, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return this.#launch(name, label, this.commandIn(name, program, args), join(dir, `${label}.log`), options);
  }

  #launch(name: string, label: string, argv: string[], logFile: string, options: SpawnInOptions): LabProcess {
    const namespace = this.namespaceOf(name);
    const running = this.#processRecords(namespace, label).filter((p) => isRecordRunning(p));
    if (running.length > 0) {
      throw invalid(`${label} is already running in ${name} (pid ${String(running[0]?.pid)}); stop it first`);
    }
    const logOffset = fileSize(logFile);
    const id = `${name}/${label}/${randomUUID().slice(0, 8)}`;
    this.#store.update((s) => {
      s.processes = s.processes.filter((p) => !(p.namespace === namespace && p.label === label));
      s.processes.push({ id, label, namespace, command: argv, logFile, pid: null, startTime: null });
    });
    const spawned = spawnLogged(argv, { logFile, stdin: options.stdin, keepAlive: options.keepAlive });
    this.#store.update((s) => {
      const p = s.processes.find((r) => r.id === id);
      if (p !== undefined) {
        p.pid = spawned.identity?.pid ?? null;
        p.startTime = spawned.identity?.startTime ?? null;
        if (spawned.identity?.bootId !== undefined) p.bootId = spawned.identity.bootId;
      }
    });
    return new LabProcess(this, { id, label, namespace, command: argv, logFile, ...spawned, logOffset });
  }

  /** The recorded processes (all namespaces). */
  processes(): ProcessRecord[] {
    return this.#store.state.processes.map((p) => ({ ...p, command: [...p.command] }));
  }

  /** The record of the process with that label in an instance (or role) namespace, if any. */
  processRecord(name: string, label: string): ProcessRecord | undefined {
    const record = this.#processRecords(this.namespaceOf(name), label).at(-1);
    return record === undefined ? undefined : { ...record, command: [...record.command] };
  }

  /**
   * Whether a recorded process really runs: its pid is alive and no zombie, started at the recorded time in
   * this boot, and runs the recorded command. A pid alone proves nothing after a reboot.
   */
  processRunning(record: ProcessRecord): boolean {
    const identity = identityOf(record);
    return identity !== null && runsCommand(identity, record.command);
  }

  /**
   * Starts a recorded process again that is not running, with its recorded command, label and log file
   * (appended to). Throws when it runs.
   */
  restartProcess(record: ProcessRecord, options: Omit<SpawnInOptions, "label"> = {}): LabProcess {
    const name = this.#nameOfNamespace(record.namespace);
    return this.#launch(name, record.label, [...record.command], record.logFile, options);
  }

  /** The instance (or role) name of one of the lab's namespaces. */
  #nameOfNamespace(namespace: string): string {
    if (namespace === this.fabricNs) return "fabric";
    if (namespace === this.underlayNs) return "underlay";
    const instance = this.#store.state.instances.find((i) => i.namespace === namespace);
    if (instance === undefined) throw new LabError("Lab.UnknownInstance", `The lab has no namespace ${namespace}`);
    return instance.name;
  }

  /** Stops the process with that label in an instance (SIGTERM, SIGKILL after `graceMs`) and forgets it. */
  async stopProcess(name: string, label: string, graceMs = 3000): Promise<StopOutcome> {
    const records = this.#processRecords(this.namespaceOf(name), label);
    if (records.length === 0) return { how: "gone" };
    const outcomes = await Promise.all(records.map((p) => this.#stopRecorded(p, graceMs)));
    return outcomes.find((o) => o.how !== "gone") ?? { how: "gone" };
  }

  /** @internal used by LabProcess */
  async stopById(id: string, graceMs: number): Promise<StopOutcome> {
    const record = this.#store.state.processes.find((p) => p.id === id);
    return record === undefined ? { how: "gone" } : this.#stopRecorded(record, graceMs);
  }

  async #stopRecorded(record: ProcessRecord, graceMs: number): Promise<StopOutcome> {
    const identity = identityOf(record);
    const outcome = identity === null ? { how: "gone" as const } : await stopProcessTree(identity, graceMs);
    this.#store.update((s) => {
      s.processes = s.processes.filter((p) => p.id !== record.id);
    });
    return outcome;
  }

  #processRecords(namespace: string, label?: string): ProcessRecord[] {
    return this.#store.state.processes.filter((p) => p.namespace === namespace && (label ?? p.label) === p.label);
  }

  /** Starts keepalived in an instance with a generated configuration; resolves once it has started up. */
  async startKeepalived(
    name: string,
    config: KeepalivedConfig,
    options: { timeoutMs?: number } = {},
  ): Promise<LabProcess> {
    requirePrograms(["keepalived"]);
    const dir = join(this.filesDir, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const conf = join(dir, "keepalived.conf");
    writeFileSync(conf, renderKeepalivedConfig(config), { mode: 0o600 });
    const check = await this.execResult(name, "keepalived", ["-t", "-f", conf]);
    if (check.code !== 0) {
      throw invalid(`keepalived rejects the configuration ${conf}: ${(check.stderr + check.stdout).trim()}`);
    }
    // Own pid files: keepalived's defaults in /run would collide between instances.
    // -n stay in the foreground, -l log to stdout (the log file), -D detailed, -G not to syslog, -P VRRP only.
    // prettier-ignore
    const args = [
      "-n", "-l", "-D", "-G", "-P", "-f", conf,
      "-p", join(dir, "keepalived.pid"), "-r", join(dir, "keepalived-vrrp.pid"),
    ];
    const keepalived = this.spawn(name, "keepalived", args, { label: "keepalived" });
    await keepalived.waitForLog(/Startup complete|Entering (?:BACKUP|MASTER|FAULT) STATE/, options.timeoutMs ?? 10_000);
    return keepalived;
  }

  /** Stops keepalived in an instance: SIGTERM (it withdraws its VIPs and sends priority 0), SIGKILL later. */
  stopKeepalived(name: string, graceMs = 5000): Promise<StopOutcome> {
    return this.stopProcess(name, "keepalived", graceMs);
  }

  /** keepalived's events in an instance, read from its log (state transitions to the second). */
  keepalivedEvents(name: string): KeepalivedEvent[] {
    this.namespaceOf(name);
    return parseKeepalivedLog(readLog(join(this.filesDir, name, "keepalived.log")));
  }

  /** The state keepalived last entered for a VRRP instance (undefined before the first, or once stopped). */
  vrrpState(name: string, vrrpInstance = "VI_1"): VrrpState | undefined {
    return currentVrrpState(this.keepalivedEvents(name), vrrpInstance);
  }

  /** Starts the HTTP service in an instance: every request is answered with "<name> <local address>". */
  async startHttpService(name: string, options: { port?: number; host?: string } = {}): Promise<LabProcess> {
    const script = join(SERVICES_DIR, "http-service.ts");
    const args = [script, "--name", name, "--host", options.host ?? "0.0.0.0", "--port", String(options.port ?? 80)];
    const service = this.spawn(name, nodePath(), args, { label: "http-service" });
    await service.waitForLog(/"listening"/, 10_000);
    return service;
  }

  /** Starts the echo service in the internet namespace (TCP and UDP, default port 7777). */
  async startEchoService(options: { port?: number } = {}): Promise<LabProcess> {
    const script = join(SERVICES_DIR, "echo-service.ts");
    const args = [script, "--port", String(options.port ?? INTERNET_DEFAULTS.echoPort)];
    const service = this.spawn("internet", nodePath(), args, { label: "echo-service" });
    await service.waitForLog(/"listening"/, 10_000);
    return service;
  }

  /** The IPv4 addresses on an instance's eth0 (a VIP shows up here on the VRRP master). */
  addresses(name: string, device = "eth0"): Promise<InterfaceAddress[]> {
    return ipv4Addresses(this.namespaceOf(name), device);
  }

  linkInfo(name: string, device = "eth0"): Promise<LinkInfo> {
    return linkInfo(this.namespaceOf(name), device);
  }

  /** Takes an instance's eth0 down or up (a cut link, as the instance sees it). */
  setLink(name: string, state: "up" | "down"): Promise<void> {
    return setLinkState(this.namespaceOf(name), state);
  }

  txChecksumOffload(name: string): Promise<boolean> {
    return txChecksumOffload(this.namespaceOf(name));
  }

  /** Takes the whole lab down: processes, namespaces, links, files, the state file. */
  down(): Promise<DownReport> {
    return labDown({ stateDir: this.stateDir, prefix: this.prefix });
  }
}

/** A process the lab started; `stop()` ends its whole tree and removes its record. */
export class LabProcess {
  readonly id: string;
  readonly label: string;
  readonly namespace: string;
  readonly command: readonly string[];
  readonly logFile: string;
  /** null when the process had already exited when the lab looked. */
  readonly pid: number | null;
  readonly startTime: number | null;
  readonly stdin: Writable | null;
  readonly #lab: Lab;
  readonly #logOffset: number;
  readonly #identity: ProcessIdentity | null;

  constructor(
    lab: Lab,
    p: {
      id: string;
      label: string;
      namespace: string;
      command: string[];
      logFile: string;
      identity: ProcessIdentity | null;
      stdin: Writable | null;
      logOffset: number;
    },
  ) {
    this.#lab = lab;
    this.id = p.id;
    this.label = p.label;
    this.namespace = p.namespace;
    this.command = p.command;
    this.logFile = p.logFile;
    this.pid = p.identity?.pid ?? null;
    this.startTime = p.identity?.startTime ?? null;
    this.stdin = p.stdin;
    this.#logOffset = p.logOffset;
    this.#identity = p.identity;
  }

  running(): boolean {
    return this.#identity !== null && isRunning(this.#identity);
  }

  /** What this process has logged (not what an earlier process with the same label logged). */
  log(): string {
    return readLog(this.logFile).slice(this.#logOffset);
  }

  /** Waits for a line of this process's log to match; fails early, quoting the log, if the process exits. */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return waitForLog(this.logFile, pattern, timeoutMs, this.#identity, this.#logOffset);
  }

  stop(graceMs = 3000): Promise<StopOutcome> {
    this.stdin?.destroy();
    return this.#lab.stopById(this.id, graceMs);
  }
}

function isRecordRunning(p: ProcessRecord): boolean {
  const identity = identityOf(p);
  return identity !== null && isRunning(identity);
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

// The services are TypeScript run by this same Node (24, with type stripping), also inside a namespace.
function nodePath(): string {
  return process.execPath;
}
