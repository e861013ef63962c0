// Idempotency keys for the HTTP layer's creates. The first request with a key inserts a `pending` row
// (the primary key decides the race), runs, and stores its result; a concurrent or later request with
// the same key waits for and returns that result, or gets IdempotencyKey.Mismatch for a different
// request. A failed run deletes its row, so a retry runs again (a failure changed nothing).
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError } from "../errors.ts";
import type { Store } from "../store/index.ts";

export interface IdempotentResult<T> {
  value: T;
  /** True when value is the stored result of an earlier request with the same key. */
  replayed: boolean;
}

export interface IdempotencyOptions {
  /** How long a finished key is remembered (default 24 h). */
  retentionMs?: number;
  /** A pending row older than this is taken to be from a crashed process and taken over (default 60 s). */
  staleMs?: number;
  /** Poll interval while another request with the same key runs (default 20 ms). */
  pollMs?: number;
}

const MAX_KEY_LENGTH = 255;

export function idempotencyRunner(store: Store, now: () => Date, options: IdempotencyOptions = {}) {
  const retentionMs = options.retentionMs ?? 24 * 3600_000;
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 20;
  let lastPurge = 0;

  async function purge(): Promise<void> {
    const t = now().getTime();
    if (t - lastPurge < 60_000) return;
    lastPurge = t;
    const cutoff = new Date(t - retentionMs).toISOString();
    await store.db.deleteFrom("idempotency_keys").where("created_at", "<", cutoff).execute();
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
    for (;;) {
      const createdAt = now().toISOString();
      const inserted = await store.db
        .insertInto("idempotency_keys")
        .values({
          actor_key: actorKey,
          idem_key: key,
          fingerprint,
          state: "pending",
          response: null,
          created_at: createdAt,
        })
        .onConflict((oc) => oc.columns(["actor_key", "idem_key"]).doNothing())
        .returning("idem_key")
        .executeTakeFirst();
      if (inserted) {
        let value: T;
        try {
          value = await run();
        } catch (e) {
          await store.db
            .deleteFrom("idempotency_keys")
            .where("actor_key", "=", actorKey)
            .where("idem_key", "=", key)
            .where("state", "=", "pending")
            .execute();
          throw e;
        }
        await store.db
          .updateTable("idempotency_keys")
          .set({ state: "done", response: JSON.stringify(value ?? null) })
          .where("actor_key", "=", actorKey)
          .where("idem_key", "=", key)
          .execute();
        return { value, replayed: false };
      }
      const row = await store.db
        .selectFrom("idempotency_keys")
        .selectAll()
        .where("actor_key", "=", actorKey)
        .where("idem_key", "=", key)
        .executeTakeFirst();
      if (!row) continue; // the first request failed and let go of the key: try to take it
      if (row.fingerprint !== fingerprint) {
        throw new ApiError("IdempotencyKey.Mismatch", "This Idempotency-Key was used before with a different request.");
      }
      if (row.state === "done") return { value: JSON.parse(row.response ?? "null") as T, replayed: true };
      if (now().getTime() - Date.parse(row.created_at) > staleMs) {
        await store.db
          .deleteFrom("idempotency_keys")
          .where("actor_key", "=", actorKey)
          .where("idem_key", "=", key)
          .where("state", "=", "pending")
          .where("created_at", "=", row.created_at)
          .execute();
        continue;
      }
      await sleep(pollMs);
    }
  };
}
