// The fabric follows the control plane, and the control plane hears what the fabric saw.
//
// Start: subscribe to committed changes first (held back), then build the whole spec from the store; then
// replay the held-back changes and apply every later one as it commits, in revision order. Replaying a change
// the listing already contained is harmless: each event carries the resource's full state, deletes of unknown
// ids are ignored, and a HAVIP's holder is only taken over when its generation is newer (fabric rule).
//
// Back: holder changes the fabric observes are recorded with `observeHolder`, one at a time in the order seen.
// The control plane then issues the generation, and its holder-changed event comes back here as a HAVIP upsert
// with that generation, so the fabric's generation follows the control plane's.
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, type ChangeEvent, type ControlService } from "@havip/control";
import type { InternetSpec, NetworkSpec, Observation, SpecChange } from "@havip/fabric";
import type { Logger } from "pino";
import { ChangeCompiler } from "./compile.ts";
import { loadNetworkSpec, type FabricLocal } from "./load.ts";

/**
 * What the sync drives: the in-process `Fabric` (changes applied when the call returns, SpecError thrown), or
 * a fabric in another process (`RemoteFabric`: a promise that rejects with SpecError).
 */
export interface FabricDriver {
  applySpec(spec: NetworkSpec): unknown;
  applyChanges(changes: SpecChange[]): unknown;
  onObservation(listener: (o: Observation) => void): () => void;
}

const OBSERVE_ATTEMPTS = 4;
const OBSERVE_RETRY_MS = 50;

export interface SpecSync {
  /** Sets the fabric-local internet edge (not tenant data) and applies it; SpecError when refused. */
  setInternet(internet: InternetSpec | null): Promise<void>;
  /** Resolves once every observation reported so far has been recorded in the control plane. */
  settled(): Promise<void>;
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
  let resyncing: Promise<void> | null = null;

  const apply = (event: ChangeEvent) => {
    const changes = compiler.changesFor(event);
    if (changes.length === 0) return;
    // Should not fail (the control plane validated the change); if it does, rebuild rather than drift.
    const failed = (e: unknown) => {
      logger.error({ err: e, revision: event.revision, resource: event.resource, id: event.id }, "spec change failed");
      void resync();
    };
    try {
      const applied = fabric.applyChanges(changes);
      if (applied instanceof Promise) applied.catch(failed);
    } catch (e) {
      failed(e);
    }
  };
  // Changes committed while the store is being read are held back and replayed after the rebuild.
  const replayHeld = () => {
    const replay = held ?? [];
    held = null;
    for (const event of replay) apply(event);
  };
  const resync = (): Promise<void> => {
    held ??= [];
    return (resyncing ??= loadNetworkSpec(service, current, compiler)
      .then(async (spec) => {
        await fabric.applySpec(spec);
        logger.info("fabric spec rebuilt from the store");
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, "fabric spec rebuild failed");
      })
      .finally(() => {
        resyncing = null;
        replayHeld();
      }));
  };

  const unsubscribe = service.onChange((event) => {
    if (held !== null) held.push(event);
    else apply(event);
  });

  let recording: Promise<void> = Promise.resolve();
  // A refusal by the control plane (ApiError: the vNIC may not claim, the HAVIP is gone) is final; anything
  // else (a busy or briefly unreachable database) is retried a few times before it is given up and logged.
  const recordHolder = async (havipId: string, vnicId: string, at: Date): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await service.observeHolder({ havipId, vnicId, at });
        return;
      } catch (e) {
        if (e instanceof ApiError || attempt >= OBSERVE_ATTEMPTS) {
          logger.warn({ err: e, havipId, vnicId, attempt }, "holder observation not recorded");
          return;
        }
        await sleep(OBSERVE_RETRY_MS * attempt);
      }
    }
  };
  const record = (o: Observation) => {
    switch (o.kind) {
      case "holder-changed":
        logger.info(
          { havipId: o.havipId, vnicId: o.vnicId, previousVnicId: o.previousVnicId, generation: o.generation },
          "holder changed",
        );
        recording = recording.then(() => recordHolder(o.havipId, o.vnicId, new Date(o.at)));
        break;
      case "holder-released":
        // The control plane releases on its own when it removes a vNIC or a member (that change caused this).
        logger.info({ havipId: o.havipId, previousVnicId: o.previousVnicId }, "holder released");
        break;
      case "claim-denied":
        logger.warn({ havipId: o.havipId, vnicId: o.vnicId, reason: o.reason }, "claim denied");
        break;
    }
  };
  const stopObserving = fabric.onObservation(record);

  try {
    await fabric.applySpec(await loadNetworkSpec(service, current, compiler));
  } catch (e) {
    unsubscribe();
    stopObserving();
    throw e;
  }
  replayHeld();

  return {
    async setInternet(internet) {
      await fabric.applyChanges([{ op: "set-internet", internet } satisfies SpecChange]);
      current = { ...current, internet };
    },
    settled: async () => {
      let seen: Promise<void>;
      do {
        seen = recording;
        await seen;
      } while (seen !== recording);
    },
    stop() {
      unsubscribe();
      stopObserving();
    },
  };
}
