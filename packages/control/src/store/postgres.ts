// PostgreSQL connections of the store: the pool behind Kysely and the settings that every dedicated
// connection (notifications, leases) shares, so that an outage fails requests instead of ending havipd.
import { createHash } from "node:crypto";
import pg from "pg";

export interface PostgresTarget {
  readonly connectionString: string;
  /** The schema every table lives in (search_path), or null for the server's default. */
  readonly schema: string | null;
}

/**
 * How long opening a connection may take. pg has no limit of its own: against an unreachable server a
 * request would hang; with it the request fails (503) and the next one tries again.
 */
const CONNECT_TIMEOUT_MS = 5000;

/** What each connection is for, as pg_stat_activity shows it (application_name). */
export type ConnectionRole = "havipd" | "havipd-changes" | "havipd-lease";

/** Connection settings; serverOptions are extra `-c name=value` settings for the session. */
export function clientConfig(target: PostgresTarget, role: ConnectionRole, serverOptions = ""): pg.ClientConfig {
  const options = [target.schema !== null ? `-c search_path="${target.schema}"` : "", serverOptions]
    .filter((o) => o !== "")
    .join(" ");
  return {
    connectionString: target.connectionString,
    application_name: role,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // TCP keep-alive finds a connection whose server vanished without closing it (host down, network cut).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(options !== "" ? { options } : {}),
  };
}

const ignore = (): void => undefined;

/**
 * The store's pool. A connection whose server goes away emits 'error': on the pool when it is idle, on the
 * client when it is checked out. Without a listener either one ends the process, so both get one. Nothing
 * else is needed: the statement that was running fails by itself (and the API answers 503), and pg-pool
 * drops a client that is no longer queryable when it is released, so a broken connection is never reused;
 * the next request opens a new one.
 */
export function openPool(target: PostgresTarget, max: number): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(target, "havipd"), max });
  pool.on("error", ignore);
  pool.on("connect", (client) => {
    client.on("error", ignore);
  });
  return pool;
}

/** Creates the target's schema when it does not exist. */
export async function ensureSchema(target: PostgresTarget): Promise<void> {
  if (target.schema === null) return;
  const setup = new pg.Client(clientConfig({ ...target, schema: null }, "havipd"));
  setup.on("error", ignore);
  await setup.connect();
  try {
    await setup.query(`create schema if not exists "${target.schema}"`);
  } finally {
    await setup.end();
  }
}

/**
 * The NOTIFY channel of the target's change log. Notifications are per database, so stores in different
 * schemas of one database get different channels; hashed, since channel names are at most 63 bytes.
 */
export function changeChannel(target: PostgresTarget): string {
  if (target.schema === null) return "havip_changes";
  return `havip_changes_${createHash("sha256").update(target.schema).digest("hex").slice(0, 16)}`;
}

/** A dedicated connection (not from the pool) with the store's settings; its errors are the caller's to watch. */
export function dedicatedClient(target: PostgresTarget, role: ConnectionRole, serverOptions = ""): pg.Client {
  return new pg.Client(clientConfig(target, role, serverOptions));
}
