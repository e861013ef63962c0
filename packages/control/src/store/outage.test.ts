// PostgreSQL connections that die under the store: the call that was using one fails with an outage error
// (which the API answers 503), the process carries on, and no broken connection is used again.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { sql } from "kysely";
import { openStore, type Store } from "./store.ts";
import { adminSql, freshPostgresUrl, postgresOnly } from "./test-backends.ts";
import { isStoreOutage } from "./unavailable.ts";

async function setting(store: Store, name: string, value: number): Promise<void> {
  await store.write(async (tx) => {
    await tx.db.insertInto("settings").values({ name, value }).execute();
    tx.record({ projectId: null, resource: "quotas", id: name, action: "updated", data: null });
  });
}

postgresOnly("store connections cut by the server", (baseUrl) => {
  const open: Store[] = [];
  after(async () => {
    for (const store of open) await store.close().catch(() => undefined);
  });
  async function fresh(): Promise<{ url: string; store: Store }> {
    const url = await freshPostgresUrl(baseUrl, "cut");
    const store = await openStore({ databaseUrl: url, poolSize: 4 });
    open.push(store);
    return { url, store };
  }

  test("a connection killed in the middle of a write fails that write as an outage; the next write works", async () => {
    const { store } = await fresh();
    const seen: number[] = [];
    store.onChange((e) => seen.push(e.revision));
    await setting(store, "before", 1);
    const cut = store.write(async (tx) => {
      tx.record({ projectId: null, resource: "quotas", id: "cut", action: "updated", data: null });
      await sql`select pg_terminate_backend(pg_backend_pid())`.execute(tx.db);
    });
    await assert.rejects(cut, (e: unknown) => {
      assert.ok(isStoreOutage(e), `an outage error, got ${String(e)}`);
      return true;
    });
    // The write that failed committed nothing and took no revision; the next one takes revision 2.
    for (let i = 0; i < 8; i++) await setting(store, `after-${i}`, i);
    assert.equal(await store.currentRevision(), 9);
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("idle pooled connections killed by the server are replaced, not reused", async () => {
    const { url, store } = await fresh();
    // Fill the pool: four reads at once leave four idle connections.
    await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.05)`.execute(store.db)));
    await adminSql(
      url,
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'havipd' " +
        "and datname = current_database() and pid <> pg_backend_pid()",
    );
    await new Promise((r) => setTimeout(r, 200)); // the pool hears of it
    for (let i = 0; i < 12; i++) await setting(store, `s${i}`, i);
    assert.equal(await store.currentRevision(), 12);
  });
});
