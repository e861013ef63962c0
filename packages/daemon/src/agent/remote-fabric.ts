// havipd's side of the agent protocol: a fabric in another process, driven over a Unix socket.
import { connect, type Socket } from "node:net";
import {
  SpecError,
  UnknownCaptureTarget,
  type CaptureTarget,
  type NetworkSpec,
  type Observation,
  type SpecChange,
} from "@havip/fabric";
import type { CaptureResult } from "../fabric/capture-session.ts";
import {
  AGENT_PROTOCOL_VERSION,
  LineReader,
  encode,
  type AgentAttachment,
  type AgentCapture,
  type AgentCounters,
  type AgentHello,
  type AgentHolders,
  type AgentMessage,
  type AgentRequest,
  type AgentVerification,
} from "./protocol.ts";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
// Distributes over the union, so each request keeps its own fields.
type RequestBody<R = AgentRequest> = R extends AgentRequest ? Omit<R, "id"> : never;

/** How long connect() waits for the agent's hello by default. */
export const DEFAULT_HELLO_TIMEOUT_MS = 3000;

export class AgentError extends Error {}

/**
 * The connection failed or closed before the agent answered (or before the request could be sent): whether the
 * agent carried the request out is unknown, and its state is gone with it if it restarted.
 */
export class AgentConnectionLost extends AgentError {}

export class RemoteFabric {
  private readonly socket: Socket;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(o: Observation) => void>();
  private readonly closeListeners = new Set<() => void>();
  private nextId = 1;
  private agentHello: AgentHello = { version: 0, vxlan: null, veth: false };

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    const reader = new LineReader(
      (value) => {
        this.receive(value as AgentMessage);
      },
      (line) => {
        this.fail(new AgentError(`the fabric agent sent a line that is not JSON: ${line.slice(0, 80)}`));
      },
    );
    socket.on("data", (chunk: string) => {
      reader.push(chunk);
    });
    socket.on("error", (e) => {
      this.fail(new AgentConnectionLost(`the connection to the fabric agent failed: ${e.message}`, { cause: e }));
    });
    socket.on("close", () => {
      this.fail(new AgentConnectionLost("the connection to the fabric agent closed"));
      for (const l of this.closeListeners) l();
    });
  }

  /**
   * Connects and says hello (protocol version); rejects when the agent is not there, speaks another one, or does
   * not answer within `helloTimeoutMs` (a stopped or stuck agent still accepts connections: the kernel does).
   */
  static async connect(socketPath: string, options: { helloTimeoutMs?: number } = {}): Promise<RemoteFabric> {
    const timeoutMs = options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    const socket = connect(socketPath);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new AgentConnectionLost(`the fabric agent did not answer hello within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    let remote: RemoteFabric | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          socket.once("connect", resolve);
          socket.once("error", reject);
        }),
        timedOut,
      ]);
      remote = new RemoteFabric(socket);
      const hello = remote.request({ op: "hello", version: AGENT_PROTOCOL_VERSION });
      remote.agentHello = (await Promise.race([hello, timedOut])) as AgentHello;
      return remote;
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The agent's answer to hello: its protocol version, where its VXLAN port set listens, veth support. */
  get hello(): AgentHello {
    return this.agentHello;
  }

  private receive(m: AgentMessage): void {
    if ("event" in m) {
      for (const l of this.listeners) l(m.observation);
      return;
    }
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else if (m.error.problems !== undefined) p.reject(new SpecError(m.error.problems));
    else p.reject(new AgentError(m.error.message));
  }

  private fail(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(body: RequestBody, id = this.nextId++): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new AgentConnectionLost("the connection to the fabric agent is closed"));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.socket.write(encode({ ...body, id }));
    });
  }

  async applySpec(spec: NetworkSpec): Promise<void> {
    await this.request({ op: "apply-spec", spec });
  }

  async applyChanges(changes: SpecChange[]): Promise<void> {
    await this.request({ op: "apply-changes", changes });
  }

  async attach(portId: string, attachment: AgentAttachment): Promise<void> {
    await this.request({ op: "attach", portId, attachment });
  }

  async detach(portId: string): Promise<void> {
    await this.request({ op: "detach", portId });
  }

  /** The heartbeat: resolves when the agent answers (at once, unless it is stopped or stuck). */
  async ping(): Promise<void> {
    await this.request({ op: "ping" });
  }

  async counters(): Promise<AgentCounters> {
    return (await this.request({ op: "counters" })) as AgentCounters;
  }

  async holderStates(): Promise<AgentHolders> {
    return (await this.request({ op: "holders" })) as AgentHolders;
  }

  async requestVerification(havipIds: string[] | null): Promise<void> {
    await this.request({ op: "verify", havipIds, wait: false });
  }

  /** Resolves with each round's outcome when the rounds end. */
  async verify(havipIds: string[] | null): Promise<AgentVerification> {
    return (await this.request({ op: "verify", havipIds, wait: true })) as AgentVerification;
  }

  /**
   * Runs a capture in the agent; resolves when it ends (UnknownCaptureTarget for a HAVIP it does not know).
   * `signal` ends it early: the agent answers with what it recorded.
   */
  async capture(target: CaptureTarget, count: number, timeoutMs: number, signal?: AbortSignal): Promise<CaptureResult> {
    const id = this.nextId++;
    const cancel = () => {
      this.request({ op: "cancel-capture", captureId: id }).catch(() => undefined); // gone: nothing to cancel
    };
    let r: AgentCapture;
    try {
      const running = this.request({ op: "capture", target, count, timeoutMs }, id);
      if (signal?.aborted === true) cancel();
      else signal?.addEventListener("abort", cancel, { once: true });
      r = (await running) as AgentCapture;
    } catch (e) {
      if (e instanceof AgentError && e.message.startsWith("the fabric does not know")) {
        throw new UnknownCaptureTarget(e.message);
      }
      throw e;
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
    return { pcap: Buffer.from(r.pcapBase64, "base64"), frames: r.frames, truncated: r.truncated };
  }

  onObservation(listener: (o: Observation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the connection ends (the agent stopped, or close() was called). */
  onClose(listener: () => void): void {
    this.closeListeners.add(listener);
  }

  close(): void {
    this.socket.destroy();
  }
}
