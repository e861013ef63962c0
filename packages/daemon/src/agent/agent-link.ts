// havipd's link to the fabric agent, kept up: when the connection drops (the agent restarted, was upgraded, or
// crashed and its supervisor started it again) havipd reconnects on its own, backing off from 100 ms to 500 ms,
// and once connected runs the restore hooks (the runtime re-applies the whole spec, with each HAVIP's last
// known holder, and re-plugs every attachment). Meanwhile calls fail at once with AgentUnavailable (the API's
// 503 FabricUnavailable): nothing waits on an agent that is not there, and the spec is rebuilt from the store
// when it is back. A call the connection dropped under fails the same way: the restore covers it too.
// A heartbeat (a `ping` every second) tells a hung agent from a quiet one: one that leaves a ping unanswered for 3 s
// is treated as gone (its connection is dropped, so calls fail fast) and the link reconnects as above.
import { ApiError } from "@havip/control";
import type { CaptureTarget, NetworkSpec, Observation, SpecChange } from "@havip/fabric";
import type { Logger } from "pino";
import type { CaptureResult } from "../fabric/capture-session.ts";
import type { AgentAttachment, AgentCounters, AgentHello, AgentHolders, AgentVerification } from "./protocol.ts";
import { Heartbeat, type HeartbeatOptions } from "./heartbeat.ts";
import { AgentConnectionLost, RemoteFabric } from "./remote-fabric.ts";

/** The agent is not connected right now (havipd is reconnecting): the API answers 503 FabricUnavailable. */
export class AgentUnavailable extends ApiError {
  constructor(message: string) {
    super("FabricUnavailable", message);
    this.name = "AgentUnavailable";
  }
}

export interface AgentLinkOptions extends HeartbeatOptions {
  /** First and largest wait between connection attempts, ms (defaults 100 and 500). */
  retryMs?: number;
  maxRetryMs?: number;
}

export class AgentLink {
  private remote: RemoteFabric | null;
  private readonly listeners = new Set<(o: Observation) => void>();
  private readonly restoreHooks: (() => Promise<void>)[] = [];
  private closed = false;
  private lastHello: AgentHello;
  private wake: (() => void) | null = null;
  private readonly socketPath: string;
  private readonly logger: Logger;
  private readonly options: AgentLinkOptions;
  private heartbeat: Heartbeat | null = null;

  private constructor(socketPath: string, logger: Logger, first: RemoteFabric, options: AgentLinkOptions) {
    this.socketPath = socketPath;
    this.logger = logger;
    this.options = options;
    this.remote = first;
    this.lastHello = first.hello;
    this.adopt(first);
  }

  /** The first connection must succeed (havipd does not start without its fabric). */
  static async connect(socketPath: string, logger: Logger, options: AgentLinkOptions = {}): Promise<AgentLink> {
    const first = await RemoteFabric.connect(socketPath, helloTimeout(options));
    return new AgentLink(socketPath, logger, first, options);
  }

  /** The agent's hello on the current (or last) connection. */
  get hello(): AgentHello {
    return this.lastHello;
  }

  /** Runs after every reconnection, in the order added (calls already reach the new agent meanwhile). */
  onRestore(hook: () => Promise<void>): void {
    this.restoreHooks.push(hook);
  }

