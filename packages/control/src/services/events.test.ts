// The change log: revisions, visibility per project, resuming from a revision.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChangeEvent, HaVip } from "../model.ts";
import { OPERATOR, expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

forEachBackend("change log", (backend) => {
  test("a project sees its own changes, the operator sees all", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/24" });
    const a = await seedTenant(svc, "a");
    const b = await seedTenant(svc, "b");
    const all = await svc.eventsSince(OPERATOR, 0, 1000);
    assert.deepEqual(
      all.map((e) => e.revision),
      all.map((_, i) => i + 1),
    );
    assert.equal(all.length, await svc.currentRevision());
    assert.deepEqual(all[0], {
      revision: 1,
      at: all[0]!.at,
      projectId: null,
      resource: "eip-pool",
      id: all[0]!.id,
      action: "created",
      data: (await svc.listEipPools(OPERATOR, {})).items[0],
    });
    const forA = await svc.eventsSince(a.actor, 0, 1000);
    assert.ok(forA.length >= 3);
    assert.ok(forA.every((e) => e.projectId === a.project.id));
    assert.deepEqual(
      forA.map((e) => `${e.resource}:${e.action}`),
      ["project:created", "vpc:created", "subnet:created"],
    );
    assert.ok((await svc.eventsSince(b.actor, 0, 1000)).every((e) => e.projectId === b.project.id));
    await expectCode(svc.eventsSince(a.actor, -1, 10), "InvalidParameter");
    await expectCode(svc.eventsSince(a.actor, 0, 0), "InvalidParameter");
  });

  test("a watcher that resumes from its last revision receives every change exactly once", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const received: ChangeEvent[] = [];
    let last = 0;
    const poll = async () => {
      for (;;) {
        const batch = await svc.eventsSince(actor, last, 7);
        if (batch.length === 0) return;
        received.push(...batch);
        last = batch.at(-1)!.revision;
      }
    };
    const writers = Array.from({ length: 25 }, (_, i) =>
      svc.createInstance(actor, { name: `vm${i}`, subnetId: subnet.id }),
    );
    // Read while writes are in flight, "disconnect", then resume from the last revision.
    await poll();
    await Promise.all(writers);
    await poll();
    const expected = await svc.eventsSince(actor, 0, 1000);
    assert.deepEqual(received, expected);
    assert.equal(new Set(received.map((e) => e.revision)).size, received.length);
    assert.equal(received.filter((e) => e.resource === "instance").length, 25);
  });

  test("onChange delivers after commit, in revision order; holder changes carry the HAVIP", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const seen: ChangeEvent[] = [];
    const stop = svc.onChange((e) => seen.push(e));
    const vm = await svc.createInstance(actor, { name: "vm", subnetId: subnet.id });
    assert.equal(seen.at(-1)?.resource, "instance", "delivered by the time the write resolves");
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id });
    await svc.observeHolder({ havipId: havip.id, vnicId: vm.primaryVnicId, at: new Date() });
    await expectCode(
      svc.createHaVip(actor, { subnetId: subnet.id, ipAddress: "10.0.1.1" }),
      "InvalidIpAddress.Reserved",
    );
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => svc.createVpc(actor, { name: `v${i}`, cidr: "10.0.0.0/16", region: "r1" })),
    );
    stop();
    await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
    const revisions = seen.map((e) => e.revision);
    assert.deepEqual(
      revisions,
      revisions.map((_, i) => revisions[0]! + i),
    );
    assert.equal(seen.length, 13, "nothing for the failed create, nothing after unsubscribe");
    const holder = seen.find((e) => e.action === "holder-changed");
    assert.equal((holder?.data as HaVip).holder?.vnicId, vm.primaryVnicId);
    assert.deepEqual(seen, await svc.eventsSince(actor, revisions[0]! - 1, 13));
  });
});
