// --lab-dir: havipd sets up the Linux lab's fabric itself (DESIGN §7). It creates (or reuses) the lab's
// fabric and underlay namespaces through @havip/lab, and runs the fabric agent inside the fabric namespace on the
// lab's fabric endpoint: it adopts the agent already running there when that one answers (a previous havipd's:
// the data plane outlives the control plane), else starts a fresh one. It hands the agent's Unix socket to the
// agent-driven fabric and supervises the agent: one that exits or hangs is killed and started again
// (agent/supervisor.ts). On shutdown the agent keeps running; `havip lab down` removes it with the lab.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLab, isLabError, openLab, requireRoot } from "@havip/lab";
import type { Lab } from "@havip/lab";
import type { Logger } from "pino";
import { adoptOrStart } from "./agent/adopt.ts";
import {
  agentExitFromLog,
  findAgentProcesses,
  isAlive,
  killAgent,
  logTail,
  type AgentProcess,
} from "./agent/agent-process.ts";
import { Heartbeat, type HeartbeatOptions } from "./agent/heartbeat.ts";
import { AGENT_PROTOCOL_VERSION } from "./agent/protocol.ts";
import { RemoteFabric } from "./agent/remote-fabric.ts";
import {
  AgentSupervisor,
  type AgentDown,
  type RestartBackoffOptions,
  type SupervisedAgent,
} from "./agent/supervisor.ts";
import { StartupError } from "./startup-error.ts";

const AGENT = fileURLToPath(new URL("./agent/main.ts", import.meta.url));
const AGENT_LABEL = "fabric-agent";
const AGENT_READY_MS = 20_000;
/** How long a running agent has to answer hello before havipd replaces it rather than adopting it. */
const ADOPT_HELLO_MS = 2000;
/** How often the agent's process is looked at (an exit is noticed this fast; a hang takes the heartbeat). */
const DEFAULT_POLL_MS = 200;
/**
 * The supervision pings twice as often as havipd's link does: a hang is then told 3 to 3.5 s after it began (the
 * timeout runs from the first unanswered ping), and a ping costs the agent next to nothing.
 */
const WATCH_PING_INTERVAL_MS = 500;

export interface LabFabricOptions {
  /** The lab's state directory (lab-state.json, logs, the agent's socket). */
  dir: string;
  /** Prefix of the lab's namespaces (default "hvl-"). */
  prefix: string;
  /** The supervision's heartbeat (defaults: a ping every 0.5 s, hung when one is unanswered for 3 s). */
  heartbeat?: HeartbeatOptions;
  /** How often the agent's process is looked at, ms (default 200). */
  pollMs?: number;
  /** The back-off between restarts (default 0.2 s doubling up to 10 s, reset after 30 s of running). */
  backoff?: RestartBackoffOptions;
}

export interface LabFabric {
  lab: Lab;
  /** The fabric agent's Unix socket, for the agent-driven fabric. */
  socket: string;
  /** The agent's pid now (null while it is being restarted, or after the lab was taken down). */
  readonly pid: number | null;
  /** Told after each restart of the agent. */
  onRestart(listener: () => void): void;
  /**
   * Ends the supervision and leaves the agent running: the next havipd adopts it, `havip lab down` removes it.
   * The namespaces and attached instances stay too.
   */
  stop(): Promise<void>;
}

/** The agent's socket in a lab directory. */
export function agentSocketOf(dir: string): string {
  return join(resolve(dir), "fabric-agent.sock");
}

