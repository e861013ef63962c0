// The fabric inside havipd's process: a Fabric that follows the control plane (spec/sync.ts), and, when
// `--fabric-listen` is given, a VXLAN port set through which attached vNICs (and the internet edge) reach it.
import type { ControlService } from "@havip/control";
import { Fabric, VxlanPortSet, type FabricCounters, type InternetSpec, type VxlanCounters } from "@havip/fabric";
import type { Logger } from "pino";
import { portOfVnic } from "../spec/compile.ts";
import { startSpecSync, type SpecSync } from "../spec/sync.ts";
import {
  loadLocalState,
  saveLocalState,
  type Attachment,
  type FabricLocalState,
  type InternetEdge,
} from "./local-state.ts";

/** The VPC router's MAC: one for the whole fabric (it answers ARP for every gateway address). */
export const ROUTER_MAC = "02:00:00:00:00:01";
/** The fabric's MAC on the internet side, unless the operator sets one. */
export const EDGE_MAC = "02:00:00:00:ff:01";
export const INTERNET_PORT = "internet";

export interface FabricListen {
  host: string;
  port: number;
}

export interface FabricRuntime {
  /** Where the VXLAN port set listens, or null when havipd runs the fabric without one. */
  readonly vxlan: { address: string; port: number } | null;
  readonly fabric: Fabric;
  attachments(): Record<string, Attachment>;
  attach(vnicId: string, attachment: Attachment): Promise<void>;
  detach(vnicId: string): Promise<boolean>;
  internet(): InternetEdge | null;
  setInternet(edge: InternetEdge | null): Promise<void>;
  counters(): { fabric: FabricCounters; vxlan: VxlanCounters | null };
  /** Resolves once every holder observation so far is recorded in the control plane. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export class NoVxlanListener extends Error {}

function internetSpec(edge: InternetEdge | null): InternetSpec | null {
  if (edge === null) return null;
  return { port: INTERNET_PORT, mac: edge.mac, ip: edge.ip, cidr: edge.cidr, gateway: edge.gateway };
}

export async function startFabric(
  service: ControlService,
  logger: Logger,
  dataDir: string,
  listen: FabricListen | null,
): Promise<FabricRuntime> {
  const state: FabricLocalState = await loadLocalState(dataDir);
  const fabric = new Fabric(undefined, {
    onObserverError: (e) => {
      logger.error({ err: e }, "fabric observer failed");
    },
  });
  let set: VxlanPortSet | null = null;
  let bound: { address: string; port: number } | null = null;
  if (listen !== null) {
    set = new VxlanPortSet({ address: listen.host, port: listen.port });
    bound = await set.open();
    logger.info(bound, `fabric VXLAN port set listening on ${bound.address}:${bound.port}`);
  }
  let sync: SpecSync;
  try {
    sync = await startSpecSync(
      service,
      fabric,
      { routerMac: ROUTER_MAC, internet: internetSpec(state.internet) },
      logger,
    );
  } catch (e) {
    await set?.close();
    throw e;
  }

  const plug = (portId: string, a: Attachment) => {
    if (set === null) throw new NoVxlanListener("havipd runs without --fabric-listen: there is no VXLAN port set");
    const port = set.addPort(portId, { remoteAddress: a.remoteAddress, remotePort: a.remotePort, vni: a.vni });
    fabric.attachPort(port);
  };
  const unplug = (portId: string) => {
    fabric.detachPort(portId);
    set?.removePort(portId);
  };
  /** Replaces a port's attachment; on failure the previous one is put back. */
  const replug = (portId: string, next: Attachment | null, previous: Attachment | null) => {
    unplug(portId);
    try {
      if (next !== null) plug(portId, next);
    } catch (e) {
      if (previous !== null) plug(portId, previous);
      throw e;
    }
  };

  // Restore what the data directory remembers (a restart keeps the vNICs' ports).
  if (set !== null) {
    for (const [vnicId, a] of Object.entries(state.attachments)) plug(portOfVnic(vnicId), a);
    if (state.internet !== null) plug(INTERNET_PORT, state.internet);
  } else if (Object.keys(state.attachments).length > 0 || state.internet !== null) {
    logger.warn("the data directory has fabric attachments, but havipd runs without --fabric-listen: not restored");
  }

  let saving: Promise<void> = Promise.resolve();
  const save = () => (saving = saving.then(() => saveLocalState(dataDir, state)));

  return {
    vxlan: bound,
    fabric,
    attachments: () => ({ ...state.attachments }),
    async attach(vnicId, attachment) {
      replug(portOfVnic(vnicId), attachment, state.attachments[vnicId] ?? null);
      state.attachments[vnicId] = attachment;
      logger.info({ vnicId, ...attachment }, "vNIC attached");
      await save();
    },
    async detach(vnicId) {
      if (state.attachments[vnicId] === undefined) return false;
      unplug(portOfVnic(vnicId));
      delete state.attachments[vnicId];
      logger.info({ vnicId }, "vNIC detached");
      await save();
      return true;
    },
    internet: () => state.internet,
    async setInternet(edge) {
      if (edge === null && state.internet === null) return;
      if (edge !== null && set === null) {
        throw new NoVxlanListener("havipd runs without --fabric-listen: there is no VXLAN port set");
      }
      const previous = state.internet;
      sync.setInternet(internetSpec(edge)); // validated by the fabric first (SpecError: nothing changed)
      try {
        replug(INTERNET_PORT, edge, previous);
      } catch (e) {
        sync.setInternet(internetSpec(previous));
        throw e;
      }
      state.internet = edge;
      logger.info({ internet: edge }, "internet edge set");
      await save();
    },
    counters: () => ({ fabric: fabric.counters(), vxlan: set === null ? null : { ...set.counters } }),
    settled: () => sync.settled(),
    async close() {
      sync.stop();
      await sync.settled();
      await saving;
      fabric.close();
      await set?.close();
    },
  };
}
