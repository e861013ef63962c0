// A database outage through HTTP: the errors a vanished PostgreSQL produces become 503
// ServiceUnavailable.Store with the catalogue's body (never a 500, never a stack trace), on reads, writes
// and /v1/health alike.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { fakeService, type FakeService } from "./fake-service.ts";
import { buildApiServer } from "./index.ts";

const OUTAGES: [string, () => Error][] = [
  ["a connection cut under a query", () => new Error("Connection terminated unexpectedly")],
  [
    "a refused connection",
    () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
  ],
  [
    "the server shutting down",
    () => Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
  ],
  ["the server starting up", () => Object.assign(new Error("the database system is starting up"), { code: "57P03" })],
  ["a connect timeout", () => new Error("timeout exceeded when trying to connect")],
  [
    "every address refused",
    () => new AggregateError([Object.assign(new Error("refused"), { code: "ECONNREFUSED" })], "connect failed"),
  ],
];

describe("a database outage through HTTP", () => {
  let app: FastifyInstance;
  let service: FakeService;
  let failWith: (() => Error) | null = null;
  before(async () => {
    service = fakeService();
    const listVpcs = service.listVpcs.bind(service);
    const setQuotas = service.setQuotas.bind(service);
    const currentRevision = service.currentRevision.bind(service);
    service.listVpcs = (...args) => (failWith ? Promise.reject(failWith()) : listVpcs(...args));
    service.setQuotas = (...args) => (failWith ? Promise.reject(failWith()) : setQuotas(...args));
    service.currentRevision = () => (failWith ? Promise.reject(failWith()) : currentRevision());
    app = await buildApiServer({ service, logger: false });
  });
  after(async () => {
    await app.close();
  });

  for (const [what, error] of OUTAGES) {
    it(`${what}: 503 ServiceUnavailable.Store on a read, a write and /v1/health`, async () => {
      failWith = error;
      try {
        const requests = [
          { method: "GET" as const, url: "/v1/vpcs" },
          { method: "PUT" as const, url: "/v1/quotas", payload: { haVipsPerProject: 7 } },
          { method: "GET" as const, url: "/v1/health" },
        ];
        for (const request of requests) {
          const r = await app.inject({ ...request, headers: { authorization: "Bearer op-token" } });
          assert.equal(r.statusCode, 503, `${request.method} ${request.url}: ${r.body}`);
          const body = r.json<{ error: { code: string; message: string; requestId: string } }>();
          assert.equal(body.error.code, "ServiceUnavailable.Store");
          assert.equal(body.error.requestId, r.headers["x-request-id"]);
          assert.doesNotMatch(r.body, /\bat .+:\d+|ECONNREFUSED|Connection terminated|127\.0\.0\.1/);
        }
      } finally {
        failWith = null;
      }
    });
  }

  it("any other failure stays a 500 InternalError", async () => {
    failWith = () => new TypeError("a bug");
    try {
      const r = await app.inject({ method: "GET", url: "/v1/vpcs", headers: { authorization: "Bearer op-token" } });
      assert.equal(r.statusCode, 500);
      assert.equal(r.json<{ error: { code: string } }>().error.code, "InternalError");
    } finally {
      failWith = null;
    }
  });

  it("/v1/health says the store is up when it answers", async () => {
    const r = await app.inject({ method: "GET", url: "/v1/health" });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { status: "ok", revision: await service.currentRevision(), store: "up" });
  });
});
