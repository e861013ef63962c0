// The fault suite's lab: the seed example (VPC 10.0.0.0/16, subnet 10.0.1.0/24, vm-A and vm-B members of the
// HAVIP 10.0.1.50 running real keepalived VRRP for it, vm-C the client) built as an operator builds it — havipd
// started with --lab-dir, then `havip lab up seed-example` — on SQLite or on a throw-away PostgreSQL, with one
// or two havipd. vm-a and vm-b run a responder, vm-c the prober; `restore()` brings the lab back to a known
// healthy state before each fault and checks it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { labDown, openLab, type Lab, type ProcessRecord } from "@havip/lab";
import type { HaVip, Instance } from "@havip/control";
import { namespaceInodes, tempStateDir, testPrefix } from "../lab/helpers.ts";
import { FaultWindow, ProbeStream, RESPONDER, PROBE_PORT } from "./checker.ts";
import { freePort, Havipd, pidAlive, signal, waitGone } from "./havipd.ts";
import { MEMBER_NAMES, VIP, writeTrackedKeepalived, type Member, type TrackedKeepalived } from "./keepalived.ts";
import { ThrowAwayPostgres } from "./postgres.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../packages/cli/bin/havip.js", import.meta.url));
export const AGENT_LABEL = "fabric-agent";
const RESPONDER_LABEL = "fault-responder";

export interface FaultLabOptions {
  /** Namespace prefix tag (default "hft"). */
  tag?: string;
  store?: "sqlite" | "postgres";
  /** The PostgreSQL port (HAVIP_PG_PORT for scripts/pg-test.sh). */
  pgPort?: number;
  /** Two havipd on the same PostgreSQL (and the same lab). */
  replicas?: 1 | 2;
}

export interface LabIds {
  havipId: string;
  demoToken: string;
  /** Instance id → lab name. */
  labNameOf: Map<string, string>;
  instanceOf: Map<string, string>;
}

export class FaultLab {
  readonly prefix: string;
  readonly dataDir: string;
  readonly labDir: string;
  readonly faultsDir: string;
  readonly adminToken: string;
  readonly havipds: Havipd[];
  readonly pg: ThrowAwayPostgres | null;
  readonly probes = new ProbeStream();
  readonly keepalived: Record<Member, TrackedKeepalived>;
  ids: LabIds;
  /** Which havipd the checker reads the holder from. */
  apiIndex = 0;
  /** Set by a fault that leaves PostgreSQL stopped (restore starts it). */
  pgDown = false;
  readonly #responderPids = new Map<Member, number>();
  /** Every pid this lab ever had, for the final check that none is left. */
  readonly seenPids = new Set<number>();
  readonly seenNamespaces = new Map<string, number>();

  private constructor(init: {
    prefix: string;
    dataDir: string;
    adminToken: string;
    havipds: Havipd[];
    pg: ThrowAwayPostgres | null;
    ids: LabIds;
  }) {
    this.prefix = init.prefix;
    this.dataDir = init.dataDir;
    this.labDir = join(init.dataDir, "lab");
    this.faultsDir = join(init.dataDir, "faults");
    this.adminToken = init.adminToken;
    this.havipds = init.havipds;
    this.pg = init.pg;
    this.ids = init.ids;
    this.keepalived = {
      "vm-a": writeTrackedKeepalived(this.faultsDir, "vm-a"),
      "vm-b": writeTrackedKeepalived(this.faultsDir, "vm-b"),
    };
  }

