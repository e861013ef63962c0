// The faults of issue 15's suite, each a function of the lab: it brings the lab to a healthy state, injects the
// fault, marks the moment the fault ends (from then on the platform must put things right by itself) and returns
// what the checker measured. The test (faults.test.ts) and the benchmark (bench/faults/run.ts) both run them.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import type { Page } from "@havip/control";
import type { ObserveOptions } from "./checker.ts";
import type { FaultLab } from "./harness.ts";
import { pidAlive, signal, waitGone } from "./havipd.ts";
import { otherMember, VIP, type Member } from "./keepalived.ts";
import { simulateReboot } from "./reboot.ts";
import type { Measurement } from "./timeline.ts";

const run = promisify(execFile);
const RUN_SH = fileURLToPath(new URL("../../scripts/run.sh", import.meta.url));
const RUN_SH_TIMEOUT_MS = 120_000;
const GARP_FLOOD_C = fileURLToPath(new URL("./garp-flood.c", import.meta.url));

export interface FaultResult extends Measurement {
  fault: string;
  /** The member that held the HAVIP before the fault; the one that has the address at the end. */
  holderBefore: Member;
  holderAfter: string[];
  observedMs: number;
  /** Fault-specific facts (writes acknowledged and lost, frames sent, log lines…). */
  extra: Record<string, number | string | boolean | null>;
}

/** What a fault needs of the lab. */
export type Needs = "any" | "postgres" | "replicas";

export interface Fault {
  name: string;
  needs: Needs;
  /** What it does, for reports. */
  what: string;
  run(lab: FaultLab, options?: FaultOptions): Promise<FaultResult>;
}

export interface FaultOptions {
  /** A number in [0, 1) for faults with a random part (e.g. when havipd dies in a failover). */
  random?: () => number;
  observe?: ObserveOptions;
}

