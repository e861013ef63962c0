// Records what the fabric saw of holders in the control plane: holder changes and releases with the generation the
// fabric issued (a compare-and-set in the store: an older generation changes nothing), and contests.
//
// Each HAVIP's observations are recorded one at a time, in the order seen; different HAVIPs' are issued together,
// so that many failovers at once (a host lost) share the store's group commits. A refusal by the control plane
// (ApiError: the vNIC may not claim, the HAVIP is gone) is final and logged. Anything else (the database is away or
// busy) is retried with back-off for as long as it takes: the observations wait in a queue of at most
// `maxQueuedPerHaVip` per HAVIP (the oldest give way: only the newest generation matters to the compare-and-set),
// and are recorded when the store is back. The data plane keeps forwarding meanwhile.
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, type ControlService } from "@havip/control";
import type { HolderState } from "@havip/fabric";
import type { Logger } from "pino";

export type HolderRecord =
  | {
      kind: "holder";
      havipId: string;
      /** null: released. */
      vnicId: string | null;
      generation: number;
      reason: "announcement" | "verified" | "withdrawn";
      at: number;
    }
  | { kind: "contest"; havipId: string; claimants: string[] | null; since: number };

export interface HolderRecorderOptions {
  maxQueuedPerHaVip?: number;
  retryMs?: number;
  maxRetryMs?: number;
}

const DEFAULT_MAX_QUEUED = 32;
/** How often a record still waiting for the store is logged again (attempts). */
const LOG_EVERY_ATTEMPTS = 30;

export class HolderRecorder {
  private readonly service: ControlService;
  private readonly logger: Logger;
  private readonly maxQueued: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly queues = new Map<string, HolderRecord[]>();
  private readonly workers = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly wake = new AbortController();

  constructor(service: ControlService, logger: Logger, options: HolderRecorderOptions = {}) {
    this.service = service;
    this.logger = logger;
    this.maxQueued = options.maxQueuedPerHaVip ?? DEFAULT_MAX_QUEUED;
    this.retryMs = options.retryMs ?? 50;
    this.maxRetryMs = options.maxRetryMs ?? 1000;
  }

  record(r: HolderRecord): void {
    if (this.stopped) return;
    let queue = this.queues.get(r.havipId);
    if (queue === undefined) this.queues.set(r.havipId, (queue = []));
    queue.push(r);
    if (queue.length > this.maxQueued) {
      const dropped = queue.splice(0, queue.length - this.maxQueued);
      this.logger.warn(
        { havipId: r.havipId, dropped: dropped.length },
        "holder observations queued for the store: the oldest gave way to newer ones",
      );
    }
    if (!this.workers.has(r.havipId)) {
      const worker = this.drain(r.havipId).finally(() => this.workers.delete(r.havipId));
      this.workers.set(r.havipId, worker);
    }
  }

  /**
   * What a fabric knows (an adopted agent, one restarted with its own state): its holders and generations are
   * recorded where they are newer than the store's (the store keeps its own otherwise), and its contests.
   */
  reconcile(states: readonly HolderState[]): void {
    for (const s of states) {
      if (s.generation > 0) {
        this.record({
          kind: "holder",
          havipId: s.havipId,
          vnicId: s.holderVnicId,
          generation: s.generation,
          reason: s.holderVnicId === null ? "withdrawn" : s.reason === "verified" ? "verified" : "announcement",
          at: s.since,
        });
      }
      this.record({
        kind: "contest",
        havipId: s.havipId,
        claimants: s.contest?.claimants ?? null,
        since: s.contest?.since ?? s.since,
      });
    }
  }

  /** Resolves once every record so far has been recorded (or refused). */
  async settled(): Promise<void> {
    while (this.workers.size > 0) await Promise.all(this.workers.values());
  }

  /** Records nothing more; records still waiting for the store are given up (the fabric keeps the truth). */
  stop(): void {
    this.stopped = true;
    this.wake.abort();
    const left = [...this.queues.values()].reduce((n, q) => n + q.length, 0);
    if (left > 0) this.logger.warn({ records: left }, "holder observations not recorded at stop (the store was away)");
    this.queues.clear();
  }

  private async drain(havipId: string): Promise<void> {
    const queue = this.queues.get(havipId);
    while (queue !== undefined && queue.length > 0 && !this.stopped) {
      const r = queue[0]!;
      await this.recordOne(r);
      if (queue[0] === r) queue.shift();
    }
    if (queue?.length === 0) this.queues.delete(havipId);
  }

  private async recordOne(r: HolderRecord): Promise<void> {
    let wait = this.retryMs;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        if (r.kind === "holder") {
          await this.service.observeHolder({
            havipId: r.havipId,
            vnicId: r.vnicId,
            generation: r.generation,
            reason: r.reason,
            at: new Date(r.at),
          });
        } else {
          await this.service.observeContest({ havipId: r.havipId, claimants: r.claimants, since: new Date(r.since) });
        }
        if (attempt > 1) this.logger.info({ havipId: r.havipId, attempt }, "holder observation recorded after retries");
        return;
      } catch (e) {
        if (e instanceof ApiError && !e.code.startsWith("ServiceUnavailable")) {
          this.logger.warn(
            { err: e, havipId: r.havipId, vnicId: vnicOf(r), attempt },
            "holder observation not recorded",
          );
          return;
        }
        if (attempt === 1 || attempt % LOG_EVERY_ATTEMPTS === 0) {
          this.logger.warn(
            { err: e, havipId: r.havipId, vnicId: vnicOf(r), attempt },
            "holder observation waiting for the store; retrying",
          );
        }
        await sleep(wait, undefined, { signal: this.wake.signal }).catch(() => undefined);
        wait = Math.min(wait * 2, this.maxRetryMs);
      }
    }
  }
}

function vnicOf(r: HolderRecord): string | null | undefined {
  return r.kind === "holder" ? r.vnicId : undefined;
}
