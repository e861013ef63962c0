// Several stores (havipd replicas) on one PostgreSQL database: each one's change feed delivers every
// store's commits, in revision order, none skipped, within a second; across a lost listening connection
// too. And leases: one holder at a time, taken over when the holder's connection dies.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { ChangeEvent } from "../model.ts";
import { openStore, type Store } from "./store.ts";
import { adminSql, freshPostgresUrl, postgresOnly } from "./test-backends.ts";

/** A change as a test writes it: the quotas row, which needs no other rows. */
async function writeOne(store: Store, n: number): Promise<number> {
  return store.write(async (tx) => {
    await tx.db
      .insertInto("settings")
      .values({ name: `s${n}`, value: n })
      .execute();
    tx.record({ projectId: null, resource: "quotas", id: `s${n}`, action: "updated", data: { n } });
    return n;
  });
}

/** Collects a store's feed; `until` resolves once revision r was delivered. */
function follow(store: Store) {
  const seen: ChangeEvent[] = [];
  const waiters: { revision: number; resolve: () => void }[] = [];
  store.onChange((e) => {
    seen.push(e);
    for (const w of waiters.filter((x) => x.revision <= e.revision)) w.resolve();
  });
  return {
    seen,
    revisions: () => seen.map((e) => e.revision),
    until(revision: number, ms: number): Promise<void> {
      if (seen.some((e) => e.revision >= revision)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`revision ${revision} not delivered within ${ms} ms (have ${seen.at(-1)?.revision})`));
        }, ms);
        waiters.push({
          revision,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

const until = async (check: () => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

postgresOnly("replicas on one database", (baseUrl) => {
  const open: Store[] = [];
  after(async () => {
    for (const store of open) await store.close().catch(() => undefined);
  });
  async function pair(): Promise<{ url: string; a: Store; b: Store }> {
    const url = await freshPostgresUrl(baseUrl, "rep");
    const a = await openStore({ databaseUrl: url });
    const b = await openStore({ databaseUrl: url });
    open.push(a, b);
    return { url, a, b };
  }

  test("a commit through one store reaches the other's feed within a second, both ways", async () => {
    const { a, b } = await pair();
    const feedA = follow(a);
    const feedB = follow(b);
    let started = Date.now();
    await writeOne(a, 1);
    await feedB.until(1, 1000);
    const aToB = Date.now() - started;
    started = Date.now();
    await writeOne(b, 2);
    await feedA.until(2, 1000);
    const bToA = Date.now() - started;
    assert.deepEqual(feedA.revisions(), [1, 2]);
    assert.deepEqual(feedB.revisions(), [1, 2]);
    assert.ok(aToB < 1000 && bToA < 1000, `a→b ${aToB} ms, b→a ${bToA} ms`);
  });

  test("concurrent writes through both: both feeds deliver every revision once, in the same order", async () => {
    const { a, b } = await pair();
    const feedA = follow(a);
    const feedB = follow(b);
    const writes: Promise<number>[] = [];
    for (let n = 0; n < 300; n++) writes.push(writeOne(n % 2 === 0 ? a : b, n));
    await Promise.all(writes);
    const last = await a.currentRevision();
    assert.equal(last, 300);
    await Promise.all([feedA.until(last, 2000), feedB.until(last, 2000)]);
    const expected = Array.from({ length: last }, (_, i) => i + 1);
    assert.deepEqual(feedA.revisions(), expected);
    assert.deepEqual(feedB.revisions(), expected);
    assert.deepEqual(
      feedA.seen.map((e) => e.id),
      feedB.seen.map((e) => e.id),
      "the same change under each revision",
    );
  });

  test("a writer holding the writer lock keeps later revisions back: nothing is delivered out of order", async () => {
    const { a, b } = await pair();
    const feedB = follow(b);
    // A transaction of store a takes the writer lock and stays open; a write through b waits behind it.
    let finish: () => void = () => undefined;
    const held = a.write(async (tx) => {
      tx.record({ projectId: null, resource: "quotas", id: "slow", action: "updated", data: null });
      await new Promise<void>((resolve) => (finish = resolve));
    });
    await new Promise((r) => setTimeout(r, 100));
    const behind = writeOne(b, 99);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(feedB.revisions(), [], "nothing committed yet");
    finish();
    await Promise.all([held, behind]);
    await feedB.until(2, 1000);
    assert.deepEqual(
      feedB.seen.map((e) => [e.revision, e.id]),
      [
        [1, "slow"],
        [2, "s99"],
      ],
    );
  });

  test("after the listening connections are cut, the feeds catch up with what was committed meanwhile", async () => {
    const { url, a, b } = await pair();
    const feedA = follow(a);
    const feedB = follow(b);
    await writeOne(a, 1);
    await feedB.until(1, 1000);
    await adminSql(
      url,
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'havipd-changes' and datname = current_database()",
    );
    // Written while the listeners are (probably) still reconnecting: no notification reaches them.
    await writeOne(a, 2);
    await writeOne(b, 3);
    await Promise.all([feedA.until(3, 3000), feedB.until(3, 3000)]);
    assert.deepEqual(feedA.revisions(), [1, 2, 3]);
    assert.deepEqual(feedB.revisions(), [1, 2, 3]);
    // And they listen again: a later commit arrives without anything else waking them.
    await writeOne(a, 4);
    await feedB.until(4, 1000);
  });

  test("a lease has one holder; the other gets it within seconds after the holder's connection is killed", async () => {
    const { url, a, b } = await pair();
    let lostA = 0;
    const leaseA = await a.acquireLease("agent:lab", { onLost: () => lostA++ });
    assert.ok(leaseA?.held, "a gets the free lease");
    assert.equal(await b.acquireLease("agent:lab", { onLost: () => undefined }), null, "b does not while a holds it");
    const other = await b.acquireLease("agent:other", { onLost: () => undefined });
    assert.ok(other?.held, "another name is another lease");
    await other.release();

    let lostB = 0;
    let granted = false;
    const waiting = b.waitForLease("agent:lab", { onLost: () => lostB++, retryMs: 200 });
    void waiting.then(() => (granted = true));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(granted, false, "b still waits");

    const killed = Date.now();
    await adminSql(
      url,
      "select pg_terminate_backend(l.pid) from pg_locks l join pg_database d on d.oid = l.database " +
        "where l.locktype = 'advisory' and l.granted and d.datname = current_database()",
    );
    const leaseB = await waiting;
    const takeover = Date.now() - killed;
    await until(() => lostA === 1, 3000, "a's onLost fires");
    assert.equal(leaseA.held, false);
    assert.ok(leaseB.held);
    assert.ok(takeover < 3000, `b took over after ${takeover} ms`);
    assert.equal(await a.acquireLease("agent:lab", { onLost: () => undefined }), null, "b holds it now");

    await leaseB.release();
    assert.equal(lostB, 0, "a release is not a loss");
    const again = await a.acquireLease("agent:lab", { onLost: () => undefined });
    assert.ok(again?.held, "a released lease is free at once");
    await again.release();
  });

  test("waiting for a lease stops when its signal aborts", async () => {
    const { a, b } = await pair();
    const held = await a.acquireLease("x", { onLost: () => undefined });
    assert.ok(held);
    const controller = new AbortController();
    const waiting = b.waitForLease("x", { onLost: () => undefined, signal: controller.signal, retryMs: 50 });
    setTimeout(() => {
      controller.abort(new Error("stop waiting"));
    }, 200);
    await assert.rejects(waiting, /stop waiting/);
    await held.release();
  });
});

test("on SQLite a lease is always granted", async () => {
  const store = await openStore({ databaseUrl: ":memory:" });
  try {
    const one = await store.acquireLease("x", { onLost: () => undefined });
    const two = await store.waitForLease("x", { onLost: () => undefined });
    assert.ok(one?.held && two.held);
    await one.release();
    assert.equal(one.held, false);
  } finally {
    await store.close();
  }
});
