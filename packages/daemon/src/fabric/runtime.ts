// The fabric as havipd runs it: a backend (in-process, or an agent over a Unix socket) that follows the
// control plane (spec/sync.ts), plus the fabric-local state the operator sets — vNIC attachments and the
// internet edge — kept in the data directory and restored at start.
import type { ControlService } from "@havip/control";
import type { Fabric, InternetSpec, VerificationOutcome } from "@havip/fabric";
import type { Logger } from "pino";
import { portOfVnic } from "../spec/compile.ts";
import { startSpecSync, type SpecSync } from "../spec/sync.ts";
import { isVeth } from "../agent/protocol.ts";
import {
  agentBackend,
  AttachmentRefused,
  inProcessBackend,
  NoVxlanListener,
  type BackendCounters,
  type FabricBackend,
} from "./backends.ts";
import type { CaptureRequest, CaptureResult } from "./capture-session.ts";
import {
  attachmentConflict,
  loadLocalState,
  saveLocalState,
  type Attachment,
  type FabricLocalState,
  type InternetEdge,
} from "./local-state.ts";

export { AttachmentRefused, NoVxlanListener };

/** The VPC router's MAC: one for the whole fabric (it answers ARP for every gateway address). */
export const ROUTER_MAC = "02:00:00:00:00:01";
/** The fabric's MAC on the internet side, unless the operator sets one. */
export const EDGE_MAC = "02:00:00:00:ff:01";
export const INTERNET_PORT = "internet";

/** In havipd's process (with a VXLAN port set on `listen`, or none), or in an agent at `socketPath`. */
export type FabricMode =
  { kind: "in-process"; listen: { host: string; port: number } | null } | { kind: "agent"; socketPath: string };

export interface FabricRuntime {
  /** Where VXLAN frames reach the fabric, or null when nothing can attach. */
  readonly vxlan: { address: string; port: number } | null;
  /** The in-process fabric; null when it runs in an agent. */
  readonly fabric: Fabric | null;
  attachments(): Record<string, Attachment>;
  attach(vnicId: string, attachment: Attachment): Promise<void>;
  detach(vnicId: string): Promise<boolean>;
  internet(): InternetEdge | null;
  setInternet(edge: InternetEdge | null): Promise<void>;
  counters(): Promise<BackendCounters>;
  /** Records what the fabric sees on a target until `count` frames or the timeout (UnknownCaptureTarget). */
  capture(request: CaptureRequest): Promise<CaptureResult>;
  /** Resolves once every holder observation so far is recorded in the control plane. */
  settled(): Promise<void>;
  /**
   * Asks the fabric who has the HAVIP's address (after every change committed so far reached it) and resolves with
   * what it found once that is recorded; null when the fabric does not know the HAVIP.
   */
  verify(havipId: string): Promise<VerificationOutcome | null>;
  close(): Promise<void>;
}

function internetSpec(edge: InternetEdge | null): InternetSpec | null {
  if (edge === null) return null;
  return { port: INTERNET_PORT, mac: edge.mac, ip: edge.ip, cidr: edge.cidr, gateway: edge.gateway };
}

