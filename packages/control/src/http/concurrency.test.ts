// The concurrency cases of issue 2 through HTTP: parallel requests racing for the same address or the
// same HAVIP; the database constraints inside transactions let exactly one win.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Eip, HaVip } from "../model.ts";
import { freshPostgresUrl } from "../store/test-backends.ts";
import {
  expectStatus,
  OPERATOR_TOKEN,
  openRealApi,
  seedNetwork,
  type CallResult,
  type RealApi,
} from "./test-helpers.ts";

function tally(results: CallResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.status < 300 ? String(r.status) : `${r.status} ${(r.json as { error: { code: string } }).error.code}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

// SQLite always; PostgreSQL too when HAVIP_TEST_PG_URL names a server (scripts/pg-test.sh start).
const backends: { name: string; url: () => string | Promise<string> }[] = [{ name: "sqlite", url: () => ":memory:" }];
const pgUrl = process.env.HAVIP_TEST_PG_URL;
if (pgUrl) {
  backends.push({
    name: "postgres",
    url: () => freshPostgresUrl(pgUrl, "http"),
  });
}

for (const backend of backends) {
  describe(`concurrency through HTTP (real services, ${backend.name})`, () => {
    let api: RealApi;
    let databaseUrl: string;
    before(async () => {
      databaseUrl = await backend.url();
      api = await openRealApi({ databaseUrl });
    });
    after(async () => {
      await api.close();
    });

    it("50 parallel POST /v1/havips for the same address: exactly one 201, the rest 409 InUse", async () => {
      const { token, subnet } = await seedNetwork(api);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          api.call("POST", "/v1/havips", {
            token,
            body: { subnetId: subnet.id, ipAddress: "10.0.1.50", name: `h${i}` },
          }),
        ),
      );
      assert.deepEqual(tally(results), { "201": 1, "409 InvalidIpAddress.InUse": 49 });
      const list = expectStatus<{ items: HaVip[] }>(
        await api.call("GET", `/v1/havips?subnetId=${subnet.id}`, { token }),
        200,
      );
      assert.equal(list.items.length, 1);
      assert.equal(list.items[0]?.ipAddress, "10.0.1.50");
    });

    it("20 parallel associates of different EIPs to one HAVIP: exactly one 200", async () => {
      expectStatus(
        await api.call("POST", "/v1/eip-pools", {
          token: OPERATOR_TOKEN,
          body: { region: "region-1", cidr: "198.51.100.0/24" },
        }),
        201,
      );
      const { token, subnet } = await seedNetwork(api);
      const havip = expectStatus<HaVip>(
        await api.call("POST", "/v1/havips", { token, body: { subnetId: subnet.id } }),
        201,
      );
      const eips: Eip[] = [];
      for (let k = 0; k < 20; k++) {
        eips.push(expectStatus<Eip>(await api.call("POST", "/v1/eips", { token, body: { region: "region-1" } }), 201));
      }
      const results = await Promise.all(
        eips.map((e) => api.call("POST", `/v1/eips/${e.id}/associate`, { token, body: { havipId: havip.id } })),
      );
      assert.deepEqual(tally(results), { "200": 1, "409 QuotaExceeded.EipsPerHaVip": 19 });
      const winner = eips[results.findIndex((r) => r.status === 200)]!;
      const read = expectStatus<HaVip>(await api.call("GET", `/v1/havips/${havip.id}`, { token }), 200);
      assert.deepEqual(read.eip, { id: winner.id, publicIp: winner.publicIp });
      const bound = expectStatus<{ items: Eip[] }>(await api.call("GET", "/v1/eips", { token }), 200).items.filter(
        (e) => e.status === "bound",
      );
      assert.deepEqual(
        bound.map((e) => e.id),
        [winner.id],
      );
    });

    it("parallel creates without a chosen address never share one", async () => {
      const { token, subnet } = await seedNetwork(api);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 2 === 0
            ? api.call("POST", "/v1/havips", { token, body: { subnetId: subnet.id } })
            : api.call("POST", "/v1/instances", { token, body: { name: `vm-${i}`, subnetId: subnet.id } }),
        ),
      );
      assert.deepEqual(tally(results), { "201": 30 });
      const addresses = results.map((r) => {
        const body = r.json as { ipAddress?: string; vnics?: { ipAddress: string }[] };
        return body.ipAddress ?? body.vnics?.[0]?.ipAddress;
      });
      assert.equal(new Set(addresses).size, 30);
    });
  });
}
