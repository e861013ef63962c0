// Where the fabric runs, seen from havipd: in havipd's own process (a Fabric and, with --fabric-listen, a
// VXLAN port set), or in a fabric agent reached over a Unix socket (--fabric-agent; the lab's fabric
// namespace). Both give the spec sync a driver and the runtime its ports and counters. Both take veth
// attachments too: a packet port on an interface of the fabric's own namespace (havipd's, or the agent's).
import {
  Fabric,
  VxlanPortSet,
  keepFabricWarm,
  warmUpFabric,
  type FabricCounters,
  type PacketPortCounters,
  type VerificationOutcome,
  type VxlanCounters,
} from "@havip/fabric";
import type { Logger } from "pino";
import { isVeth } from "../agent/protocol.ts";
import { AgentLink } from "../agent/agent-link.ts";
import { AttachmentPorts, AttachmentRefused, NoVxlanListener } from "./attachment-ports.ts";
import { runCapture, type CaptureRequest, type CaptureResult } from "./capture-session.ts";
import type { FabricDriver } from "../spec/sync.ts";
import type { Attachment } from "./local-state.ts";

export { AttachmentRefused, NoVxlanListener };

export interface BackendCounters {
  fabric: FabricCounters;
  vxlan: VxlanCounters | null;
  /** The sum over veth attachments; null when there are none. */
  packet: PacketPortCounters | null;
}

export interface FabricBackend {
  readonly driver: FabricDriver;
  /** The in-process fabric (null when it runs in an agent). */
  readonly fabric: Fabric | null;
  /** Where VXLAN frames reach the fabric, or null when nothing can attach. */
  readonly vxlan: { address: string; port: number } | null;
  /** Attaches (or re-attaches) a port; throws when refused. */
  plug(portId: string, attachment: Attachment): Promise<void>;
  unplug(portId: string): Promise<void>;
  counters(): Promise<BackendCounters>;
  /** Records what the fabric sees on a target (rejects with UnknownCaptureTarget). */
  capture(request: CaptureRequest): Promise<CaptureResult>;
  /** Asks who has each HAVIP's address now and resolves with each round's outcome. */
  verify(havipIds: string[]): Promise<VerificationOutcome[]>;
  /**
   * A fabric in another process can come back empty (the agent restarted): `hook` then puts the spec and the
   * attachments back. The in-process fabric never loses its state and never calls it.
   */
  onRestore(hook: () => Promise<void>): void;
  close(): Promise<void>;
}

const NO_LISTENER =
  "havipd runs without --fabric-listen: there is no VXLAN port set (start it with --fabric-listen HOST:PORT)";

export async function inProcessBackend(
  listen: { host: string; port: number } | null,
  logger: Logger,
): Promise<FabricBackend> {
  // Optimise the announcement path before the first real failover, and keep it in the CPU's caches between
  // failovers (a holder change is rare, see warm-up.ts).
  logger.debug(warmUpFabric(), "fabric code warmed up");
  const fabric = new Fabric(undefined, {
    verification: true,
    onObserverError: (e) => {
      logger.error({ err: e }, "fabric observer failed");
    },
  });
  let set: VxlanPortSet | null = null;
  let bound: { address: string; port: number } | null = null;
  if (listen !== null) {
    set = new VxlanPortSet({
      address: listen.host,
      port: listen.port,
      onWarning: (message) => {
        logger.warn(message);
      },
    });
    bound = await set.open();
    logger.info({ ...bound, io: set.io }, `fabric VXLAN port set listening on ${bound.address}:${bound.port}`);
  }
  const ports = new AttachmentPorts(fabric, set, NO_LISTENER);
  const warm = keepFabricWarm({ fabric });
  return {
    driver: fabric,
    fabric,
    vxlan: bound,
    plug(portId, a) {
      try {
        ports.plug(portId, a);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
      return Promise.resolve();
    },
    unplug(portId) {
      ports.unplug(portId);
      return Promise.resolve();
    },
    counters: () =>
      Promise.resolve({
        fabric: fabric.counters(),
        vxlan: set === null ? null : { ...set.counters },
        packet: ports.packetCounters(),
      }),
    capture: async (request) => runCapture(fabric, request),
    verify: (ids) => fabric.verify(ids),
    onRestore: () => undefined,
    async close() {
      warm.stop();
      fabric.close();
      ports.close();
      await set?.close();
    },
  };
}

export async function agentBackend(socketPath: string, logger: Logger): Promise<FabricBackend> {
  const remote = await AgentLink.connect(socketPath, logger);
  logger.info({ socketPath, vxlan: remote.hello.vxlan }, `connected to the fabric agent at ${socketPath}`);
  return {
    driver: remote,
    fabric: null,
    get vxlan() {
      return remote.hello.vxlan;
    },
    plug: (portId, a) => {
      if (!isVeth(a) && remote.hello.vxlan === null)
        return Promise.reject(new NoVxlanListener("the fabric agent has no VXLAN port set"));
      if (isVeth(a) && !remote.hello.veth)
        return Promise.reject(
          new AttachmentRefused(`cannot attach interface ${a.interface}: the fabric agent cannot open packet sockets`),
        );
      return remote.attach(portId, a);
    },
    unplug: (portId) => remote.detach(portId),
    counters: async () => {
      const c = await remote.counters();
      return { fabric: c.fabric, vxlan: c.vxlan, packet: c.packet };
    },
    capture: (r) => remote.capture(r.target, r.count, r.timeoutMs, r.signal),
    verify: (ids) => remote.verify(ids),
    onRestore: (hook) => {
      remote.onRestore(hook);
    },
    close() {
      remote.close();
      return Promise.resolve();
    },
  };
}