  /** Builds the lab; on failure everything made so far is taken down again. */
  static async start(options: FaultLabOptions = {}): Promise<FaultLab> {
    const prefix = testPrefix(options.tag ?? "hft");
    const dataDir = tempStateDir("faults");
    const adminToken = randomBytes(24).toString("hex");
    let pg: ThrowAwayPostgres | null = null;
    const havipds: Havipd[] = [];
    try {
      if (options.store === "postgres") pg = await ThrowAwayPostgres.start(options.pgPort ?? 55620);
      const common = { labDir: join(dataDir, "lab"), labPrefix: prefix, adminToken, database: pg?.url };
      havipds.push(await Havipd.start({ ...common, dataDir, port: await freePort() }));
      const lab = new FaultLab({ prefix, dataDir, adminToken, havipds, pg, ids: emptyIds() });
      lab.ids = await lab.labUp();
      if ((options.replicas ?? 1) === 2) {
        const replicaDir = join(dataDir, "replica-b");
        havipds.push(await Havipd.start({ ...common, dataDir: replicaDir, port: await freePort() }));
      }
      lab.#remember();
      await lab.restore();
      return lab;
    } catch (e) {
      for (const h of havipds) await h.kill().catch(() => undefined);
      await labDown({ stateDir: join(dataDir, "lab"), prefix }).catch(() => undefined);
      await pg?.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The lab as its record says now (re-read each time: havipd and the CLI write it too). */
  lab(): Lab {
    return openLab({ stateDir: this.labDir });
  }

  get havipd(): Havipd {
    const h = this.havipds[this.apiIndex];
    if (h === undefined) throw new Error(`no havipd ${this.apiIndex}`);
    return h;
  }

  /** `havip <args>` as an operator runs it against havipd `index`, with the lab's places. */
  async cli(args: readonly string[], index = 0): Promise<string> {
    const h = this.havipds[index] ?? this.havipd;
    const env = {
      ...process.env,
      HAVIP_API: h.api,
      HAVIP_DATA_DIR: this.dataDir,
      HAVIP_LAB_DIR: this.labDir,
      HAVIP_ADMIN_TOKEN: this.adminToken,
    };
    const { stdout } = await run(process.execPath, [CLI, ...args], { env, maxBuffer: 16 << 20 });
    return stdout;
  }

  /** `havip lab up seed-example`: the seed example through the API and in the lab. */
  async labUp(): Promise<LabIds> {
    const up = JSON.parse(await this.cli(["--json", "lab", "up", "seed-example"])) as {
      havip: HaVip;
      instances: Instance[];
    };
    const labNameOf = new Map(up.instances.map((i) => [i.id, i.name.toLowerCase()]));
    const instanceOf = new Map(up.instances.map((i) => [i.name.toLowerCase(), i.id]));
    const demoToken = readFileSync(join(this.dataDir, "demo-project-token"), "utf8").trim();
    return { havipId: up.havip.id, demoToken, labNameOf, instanceOf };
  }

  /** One API call to havipd `index` (default: the checker's), with the operator token unless given. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string; index?: number; timeoutMs?: number } = {},
  ): Promise<{ status: number; json: unknown }> {
    const h = this.havipds[options.index ?? this.apiIndex] ?? this.havipd;
    const r = await fetch(`${h.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? this.adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
    });
    const text = await r.text();
    return { status: r.status, json: text === "" ? null : (JSON.parse(text) as unknown) };
  }

  /** The API's holder (lab name), null for none, undefined when havipd did not answer. */
  async apiHolder(index = this.apiIndex): Promise<string | null | undefined> {
    try {
      const r = await this.call("GET", `/v1/havips/${this.ids.havipId}`, undefined, {
        token: this.ids.demoToken,
        index,
        timeoutMs: 1000,
      });
      if (r.status !== 200) return undefined;
      const id = (r.json as HaVip).holder?.instanceId;
      return id === undefined ? null : (this.ids.labNameOf.get(id) ?? id);
    } catch {
      return undefined;
    }
  }

  async havip(index = this.apiIndex): Promise<HaVip> {
    const r = await this.call("GET", `/v1/havips/${this.ids.havipId}`, undefined, {
      token: this.ids.demoToken,
      index,
    });
    if (r.status !== 200) throw new Error(`GET havip: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json as HaVip;
  }

  /** Whether eth0 of a member has the VIP (`ip -4 addr show`). */
  async hasAddress(member: Member): Promise<boolean> {
    const { stdout } = await run("ip", [
      "netns",
      "exec",
      this.namespace(member),
      "ip",
      "-4",
      "-o",
      "addr",
      "show",
      "dev",
      "eth0",
    ]);
    return stdout.includes(` ${VIP}/`);
  }

  async addressHolders(): Promise<Member[]> {
    const has = await Promise.all(MEMBER_NAMES.map((m) => this.hasAddress(m).catch(() => false)));
    return MEMBER_NAMES.filter((_, i) => has[i]);
  }

  namespace(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** A new fault window on this lab's checker. */
  window(): FaultWindow {
    return new FaultWindow({
      probes: this.probes,
      addressHolders: () => this.addressHolders(),
      apiHolder: () => this.apiHolder(),
    });
  }

  /** The recorded process with this label in an instance (or the fabric namespace), if it runs. */
  process(name: string, label: string): ProcessRecord | undefined {
    let lab: Lab;
    try {
      lab = this.lab();
    } catch {
      return undefined;
    }
    const ns = this.namespace(name);
    return lab.processes().find((p) => p.namespace === ns && p.label === label && p.pid !== null && pidAlive(p.pid));
  }

  agentPid(): number | null {
    return this.process("fabric", AGENT_LABEL)?.pid ?? null;
  }

  keepalivedPid(member: Member): number | null {
    const p = this.process(member, "keepalived");
    return p !== undefined && p.command.includes(this.keepalived[member].conf) ? (p.pid ?? null) : null;
  }

  /** Starts the member's keepalived with the tracked configuration (stopping any other keepalived there). */
  async startKeepalived(member: Member): Promise<void> {
    const lab = this.lab();
    await lab.stopKeepalived(member);
    const dir = this.faultsDir;
    // prettier-ignore
    const args = [
      "-n", "-l", "-D", "-G", "-P", "-f", this.keepalived[member].conf,
      "-p", join(dir, `${member}-keepalived.pid`), "-r", join(dir, `${member}-keepalived-vrrp.pid`),
    ];
    const k = this.lab().spawn(member, "keepalived", args, { label: "keepalived" });
    await k.waitForLog(/Entering (?:BACKUP|MASTER|FAULT) STATE/, 15_000);
    if (k.pid !== null) this.seenPids.add(k.pid);
  }

  /** kill -9 of the member's keepalived, its VRRP process included (the address stays where it is). */
  async killKeepalived(member: Member): Promise<void> {
    // The parent is frozen first (it would respawn its VRRP process, which withdraws the address as it
    // starts), then the VRRP process dies (it would get SIGTERM from its parent's death and withdraw the
    // address too), then the parent.
    const parent = this.keepalivedPid(member);
    const vrrpPidFile = join(this.faultsDir, `${member}-keepalived-vrrp.pid`);
    const vrrp = existsSync(vrrpPidFile) ? Number(readFileSync(vrrpPidFile, "utf8").trim()) : null;
    if (parent !== null) signal(parent, "SIGSTOP");
    for (const pid of [vrrp, parent]) {
      if (pid === null || pid <= 0) continue;
      signal(pid, "SIGKILL");
      await waitGone(pid, 5000);
    }
    for (const suffix of ["keepalived.pid", "keepalived-vrrp.pid"]) {
      rmSync(join(this.faultsDir, `${member}-${suffix}`), { force: true });
    }
    await this.lab().stopKeepalived(member); // forgets the record
  }

  async stopKeepalived(member: Member): Promise<void> {
    await this.lab().stopKeepalived(member);
  }

  async startResponder(member: Member): Promise<void> {
    const lab = this.lab();
    await lab.exec(member, "sysctl", ["-qw", "net.ipv4.ip_nonlocal_bind=1"]);
    await lab.stopProcess(member, RESPONDER_LABEL);
    const p = this.lab().spawn(member, process.execPath, [RESPONDER, member, VIP, String(PROBE_PORT)], {
      label: RESPONDER_LABEL,
    });
    await p.waitForLog(/listening/, 15_000);
    if (p.pid !== null) {
      this.#responderPids.set(member, p.pid);
      this.seenPids.add(p.pid);
    }
  }

  /** Removes every trace of earlier faults that the lab itself would not undo. */
  async clearFaults(): Promise<void> {
    for (const m of MEMBER_NAMES) {
      rmSync(this.keepalived[m].faultFile, { force: true });
      await run("ip", ["netns", "exec", this.namespace(m), "nft", "delete", "table", "inet", "havipfault"]).catch(
        () => undefined,
      );
    }
    await run("ip", ["netns", "exec", this.namespace("vm-c"), "pkill", "-x", "arping"]).catch(() => undefined);
    const agent = this.agentPid();
    if (agent !== null) signal(agent, "SIGCONT");
    if (this.pgDown && this.pg !== null) {
      await this.pg.restart();
      this.pgDown = false;
    }
  }

  /**
   * Brings the lab back to a known healthy state and checks it: every havipd up, the agent running, both
   * members' tracked keepalived, both responders and the prober running, exactly one member holding the
   * address, answering the probes, and named by the API. Repairs what an operator would (restart a dead
   * havipd or keepalived; re-announce the holder with arping when the network still points elsewhere).
   * Returns the holder.
   */
  async restore(timeoutMs = 30_000): Promise<Member> {
    await this.clearFaults();
    for (const h of this.havipds) if (!h.alive()) await h.start();
    if (this.agentPid() === null) {
      // No agent and nobody restarted it: havipd with --lab-dir starts one when it starts.
      for (const h of this.havipds) await h.stop();
      for (const h of this.havipds) await h.start();
    }
    for (const m of MEMBER_NAMES) if (this.keepalivedPid(m) === null) await this.startKeepalived(m);
    await this.restoreWorkload();
    const started = Date.now();
    const deadline = started + timeoutMs;
    let repairs = 0;
    for (;;) {
      const holder = await this.healthyHolder();
      if (holder !== undefined) return holder;
      if (Date.now() > deadline) {
        throw new Error(
          `the lab did not become healthy: address on ${JSON.stringify(await this.addressHolders())}, ` +
            `API holder ${String(await this.apiHolder())}; havipd log:\n${this.havipd.logTail(15)}`,
        );
      }
      // Repairs, as an operator makes them today, when the lab does not heal by itself: first the holder
      // announces by hand (the network points elsewhere), then keepalived restarts on both members.
      const waited = Date.now() - started;
      if (repairs === 0 && waited > 4000) {
        repairs++;
        const holders = await this.addressHolders();
        if (holders.length === 1 && holders[0] !== undefined) await this.announce(holders[0]);
      } else if (repairs === 1 && waited > 10_000) {
        repairs++;
        for (const m of MEMBER_NAMES) await this.startKeepalived(m);
      }
      await sleep(250);
    }
  }

  /** A gratuitous ARP for the HAVIP from a member (what an operator sends by hand). */
  async announce(member: Member): Promise<void> {
    await this.lab()
      .exec(member, "arping", ["-U", "-i", "eth0", "-S", VIP, "-c", "3", "-W", "0.2", VIP])
      .catch(() => undefined);
  }

  /** The responders in vm-a and vm-b and the prober in vm-c, (re)started where they do not run. */
  async restoreWorkload(): Promise<void> {
    for (const m of MEMBER_NAMES) {
      const pid = this.#responderPids.get(m);
      if (pid === undefined || !pidAlive(pid)) await this.startResponder(m);
    }
    if (!this.probes.running()) await this.probes.start(this.namespace("vm-c"), VIP);
    this.#remember();
  }

  /** The member that has the address, answers the last second's probes and is the API's holder; else undefined. */
  async healthyHolder(): Promise<Member | undefined> {
    const holders = await this.addressHolders();
    if (holders.length !== 1) return undefined;
    const holder = holders[0];
    if (holder === undefined) return undefined;
    const now = Date.now();
    const recent = this.probes.since(now - 1300).filter((p) => p.sentAt <= now - 300);
    const delivered = recent.length > 0 && recent.every((p) => p.answer?.by === holder && p.answer.hadAddress);
    if (!delivered) return undefined;
    for (let i = 0; i < this.havipds.length; i++) if ((await this.apiHolder(i)) !== holder) return undefined;
    return holder;
  }

  /** Notes the lab's namespaces and processes for the final check. */
  #remember(): void {
    try {
      for (const [name, inode] of namespaceInodes(this.lab().state.namespaces.map((n) => n.name))) {
        this.seenNamespaces.set(`${name}:${inode}`, inode);
      }
      for (const p of this.lab().processes()) if (p.pid !== null) this.seenPids.add(p.pid);
    } catch {
      // the lab is being remade (a reboot)
    }
    for (const h of this.havipds) if (h.pid !== 0) this.seenPids.add(h.pid);
    if (this.probes.pid !== null) this.seenPids.add(this.probes.pid);
  }

  /** Takes everything down: havipd, the lab, PostgreSQL, the data directory. */
  async down(): Promise<void> {
    this.#remember();
    await this.probes.stop();
    for (const h of this.havipds) await h.stop(5000).catch(() => undefined);
    // A havipd started by scripts/run.sh (after a reboot) is known by its pid file.
    const pidFile = join(this.dataDir, "havipd.pid");
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (pid > 0 && pidAlive(pid)) signal(pid, "SIGKILL");
    }
    await labDown({ stateDir: this.labDir, prefix: this.prefix });
    await this.pg?.stop().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function emptyIds(): LabIds {
  return { havipId: "", demoToken: "", labNameOf: new Map(), instanceOf: new Map() };
}