export async function startFabric(
  service: ControlService,
  logger: Logger,
  dataDir: string,
  mode: FabricMode,
): Promise<FabricRuntime> {
  const state: FabricLocalState = await loadLocalState(dataDir);
  const backend: FabricBackend =
    mode.kind === "agent" ? await agentBackend(mode.socketPath, logger) : await inProcessBackend(mode.listen, logger);
  let sync: SpecSync;
  try {
    const local = { routerMac: ROUTER_MAC, internet: internetSpec(state.internet) };
    sync = await startSpecSync(service, backend.driver, local, logger);
  } catch (e) {
    await backend.close();
    throw e;
  }

  /** Replaces a port's attachment; on failure the previous one is put back. */
  const replug = async (portId: string, next: Attachment | null, previous: Attachment | null) => {
    if (next === null) {
      await backend.unplug(portId);
      return;
    }
    try {
      await backend.plug(portId, next);
    } catch (e) {
      if (previous !== null) await backend.plug(portId, previous).catch(() => undefined);
      throw e;
    }
  };

  /**
   * Plugs what the data directory remembers into the fabric: every attachment, then the internet edge. VXLAN
   * attachments need a VXLAN port set; veth attachments only their interface. One the fabric refuses stays
   * recorded (PUT it again, or DELETE it) and is logged; `strict` (at start) rethrows a refused VXLAN attachment
   * or edge instead, and tolerates only a veth interface gone with its instance.
   */
  const plugRecorded = async (strict: boolean): Promise<void> => {
    const vxlanOk = backend.vxlan !== null;
    let skipped = false;
    for (const [vnicId, a] of Object.entries(state.attachments)) {
      if (!vxlanOk && !isVeth(a)) {
        skipped = true;
        continue;
      }
      await backend.plug(portOfVnic(vnicId), a).catch((e: unknown) => {
        if (strict && !isVeth(a)) throw e;
        // Kept recorded: a veth interface gone with its instance (a reboot) comes back when the lab makes the
        // instance again, and `havip lab up` then PUTs the attachment again.
        logger.warn({ vnicId, ...a, err: e }, `attachment of ${vnicId} not restored (kept; PUT it again to retry)`);
      });
    }
    if (state.internet !== null && !vxlanOk) skipped = true;
    else if (state.internet !== null) {
      await backend.plug(INTERNET_PORT, state.internet).catch((e: unknown) => {
        if (strict) throw e;
        logger.warn({ internet: state.internet, err: e }, "internet edge not restored");
      });
    }
    if (skipped) {
      logger.warn("the data directory has VXLAN attachments, but the fabric has no VXLAN port set: not restored");
    }
  };
  // At start: a restart keeps the vNICs' ports.
  try {
    await plugRecorded(true);
  } catch (e) {
    sync.stop();
    await backend.close();
    throw e;
  }

  let saving: Promise<void> = Promise.resolve();
  const save = () => (saving = saving.then(() => saveLocalState(dataDir, state)));

  // An agent that restarted comes back empty: the whole spec (with each HAVIP's last known holder), then every
  // attachment and the internet edge, as at start. An attachment refused now is logged and stays recorded.
  backend.onRestore(async () => {
    await sync.rebuild();
    await plugRecorded(false);
  });

  return {
    vxlan: backend.vxlan,
    fabric: backend.fabric,
    attachments: () => ({ ...state.attachments }),
    async attach(vnicId, attachment) {
      const conflict = attachmentConflict(state, vnicId, attachment);
      if (conflict !== null) throw new AttachmentRefused(`cannot attach ${vnicId}: ${conflict}`);
      await sync.caughtUp(); // the vNIC and its subnet's HAVIPs are in the fabric before its first frame
      await replug(portOfVnic(vnicId), attachment, state.attachments[vnicId] ?? null);
      state.attachments[vnicId] = attachment;
      logger.info({ vnicId, ...attachment }, "vNIC attached");
      await save();
    },
    async detach(vnicId) {
      if (state.attachments[vnicId] === undefined) return false;
      await sync.caughtUp();
      await backend.unplug(portOfVnic(vnicId));
      state.attachments = Object.fromEntries(Object.entries(state.attachments).filter(([id]) => id !== vnicId));
      logger.info({ vnicId }, "vNIC detached");
      await save();
      return true;
    },
    internet: () => state.internet,
    async setInternet(edge) {
      if (edge === null && state.internet === null) return;
      if (edge !== null && backend.vxlan === null) {
        throw new NoVxlanListener("the fabric has no VXLAN port set (start havipd with --fabric-listen)");
      }
      const previous = state.internet;
      await sync.setInternet(internetSpec(edge)); // validated by the fabric first (SpecError: nothing changed)
      try {
        await replug(INTERNET_PORT, edge, previous);
      } catch (e) {
        await sync.setInternet(internetSpec(previous));
        throw e;
      }
      state.internet = edge;
      logger.info({ internet: edge }, "internet edge set");
      await save();
    },
    counters: () => backend.counters(),
    async capture(request) {
      await sync.caughtUp(); // a HAVIP or vNIC created just before is a target the fabric knows
      return backend.capture(request);
    },
    settled: () => sync.settled(),
    async verify(havipId) {
      await sync.caughtUp();
      const [outcome] = await backend.verify([havipId]);
      await sync.settled();
      return outcome ?? null;
    },
    async close() {
      sync.stop();
      await sync.settled();
      await saving;
      await backend.close();
    },
  };
}
