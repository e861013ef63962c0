// Idempotency keys for the HTTP layer's creates, exactly once across crashes. The key is recorded in the
// create's own transaction together with the first result (store.runOnce), so a create never commits
// without its key: a retry — even after havipd was killed between the commit and the answer — finds the
// key at once and returns the first result. Requests with the same key in this process wait for the one
// that runs; another process racing on the same key is stopped at its first write by the recorded key.
// A different request with a used key is IdempotencyKey.Mismatch. A failed run commits nothing and
// records nothing, so a retry runs again.
import { ApiError } from "../errors.ts";
import type { OnceOutcome, Store } from "../store/index.ts";

export interface IdempotentResult<T> {
  value: T;
  /** True when value is the result of an earlier (or concurrent) request with the same key. */
  replayed: boolean;
}

export interface IdempotencyOptions {
  /** How long a finished key is remembered (default 24 h). */
  retentionMs?: number;
  /**
   * Test hook: called after a run's transaction committed and before its result is handed back. A throw
   * here stands for a crash in that window (the work is durable, the caller never hears of it).
   */
  afterCommit?: () => void;
}

const MAX_KEY_LENGTH = 255;

function mismatch(): ApiError {
  return new ApiError("IdempotencyKey.Mismatch", "This Idempotency-Key was used before with a different request.");
}

interface InFlight {
  fingerprint: string;
  outcome: Promise<OnceOutcome<unknown>>;
}

export function idempotencyRunner(store: Store, now: () => Date, options: IdempotencyOptions = {}) {
  const retentionMs = options.retentionMs ?? 24 * 3600_000;
  const inFlight = new Map<string, InFlight>();
  let lastPurge = 0;

  async function purge(): Promise<void> {
    const t = now().getTime();
    if (t - lastPurge < 60_000) return;
    lastPurge = t;
    const cutoff = new Date(t - retentionMs).toISOString();
    await store.db.deleteFrom("idempotency_keys").where("created_at", "<", cutoff).execute();
  }

  /** The first result for this key: recorded earlier, or from running now (key and writes in one commit). */
  async function attempt(actorKey: string, key: string, fingerprint: string, run: () => Promise<unknown>) {
    const row = await store.db
      .selectFrom("idempotency_keys")
      .select(["fingerprint", "response"])
      .where("actor_key", "=", actorKey)
      .where("idem_key", "=", key)
      .executeTakeFirst();
    // Answered before: not run again, not even its checks (the world may have moved on since).
    if (row) return { kind: "recorded", fingerprint: row.fingerprint, response: row.response ?? "null" } as const;
    const outcome = await store.runOnce({ actorKey, key, fingerprint }, run);
    if (outcome.kind === "ran") options.afterCommit?.();
    return outcome;
  }

  return async function idempotent<T>(
    actorKey: string,
    key: string,
    fingerprint: string,
    run: () => Promise<T>,
  ): Promise<IdempotentResult<T>> {
    if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
      throw new ApiError("InvalidParameter", `Idempotency-Key must be 1–${MAX_KEY_LENGTH} visible ASCII characters.`);
    }
    await purge();
    const id = `${actorKey}\u0000${key}`;
    for (;;) {
      const running = inFlight.get(id);
      if (running) {
        if (running.fingerprint !== fingerprint) throw mismatch();
        let outcome: OnceOutcome<unknown>;
        try {
          outcome = await running.outcome;
        } catch {
          continue; // the first request failed and recorded nothing: try to run ourselves
        }
        if (outcome.kind === "recorded") {
          if (outcome.fingerprint !== fingerprint) throw mismatch();
          return { value: JSON.parse(outcome.response) as T, replayed: true };
        }
        // A copy, as a replay from the store would be: the first caller keeps its own object.
        return { value: JSON.parse(JSON.stringify(outcome.value ?? null)) as T, replayed: true };
      }
      // Registered before the first await, so every later request with this key joins this one.
      const outcome = (async () => {
        try {
          return await attempt(actorKey, key, fingerprint, run);
        } finally {
          inFlight.delete(id); // before joiners resume: one that retries after a failure runs afresh
        }
      })();
      inFlight.set(id, { fingerprint, outcome });
      const result = await outcome;
      if (result.kind === "ran") return { value: result.value as T, replayed: false };
      if (result.fingerprint !== fingerprint) throw mismatch();
      return { value: JSON.parse(result.response) as T, replayed: true };
    }
  };
}
