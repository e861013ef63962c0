// The fabric follows the control plane, and the control plane hears what the fabric saw.
//
// Start: subscribe to committed changes first (held back), then build the whole spec from the store; then
// replay the held-back changes and apply every later one as it commits, in revision order. Replaying a change
// the listing already contained is harmless: each event carries the resource's full state, deletes of unknown
// ids are ignored, and a HAVIP's holder is only taken over when its generation is newer (fabric rule).
//
// Back: the fabric issues generations (max seen + 1) for the holder changes it sees (announcements, verification),
// and they are recorded in the control plane with a compare-and-set that never goes backwards (holder-recorder.ts);
// the recorded change comes back here as a HAVIP upsert with the same generation, which the fabric already has.
//
// Whenever the fabric gets the whole spec (at start, after a rebuild, when an agent is back), what it knows is
// reconciled with the store: its holders and generations are recorded where newer (an agent that kept forwarding and
// learning while havipd was away), then every HAVIP is verified.
import { ApiError, type Actor, type ChangeEvent, type ControlService, type HaVip, type Vnic } from "@havip/control";
import type { HolderState, InternetSpec, NetworkSpec, Observation, SpecChange } from "@havip/fabric";
import type { Logger } from "pino";
import { ChangeCompiler } from "./compile.ts";
import { HolderRecorder } from "./holder-recorder.ts";
import { loadNetworkSpec, type FabricLocal } from "./load.ts";
import { ClaimDeniedLogLimiter } from "./log-limiter.ts";

/**
 * What the sync drives: the in-process `Fabric` (changes applied when the call returns, SpecError thrown), or
 * a fabric in another process (`AgentLink` over `RemoteFabric`: a promise that rejects with SpecError).
 */
export interface FabricDriver {
  applySpec(spec: NetworkSpec): unknown;
  applyChanges(changes: SpecChange[]): unknown;
  onObservation(listener: (o: Observation) => void): () => void;
  /** Every HAVIP's holder, generation and contest as the fabric knows them. */
  holderStates(): HolderState[] | Promise<HolderState[]>;
  /** Makes a verification round of each HAVIP (every one when null) due now. */
  requestVerification(havipIds: string[] | null): unknown;
}
/** A fabric rebuild cheaper than this is done at once; a dearer one makes the next batch wait (see apply). */
const IMMEDIATE_BATCH_BELOW_MS = 5;
const BATCH_DELAY_FACTOR = 2;
const MAX_BATCH_DELAY_MS = 2000;
const OPERATOR: Actor = { kind: "operator" };

/** The fabric agent is away (or went away during the call): its restore applies the whole spec when it is back. */
const fabricAway = (e: unknown): boolean => e instanceof ApiError && e.code === "FabricUnavailable";

/**
 * The ids a holder or claim log line names besides the HAVIP and the vNIC (instance, project, subnet, address),
 * so that an operator can search the logs by any of them. Learnt from committed changes; looked up once in the
 * store when missing (resources created before havipd started); forgotten when the resource is deleted.
 */
class LogIds {
  private readonly vnics = new Map<string, { instanceId: string; projectId: string }>();
  private readonly havips = new Map<string, { projectId: string; subnetId: string; havipIp: string }>();
  private readonly service: ControlService;

  constructor(service: ControlService) {
    this.service = service;
  }

  learn(event: ChangeEvent): void {
    if (event.action === "deleted") {
      if (event.resource === "vnic") this.vnics.delete(event.id);
      if (event.resource === "havip") this.havips.delete(event.id);
      return;
    }
    if (event.resource === "vnic") this.rememberVnic(event.data as Vnic);
    if (event.resource === "instance") for (const v of (event.data as { vnics: Vnic[] }).vnics) this.rememberVnic(v);
    if (event.resource === "havip") this.rememberHaVip(event.data as HaVip);
  }

  private rememberVnic(v: Vnic): void {
    this.vnics.set(v.id, { instanceId: v.instanceId, projectId: v.projectId });
  }