async function untilTrue(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs the body of a fault in a fresh window on a healthy lab and measures it. */
async function windowed(
  name: string,
  lab: FaultLab,
  options: FaultOptions,
  body: (
    holder: Member,
    extra: FaultResult["extra"],
    observe: ObserveOptions,
    /** Marks the fault's end early, when the body goes on to check things after it (default: when it returns). */
    ended: () => void,
  ) => Promise<void>,
): Promise<FaultResult> {
  const holderBefore = await lab.restore();
  const extra: FaultResult["extra"] = {};
  const w = lab.window();
  const observe: ObserveOptions = {};
  try {
    await body(holderBefore, extra, observe, () => {
      w.faultEnded();
    });
  } catch (e) {
    await w.abandon();
    throw e;
  }
  w.faultEnded();
  const m = await w.observe({ ...observe, ...options.observe });
  return { fault: name, holderBefore, holderAfter: await lab.addressHolders(), extra, ...m };
}

/** The failover the seed shows: the holder's keepalived stops (it withdraws the address, priority 0). */
async function failover(lab: FaultLab, holder: Member): Promise<void> {
  await lab.stopKeepalived(holder);
  await untilTrue(`${otherMember(holder)} to take the address`, 10_000, () => lab.hasAddress(otherMember(holder)));
}

const agentKill: Fault = {
  name: "agent-kill9",
  needs: "any",
  what: "the fabric agent is killed with SIGKILL",
  run: (lab, o = {}) =>
    windowed("agent-kill9", lab, o, async (_h, extra) => {
      const pid = lab.agentPid();
      if (pid === null) throw new Error("no fabric agent runs");
      signal(pid, "SIGKILL");
      await waitGone(pid, 5000);
      extra.killedPid = pid;
    }),
};

const agentStop: Fault = {
  name: "agent-sigstop",
  needs: "any",
  what: "the fabric agent is stopped (SIGSTOP) for 5 s, then continued",
  run: (lab, o = {}) =>
    windowed("agent-sigstop", lab, o, async (_h, extra) => {
      const pid = lab.agentPid();
      if (pid === null) throw new Error("no fabric agent runs");
      signal(pid, "SIGSTOP");
      await sleep(5000);
      extra.continued = signal(pid, "SIGCONT");
      extra.samePidAfter = pidAlive(pid);
    }),
};

const havipdKillThenFailover: Fault = {
  name: "havipd-kill-failover",
  needs: "any",
  what: "havipd is killed (SIGKILL), a failover happens, havipd is started again",
  run: (lab, o = {}) =>
    windowed("havipd-kill-failover", lab, o, async (holder) => {
      await lab.havipd.kill();
      await failover(lab, holder);
      await lab.havipd.start();
    }),
};

const havipdKillMidFailover: Fault = {
  name: "havipd-kill-mid-failover",
  needs: "any",
  what: "havipd is killed (SIGKILL) in the middle of a failover, then started again",
  run: (lab, o = {}) =>
    windowed("havipd-kill-mid-failover", lab, o, async (holder, extra) => {
      // The holder's keepalived is told to stop; havipd dies a moment later, while the new holder announces.
      const delayMs = Math.round((o.random?.() ?? 0.5) * 400);
      extra.killDelayMs = delayMs;
      const stopping = lab.stopKeepalived(holder);
      await sleep(delayMs);
      await lab.havipd.kill();
      await stopping;
      await untilTrue(`${otherMember(holder)} to take the address`, 10_000, () => lab.hasAddress(otherMember(holder)));
      await lab.havipd.start();
    }),
};

const havipdGracefulRestart: Fault = {
  name: "havipd-graceful-restart",
  needs: "any",
  what: "havipd is stopped gracefully (SIGTERM) and started again under traffic",
  run: (lab, o = {}) =>
    windowed("havipd-graceful-restart", lab, o, async (_h, extra) => {
      const agentBefore = lab.agentPid();
      await lab.havipd.stop();
      await lab.havipd.start();
      extra.agentAdopted = agentBefore !== null && agentBefore === lab.agentPid();
    }),
};

/** nftables in a member's namespace: drops the VRRP (IP protocol 112) it sends. */
async function dropVrrpFrom(lab: FaultLab, member: Member): Promise<void> {
  const ns = lab.namespace(member);
  const rules = [
    "add table inet havipfault",
    "add chain inet havipfault out { type filter hook output priority 0 ; }",
    "add rule inet havipfault out ip protocol 112 drop",
  ];
  for (const rule of rules) await run("ip", ["netns", "exec", ns, "nft", ...rule.split(" ")]);
}

async function healVrrp(lab: FaultLab): Promise<void> {
  for (const m of ["vm-a", "vm-b"] as const) {
    await run("ip", ["netns", "exec", lab.namespace(m), "nft", "delete", "table", "inet", "havipfault"]).catch(
      () => undefined,
    );
  }
}

/** Long enough for the backup to declare the master down (3 × advert_int + skew) and take the address. */
const PARTITION_MS = 5000;

function partition(name: string, what: string, senders: (holder: Member) => Member[]): Fault {
  return {
    name,
    needs: "any",
    what,
    run: (lab, o = {}) =>
      windowed(name, lab, o, async (holder, extra, observe) => {
        for (const m of senders(holder)) await dropVrrpFrom(lab, m);
        // While partitioned both may hold the address (split brain): the API must say the HAVIP is contested.
        const until = Date.now() + PARTITION_MS;
        let bothSince: number | null = null;
        let reportedAt: number | null = null;
        while (Date.now() < until) {
          const holders = await lab.addressHolders();
          if (holders.length > 1) bothSince ??= Date.now();
          const shown = await lab.havip().catch(() => undefined);
          const contested = (shown as { contested?: unknown } | undefined)?.contested;
          if (bothSince !== null && contested !== undefined && contested !== null) reportedAt ??= Date.now();
          await sleep(100);
        }
        extra.holdersAtHeal = (await lab.addressHolders()).join(",");
        extra.splitBrain = bothSince !== null;
        extra.contestedReportedAfterMs = bothSince === null || reportedAt === null ? null : reportedAt - bothSince;
        await healVrrp(lab);
        // After the heal VRRP settles within an advert interval or two; watch long enough to see it.
        observe.minMs = 4000;
      }),
  };
}

const partitionHolderOut = partition(
  "partition-holder-out",
  "VRRP from the holder to the backup dropped (nftables, IP protocol 112) for 5 s, then healed",
  (h) => [h],
);
const partitionBackupOut = partition(
  "partition-backup-out",
  "VRRP from the backup to the holder dropped for 5 s, then healed",
  (h) => [otherMember(h)],
);
const partitionBoth = partition("partition-both", "VRRP dropped in both directions for 5 s, then healed", (h) => [
  h,
  otherMember(h),
]);

const trackScriptFault: Fault = {
  name: "holder-track-fault",
  needs: "any",
  what: "the holder's keepalived track_script starts failing: FAULT state, the address withdrawn",
  run: (lab, o = {}) =>
    windowed("holder-track-fault", lab, o, async (holder, extra) => {
      const started = Date.now();
      writeFileSync(lab.keepalived[holder].faultFile, "fault\n");
      // The fault ends when the holder has withdrawn (keepalived's own check interval is not the platform's).
      await untilTrue(`${holder} to withdraw the address`, 10_000, async () => !(await lab.hasAddress(holder)));
      extra.withdrawnAfterMs = Date.now() - started;
    }),
};

const addressRemoved: Fault = {
  name: "holder-address-removed",
  needs: "any",
  what:
    "the holder's address manager removes the address (vip-manager style: keepalived out of the way, " +
    "`ip addr del`) and nobody else takes it: the API must release the holder",
  run: (lab, o = {}) =>
    windowed("holder-address-removed", lab, o, async (holder, _extra, observe) => {
      // keepalived would put the address back within half a second (it restores deleted VIPs), so the
      // manager here is the operator: the backup's keepalived stopped, the holder's killed (the address
      // stays, no resignation), then the address removed by hand. Nobody has it afterwards.
      await lab.stopKeepalived(otherMember(holder));
      await lab.killKeepalived(holder);
      await lab.lab().exec(holder, "ip", ["addr", "del", `${VIP}/24`, "dev", "eth0"]);
      observe.minMs = 5000;
      observe.maxMs = 8000;
    }),
};

const wrongObservation: Fault = {
  name: "wrong-observation",
  needs: "any",
  what: "POST /v1/observations names the member that does not have the address",
  run: (lab, o = {}) =>
    windowed("wrong-observation", lab, o, async (holder, extra) => {
      const instanceId = lab.ids.instanceOf.get(otherMember(holder));
      const r = await lab.call("POST", "/v1/observations", {
        havipId: lab.ids.havipId,
        instanceId,
      });
      extra.status = r.status;
      extra.answer = JSON.stringify(r.json).slice(0, 300);
    }),
};

const reboot: Fault = {
  name: "reboot",
  needs: "any",
  what: "a simulated host reboot (every process killed, the lab's namespaces deleted), then scripts/run.sh",
  run: (lab, o = {}) =>
    windowed("reboot", lab, o, async (_h, extra) => {
      const h = lab.havipd;
      await lab.probes.stop();
      await simulateReboot(
        lab.labDir,
        lab.dataDir,
        lab.prefix,
        lab.havipds.map((x) => x.pid),
      );
      const started = Date.now();
      const env = {
        ...process.env,
        HAVIP_DATA_DIR: lab.dataDir,
        HAVIP_LISTEN: `127.0.0.1:${h.options.port}`,
        HAVIP_LAB_DIR: lab.labDir,
        HAVIP_LAB_PREFIX: lab.prefix,
        HAVIP_ADMIN_TOKEN: lab.adminToken,
      };
      const r = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn("bash", [RUN_SH], { env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
        child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
        // run.sh keeps polling a havipd that died at start (200 health checks): a bounded wait keeps it short.
        const timer = setTimeout(() => child.kill("SIGKILL"), RUN_SH_TIMEOUT_MS);
        child.on("exit", (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
      extra.runShExit = r.code;
      extra.runShMs = Date.now() - started;
      const pidFile = join(lab.dataDir, "havipd.pid");
      if (existsSync(pidFile)) h.pid = Number(readFileSync(pidFile, "utf8").trim());
      if (r.code !== 0) {
        extra.runShTail = r.output.trim().split("\n").slice(-6).join(" | ");
        throw new Error(`scripts/run.sh after the reboot exited ${String(r.code)}:\n${r.output.slice(-3000)}`);
      }
      // The workload (responders, prober) starts again like an application after a reboot: the window
      // measures from when it probes again.
      await lab.restoreWorkload();
    }),
};

const pgOutage: Fault = {
  name: "postgres-outage",
  needs: "postgres",
  what: "PostgreSQL stopped (immediate) for 10 s under API writes, then started again",
  run: (lab, o = {}) =>
    windowed("postgres-outage", lab, o, async (_h, extra, _observe, ended) => {
      if (lab.pg === null) throw new Error("the lab runs on SQLite");
      const writer = new Writer(lab);
      const writing = writer.run();
      await sleep(1000);
      await lab.pg.crash();
      lab.pgDown = true;
      await sleep(10_000);
      await lab.pg.restart();
      lab.pgDown = false;
      ended();
      const back = Date.now();
      await writer.untilAcknowledgedAfter(back, 15_000);
      extra.firstWriteAfterMs = writer.firstAckAfter(back);
      await sleep(1000);
      writer.stop();
      await writing;
      extra.havipdAlive = lab.havipds.every((x) => x.alive());
      // A havipd that died is started again (as an operator would) to check what it had acknowledged.
      const dead = lab.havipds.filter((x) => !x.alive());
      for (const h of dead) await h.start();
      extra.havipdRestarted = dead.length;
      extra.attempted = writer.attempted;
      extra.acknowledged = writer.acknowledged.length;
      extra.unavailable503 = writer.statuses.get(503) ?? 0;
      extra.other = [...writer.statuses]
        .filter(([s]) => s !== 503 && (s < 200 || s > 299))
        .map(([s, n]) => `${s}:${n}`)
        .join(",");
      extra.connectionErrors = writer.connectionErrors;
      extra.codes503 = [...writer.codes].join(",");
      extra.lostWrites = (await writer.lost()).length;
    }),
};

/** Writes through the API continuously (a project per write) and remembers which writes were acknowledged. */
class Writer {
  readonly #lab: FaultLab;
  #stopped = false;
  attempted = 0;
  connectionErrors = 0;
  readonly acknowledged: { name: string; at: number }[] = [];
  readonly statuses = new Map<number, number>();
  readonly codes = new Set<string>();
  readonly #tag = Math.random().toString(36).slice(2, 8);

  constructor(lab: FaultLab) {
    this.#lab = lab;
  }

  async run(): Promise<void> {
    for (let n = 0; !this.#stopped; n++) {
      const name = `w-${this.#tag}-${n}`;
      const index = n % this.#lab.havipds.length;
      this.attempted++;
      try {
        const r = await this.#lab.call("POST", "/v1/projects", { name }, { index });
        this.statuses.set(r.status, (this.statuses.get(r.status) ?? 0) + 1);
        const code = (r.json as { error?: { code?: string } } | null)?.error?.code;
        if (r.status >= 200 && r.status < 300) this.acknowledged.push({ name, at: Date.now() });
        else if (code !== undefined) this.codes.add(code);
      } catch {
        this.connectionErrors++;
      }
      await sleep(50);
    }
  }

  stop(): void {
    this.#stopped = true;
  }

  firstAckAfter(t: number): number | null {
    const a = this.acknowledged.find((x) => x.at >= t);
    return a === undefined ? null : a.at - t;
  }

  async untilAcknowledgedAfter(t: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.firstAckAfter(t) === null && Date.now() < deadline) {
      if (!this.#lab.havipds.some((h) => h.alive())) return; // nobody left to acknowledge anything
      await sleep(100);
    }
  }

  /** Acknowledged writes that no replica's API shows now. */
  async lost(): Promise<string[]> {
    const names = new Set<string>();
    let next: string | undefined;
    do {
      const q = next === undefined ? "?limit=1000" : `?limit=1000&cursor=${encodeURIComponent(next)}`;
      const r = await this.#lab.call("GET", `/v1/projects${q}`);
      if (r.status !== 200) throw new Error(`GET /v1/projects: ${r.status}`);
      const page = r.json as Page<{ name: string }>;
      for (const p of page.items) names.add(p.name);
      next = page.nextCursor ?? undefined;
    } while (next !== undefined);
    return this.acknowledged.map((a) => a.name).filter((n) => !names.has(n));
  }
}

const replicaKilled: Fault = {
  name: "replica-killed",
  needs: "replicas",
  what: "two havipd on one PostgreSQL: the first is killed (SIGKILL), then a failover; the survivor must follow",
  run: async (lab, o = {}) => {
    if (lab.havipds.length < 2) throw new Error("needs two havipd");
    try {
      return await windowed("replica-killed", lab, o, async (holder) => {
        await lab.havipds[0]?.kill();
        lab.apiIndex = 1;
        await failover(lab, holder);
      });
    } finally {
      lab.apiIndex = 0;
    }
  },
};

const garpFlood: Fault = {
  name: "garp-flood",
  needs: "any",
  what: "vm-c (not a member) floods gratuitous ARPs for the HAVIP for 3 s",
  run: (lab, o = {}) =>
    windowed("garp-flood", lab, o, async (_h, extra) => {
      const binary = join(lab.faultsDir, "garp-flood");
      if (!existsSync(binary)) await run("gcc", ["-O2", "-o", binary, GARP_FLOOD_C]);
      const logBefore = sizeOf(lab.havipd.logFile);
      const linesBefore = lineCount(lab.havipd.logFile);
      const { stdout } = await lab.lab().exec("vm-c", binary, ["eth0", VIP, "3"]);
      extra.framesSent = Number(stdout.trim());
      await sleep(500);
      extra.havipdLogLines = lineCount(lab.havipd.logFile) - linesBefore;
      extra.havipdLogBytes = sizeOf(lab.havipd.logFile) - logBefore;
    }),
};

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function lineCount(file: string): number {
  try {
    return readFileSync(file, "utf8").split("\n").length;
  } catch {
    return 0;
  }
}

/** Every fault, in the order the suite runs them (the reboot last: it remakes the lab). */
export const FAULTS: readonly Fault[] = [
  agentKill,
  agentStop,
  havipdKillThenFailover,
  havipdKillMidFailover,
  havipdGracefulRestart,
  partitionHolderOut,
  partitionBackupOut,
  partitionBoth,
  trackScriptFault,
  addressRemoved,
  wrongObservation,
  garpFlood,
  pgOutage,
  replicaKilled,
  reboot,
];

export function faultNamed(name: string): Fault {
  const f = FAULTS.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no fault "${name}"; faults: ${FAULTS.map((x) => x.name).join(", ")}`);
  return f;
}
