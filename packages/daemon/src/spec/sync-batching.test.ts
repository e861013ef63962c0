// The fabric gets committed changes in batches: one applyChanges per commit group while its rebuild is cheap, and
// fewer, larger batches while it is dear (a large spec) — never a change lost, reordered or applied twice.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openControlService, type Actor, type ControlService } from "@havip/control";
import type { NetworkSpec, Observation, SpecChange } from "@havip/fabric";
import { pino } from "pino";
import { startSpecSync, type FabricDriver } from "./sync.ts";

const OPERATOR: Actor = { kind: "operator" };
const services: ControlService[] = [];
after(async () => {
  for (const svc of services) await svc.close();
});

/** A fabric that records what it is given and spends `costMs` of CPU per applyChanges (as a large rebuild). */
function recordingFabric(costMs: number): FabricDriver & { calls: SpecChange[][]; spec: NetworkSpec | null } {
  const calls: SpecChange[][] = [];
  return {
    calls,
    spec: null,
    applySpec(spec: NetworkSpec) {
      this.spec = spec;
    },
    applyChanges(changes: SpecChange[]) {
      const until = performance.now() + costMs;
      while (performance.now() < until) {
        // busy, like a synchronous table rebuild
      }
      calls.push(changes);
    },
    onObservation(_listener: (o: Observation) => void) {
      return () => undefined;
    },
    holderStates: () => [],
    requestVerification: () => undefined,
  };
}

async function tenantWithSubnet() {
  const svc = await openControlService({ databaseUrl: ":memory:", operatorToken: "op-token-for-tests-000000" });
  services.push(svc);
  const { project } = await svc.createProject(OPERATOR, { name: "t" });
  const actor: Actor = { kind: "project", projectId: project.id };
  await svc.setQuotas(OPERATOR, { haVipsPerProject: 1000 });
  const vpc = await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
  const subnet = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.0.0/20", zone: "z1" });
  return { svc, actor, subnet };
}

/** A fabric in another process, as an agent: each applyChanges is answered `answerMs` later. */
function answeringFabric(answerMs: number): FabricDriver & { answered: SpecChange[][] } {
  const answered: SpecChange[][] = [];
  return {
    answered,
    applySpec: () => undefined,
    applyChanges: async (changes: SpecChange[]) => {
      await sleep(answerMs);
      answered.push(changes);
    },
    onObservation: () => () => undefined,
    holderStates: () => [],
    requestVerification: () => undefined,
  };
}

/** A tenant with a subnet, and a sync driving `fabric`. */
async function syncedTenant<F extends FabricDriver>(fabric: F) {
  const tenant = await tenantWithSubnet();
  const local = { routerMac: "02:00:00:00:00:01", internet: null };
  const sync = await startSpecSync(tenant.svc, fabric, local, pino({ level: "silent" }));
  return { ...tenant, fabric, sync };
}

const havipUpserts = (calls: SpecChange[][]) =>
  calls.flat().flatMap((c) => (c.op === "upsert" && c.kind === "havip" ? [c.value.id] : []));

test("a commit group reaches the fabric as one batch while rebuilds are cheap", async () => {
  const { svc, actor, subnet, fabric, sync } = await syncedTenant(recordingFabric(0));
  try {
    const created = await Promise.all(
      Array.from({ length: 20 }, () => svc.createHaVip(actor, { subnetId: subnet.id })),
    );
    // Applied before any writer heard its answer: all there now, in one call.
    assert.equal(fabric.calls.length, 1);
    assert.deepEqual(new Set(havipUpserts(fabric.calls)), new Set(created.map((h) => h.id)));
  } finally {
    sync.stop();
  }
});

test("while rebuilds are dear, changes wait and go in fewer batches, all of them in commit order", async () => {
  const { svc, actor, subnet, fabric, sync } = await syncedTenant(recordingFabric(20));
  try {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await svc.createHaVip(actor, { subnetId: subnet.id })).id);
    const deadline = Date.now() + 5000;
    while (havipUpserts(fabric.calls).length < ids.length && Date.now() < deadline) await sleep(10);
    assert.deepEqual(havipUpserts(fabric.calls), ids, "every create, once, in commit order");
    assert.ok(fabric.calls.length < ids.length / 2, `${fabric.calls.length} batches for ${ids.length} creates`);
  } finally {
    sync.stop();
  }
});

test("caughtUp sends a waiting batch at once and resolves when the fabric has answered it", async () => {
  const { svc, actor, subnet, fabric, sync } = await syncedTenant(answeringFabric(20));
  try {
    const first = await svc.createHaVip(actor, { subnetId: subnet.id });
    await sync.caughtUp();
    assert.deepEqual(havipUpserts(fabric.answered), [first.id], "the first create, answered");
    // The last batch took 20 ms to be answered, so the next change waits for the batch timer (about 40 ms).
    const second = await svc.createHaVip(actor, { subnetId: subnet.id });
    assert.deepEqual(havipUpserts(fabric.answered), [first.id], "the second create is not answered yet");
    await sync.caughtUp();
    assert.deepEqual(havipUpserts(fabric.answered), [first.id, second.id], "caughtUp waited for the second one");
    // Nothing waiting: resolves at once, nothing sent.
    await sync.caughtUp();
    assert.equal(fabric.answered.length, 2);
  } finally {
    sync.stop();
  }
});
