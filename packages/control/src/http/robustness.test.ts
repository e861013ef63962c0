// Hostile and sloppy input against the real services: whatever arrives, the answer is a 4xx with a
// catalogue code, never a 5xx. And Idempotency-Key on the real (durable) runner, across a restart.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { ERROR_CATALOGUE } from "../errors.ts";
import type { HaVip, Instance, Vpc } from "../model.ts";
import {
  assertError,
  expectStatus,
  OPERATOR_TOKEN,
  openRealApi,
  seedNetwork,
  type CallResult,
  type RealApi,
} from "./test-helpers.ts";

function assertClientErrorOrSuccess(r: CallResult, what: string): void {
  assert.ok(r.status < 500, `${what} → ${r.status}: ${r.text}`);
  if (r.status >= 400) {
    const code = (r.json as { error?: { code?: string } } | undefined)?.error?.code;
    assert.ok(code !== undefined && code in ERROR_CATALOGUE, `${what} → unknown error shape ${r.text}`);
    assert.equal(ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status, r.status, `${what}: ${r.text}`);
  }
}

describe("robustness through HTTP (real services)", () => {
  let api: RealApi;
  let token: string;
  let ids: { vpc: string; subnet: string; instance: string; vnic: string; havip: string; eip: string };
  before(async () => {
    api = await openRealApi({ bodyLimit: 16 * 1024 });
    expectStatus(
      await api.call("POST", "/v1/eip-pools", {
        token: OPERATOR_TOKEN,
        body: { region: "region-1", cidr: "198.51.100.0/24" },
      }),
      201,
    );
    const net = await seedNetwork(api);
    token = net.token;
    const vm = expectStatus<Instance>(
      await api.call("POST", "/v1/instances", { token, body: { name: "vm", subnetId: net.subnet.id } }),
      201,
    );
    const havip = expectStatus<HaVip>(
      await api.call("POST", "/v1/havips", { token, body: { subnetId: net.subnet.id } }),
      201,
    );
    const eip = expectStatus<{ id: string }>(
      await api.call("POST", "/v1/eips", { token, body: { region: "region-1" } }),
      201,
    );
    ids = {
      vpc: net.vpc.id,
      subnet: net.subnet.id,
      instance: vm.id,
      vnic: vm.primaryVnicId,
      havip: havip.id,
      eip: eip.id,
    };
  });
  after(async () => {
    await api.close();
  });

  const anyValue = fc.jsonValue({ maxDepth: 3 });
  const idOr = (id: string) => fc.oneof(fc.constant(id), anyValue, fc.string({ maxLength: 30 }));
  const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 20 }), anyValue);
  const cidr = fc.oneof(
    fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([ip, p]) => `${ip}/${p}`),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, p]) => `${ip}/${p}`),
    fc.string({ maxLength: 20 }),
    anyValue,
  );
  const withExtra = <T extends Record<string, unknown>>(record: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: 4, arbitrary: record },
      {
        weight: 1,
        arbitrary: fc
          .tuple(record, fc.dictionary(fc.string({ maxLength: 8 }), anyValue))
          .map(([r, x]) => ({ ...x, ...r })),
      },
      { weight: 1, arbitrary: anyValue },
    );

  it("random bodies to every write route: never a 5xx", async () => {
    const routes: [string, () => string, fc.Arbitrary<unknown>][] = [
      [
        "POST",
        () => "/v1/vpcs",
        withExtra(fc.record({ name: anyValue, cidr, region: anyValue }, { requiredKeys: [] })),
      ],
      [
        "POST",
        () => "/v1/subnets",
        withExtra(
          fc.record(
            { vpcId: idOr(ids.vpc), cidr, zone: fc.oneof(fc.constant("zone-a"), anyValue), broadcast: anyValue },
            { requiredKeys: [] },
          ),
        ),
      ],
      [
        "POST",
        () => "/v1/instances",
        withExtra(fc.record({ name: anyValue, subnetId: idOr(ids.subnet), ipAddress: address }, { requiredKeys: [] })),
      ],
      [
        "POST",
        () => "/v1/vnics",
        withExtra(
          fc.record(
            { instanceId: idOr(ids.instance), subnetId: idOr(ids.subnet), ipAddress: address },
            { requiredKeys: [] },
          ),
        ),
      ],
      [
        "POST",
        () => "/v1/havips",
        withExtra(
          fc.record(
            {
              subnetId: idOr(ids.subnet),
              ipAddress: address,
              name: anyValue,
              description: anyValue,
              members: fc.oneof(fc.array(fc.oneof(idOr(ids.instance), idOr(ids.vnic)), { maxLength: 12 }), anyValue),
            },
            { requiredKeys: [] },
          ),
        ),
      ],
      [
        "PATCH",
        () => `/v1/havips/${ids.havip}`,
        withExtra(
          fc.record(
            {
              name: anyValue,
              description: anyValue,
              members: fc.oneof(fc.array(idOr(ids.instance), { maxLength: 3 }), anyValue),
            },
            { requiredKeys: [] },
          ),
        ),
      ],
      ["POST", () => "/v1/eips", withExtra(fc.record({ region: anyValue }, { requiredKeys: [] }))],
      [
        "POST",
        () => `/v1/eips/${ids.eip}/associate`,
        withExtra(fc.record({ havipId: idOr(ids.havip), vnicId: idOr(ids.vnic) }, { requiredKeys: [] })),
      ],
      ["POST", () => `/v1/eips/${ids.eip}/disassociate`, anyValue],
      ["POST", () => "/v1/projects", withExtra(fc.record({ name: anyValue }, { requiredKeys: [] }))],
      [
        "PUT",
        () => "/v1/quotas",
        withExtra(fc.record({ membersPerHaVip: anyValue, haVipsPerProject: anyValue }, { requiredKeys: [] })),
      ],
      [
        "POST",
        () => "/v1/observations",
        withExtra(
          fc.record(
            { havipId: idOr(ids.havip), vnicId: idOr(ids.vnic), instanceId: idOr(ids.instance), at: anyValue },
            { requiredKeys: [] },
          ),
        ),
      ],
    ];
    for (const [method, url, body] of routes) {
      const operatorRoute = ["/v1/projects", "/v1/quotas", "/v1/observations"].includes(url());
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          const r = await api.call(method, url(), {
            token: operatorRoute ? OPERATOR_TOKEN : token,
            headers: { "content-type": "application/json" },
            body: JSON.stringify(b),
          });
          assertClientErrorOrSuccess(r, `${method} ${url()} ${JSON.stringify(b)}`);
        }),
        { numRuns: 60 },
      );
    }
    // Quotas back to the defaults for the other tests.
    expectStatus(
      await api.call("PUT", "/v1/quotas", {
        token: OPERATOR_TOKEN,
        body: { membersPerHaVip: 10, haVipsPerVnic: 5, eipsPerHaVip: 1, haVipsPerProject: 50 },
      }),
      200,
    );
  });

  it("random bytes as a JSON body: 400/413, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })), async (raw) => {
        const r = await api.app.inject({
          method: "POST",
          url: "/v1/havips",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          payload: typeof raw === "string" ? raw : Buffer.from(raw),
        });
        assertClientErrorOrSuccess(
          { status: r.statusCode, headers: r.headers, text: r.body, json: JSON.parse(r.body) as unknown },
          `raw ${JSON.stringify(raw)}`,
        );
      }),
      { numRuns: 150 },
    );
  });

  it("random path ids and query strings: never a 5xx", async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)),
      fc.constantFrom(ids.vpc, ids.havip, ids.eip, "havip-0123456789abcdef0", "%", "..", "%00", "a%2Fb"),
    );
    const query = fc.oneof(
      fc.constant(""),
      fc.string({ maxLength: 20 }).map((s) => `?limit=${encodeURIComponent(s)}`),
      fc.string({ maxLength: 20 }).map((s) => `?cursor=${encodeURIComponent(s)}`),
      fc.string({ maxLength: 10 }).map((s) => `?${encodeURIComponent(s)}=1`),
      fc.string({ maxLength: 20 }).map((s) => `?vpcId=${encodeURIComponent(s)}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("vpcs", "subnets", "instances", "vnics", "havips", "eips"),
        segment,
        fc.constantFrom("", "/history", "/associate"),
        query,
        fc.constantFrom("GET", "DELETE", "POST"),
        async (collection, id, tail, q, method) => {
          const url = `/v1/${collection}/${id}${tail}${q}`;
          const r = await api.call(method, url, { token, ...(method === "POST" ? { body: {} } : {}) });
          assertClientErrorOrSuccess(r, `${method} ${url}`);
        },
      ),
      { numRuns: 300 },
    );
    for (const q of ["", "?limit=5", "?cursor=%ZZ", "?limit=1&limit=2"]) {
      assertClientErrorOrSuccess(await api.call("GET", `/v1/havips${q}`, { token }), q);
    }
  });

  it("deeply nested and very long values are refused cleanly", async () => {
    let deep: unknown = "x";
    for (let k = 0; k < 2000; k++) deep = [deep];
    const r = await api.call("POST", "/v1/vpcs", {
      token,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cidr: "10.0.0.0/16", region: "r", name: deep }),
    });
    assertClientErrorOrSuccess(r, "deep");
    assert.equal(r.status, 400);
    assertError(
      await api.call("POST", "/v1/vpcs", { token, body: { cidr: "10.0.0.0/16", region: "r", name: "n".repeat(256) } }),
      "InvalidParameter",
      "name",
    );
    assertError(
      await api.call("POST", "/v1/vpcs", {
        token,
        body: { cidr: "10.0.0.0/16", region: "r", name: "x".repeat(20_000) },
      }),
      "PayloadTooLarge",
    );
  });
});

describe("Idempotency-Key on the real services", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "havip-http-idem-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("replay returns the first result; a different request is a mismatch; keys survive a restart", async () => {
    const databaseUrl = join(dir, "control.db");
    let api = await openRealApi({ databaseUrl });
    let first: CallResult;
    let token: string;
    try {
      token = (await api.newProject()).token;
      const headers = { "idempotency-key": "vpc-create-0001" };
      const body = { cidr: "10.0.0.0/16", region: "r", name: "idem" };
      first = await api.call("POST", "/v1/vpcs", { token, body, headers });
      assert.equal(first.status, 201);
      const retry = await api.call("POST", "/v1/vpcs", { token, body, headers });
      assert.equal(retry.status, 201);
      assert.equal(retry.text, first.text);
      assert.equal(retry.headers["idempotent-replayed"], "true");
      assertError(
        await api.call("POST", "/v1/vpcs", { token, body: { ...body, cidr: "10.1.0.0/16" }, headers }),
        "IdempotencyKey.Mismatch",
      );
      const list = expectStatus<{ items: Vpc[] }>(await api.call("GET", "/v1/vpcs", { token }), 200);
      assert.equal(list.items.length, 1, "created once");

      // Concurrent retries of a new key create once.
      const racers = await Promise.all(
        Array.from({ length: 10 }, () =>
          api.call("POST", "/v1/vpcs", {
            token,
            body: { cidr: "10.2.0.0/16", region: "r" },
            headers: { "idempotency-key": "race" },
          }),
        ),
      );
      assert.ok(racers.every((r) => r.status === 201));
      assert.equal(new Set(racers.map((r) => r.text)).size, 1);
    } finally {
      await api.close();
    }
    api = await openRealApi({ databaseUrl });
    try {
      const again = await api.call("POST", "/v1/vpcs", {
        token,
        body: { cidr: "10.0.0.0/16", region: "r", name: "idem" },
        headers: { "idempotency-key": "vpc-create-0001" },
      });
      assert.equal(again.status, 201);
      assert.equal(again.text, first.text);
      const list = expectStatus<{ items: Vpc[] }>(await api.call("GET", "/v1/vpcs", { token }), 200);
      assert.equal(list.items.length, 2);
    } finally {
      await api.close();
    }
  });
});
