// openControlService: opens the store (running migrations) and returns every service of the control
// plane behind the ControlService interface, plus `idempotent` for the HTTP layer.
import { DEFAULT_QUOTAS, type Quotas } from "../model.ts";
import type { ControlService } from "../service.ts";
import { openStore } from "../store/index.ts";
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
}

export async function openControlService(options: OpenControlServiceOptions): Promise<ControlServiceWithIdempotency> {
  // Length is the deployment's choice (HAVIP_ADMIN_TOKEN); an empty token would be a hole.
  if (typeof options.operatorToken !== "string" || options.operatorToken.trim() === "") {
    throw new Error("operatorToken must be a non-empty string");
  }
  const baseQuotas: Quotas = { ...DEFAULT_QUOTAS, ...validateQuotas(options.quotas ?? {}) };
  const now = options.now ?? (() => new Date());
  const store = await openStore({ databaseUrl: options.databaseUrl, now });
  const ctx = { store, operatorToken: options.operatorToken, baseQuotas };
  return {
    ...adminServices(ctx),
    ...networkServices(ctx),
    ...instanceServices(ctx),
    ...havipServices(ctx),
    ...eipServices(ctx),
    ...eventServices(store),
    idempotent: idempotencyRunner(store, now),
    close: () => store.close(),
  };
}
