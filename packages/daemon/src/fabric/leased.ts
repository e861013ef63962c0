// One replica at a time drives a fabric agent (DESIGN §3): several havipd on one PostgreSQL form one control plane,
// and the one that holds the agent's lease (a PostgreSQL advisory lock) starts or adopts the agent and follows the
// control plane into it; the others serve the API and wait for the lease. When the holder dies, its database
// session ends, the lock is free, and a waiting replica takes over within seconds: it adopts the running agent
// (which kept forwarding and learning meanwhile), records what the agent knows where it is newer, and verifies every
// HAVIP. A replica that loses its lease (its database connection failed) stops driving the agent at once — it might
// be out of date — and waits for the lease again.
//
// Until it drives a fabric, a replica's fabric calls (attachments, counters, captures) answer 503 FabricUnavailable.
import type { ControlServiceWithIdempotency, Lease } from "@havip/control";
import type { Fabric } from "@havip/fabric";
import type { Logger } from "pino";
import { AgentUnavailable } from "../agent/agent-link.ts";
import type { FabricRuntime } from "./runtime.ts";

/** What the lease holder runs: starts (or adopts) the fabric; `stop` leaves the agent running. */
export interface FabricDriving {
  runtime: FabricRuntime;
  stop(): Promise<void>;
}

export interface LeasedFabricOptions {
  service: ControlServiceWithIdempotency;
  /** The lease's name: the same for every replica that may drive this agent. */
  leaseName: string;
  logger: Logger;
  start(): Promise<FabricDriving>;
}

export interface LeasedFabric {
  readonly runtime: FabricRuntime;
  /** Whether this replica drives the fabric now. */
  driving(): boolean;
  close(): Promise<void>;
}

const standby = (name: string) =>
  new AgentUnavailable(`this havipd replica is standing by: another replica holds the fabric lease ${name}`);

/**
 * Takes the lease now when it is free (and starts driving before this resolves); otherwise resolves at once as a
 * standby that keeps waiting for it in the background.
 */
export async function startLeasedFabric(options: LeasedFabricOptions): Promise<LeasedFabric> {
  const { service, leaseName, logger } = options;
  let current: FabricDriving | null = null;
  let lease: Lease | null = null;
  let closed = false;
  const waiting = new AbortController();
  let cycle: Promise<void> = Promise.resolve();

  const lost = () => {
    if (closed) return;
    logger.warn({ lease: leaseName }, "fabric lease lost (database connection failed): standing by, not driving");
    const driving = current;
    current = null;
    lease = null;
    cycle = cycle.then(async () => {
      await driving?.stop().catch((e: unknown) => {
        logger.warn({ err: e }, "stopping the fabric after the lease was lost failed");
      });
      await waitAndDrive();
    });
  };

  const drive = async (granted: Lease) => {
    lease = granted;
    try {
      current = await options.start();
      logger.info({ lease: leaseName }, "fabric lease held: this replica drives the fabric");
    } catch (e) {
      lease = null;
      await granted.release().catch(() => undefined);
      throw e;
    }
  };

  // Read afresh after every await (close() may run meanwhile).
  const isClosed = () => closed;
  const waitAndDrive = async (): Promise<void> => {
    while (!isClosed()) {
      let granted: Lease;
      try {
        granted = await service.waitForLease(leaseName, { onLost: lost, signal: waiting.signal });
      } catch (e) {
        if (isClosed()) return;
        logger.warn({ err: e }, "waiting for the fabric lease failed; trying again");
        continue;
      }
      if (isClosed()) {
        await granted.release();
        return;
      }
      try {
        await drive(granted);
        return;
      } catch (e) {
        logger.error({ err: e }, "could not drive the fabric after taking its lease; trying again in 2 s");
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };

  const first = await service.acquireLease(leaseName, { onLost: lost });
  if (first !== null) {
    await drive(first);
  } else {
    logger.info({ lease: leaseName }, "another replica drives the fabric: standing by for its lease");
    cycle = waitAndDrive();
  }

  const active = (): FabricRuntime => {
    if (current === null) throw standby(leaseName);
    return current.runtime;
  };
  const call = <T>(f: (r: FabricRuntime) => Promise<T>): Promise<T> => {
    try {
      return f(active());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const runtime: FabricRuntime = {
    get vxlan() {
      return current?.runtime.vxlan ?? null;
    },
    get fabric(): Fabric | null {
      return current?.runtime.fabric ?? null;
    },
    attachments: () => current?.runtime.attachments() ?? {},
    attach: (vnicId, a) => call((r) => r.attach(vnicId, a)),
    detach: (vnicId) => call((r) => r.detach(vnicId)),
    internet: () => current?.runtime.internet() ?? null,
    setInternet: (edge) => call((r) => r.setInternet(edge)),
    counters: () => call((r) => r.counters()),
    capture: (request) => call((r) => r.capture(request)),
    settled: () => current?.runtime.settled() ?? Promise.resolve(),
    verify: (havipId) => call((r) => r.verify(havipId)),
    async close() {
      closed = true;
      waiting.abort();
      await cycle.catch(() => undefined);
      const driving = current;
      current = null;
      await driving?.stop();
      await lease?.release().catch(() => undefined);
      lease = null;
    },
  };
  return { runtime, driving: () => current !== null, close: () => runtime.close() };
}
