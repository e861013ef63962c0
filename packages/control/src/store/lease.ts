// Leases: "exactly one holder at a time" for a name (e.g. which havipd replica drives a fabric agent).
// On PostgreSQL a lease is a session advisory lock held by a dedicated connection: the server lets go of it
// when that session ends, however it ends (the holder stops, crashes, or its connection is cut), and
// another replica's next try gets it. The holder checks its connection every second; when the connection
// fails or stops answering, the lease is lost and `onLost` fires, well before the server can have handed
// the lock to someone else (it only does once the session is gone; TCP keep-alive ends a silent session
// after about 10 s). On SQLite (one process) a lease is always granted.
import { createHash } from "node:crypto";
import type pg from "pg";
import { dedicatedClient, type PostgresTarget } from "./postgres.ts";

export interface Lease {
  readonly name: string;
  /** True until the lease is released or lost. */
  readonly held: boolean;
  /** Gives the lease up (onLost does not fire). */
  release(): Promise<void>;
}

export interface LeaseOptions {
  /** The lease was lost (its connection died or stopped answering): stop acting as its holder at once. */
  onLost: () => void;
}

export interface WaitForLeaseOptions extends LeaseOptions {
  /** Stops waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** How often to try again while another holder has it (default 500 ms). */
  retryMs?: number;
}

export interface Leases {
  /** Takes the lease if nobody holds it; null when someone does. Fails when the database is away. */
  acquire(name: string, options: LeaseOptions): Promise<Lease | null>;
  /** Waits until the lease is granted (trying again through outages), or the signal aborts. */
  waitFor(name: string, options: WaitForLeaseOptions): Promise<Lease>;
  /** Ends every lease of this store (without onLost). */
  close(): Promise<void>;
}

const CHECK_MS = 1000;
/** Server-side keep-alive (seconds): a session whose client vanished silently ends after idle + interval × count. */
const SESSION_KEEPALIVE = "-c tcp_keepalives_idle=4 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3";
const DEFAULT_RETRY_MS = 500;

const ignore = (): void => undefined;

/** The 64-bit advisory lock key of a lease: per schema, so stores in one database never share a lease. */
export function leaseKey(schema: string | null, name: string): string {
  return createHash("sha256")
    .update(`havip-lease\0${schema ?? ""}\0${name}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Leases that are always granted: a single process (SQLite) has nobody to share with. */
export function localLeases(): Leases {
  const grant = (name: string): Lease => {
    let held = true;
    return {
      name,
      get held() {
        return held;
      },
      release() {
        held = false;
        return Promise.resolve();
      },
    };
  };
  return {
    acquire: (name) => Promise.resolve(grant(name)),
    waitFor: (name) => Promise.resolve(grant(name)),
    close: () => Promise.resolve(),
  };
}

export function postgresLeases(target: PostgresTarget): Leases {
  const open = new Set<pg.Client>();
  const granted = new Set<Lease>();
  let closed = false;

  async function connect(): Promise<pg.Client> {
    if (closed) throw new Error("the store is closed");
    const client = dedicatedClient(target, "havipd-lease", SESSION_KEEPALIVE);
    client.on("error", ignore); // replaced by the holder's watch once granted
    open.add(client);
    try {
      await client.connect();
    } catch (e) {
      open.delete(client);
      void client.end().catch(ignore); // not awaited: a half-made connection may never report its close
      throw e;
    }
    return client;
  }

  /** Ends a connection; gives up waiting after a second (a broken one may never report its close). */
  async function end(client: pg.Client): Promise<void> {
    open.delete(client);
    let timer: NodeJS.Timeout | undefined;
    const enough = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000);
    });
    await Promise.race([client.end().catch(ignore), enough]);
    clearTimeout(timer);
  }

  async function tryLock(client: pg.Client, key: string): Promise<boolean> {
    const result = await client.query<{ granted: boolean }>("select pg_try_advisory_lock($1::bigint) as granted", [
      key,
    ]);
    return result.rows[0]?.granted === true;
  }

  /** The granted lease: watches its connection until it is released or lost. */
  function hold(client: pg.Client, name: string, key: string, options: LeaseOptions): Lease {
    let held = true;
    let timer: NodeJS.Timeout | undefined;
    const lose = () => {
      if (!held) return;
      held = false;
      granted.delete(lease);
      clearTimeout(timer);
      void end(client);
      try {
        options.onLost();
      } catch {
        // the holder's callback failing must not take the process down
      }
    };
    client.off("error", ignore);
    client.on("error", lose);
    client.on("end", lose);
    const check = () => {
      timer = setTimeout(() => {
        let silent: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
          silent = setTimeout(() => {
            reject(new Error("lease connection silent"));
          }, CHECK_MS * 2);
        });
        Promise.race([client.query("select 1"), deadline])
          .then(() => {
            if (held) check();
          }, lose)
          .finally(() => {
            clearTimeout(silent);
          });
      }, CHECK_MS);
      timer.unref();
    };
    check();
    const lease: Lease = {
      name,
      get held() {
        return held;
      },
      async release() {
        granted.delete(lease);
        if (!held) return;
        held = false;
        clearTimeout(timer);
        client.off("end", lose);
        await client.query("select pg_advisory_unlock($1::bigint)", [key]).catch(ignore);
        await end(client);
      },
    };
    granted.add(lease);
    return lease;
  }

  async function acquire(name: string, options: LeaseOptions): Promise<Lease | null> {
    const key = leaseKey(target.schema, name);
    const client = await connect();
    try {
      if (await tryLock(client, key)) return hold(client, name, key, options);
    } catch (e) {
      await end(client);
      throw e;
    }
    await end(client);
    return null;
  }

  async function waitFor(name: string, options: WaitForLeaseOptions): Promise<Lease> {
    const key = leaseKey(target.schema, name);
    const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    for (;;) {
      options.signal?.throwIfAborted();
      let client: pg.Client | undefined;
      try {
        client = await connect();
        // One connection for every try while someone else holds the lease.
        for (;;) {
          if (await tryLock(client, key)) {
            if (options.signal?.aborted) {
              await end(client);
              options.signal.throwIfAborted();
            }
            return hold(client, name, key, options);
          }
          await sleep(retryMs, options.signal);
        }
      } catch (e) {
        if (client) await end(client);
        if (closed || options.signal?.aborted) throw e;
        await sleep(retryMs, options.signal); // the database is away: try again
      }
    }
  }

  return {
    acquire,
    waitFor,
    async close() {
      closed = true;
      await Promise.all([...granted].map((lease) => lease.release()));
      await Promise.all([...open].map(end));
    },
  };
}
