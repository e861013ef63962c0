// The fabric agent: a Fabric, its VXLAN port set and its veth attachments' packet ports in their own process,
// driven by havipd over a Unix socket with the agent protocol (protocol.ts). Every connected client gets every
// observation.
import { rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import {
  Fabric,
  SpecError,
  VxlanPortSet,
  keepFabricWarm,
  warmUpFabric,
  type Observation,
  type PolicingConfig,
  type ReceiveModeration,
  type VerificationOptions,
  type VxlanPortSetOptions,
} from "@havip/fabric";
import { AttachmentPorts } from "../fabric/attachment-ports.ts";
import { runCapture } from "../fabric/capture-session.ts";
import {
  AGENT_PROTOCOL_VERSION,
  LineReader,
  encode,
  type AgentCapture,
  type AgentCounters,
  type AgentHello,
  type AgentMessage,
  type AgentRequest,
} from "./protocol.ts";

export interface FabricAgentOptions {
  socketPath: string;
  /** Where the VXLAN port set listens; null: no VXLAN ports (veth attachments still work). */
  vxlan: { host: string; port: number } | null;
  /** The VXLAN port set's I/O ("auto" by default: batched when the native addon loads). */
  io?: VxlanPortSetOptions["io"];
  /** Told when "auto" I/O falls back to dgram. */
  onWarning?: (message: string) => void;
  /**
   * How long observations wait before they are written to the clients (ms; 0, the default: a microtask, right
   * after the receive batch). See the comment at `pendingObservations`.
   */
  observationDelayMs?: number;
  /** Receive moderation of the VXLAN socket and every veth attachment's socket (off when absent). */
  receiveModeration?: ReceiveModeration;
  /** The fabric's per-vNIC policing (FabricOptions.policing): its defaults when absent, null: off. */
  policing?: PolicingConfig | null;
  /** Holder verification (the fabric's defaults when absent; false: off). */
  verification?: Partial<VerificationOptions> | false;
}

export interface FabricAgent {
  readonly fabric: Fabric;
  readonly vxlan: { address: string; port: number } | null;
  /** The I/O the VXLAN port set uses; null without one. */
  readonly io: "dgram" | "batch" | null;
  close(): Promise<void>;
}

export async function startFabricAgent(options: FabricAgentOptions): Promise<FabricAgent> {
  // Optimise the announcement path before the first real failover, and keep it in the CPU's caches between
  // failovers (a holder change is rare, see warm-up.ts).
  warmUpFabric();
  const fabric = new Fabric(undefined, {
    verification: options.verification ?? true,
    ...(options.policing === undefined ? {} : { policing: options.policing }),
  });
  let set: VxlanPortSet | null = null;
  let bound: { address: string; port: number } | null = null;
  if (options.vxlan !== null) {
    set = new VxlanPortSet({
      address: options.vxlan.host,
      port: options.vxlan.port,
      ...(options.io === undefined ? {} : { io: options.io }),
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
      ...(options.receiveModeration === undefined ? {} : { moderation: options.receiveModeration }),
    });
    bound = await set.open();
  }
  const ports = new AttachmentPorts(fabric, set, "the agent has no VXLAN port set", options.receiveModeration);
  const veth = AttachmentPorts.vethAvailable();
  const clients = new Set<Socket>();
  const write = (socket: Socket, message: AgentMessage) => {
    if (!socket.destroyed) socket.write(encode(message));
  };
  // Observations leave after the frames: one arrives in the middle of a receive batch (an announcement), and
  // writing it there wakes havipd on this CPU before the batch's frames are sent (measured: the flood of a
  // gratuitous ARP and the next probes held 1–1.6 ms behind havipd's handling of the holder change). Queued, they
  // are written after the batch has been flushed (a microtask), or `observationDelayMs` later: havipd's handling
  // of a holder change (store, log, API) is about a millisecond of CPU, and on shared cores it held the first
  // packets to the new holder when it ran at once (bench/failover/README.md, "havipd after the first packets").
  // Pending observations are always written before any answer that follows them: a client still sees everything
  // in the order it happened.
  const delayMs = options.observationDelayMs ?? 0;
  const pendingObservations: Observation[] = [];
  let delayTimer: NodeJS.Timeout | null = null;
  const writeObservations = () => {
    if (delayTimer !== null) clearTimeout(delayTimer);
    delayTimer = null;
    const batch = pendingObservations.splice(0);
    for (const c of clients) for (const observation of batch) write(c, { event: "observation", observation });
  };
  const send = (socket: Socket, message: AgentMessage) => {
    if (pendingObservations.length > 0) writeObservations();
    write(socket, message);
  };
  fabric.onObservation((observation) => {
    if (pendingObservations.push(observation) !== 1) return;
    if (delayMs > 0) delayTimer = setTimeout(writeObservations, delayMs);
    else queueMicrotask(writeObservations);
  });

  /** `captures`: this client's running captures, by request id. */
  const handle = (request: AgentRequest, captures: Map<number, AbortController>): unknown => {
    switch (request.op) {
      case "hello": {
        if (request.version !== AGENT_PROTOCOL_VERSION) {
          throw new Error(`protocol version ${request.version} is not ${AGENT_PROTOCOL_VERSION}`);
        }
        const hello: AgentHello = { version: AGENT_PROTOCOL_VERSION, vxlan: bound, veth };
        return hello;
      }
      case "apply-spec":
        fabric.applySpec(request.spec);
        return null;
      case "apply-changes":
        fabric.applyChanges(request.changes);
        return null;
      case "attach":
        ports.plug(request.portId, request.attachment);
        return null;
      case "detach":
        ports.unplug(request.portId);
        return null;
      case "counters": {
        const counters: AgentCounters = {
          fabric: fabric.counters(),
          vxlan: set === null ? null : { ...set.counters },
          packet: ports.packetCounters(),
        };
        return counters;
      }
      case "capture": {
        const { id, target, count, timeoutMs } = request;
        const cancel = new AbortController();
        const running = runCapture(fabric, { target, count, timeoutMs, signal: cancel.signal });
        captures.set(id, cancel);
        return running
          .finally(() => captures.delete(id))
          .then((r): AgentCapture => ({
            pcapBase64: Buffer.from(r.pcap).toString("base64"),
            frames: r.frames,
            truncated: r.truncated,
          }));
      }
      case "cancel-capture":
        captures.get(request.captureId)?.abort(); // one that already ended: nothing to do
        return null;
      case "ping":
        return {};
      case "holders":
        return fabric.holderStates();
      case "verify":
        if (!request.wait) {
          fabric.requestVerification(request.havipIds);
          return null;
        }
        return fabric.verify(request.havipIds);
    }
  };

  const server: Server = createServer((socket) => {
    clients.add(socket);
    const captures = new Map<number, AbortController>();
    socket.setEncoding("utf8");
    const reader = new LineReader(
      (value) => {
        const request = value as AgentRequest;
        const fail = (e: unknown) => {
          const problems = e instanceof SpecError ? [...e.problems] : undefined;
          const message = e instanceof Error ? e.message : String(e);
          send(socket, { id: request.id, ok: false, error: { message, ...(problems ? { problems } : {}) } });
        };
        try {
          const result = handle(request, captures);
          // A capture, or a verification waited for, answers when it ends; everything else at once, in order.
          if (result instanceof Promise) {
            result.then((r: unknown) => {
              send(socket, { id: request.id, ok: true, result: r ?? null });
            }, fail);
          } else {
            send(socket, { id: request.id, ok: true, result: result ?? null });
          }
        } catch (e) {
          fail(e);
        }
      },
      () => {
        socket.destroy(); // not the protocol: hang up
      },
    );
    socket.on("data", (chunk: string) => {
      reader.push(chunk);
    });
    socket.on("close", () => {
      clients.delete(socket);
      for (const c of captures.values()) c.abort(); // nobody is left to read them
    });
    socket.on("error", () => undefined);
  });
  await rm(options.socketPath, { force: true }); // a socket file left by a crashed agent
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const warm = keepFabricWarm({ fabric });
  return {
    fabric,
    vxlan: bound,
    io: set === null ? null : set.io,
    async close() {
      warm.stop();
      if (delayTimer !== null) clearTimeout(delayTimer);
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      fabric.close();
      ports.close();
      await set?.close();
    },
  };
}
