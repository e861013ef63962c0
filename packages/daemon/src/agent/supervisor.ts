// havipd's supervision of the fabric agent it started or adopted (--lab-dir). When the agent exits or stops
// answering, havipd kills what is left of it (SIGKILL also ends a stopped process) and starts a new one, backing
// off between restarts. The new agent comes back empty; havipd's link to it reconnects and restores the spec and
// the attachments (AgentLink's restore hooks). How an agent is started, watched and killed is the caller's
// (lab-fabric.ts); this module decides when, and says so in the log.
import type { Logger } from "pino";

/**
 * Why the agent is down. `exited` and `hung` are restarted; `stopped` (it exited cleanly on SIGTERM or SIGINT:
 * someone stopped it on purpose, e.g. `havip lab down`) and `gone` (the lab it runs in was removed) end the
 * supervision.
 */
export type AgentDownReason = "exited" | "hung" | "stopped" | "gone";

export interface AgentDown {
  reason: AgentDownReason;
  /** The exit code, when the agent logged it on its way out (null: killed by a signal, or unknown). */
  exitCode: number | null;
  /** The signal that stopped or killed it, when known. */
  signal: string | null;
  /** What the agent last logged, when it says why it went (an error on its way out). */
  lastLog?: string;
}

/** One running agent as the supervisor sees it. */
export interface SupervisedAgent {
  readonly pid: number;
  /** Resolves once, when the agent is down. */
  readonly down: Promise<AgentDown>;
  /** Kills it (SIGKILL) if it still runs; resolves once it is gone. */
  kill(): Promise<void>;
  /** Stops watching it; the agent keeps running. */
  release(): void;
}

export interface RestartBackoffOptions {
  /** The wait before the first restart, ms (default 200); it doubles with every restart in a row. */
  firstMs?: number;
  /** The longest wait, ms (default 10 000). */
  maxMs?: number;
  /** An agent that ran this long before it went down starts the schedule again, ms (default 30 000). */
  resetAfterMs?: number;
}

/** The back-off between restarts: 0.2 s, doubling up to 10 s, back to 0.2 s once an agent has run 30 s. */
export class RestartBackoff {
  private readonly firstMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;
  private nextMs: number;
  private attempts = 0;

  constructor(options: RestartBackoffOptions = {}) {
    this.firstMs = options.firstMs ?? 200;
    this.maxMs = options.maxMs ?? 10_000;
    this.resetAfterMs = options.resetAfterMs ?? 30_000;
    this.nextMs = this.firstMs;
  }

  /** The next restart, of an agent that ran `ranMs` before it went down (0: it did not start). */
  next(ranMs: number): { delayMs: number; attempt: number } {
    if (ranMs >= this.resetAfterMs) {
      this.nextMs = this.firstMs;
      this.attempts = 0;
    }
    const delayMs = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.maxMs);
    this.attempts++;
    return { delayMs, attempt: this.attempts };
  }
}

export interface SupervisorDeps {
  /** Starts a fresh agent and resolves once it is ready and watched; rejects when it does not come up. */
  start(): Promise<SupervisedAgent>;
  /** Why no agent may be started now (the lab is gone), or null. */
  cannotStart(): string | null;
  logger: Logger;
  /** Told after every restart (the metric). */
  onRestart?: () => void;
  /** Injected in tests: the clock (ms) and the wait between restarts. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export class AgentSupervisor {
  private agent: SupervisedAgent | null;
  private readonly deps: SupervisorDeps;
  private readonly backoff: RestartBackoff;
  private readonly stopping = new AbortController();
  private readonly stopped: Promise<null>;
  private readonly running: Promise<void>;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(first: SupervisedAgent, deps: SupervisorDeps, options: RestartBackoffOptions = {}) {
    this.agent = first;
    this.deps = deps;
    this.backoff = new RestartBackoff(options);
    this.now = deps.now ?? (() => performance.now());
    this.sleep = deps.sleep ?? abortableSleep;
    this.stopped = new Promise((resolve) => {
      this.stopping.signal.addEventListener("abort", () => {
        resolve(null);
      });
    });
    this.running = this.run(first).catch((e: unknown) => {
      deps.logger.error({ err: e }, "the fabric agent's supervision failed; it is no longer restarted");
    });
  }

  /** The agent's pid now (null while none runs). */
  get pid(): number | null {
    return this.agent?.pid ?? null;
  }

  /** Ends the supervision and leaves the agent running (a graceful havipd stop: the data plane stays). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  /** stop() may come while run() awaits: read the flag afresh (no narrowing across awaits). */
  private isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(first: SupervisedAgent): Promise<void> {
    const { logger } = this.deps;
    let agent = first;
    let startedAt = this.now();
    for (;;) {
      const down = await Promise.race([agent.down, this.stopped]);
      if (down === null) {
        agent.release();
        return;
      }
      const downAt = this.now();
      await agent.kill();
      agent.release();
      this.agent = null;
      const previousPid = agent.pid;
      const what = { pid: previousPid, reason: down.reason, exitCode: down.exitCode, signal: down.signal };
      const last = down.lastLog === undefined ? {} : { lastLog: down.lastLog };
      if (down.reason === "stopped" || down.reason === "gone") {
        const why =
          down.reason === "stopped"
            ? "fabric agent stopped on purpose; not restarted (restart havipd to start it again)"
            : "the lab is gone (havip lab down); the fabric agent is not restarted";
        logger.warn({ ...what, ...last }, why);
        return;
      }
      let ranMs = downAt - startedAt;
      for (;;) {
        const { delayMs, attempt } = this.backoff.next(ranMs);
        logger.warn({ ...what, ...last, attempt, backoffMs: delayMs }, `fabric agent ${down.reason}; restarting it`);
        await this.sleep(delayMs, this.stopping.signal);
        if (this.isStopping()) return;
        const blocked = this.deps.cannotStart();
        if (blocked !== null) {
          logger.warn({ ...what, why: blocked }, "the fabric agent is not restarted");
          return;
        }
        try {
          agent = await this.deps.start();
        } catch (e) {
          logger.error({ err: e, attempt }, "the fabric agent did not start; trying again");
          ranMs = 0;
          continue;
        }
        if (this.isStopping()) {
          agent.release();
          return;
        }
        startedAt = this.now();
        this.agent = agent;
        logger.warn(
          { ...what, pid: agent.pid, previousPid, attempt, backoffMs: delayMs, downMs: Math.round(startedAt - downAt) },
          "fabric agent restarted",
        );
        this.deps.onRestart?.();
        break;
      }
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
