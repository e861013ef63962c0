// havipd killed with SIGKILL in the middle of a stream of writes comes back with every acknowledged write
// and nothing half-written: each instance has its primary vNIC and its address is taken, each HAVIP's
// address is taken, addresses are unique, and the change log's revisions run 1..N without a gap.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { ChangeEvent, HaVip, Instance, Project, Subnet, Vpc } from "@havip/control";
import { api, OPERATOR_TOKEN, startHavipd, tempDir, type Havipd } from "./harness.ts";

const ROUNDS = 4;
const PARALLEL_WRITERS = 3;
/** A retried create must be answered well within the CLI's 30 s request timeout. */
const RETRY_ANSWER_MS = 5_000;

interface Acknowledged {
  instances: Instance[];
  havips: HaVip[];
  /** Writes cut off by the kill: sent, outcome unknown. Retried after the restart with the same key. */
  unknown: { path: string; key: string; body: { subnetId: string; name: string } }[];
}

/** Writes until the first failure (the kill); records every 2xx answer. */
async function writer(
  daemon: Havipd,
  token: string,
  subnetId: string,
  label: string,
  acked: Acknowledged,
): Promise<void> {
  for (let n = 0; ; n++) {
    const kind = n % 4 === 3 ? "havip" : "instance";
    const path = kind === "havip" ? "/v1/havips" : "/v1/instances";
    const body = { subnetId, name: `${label}-${kind}-${n}` };
    const key = `${label}-${n}`;
    let response: Response;
    let parsed: unknown;
    try {
      response = await fetch(`${daemon.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(body),
      });
      parsed = await response.json();
    } catch {
      // The daemon is gone: this write's outcome is unknown, so it is not counted as acknowledged.
      acked.unknown.push({ path, key, body });
      return;
    }
    if (response.status !== 201) throw new Error(`unexpected ${response.status}: ${JSON.stringify(parsed)}`);
    if (kind === "havip") acked.havips.push(parsed as HaVip);
    else acked.instances.push(parsed as Instance);
  }
}

async function listAll<T>(daemon: Havipd, token: string, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await api<{ items: T[]; nextCursor: string | null }>(
      daemon.url,
      token,
      "GET",
      `${path}?limit=1000${query}`,
    );
    assert.equal(page.status, 200);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return items;
}

async function allEvents(daemon: Havipd): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  for (let since = 0; ;) {
    const page = await api<{ items: ChangeEvent[]; lastRevision: number; more: boolean }>(
      daemon.url,
      OPERATOR_TOKEN,
      "GET",
      `/v1/events?since=${since}&wait=0&limit=1000`,
    );
    assert.equal(page.status, 200);
    events.push(...page.body.items);
    if (!page.body.more || page.body.items.length === 0) return events;
    since = page.body.lastRevision;
  }
}

interface Rounds {
  rounds: number;
  /** Called after each restart, once the acknowledged writes are verified. */
  afterRestart?: (daemon: Havipd, token: string, acked: Acknowledged) => Promise<void>;
}

async function killDuringWrites(t: TestContext, { rounds, afterRestart }: Rounds): Promise<void> {
  const dataDir = await tempDir(t, "havip-durability-");
  let daemon = await startHavipd(t, { dataDir });
  const project = await api<Project & { token: string }>(daemon.url, OPERATOR_TOKEN, "POST", "/v1/projects", {
    name: "durable",
  });
  assert.equal(project.status, 201);
  const token = project.body.token;
  // The stream creates far more HAVIPs than the default per-project quota (50) allows.
  const quotas = await api(daemon.url, OPERATOR_TOKEN, "PUT", "/v1/quotas", { haVipsPerProject: 100_000 });
  assert.equal(quotas.status, 200, JSON.stringify(quotas.body));
  const vpc = await api<Vpc>(daemon.url, token, "POST", "/v1/vpcs", {
    name: "v",
    cidr: "10.0.0.0/16",
    region: "region-1",
  });
  assert.equal(vpc.status, 201);

  const acked: Acknowledged = { instances: [], havips: [], unknown: [] };
  const killedAfterMs: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Each round writes into a fresh /20 (4093 usable addresses, far more than a round can use).
    const subnet = await api<Subnet>(daemon.url, token, "POST", "/v1/subnets", {
      vpcId: vpc.body.id,
      name: `round-${round}`,
      cidr: `10.0.${(round - 1) * 16}.0/20`,
      zone: "zone-a",
    });
    assert.equal(subnet.status, 201, JSON.stringify(subnet.body));
    // One writer alone (sequential writes) and a few at once (concurrent transactions).
    const writers = Promise.allSettled([
      writer(daemon, token, subnet.body.id, `r${round}-seq`, acked),
      ...Array.from({ length: PARALLEL_WRITERS }, (_, i) =>
        writer(daemon, token, subnet.body.id, `r${round}-par${i}`, acked),
      ),
    ]);
    const delay = 150 + Math.floor(Math.random() * 450);
    killedAfterMs.push(delay);
    await new Promise((resolve) => setTimeout(resolve, delay));
    const exit = await daemon.stop("SIGKILL");
    assert.equal(exit.signal, "SIGKILL");
    for (const outcome of await writers) if (outcome.status === "rejected") throw outcome.reason;

    daemon = await startHavipd(t, { dataDir });
    await verify(daemon, token, acked);
    await afterRestart?.(daemon, token, acked);
  }
  const writes = acked.instances.length + acked.havips.length;
  t.diagnostic(`${rounds} rounds, killed after ${killedAfterMs.join("/")} ms, ${writes} acknowledged writes verified`);
  assert.ok(writes >= rounds * 5, `too few writes were acknowledged (${writes}) for the test to mean something`);
  assert.deepEqual(await daemon.stop("SIGTERM"), { code: 0, signal: null });
}

test(
  "SIGKILL during a stream of writes loses no acknowledged write and leaves nothing half-written",
  { timeout: 120_000 },
  async (t) => {
    await killDuringWrites(t, { rounds: ROUNDS });
  },
);

// The key is committed in the create's own transaction with its first answer, so a create cut off by the
// kill either committed with its key (the retry gets that answer at once) or left nothing (the retry runs).
test(
  "a write cut off by SIGKILL and retried with its Idempotency-Key is answered at once and exists once",
  { timeout: 120_000 },
  async (t) => {
    await killDuringWrites(t, { rounds: 2, afterRestart: retryUnknown });
  },
);

/**
 * A client whose write was cut off retries it with the same Idempotency-Key: it gets one resource, whether
 * or not the first attempt had committed before the kill, never two.
 */
async function retryUnknown(daemon: Havipd, token: string, acked: Acknowledged): Promise<void> {
  const pending = acked.unknown.splice(0);
  await Promise.all(
    pending.map(async (write) => {
      const response = await fetch(`${daemon.url}${write.path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": write.key },
        body: JSON.stringify(write.body),
        signal: AbortSignal.timeout(RETRY_ANSWER_MS),
      });
      const body = (await response.json()) as Instance & HaVip;
      assert.equal(response.status, 201, JSON.stringify(body));
      if (write.path === "/v1/havips") acked.havips.push(body);
      else acked.instances.push(body);
    }),
  );
  const names = [
    ...(await listAll<Instance>(daemon, token, "/v1/instances")),
    ...(await listAll<HaVip>(daemon, token, "/v1/havips")),
  ].map((r) => r.name);
  for (const write of pending) {
    assert.equal(
      names.filter((n) => n === write.body.name).length,
      1,
      `${write.body.name} exists once after its retry`,
    );
  }
}