  private adopt(remote: RemoteFabric): void {
    remote.onObservation((o) => {
      for (const l of this.listeners) l(o);
    });
    const heartbeat = new Heartbeat(
      () => remote.ping(),
      (silentMs) => {
        this.logger.warn(
          { socketPath: this.socketPath, silentMs },
          "the fabric agent stopped answering (heartbeat); dropping the connection",
        );
        remote.close(); // the close below reconnects; calls under way fail as AgentUnavailable
      },
      this.options,
    );
    this.heartbeat?.stop();
    this.heartbeat = heartbeat;
    heartbeat.start();
    remote.onClose(() => {
      heartbeat.stop();
      if (this.remote !== remote) return;
      this.remote = null;
      if (this.closed) return;
      this.logger.warn({ socketPath: this.socketPath }, "the connection to the fabric agent was lost; reconnecting");
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    const first = this.options.retryMs ?? 100;
    const max = this.options.maxRetryMs ?? 500;
    let wait = first;
    let attempts = 0;
    const lostAt = performance.now();
    while (!this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
      if (this.isClosed()) return;
      attempts++;
      let remote: RemoteFabric;
      try {
        remote = await RemoteFabric.connect(this.socketPath, helloTimeout(this.options));
      } catch (e) {
        if (attempts === 1 || attempts % 30 === 0) {
          this.logger.warn({ err: e, attempts }, "fabric agent not reachable yet; still trying");
        }
        wait = Math.min(wait * 2, max);
        continue;
      }
      if (this.isClosed()) {
        remote.close();
        return;
      }
      const previous = this.lastHello;
      this.lastHello = remote.hello;
      if (JSON.stringify(previous.vxlan) !== JSON.stringify(remote.hello.vxlan)) {
        this.logger.warn(
          { before: previous.vxlan, now: remote.hello.vxlan },
          "the fabric agent's VXLAN port set moved: instances' VTEPs still point at the old address",
        );
      }
      this.remote = remote;
      this.adopt(remote);
      for (const hook of this.restoreHooks) {
        try {
          await hook();
        } catch (e) {
          this.logger.error({ err: e }, "restoring the fabric agent's state failed in part");
        }
      }
      this.logger.info(
        { socketPath: this.socketPath, attempts, downMs: Math.round(performance.now() - lostAt) },
        "reconnected to the fabric agent; spec and attachments restored",
      );
      return;
    }
  }

  /** close() may run while reconnect() awaits: read the flag afresh (no narrowing across awaits). */
  private isClosed(): boolean {
    return this.closed;
  }

  private current(): RemoteFabric {
    if (this.remote === null) {
      throw new AgentUnavailable("the fabric agent is not connected; havipd is reconnecting to it");
    }
    return this.remote;
  }

  private call<T>(f: (r: RemoteFabric) => Promise<T>): Promise<T> {
    let answer: Promise<T>;
    try {
      answer = f(this.current());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return answer.catch((e: unknown) => {
      if (!(e instanceof AgentConnectionLost)) throw e;
      throw new AgentUnavailable(`${e.message} before it answered; havipd is reconnecting to it`);
    });
  }

  applySpec(spec: NetworkSpec): Promise<void> {
    return this.call((r) => r.applySpec(spec));
  }

  applyChanges(changes: SpecChange[]): Promise<void> {
    return this.call((r) => r.applyChanges(changes));
  }

  attach(portId: string, attachment: AgentAttachment): Promise<void> {
    return this.call((r) => r.attach(portId, attachment));
  }

  detach(portId: string): Promise<void> {
    return this.call((r) => r.detach(portId));
  }

  counters(): Promise<AgentCounters> {
    return this.call((r) => r.counters());
  }

  holderStates(): Promise<AgentHolders> {
    return this.call((r) => r.holderStates());
  }

  requestVerification(havipIds: string[] | null): Promise<void> {
    return this.call((r) => r.requestVerification(havipIds));
  }

  verify(havipIds: string[] | null): Promise<AgentVerification> {
    return this.call((r) => r.verify(havipIds));
  }

  capture(target: CaptureTarget, count: number, timeoutMs: number, signal?: AbortSignal): Promise<CaptureResult> {
    return this.call((r) => r.capture(target, count, timeoutMs, signal));
  }

  onObservation(listener: (o: Observation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.heartbeat?.stop();
    this.wake?.();
    this.remote?.close();
    this.remote = null;
  }
}

/** An agent that does not answer hello within the heartbeat's timeout counts as hung as well. */
function helloTimeout(options: AgentLinkOptions): { helloTimeoutMs?: number } {
  return options.pingTimeoutMs === undefined ? {} : { helloTimeoutMs: options.pingTimeoutMs };
}
