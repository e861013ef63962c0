// Idempotency-Key on creates: the first request with a key runs; a retry with the same key and the same
// request gets the first result (same status and body) without running again; the same key with a
// different request is refused (422 IdempotencyKey.Mismatch). Keys are scoped to the caller (operator or
// project) so tenants cannot collide or probe each other's keys.
import { createHash } from "node:crypto";
import { ApiError } from "../errors.ts";
import type { Actor } from "../service.ts";

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotentRequest {
  scope: string; // who asked: "operator" or the project id
  key: string; // the Idempotency-Key header
  fingerprint: string; // digest of method, route, params and body
}

/**
 * Where first results are kept. `run` calls `create` at most once per (scope, key) while the record is
 * retained; concurrent calls with the same key wait for the first. A failed `create` (an error) is not
 * recorded: the error goes back to the caller and a retry runs again.
 */
export interface IdempotencyStore {
  run(
    request: IdempotentRequest,
    create: () => Promise<StoredResponse>,
  ): Promise<StoredResponse & { replayed: boolean }>;
}

const KEY = /^[\x21-\x7e]{1,255}$/; // visible ASCII, as Stripe and the IETF draft allow

/** The header's key, or null when absent; throws InvalidParameter when malformed. */
export function idempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (Array.isArray(header) || !KEY.test(header)) {
    throw new ApiError("InvalidParameter", "Idempotency-Key must be 1–255 visible ASCII characters, given once.");
  }
  return header;
}

export function scopeOf(actor: Actor): string {
  return actor.kind === "operator" ? "operator" : actor.projectId;
}

/** A stable JSON text: object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function fingerprint(method: string, route: string, params: unknown, body: unknown): string {
  return createHash("sha256")
    .update(`${method} ${route}\n${canonical(params)}\n${canonical(body ?? null)}`)
    .digest("hex");
}

interface Entry {
  fingerprint: string;
  result: Promise<StoredResponse>;
  expiresAt: number;
}

/**
 * An in-process store: enough for one havipd and for tests. Records live `ttlMs` (default 24 h); at most
 * `maxEntries` are kept (oldest dropped first). A durable store (the database's) may replace it.
 */
export function memoryIdempotencyStore(
  options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
): IdempotencyStore {
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>(); // insertion order = age

  function prune(): void {
    const t = now();
    for (const [k, e] of entries) {
      if (e.expiresAt > t && entries.size <= maxEntries) break;
      entries.delete(k);
    }
  }

  return {
    async run(request, create) {
      prune();
      const id = `${request.scope}\u0000${request.key}`;
      const existing = entries.get(id);
      if (existing) {
        if (existing.fingerprint !== request.fingerprint) {
          throw new ApiError(
            "IdempotencyKey.Mismatch",
            "This Idempotency-Key was used before with a different request.",
          );
        }
        return { ...(await existing.result), replayed: true };
      }
      const result = create();
      entries.set(id, { fingerprint: request.fingerprint, result, expiresAt: now() + ttlMs });
      try {
        return { ...(await result), replayed: false };
      } catch (e) {
        entries.delete(id); // errors are not recorded: a retry runs again
        throw e;
      }
    },
  };
}

/** The services' durable runner (ControlServiceWithIdempotency.idempotent): keys survive a restart. */
export type IdempotentRunner = <T>(
  actorKey: string,
  key: string,
  fingerprint: string,
  run: () => Promise<T>,
) => Promise<{ value: T; replayed: boolean }>;

export function runnerIdempotencyStore(idempotent: IdempotentRunner): IdempotencyStore {
  return {
    async run(request, create) {
      const { value, replayed } = await idempotent(request.scope, request.key, request.fingerprint, create);
      return { ...value, replayed };
    },
  };
}

/** The service's own durable runner when it has one (the real services do), else null. */
export function serviceIdempotencyStore(service: object): IdempotencyStore | null {
  const idempotent = (service as { idempotent?: unknown }).idempotent;
  return typeof idempotent === "function" ? runnerIdempotencyStore(idempotent.bind(service) as IdempotentRunner) : null;
}
