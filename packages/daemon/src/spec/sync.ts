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
import type { ChangeEvent, ControlService } from "@havip/control";
import type { Fabric, InternetSpec, Observation, SpecChange } from "@havip/fabric";
import type { Logger } from "pino";
import { ChangeCompiler } from "./compile.ts";
import { loadNetworkSpec, type FabricLocal } from "./load.ts";

export interface SpecSync {
  /** Sets the fabric-local internet edge (not tenant data) and applies it. */
  setInternet(internet: InternetSpec | null): void;
  /** Resolves once every observation reported so far has been recorded in the control plane. */
  settled(): Promise<void>;
  stop(): void;
}

export async function startSpecSync(
  service: ControlService,
  fabric: Fabric,
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
    try {
      fabric.applyChanges(changes);
    } catch (e) {
      // Should not happen (the control plane validated the change); rebuild from the store rather than drift.
      logger.error({ err: e, revision: event.revision, resource: event.resource, id: event.id }, "spec change failed");
      void resync();
    }
  };
  const resync = (): Promise<void> =>
    (resyncing ??= loadNetworkSpec(service, current, new ChangeCompiler())
      .then((spec) => {
        fabric.applySpec(spec);
        logger.info("fabric spec rebuilt from the store");
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, "fabric spec rebuild failed");
      })
      .finally(() => {
        resyncing = null;
      }));

  const unsubscribe = service.onChange((event) => {
    if (held !== null) held.push(event);
    else apply(event);
  });

  let recording: Promise<void> = Promise.resolve();
  const record = (o: Observation) => {
    switch (o.kind) {
      case "holder-changed":
        logger.info(
          { havipId: o.havipId, vnicId: o.vnicId, previousVnicId: o.previousVnicId, generation: o.generation },
          "holder changed",
        );
        recording = recording.then(() =>
          service.observeHolder({ havipId: o.havipId, vnicId: o.vnicId, at: new Date(o.at) }).then(
            () => undefined,
            (e: unknown) => {
              logger.warn({ err: e, havipId: o.havipId, vnicId: o.vnicId }, "holder observation not recorded");
            },
          ),
        );
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
    fabric.applySpec(await loadNetworkSpec(service, current, compiler));
  } catch (e) {
    unsubscribe();
    stopObserving();
    throw e;
  }
  const replay = held;
  held = null;
  for (const event of replay) apply(event);

  return {
    setInternet(internet) {
      fabric.applyChanges([{ op: "set-internet", internet } satisfies SpecChange]);
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