  private rememberHaVip(h: HaVip): void {
    this.havips.set(h.id, { projectId: h.projectId, subnetId: h.subnetId, havipIp: h.ipAddress });
  }

  /** The vNIC's instance (null when it is gone, e.g. deleted since). */
  async instanceOf(vnicId: string | null): Promise<string | null> {
    if (vnicId === null) return null;
    if (!this.vnics.has(vnicId)) {
      const vnic = await this.service.getVnic(OPERATOR, vnicId).catch(() => null);
      if (vnic !== null) this.rememberVnic(vnic);
    }
    return this.vnics.get(vnicId)?.instanceId ?? null;
  }

  async havip(havipId: string): Promise<{ projectId?: string; subnetId?: string; havipIp?: string }> {
    if (!this.havips.has(havipId)) {
      const havip = await this.service.getHaVip(OPERATOR, havipId).catch(() => null);
      if (havip !== null) this.rememberHaVip(havip);
    }
    return this.havips.get(havipId) ?? {};
  }
}
export interface SpecSync {
  /** Sets the fabric-local internet edge (not tenant data) and applies it; SpecError when refused. */
  setInternet(internet: InternetSpec | null): Promise<void>;
  /** Resolves once every observation reported so far has been recorded in the control plane. */
  settled(): Promise<void>;
  /**
   * Resolves once every change committed so far has been handed to the fabric and answered (a batch still
   * waiting is sent at once). A fabric-local operation (an attachment, the internet edge, a capture) waits for
   * it first, so that it finds every resource created before it: a vNIC attached right after its instance was
   * created sends into a fabric that knows it and the HAVIPs of its subnet.
   */
  caughtUp(): Promise<void>;
  /**
   * Applies the whole spec from the store again (a fabric agent that came back empty); rejects when that
   * failed. A rebuild already under way is waited for first, so this one reads the store after it.
   */
  rebuild(): Promise<void>;
  stop(): void;
}

