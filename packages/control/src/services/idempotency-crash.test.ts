// Idempotency keys are committed with the create: a process that dies after the commit and before its
// answer leaves a key that a retry finds at once (the first result, the resource once); a run that fails
// leaves neither resource nor key; a racer that missed the key is stopped at its first write.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_QUOTAS } from "../model.ts";
import type { Actor } from "../service.ts";
import { type Store, openStore } from "../store/index.ts";
import { OPERATOR, OPERATOR_TOKEN, forEachBackend } from "../store/test-backends.ts";
import { adminServices } from "./admin.ts";
import { idempotencyRunner, type IdempotencyOptions } from "./idempotency.ts";
import { networkServices } from "./network.ts";

/** One havipd's worth of the control plane on a store: the services a test needs and the key runner. */
function processOn(store: Store, options: IdempotencyOptions = {}, now = () => new Date()) {
  const ctx = { store, operatorToken: OPERATOR_TOKEN, baseQuotas: DEFAULT_QUOTAS };
  return {
    ...adminServices(ctx),
    ...networkServices(ctx),
    idempotent: idempotencyRunner(store, now, options),
  };
}

class Crash extends Error {}

const crashAfterCommit = (): never => {
  throw new Crash("killed after the commit, before the answer");
};

async function keyRows(store: Store): Promise<number> {
  const rows = await store.db.selectFrom("idempotency_keys").select("idem_key").execute();
  return rows.length;
}

forEachBackend("idempotency across a crash", (backend) => {
  async function tenant(store: Store): Promise<Actor> {
    const { project } = await processOn(store).createProject(OPERATOR, { name: "tenant" });
    return { kind: "project", projectId: project.id };
  }

  test("a create cut off after its commit is answered at once on retry and exists once", async () => {
    const url = await backend.newUrl();
    const first = await openStore({ databaseUrl: url });
    const actor = await tenant(first);
    let runs = 0;
    const create = (p: ReturnType<typeof processOn>) => () => {
      runs++;
      return p.createVpc(actor, { name: "web", cidr: "10.0.0.0/16", region: "r1" });
    };
    const dying = processOn(first, { afterCommit: crashAfterCommit });
    await assert.rejects(dying.idempotent("proj", "vpc-1", "fp", create(dying)), Crash);
    await first.close(); // the process is gone; only what it committed remains

    const second = await openStore({ databaseUrl: url });
    try {
      const restarted = processOn(second);
      const started = performance.now();
      const retry = await restarted.idempotent("proj", "vpc-1", "fp", create(restarted));
      const elapsedMs = performance.now() - started;
      assert.equal(retry.replayed, true);
      assert.equal(runs, 1, "the retry did not run the create again");
      assert.ok(elapsedMs < 1000, `answered in ${elapsedMs.toFixed(0)} ms, not after a stale-key timeout`);
      const vpcs = (await restarted.listVpcs(actor, {})).items;
      assert.deepEqual(vpcs, [retry.value], "the VPC exists once and is the first result");
      // The change log has the create exactly once and no gap.
      const changes = await second.changesSince(0, 100);
      assert.deepEqual(
        changes.map((c) => [c.revision, c.resource, c.action]),
        [
          [1, "project", "created"],
          [2, "vpc", "created"],
        ],
      );
      assert.equal(await second.currentRevision(), 2);
    } finally {
      await second.close();
    }
  });

  test("a response that cannot be rebuilt (a project's token) is replayed whole after a crash", async () => {
    const url = await backend.newUrl();
    const first = await openStore({ databaseUrl: url });
    const createProject = (p: ReturnType<typeof processOn>) => async () => {
      const { project, token } = await p.createProject(OPERATOR, { name: "shown-once" });
      return { status: 201, body: { id: project.id, token } };
    };
    const dying = processOn(first, { afterCommit: crashAfterCommit });
    await assert.rejects(dying.idempotent("operator", "p-1", "fp", createProject(dying)), Crash);
    await first.close();

    const second = await openStore({ databaseUrl: url });
    try {
      const restarted = processOn(second);
      const retry = await restarted.idempotent("operator", "p-1", "fp", createProject(restarted));
      assert.equal(retry.replayed, true);
      assert.equal(retry.value.status, 201);
      const projects = (await restarted.listProjects(OPERATOR, {})).items;
      assert.deepEqual(
        projects.map((p) => p.id),
        [retry.value.body.id],
      );
      assert.deepEqual(await restarted.authenticate(retry.value.body.token), {
        kind: "project",
        projectId: retry.value.body.id,
      });
    } finally {
      await second.close();
    }
  });

  test("a run that fails after its write commits nothing and records nothing", async () => {
    const store = await openStore({ databaseUrl: await backend.newUrl() });
    try {
      const actor = await tenant(store);
      const p = processOn(store);
      const revision = await store.currentRevision();
      await assert.rejects(
        p.idempotent("proj", "k", "fp", async () => {
          await p.createVpc(actor, { name: "lost", cidr: "10.0.0.0/16", region: "r1" });
          throw new Error("failed after the write");
        }),
        /failed after the write/,
      );
      assert.deepEqual((await p.listVpcs(actor, {})).items, []);
      assert.equal(await keyRows(store), 0);
      assert.equal(await store.currentRevision(), revision, "no revision taken");
      // The store is usable afterwards and the retry runs.
      const retry = await p.idempotent("proj", "k", "fp", () =>
        p.createVpc(actor, { name: "kept", cidr: "10.0.0.0/16", region: "r1" }),
      );
      assert.equal(retry.replayed, false);
      assert.deepEqual(
        (await p.listVpcs(actor, {})).items.map((v) => v.name),
        ["kept"],
      );
      assert.equal(await store.currentRevision(), revision + 1);
    } finally {
      await store.close();
    }
  });

  test("a racer that missed the key is stopped at its first write and gets the first result", async () => {
    const store = await openStore({ databaseUrl: await backend.newUrl() });
    try {
      const actor = await tenant(store);
      // Two runners on one store stand for two processes: no in-memory sharing between them.
      const a = processOn(store);
      const b = processOn(store);
      let release = (): void => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let bWrote = false;
      const racer = b.idempotent("proj", "race", "fp", async () => {
        await gate; // b has looked for the key (none yet) and is about to write
        bWrote = true;
        return b.createVpc(actor, { name: "second", cidr: "10.1.0.0/16", region: "r1" });
      });
      await new Promise((r) => setTimeout(r, 50));
      const winner = await a.idempotent("proj", "race", "fp", () =>
        a.createVpc(actor, { name: "first", cidr: "10.0.0.0/16", region: "r1" }),
      );
      release();
      const loser = await racer;
      assert.equal(bWrote, true, "the racer did reach its write");
      assert.equal(winner.replayed, false);
      assert.equal(loser.replayed, true);
      assert.deepEqual(loser.value, winner.value);
      assert.deepEqual(
        (await a.listVpcs(actor, {})).items.map((v) => v.name),
        ["first"],
      );
      // A racer with a different request gets Mismatch, also at the write.
      const c = processOn(store);
      await assert.rejects(
        c.idempotent("proj", "race", "other", () =>
          c.createVpc(actor, { name: "third", cidr: "10.2.0.0/16", region: "r1" }),
        ),
        (e: unknown) => e instanceof Error && "code" in e && e.code === "IdempotencyKey.Mismatch",
      );
      assert.equal((await a.listVpcs(actor, {})).items.length, 1);
    } finally {
      await store.close();
    }
  });

  test("writes outside a run go on while none is open, and a closed run's leftovers write normally", async () => {
    const store = await openStore({ databaseUrl: await backend.newUrl() });
    try {
      const actor = await tenant(store);
      const p = processOn(store);
      let late: Promise<unknown> | undefined;
      await p.idempotent("proj", "k", "fp", async () => {
        const vpc = await p.createVpc(actor, { name: "in-run", cidr: "10.0.0.0/16", region: "r1" });
        // A timer started inside the run fires after it committed: an ordinary write of its own.
        late = new Promise((r) => setTimeout(r, 20)).then(() =>
          p.createVpc(actor, { name: "later", cidr: "10.1.0.0/16", region: "r1" }),
        );
        return vpc;
      });
      await late;
      assert.deepEqual(
        (await p.listVpcs(actor, {})).items.map((v) => v.name),
        ["in-run", "later"],
      );
      assert.equal(await keyRows(store), 1);
    } finally {
      await store.close();
    }
  });
});