export async function startLabFabric(options: LabFabricOptions, logger: Logger): Promise<LabFabric> {
  try {
    requireRoot("create the lab's network namespaces and run the fabric agent in them (--lab-dir)");
  } catch (e) {
    throw new StartupError(`--lab-dir needs root: ${e instanceof Error ? e.message : String(e)}`);
  }
  const dir = resolve(options.dir);
  let lab: Lab;
  try {
    lab = await openOrCreate(dir, options.prefix);
  } catch (e) {
    throw new StartupError(`lab in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const socket = agentSocketOf(dir);
  const fabricNs = lab.fabricNs;
  const { address, port } = lab.fabricEndpoint;
  const watch: WatchContext = {
    socket,
    logFile: join(lab.filesDir, "fabric", `${AGENT_LABEL}.log`),
    pollMs: options.pollMs ?? DEFAULT_POLL_MS,
    heartbeat: { pingIntervalMs: WATCH_PING_INTERVAL_MS, ...options.heartbeat },
    labGone: () => labGone(dir, fabricNs),
  };
  /** A fresh agent, once it is ready; the lab's record is read afresh (`havip lab …` changes it under havipd). */
  const start = async (): Promise<WatchedAgent> => {
    for (const stray of findAgentProcesses(socket)) await killAgent(stray); // it would hold the VXLAN port
    const current = openLab({ stateDir: dir });
    await current.stopProcess("fabric", AGENT_LABEL, 0); // a recorded agent that is not ours by its command line
    const agent = current.spawn(
      "fabric",
      process.execPath,
      [AGENT, "--socket", socket, "--vxlan", `${address}:${port}`],
      { label: AGENT_LABEL },
    );
    try {
      await agent.waitForLog(/"ready":true/, AGENT_READY_MS);
    } catch (e) {
      await agent.stop(0);
      throw e;
    }
    if (agent.pid === null || agent.startTime === null) throw new Error("the fabric agent exited as it started");
    return new WatchedAgent({ pid: agent.pid, startTime: agent.startTime }, watch, null);
  };

  // Never replace an agent that works: a graceful havipd restart, or a crash, must not cost a packet.
  const decision = await adoptOrStart(findAgentProcesses(socket), () =>
    RemoteFabric.connect(socket, { helloTimeoutMs: ADOPT_HELLO_MS }),
  );
  let first: WatchedAgent;
  if (decision.action === "adopt") {
    first = new WatchedAgent(decision.agent, watch, decision.connection);
    logger.info(
      {
        labDir: dir,
        namespace: fabricNs,
        socket,
        pid: first.pid,
        reason: `it answered hello (protocol ${AGENT_PROTOCOL_VERSION})`,
      },
      `fabric agent adopted in namespace ${fabricNs} on ${address}:${port}`,
    );
  } else {
    for (const stale of decision.stale) {
      if (!(await killAgent(stale))) throw new StartupError(`the fabric agent (pid ${stale.pid}) survived SIGKILL`);
    }
    try {
      first = await start();
    } catch (e) {
      throw new StartupError(`the fabric agent did not start in ${fabricNs}: ${firstLine(e)}`);
    }
    logger.info(
      { labDir: dir, namespace: fabricNs, socket, pid: first.pid, reason: decision.reason },
      `fabric agent started in namespace ${fabricNs} on ${address}:${port}`,
    );
  }

  const listeners: (() => void)[] = [];
  const supervisor = new AgentSupervisor(
    first,
    {
      start,
      cannotStart: () => labGone(dir, fabricNs),
      logger,
      onRestart: () => {
        for (const l of listeners) l();
      },
    },
    options.backoff,
  );
  return {
    lab,
    socket,
    get pid() {
      return supervisor.pid;
    },
    onRestart: (listener) => {
      listeners.push(listener);
    },
    stop: async () => {
      const pid = supervisor.pid;
      await supervisor.stop();
      if (pid === null || labGone(dir, fabricNs) !== null) return;
      logger.info(
        { namespace: fabricNs, pid },
        "fabric agent left running: the next havipd adopts it (`havip lab down` removes it)",
      );
    },
  };
}

/** Why the lab cannot hold an agent now (it was taken down), or null. */
function labGone(dir: string, fabricNs: string): string | null {
  if (!existsSync(join(dir, "lab-state.json"))) return `the lab in ${dir} was taken down`;
  if (!namespaceExists(fabricNs)) return `the lab's fabric namespace ${fabricNs} is gone`;
  return null;
}

interface WatchContext {
  socket: string;
  logFile: string;
  pollMs: number;
  heartbeat: HeartbeatOptions;
  labGone: () => string | null;
}

/**
 * One agent under watch: its process looked at every `pollMs` (gone: exited or stopped, by what its log says),
 * and a heartbeat on a connection of its own (no answer for the timeout, or no hello on a new connection: hung).
 * The lab taken down ends the watch too.
 */
class WatchedAgent implements SupervisedAgent {
  readonly pid: number;
  readonly down: Promise<AgentDown>;
  private readonly process: AgentProcess;
  private readonly ctx: WatchContext;
  private readonly heartbeat: Heartbeat;
  private readonly poll: NodeJS.Timeout;
  private connection: RemoteFabric | null = null;
  private connecting = false;
  private over = false;
  private announce: (down: AgentDown) => void = () => undefined;

  constructor(process: AgentProcess, ctx: WatchContext, connection: RemoteFabric | null) {
    this.process = process;
    this.pid = process.pid;
    this.ctx = ctx;
    this.down = new Promise((resolve) => (this.announce = resolve));
    this.heartbeat = new Heartbeat(
      () => this.ping(),
      () => {
        this.finish({ reason: "hung", exitCode: null, signal: "SIGKILL" }); // havipd's own, next
      },
      ctx.heartbeat,
    );
    if (connection !== null) this.use(connection);
    this.poll = setInterval(() => {
      this.check();
    }, ctx.pollMs).unref();
    this.heartbeat.start();
  }

  kill(): Promise<void> {
    this.release();
    return killAgent(this.process).then(() => undefined);
  }

  release(): void {
    this.over = true;
    clearInterval(this.poll);
    this.heartbeat.stop();
    this.connection?.close();
    this.connection = null;
  }

  private check(): void {
    if (this.over) return;
    if (this.ctx.labGone() !== null) {
      this.finish({ reason: "gone", exitCode: null, signal: null });
      return;
    }
    if (isAlive(this.process)) return;
    const exit = agentExitFromLog(logTail(this.ctx.logFile));
    this.finish({
      reason: exit.deliberate ? "stopped" : "exited",
      exitCode: exit.exitCode,
      signal: exit.signal,
      ...(exit.lastLog === undefined ? {} : { lastLog: exit.lastLog }),
    });
  }

  /** A ping on the watch connection, or, without one, a new connection whose hello is the answer. */
  private async ping(): Promise<void> {
    if (this.connection !== null) {
      await this.connection.ping();
      return;
    }
    if (this.connecting) throw new Error("still connecting");
    this.connecting = true;
    try {
      const connection = await RemoteFabric.connect(this.ctx.socket, { helloTimeoutMs: this.heartbeat.timeoutMs });
      if (this.over) connection.close();
      else this.use(connection);
    } finally {
      this.connecting = false;
    }
  }

  private use(connection: RemoteFabric): void {
    this.connection = connection;
    connection.onClose(() => {
      if (this.connection === connection) this.connection = null;
      this.check(); // an agent that exits closes it: notice at once
    });
  }

  private finish(down: AgentDown): void {
    if (this.over) return;
    this.release();
    this.announce(down);
  }
}

async function openOrCreate(dir: string, prefix: string): Promise<Lab> {
  if (existsSync(join(dir, "lab-state.json"))) {
    const lab = openLab({ stateDir: dir });
    if (lab.prefix !== prefix) {
      throw new Error(`the lab there has prefix ${lab.prefix}, not ${prefix}`);
    }
    if (namespaceExists(lab.fabricNs) && namespaceExists(lab.underlayNs)) return lab;
  }
  try {
    return await createLab({ stateDir: dir, prefix });
  } catch (e) {
    if (isLabError(e)) throw new Error(e.message, { cause: e });
    throw e;
  }
}

function namespaceExists(name: string): boolean {
  return existsSync(join("/run/netns", name));
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0] ?? message;
}