export async function startSpecSync(
  service: ControlService,
  fabric: FabricDriver,
  local: FabricLocal,
  logger: Logger,
): Promise<SpecSync> {
  const compiler = new ChangeCompiler();
  let held: ChangeEvent[] | null = [];
  let current = { ...local };
  let resyncing: Promise<boolean> | null = null;

  // Changes are applied in batches: the events of one commit (a group commit carries many) are compiled in
  // order and handed to the fabric in one applyChanges, since the fabric rebuilds its tables once per call, not
  // once per change. While that rebuild is cheap the batch goes at the end of the current microtask queue (before
  // any writer hears its answer); once it costs more (a large spec), the next batch waits twice as long as the
  // last rebuild took (at most MAX_BATCH_DELAY_MS), so under a stream of writes the fabric takes at most about a
  // third of the process and each rebuild covers all the changes that arrived meanwhile; after a quiet moment
  // the next change is applied at once again. A second change of a resource already in the batch closes the
  // batch first, so the fabric still passes through every state of that resource (e.g. a holder dropped from the
  // members is released, then the release recorded).
  let batch: { changes: SpecChange[]; ids: Set<string>; first: number; last: number } | null = null;
  let batchTimer: NodeJS.Timeout | undefined;
  let lastCostMs = 0;
  let lastEnd = 0;
  // The last batch handed to the fabric, settled when the fabric answered it (a failure is handled in flush).
  let applying: Promise<void> = Promise.resolve();
  const flush = () => {
    clearTimeout(batchTimer);
    batchTimer = undefined;
    const pending = batch;
    batch = null;
    if (pending === null) return;
    // Should not fail (the control plane validated the change); if it does, rebuild rather than drift.
    const failed = (e: unknown) => {
      if (fabricAway(e)) {
        // The agent is away: the whole spec is applied again when it is back (AgentLink's restore).
        logger.warn({ revisions: [pending.first, pending.last] }, "fabric agent away: change applied on reconnection");
        return;
      }
      logger.error({ err: e, revisions: [pending.first, pending.last] }, "spec change failed");
      void resync();
    };
    const started = performance.now();
    const done = () => {
      lastEnd = performance.now();
      lastCostMs = lastEnd - started;
    };
    try {
      const applied = fabric.applyChanges(pending.changes);
      if (applied instanceof Promise) applying = applied.then(done, failed);
      else done();
    } catch (e) {
      done();
      failed(e);
    }
  };
  const scheduleFlush = () => {
    const wait =
      lastCostMs < IMMEDIATE_BATCH_BELOW_MS
        ? 0
        : Math.min(lastCostMs * BATCH_DELAY_FACTOR, MAX_BATCH_DELAY_MS) - (performance.now() - lastEnd);
    if (wait <= 0) queueMicrotask(flush);
    else batchTimer = setTimeout(flush, wait);
  };
  const apply = (event: ChangeEvent) => {
    const changes = compiler.changesFor(event);
    if (changes.length === 0) return;
    if (batch?.ids.has(event.id) === true) flush();
    if (batch === null) {
      batch = { changes: [], ids: new Set(), first: event.revision, last: event.revision };
      scheduleFlush();
    }
    batch.changes.push(...changes);
    batch.ids.add(event.id);
  };
  // Changes committed while the store is being read are held back and replayed after the rebuild.
  const replayHeld = () => {
    const replay = held ?? [];
    held = null;
    for (const event of replay) apply(event);
  };
  /** Rebuilds the fabric's spec from the store; resolves false (logged) when that failed. */
  const resync = (): Promise<boolean> => {
    held ??= [];
    return (resyncing ??= loadNetworkSpec(service, current, compiler)
      .then(async (spec) => {
        await fabric.applySpec(spec);
        logger.info("fabric spec rebuilt from the store");
        await reconcile();
        return true;
      })
      .catch((e: unknown) => {
        if (fabricAway(e)) logger.warn("fabric agent away: spec rebuilt on reconnection");
        else logger.error({ err: e }, "fabric spec rebuild failed");
        return false;
      })
      .finally(() => {
        resyncing = null;
        replayHeld();
      }));
  };

  const ids = new LogIds(service);
  const unsubscribe = service.onChange((event) => {
    ids.learn(event);
    if (held !== null) held.push(event);
    else apply(event);
  });

  const recorder = new HolderRecorder(service, logger);
  // Log lines carry every id involved; they are written in the order observed (lookups may wait on the store).
  let logging: Promise<void> = Promise.resolve();
  const deniedLines = new ClaimDeniedLogLimiter({
    flush: (line) => {
      log(line);
    },
  });
  const log = (o: Observation) => {
    const line = async () => {
      const havip = { havipId: o.havipId, ...(await ids.havip(o.havipId)) };
      const at = new Date(o.at).toISOString();
      switch (o.kind) {
        case "holder-changed":
          logger.info(
            {
              ...havip,
              vnicId: o.vnicId,
              instanceId: await ids.instanceOf(o.vnicId),
              previousVnicId: o.previousVnicId,
              previousInstanceId: await ids.instanceOf(o.previousVnicId),
              generation: o.generation,
              reason: o.reason,
              at,
            },
            "holder changed",
          );
          break;
        case "holder-released":
          // `spec`: the control plane released it when it removed a vNIC or a member (that change caused this);
          // `withdrawn`: nobody answered verification, the address is no longer held anywhere.
          (o.reason === "withdrawn" ? logger.warn.bind(logger) : logger.info.bind(logger))(
            {
              ...havip,
              previousVnicId: o.previousVnicId,
              previousInstanceId: await ids.instanceOf(o.previousVnicId),
              generation: o.generation,
              reason: o.reason,
              at,
            },
            "holder released",
          );
          break;
        case "contest-started":
          logger.warn(
            {
              ...havip,
              claimants: o.claimants,
              claimantInstances: await Promise.all(o.claimants.map((c) => ids.instanceOf(c))),
              holderVnicId: o.holderVnicId,
              since: new Date(o.since).toISOString(),
              at,
            },
            "HAVIP contested: several instances hold its address (split brain); the holder is kept",
          );
          break;
        case "contest-ended":
          logger.info({ ...havip, since: new Date(o.since).toISOString(), at }, "HAVIP no longer contested");
          break;
        case "claim-denied": {
          // Rate-limited (log-limiter.ts): a flood of forged announcements is a few lines with their counts.
          const shown = deniedLines.admit(o);
          if (shown === null) break;
          const suppressed = shown.suppressed === undefined ? {} : { suppressed: shown.suppressed };
          logger.warn(
            {
              ...havip,
              vnicId: o.vnicId,
              instanceId: await ids.instanceOf(o.vnicId),
              reason: o.reason,
              at,
              ...suppressed,
            },
            "claim denied",
          );
          break;
        }
      }
    };
    logging = logging.then(line).catch((e: unknown) => {
      logger.error({ err: e, havipId: o.havipId }, "observation not logged");
    });
  };
  const record = (o: Observation) => {
    log(o);
    switch (o.kind) {
      case "holder-changed":
        recorder.record({
          kind: "holder",
          havipId: o.havipId,
          vnicId: o.vnicId,
          generation: o.generation,
          reason: o.reason,
          at: o.at,
        });
        break;
      case "holder-released":
        // A release the spec caused was made by the control plane itself; a withdrawal is the fabric's finding.
        if (o.reason === "withdrawn") {
          recorder.record({
            kind: "holder",
            havipId: o.havipId,
            vnicId: null,
            generation: o.generation,
            reason: "withdrawn",
            at: o.at,
          });
        }
        break;
      case "contest-started":
        recorder.record({ kind: "contest", havipId: o.havipId, claimants: o.claimants, since: o.since });
        break;
      case "contest-ended":
        recorder.record({ kind: "contest", havipId: o.havipId, claimants: null, since: o.since });
        break;
      case "claim-denied":
        break;
    }
  };
  const stopObserving = fabric.onObservation(record);
  /** After the fabric got the whole spec: what it knows is recorded where newer, then every HAVIP is verified. */
  const reconcile = async () => {
    recorder.reconcile(await fabric.holderStates());
    await fabric.requestVerification(null);
  };

  try {
    const started = performance.now();
    const spec = await loadNetworkSpec(service, current, compiler);
    const loadedMs = performance.now() - started;
    await fabric.applySpec(spec);
    // The time to build the fabric from scratch (the footprint benchmark reads it).
    logger.info(
      {
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        loadMs: Math.round(loadedMs * 10) / 10,
        vnics: spec.vnics.length,
        havips: spec.havips.length,
      },
      "fabric spec applied",
    );
    await reconcile();
  } catch (e) {
    unsubscribe();
    stopObserving();
    recorder.stop();
    throw e;
  }
  replayHeld();

  /** Waits for the rebuilds under way (each replays the changes it held back when it ends). */
  const rebuildsDone = async () => {
    while (resyncing !== null) await resyncing;
  };
  const caughtUp = async () => {
    await rebuildsDone(); // the changes they held back are in the batch now
    flush();
    await applying;
  };

  return {
    async rebuild() {
      await rebuildsDone();
      if (!(await resync())) throw new Error("the fabric spec could not be rebuilt from the store (see the log)");
    },
    caughtUp,
    async setInternet(internet) {
      await caughtUp(); // set after the changes committed before it (an EIP may need the edge)
      await fabric.applyChanges([{ op: "set-internet", internet } satisfies SpecChange]);
      current = { ...current, internet };
    },
    settled: async () => {
      let seenLogs: Promise<void>;
      do {
        seenLogs = logging;
        await recorder.settled();
        await seenLogs;
      } while (seenLogs !== logging);
    },
    stop() {
      deniedLines.close();
      clearTimeout(batchTimer);
      unsubscribe();
      stopObserving();
      recorder.stop();
    },
  };
}
