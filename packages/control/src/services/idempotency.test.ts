// Idempotency keys: a retry returns the first result, concurrent requests run once, fingerprints match.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../errors.ts";
import { expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

forEachBackend("idempotency", (backend) => {
  test("a retry with the same key returns the first result without running again", async () => {
    const svc = await backend.open();
    const { actor } = await seedTenant(svc);
    let runs = 0;
    const create = () =>
      svc.idempotent("proj-a", "key-1", "fp-1", async () => {
        runs++;
        return svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
      });
    const first = await create();
    const second = await create();
    assert.equal(first.replayed, false);
    assert.equal(second.replayed, true);
    assert.deepEqual(second.value, first.value);
    assert.equal(runs, 1);
    assert.equal((await svc.listVpcs(actor, {})).items.length, 2, "the seed VPC and one more");
    // Keys are per actor.
    const other = await svc.idempotent("proj-b", "key-1", "fp-1", () => Promise.resolve(42));
    assert.deepEqual(other, { value: 42, replayed: false });
  });

  test("the same key with a different request is IdempotencyKey.Mismatch", async () => {
    const svc = await backend.open();
    await svc.idempotent("a", "k", "fp-1", () => Promise.resolve({ ok: 1 }));
    await expectCode(
      svc.idempotent("a", "k", "fp-2", () => Promise.resolve({ ok: 2 })),
      "IdempotencyKey.Mismatch",
    );
  });

  test("concurrent requests with one key: one runs, the others get its result", async () => {
    const svc = await backend.open();
    let runs = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        svc.idempotent("a", "race", "fp", async () => {
          runs++;
          await new Promise((r) => setTimeout(r, 50));
          return { n: runs };
        }),
      ),
    );
    assert.equal(runs, 1);
    assert.deepEqual(
      results.map((r) => r.value),
      Array.from({ length: 10 }, () => ({ n: 1 })),
    );
    assert.equal(results.filter((r) => !r.replayed).length, 1);
  });

  test("a failed run is not remembered: the retry runs again", async () => {
    const svc = await backend.open();
    let runs = 0;
    const run = () =>
      svc.idempotent("a", "flaky", "fp", () => {
        runs++;
        return runs === 1 ? Promise.reject(new ApiError("InvalidParameter", "first")) : Promise.resolve("second");
      });
    await expectCode(run(), "InvalidParameter");
    assert.deepEqual(await run(), { value: "second", replayed: false });
    await expectCode(
      svc.idempotent("a", "", "fp", () => Promise.resolve(1)),
      "InvalidParameter",
    );
    await expectCode(
      svc.idempotent("a", "x".repeat(256), "fp", () => Promise.resolve(1)),
      "InvalidParameter",
    );
  });
});