async function verify(daemon: Havipd, token: string, acked: Acknowledged): Promise<void> {
  const instances = new Map((await listAll<Instance>(daemon, token, "/v1/instances")).map((i) => [i.id, i]));
  const havips = new Map((await listAll<HaVip>(daemon, token, "/v1/havips")).map((h) => [h.id, h]));

  // Every acknowledged write is there, as it was acknowledged.
  for (const written of acked.instances) {
    const found = instances.get(written.id);
    assert.ok(found, `acknowledged instance ${written.id} (${written.name}) is missing`);
    assert.deepEqual(found, written);
  }
  for (const written of acked.havips) {
    assert.deepEqual(havips.get(written.id), written, `acknowledged HAVIP ${written.id}`);
  }

  // Nothing half-written: each instance has exactly one primary vNIC, the one it names.
  const addressOwners = new Map<string, string>();
  const claim = (subnetId: string, ip: string, owner: string): void => {
    const key = `${subnetId} ${ip}`;
    assert.equal(
      addressOwners.get(key),
      undefined,
      `${ip} in ${subnetId} is held by ${addressOwners.get(key)} and ${owner}`,
    );
    addressOwners.set(key, owner);
  };
  for (const instance of instances.values()) {
    const primaries = instance.vnics.filter((v) => v.primary);
    assert.equal(primaries.length, 1, `instance ${instance.id} has ${primaries.length} primary vNICs`);
    assert.equal(primaries[0]!.id, instance.primaryVnicId);
    for (const vnic of instance.vnics) claim(vnic.subnetId, vnic.ipAddress, vnic.id);
  }
  for (const h of havips.values()) claim(h.subnetId, h.ipAddress, h.id);

  // The addresses are marked as used in the store, not only listed: asking for one of them is refused.
  const samples = [...instances.values()].slice(-3);
  for (const instance of samples) {
    const vnic = instance.vnics[0]!;
    const taken = await api<{ error: { code: string } }>(daemon.url, token, "POST", "/v1/havips", {
      subnetId: vnic.subnetId,
      ipAddress: vnic.ipAddress,
    });
    assert.equal(taken.status, 409, `${vnic.ipAddress} should be in use`);
    assert.equal(taken.body.error.code, "InvalidIpAddress.InUse");
  }

  // The change log: revisions 1..N, no gap, every surviving resource created in it.
  const events = await allEvents(daemon);
  for (const [i, event] of events.entries()) assert.equal(event.revision, i + 1, "revisions must be gapless");
  const health = await api<{ revision: number }>(daemon.url, OPERATOR_TOKEN, "GET", "/v1/health");
  if (typeof health.body.revision === "number") assert.equal(health.body.revision, events.length);
  const created = new Set(events.filter((e) => e.action === "created").map((e) => e.id));
  for (const id of [...instances.keys(), ...havips.keys()]) assert.ok(created.has(id), `no created event for ${id}`);
}