forEachBackend("idempotency keys committed with the create", (backend) => {
  test("concurrent creates with one key: one VPC, every caller gets it", async () => {
    const store = await openStore({ databaseUrl: await backend.newUrl() });
    try {
      const { project } = await processOn(store).createProject(OPERATOR, { name: "t" });
      const actor: Actor = { kind: "project", projectId: project.id };
      const p = processOn(store);
      let runs = 0;
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          p.idempotent("proj", "same", "fp", () => {
            runs++;
            return p.createVpc(actor, { name: "once", cidr: "10.0.0.0/16", region: "r1" });
          }),
        ),
      );
      assert.equal(runs, 1);
      assert.equal(results.filter((r) => !r.replayed).length, 1);
      const vpcs = (await p.listVpcs(actor, {})).items;
      assert.equal(vpcs.length, 1);
      for (const r of results) assert.deepEqual(r.value, vpcs[0]);
    } finally {
      await store.close();
    }
  });

  test("keys older than the retention are purged and the key can be used afresh", async () => {
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const now = () => new Date(clock);
    const store = await openStore({ databaseUrl: await backend.newUrl(), now });
    try {
      const p = processOn(store, { retentionMs: 3600_000 }, now);
      let runs = 0;
      const run = () => Promise.resolve(++runs);
      assert.deepEqual(await p.idempotent("a", "k", "fp", run), { value: 1, replayed: false });
      clock += 30 * 60_000;
      assert.deepEqual(await p.idempotent("a", "k", "fp", run), { value: 1, replayed: true });
      clock += 2 * 3600_000;
      assert.deepEqual(await p.idempotent("a", "k", "fp", run), { value: 2, replayed: false });
      assert.equal(await keyRows(store), 1);
    } finally {
      await store.close();
    }
  });
});
