// openControlService: opens the store (running migrations) and returns every service of the control
// plane behind the ControlService interface, plus `idempotent` for the HTTP layer.
import { DEFAULT_QUOTAS, type Quotas } from "../model.ts";
import type { ControlService } from "../service.ts";
import { type Lease, type LeaseOptions, openStore, type WaitForLeaseOptions } from "../store/index.ts";
import { adminServices } from "./admin.ts";
import { eipServices } from "./eips.ts";
import { eventServices } from "./events.ts";
import { havipServices } from "./havips.ts";
import { type IdempotentResult, idempotencyRunner } from "./idempotency.ts";
import { instanceServices } from "./instances.ts";
import { networkServices } from "./network.ts";
import { validateQuotas } from "./quotas.ts";

export type { IdempotentResult } from "./idempotency.ts";

export interface OpenControlServiceOptions {
  /** ":memory:", a SQLite file path, `sqlite:///abs/path.db`, a `file:` URL, or `postgres://…` (`?schema=`). */
  databaseUrl: string;
  operatorToken: string;
  /** The deployment's quotas; values the operator sets through setQuotas are stored and take precedence. */
  quotas?: Partial<Quotas>;
  now?: () => Date;
  /** PostgreSQL: the database went away (false, with the error) or came back (true). For the log. */
  onStoreAvailability?: (available: boolean, error?: unknown) => void;
}

export interface ControlServiceWithIdempotency extends ControlService {
  /**
   * Runs `run` at most once per (actorKey, key): a retry — concurrent or later — returns the first result
   * (replayed: true); the same key with a different fingerprint throws IdempotencyKey.Mismatch. When `run`
   * throws, nothing is remembered and a retry runs again. The result must be JSON-serialisable.
   */
  idempotent<T>(
    actorKey: string,
    key: string,
    fingerprint: string,
    run: () => Promise<T>,
  ): Promise<IdempotentResult<T>>;
  /**
   * Takes the lease `name` when no process on this database holds it (null otherwise): "exactly one
   * replica does X". PostgreSQL: a session advisory lock on a dedicated connection; onLost fires when that
   * connection dies or stops answering (stop doing X at once). SQLite: always granted.
   */
  acquireLease(name: string, options: LeaseOptions): Promise<Lease | null>;
  /** Waits until the lease `name` is granted (trying again through outages) or options.signal aborts. */
  waitForLease(name: string, options: WaitForLeaseOptions): Promise<Lease>;
}

export async function openControlService(options: OpenControlServiceOptions): Promise<ControlServiceWithIdempotency> {
  // Length is the deployment's choice (HAVIP_ADMIN_TOKEN); an empty token would be a hole.
  if (typeof options.operatorToken !== "string" || options.operatorToken.trim() === "") {
    throw new Error("operatorToken must be a non-empty string");
  }
  const baseQuotas: Quotas = { ...DEFAULT_QUOTAS, ...validateQuotas(options.quotas ?? {}) };
  const now = options.now ?? (() => new Date());
  const store = await openStore({
    databaseUrl: options.databaseUrl,
    now,
    ...(options.onStoreAvailability ? { onAvailability: options.onStoreAvailability } : {}),
  });
  const ctx = { store, operatorToken: options.operatorToken, baseQuotas };
  return {
    ...adminServices(ctx),
    ...networkServices(ctx),
    ...instanceServices(ctx),
    ...havipServices(ctx),
    ...eipServices(ctx),
    ...eventServices(store),
    idempotent: idempotencyRunner(store, now),
    acquireLease: (name, leaseOptions) => store.acquireLease(name, leaseOptions),
    waitForLease: (name, leaseOptions) => store.waitForLease(name, leaseOptions),
    close: () => store.close(),
  };
}
