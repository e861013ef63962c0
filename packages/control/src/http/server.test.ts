// The HTTP layer's plumbing against a small fake service: auth, the error shape and its mapping,
// schemas (unknown fields, ids, paging parameters), idempotency and the events JSON page.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Vpc } from "../model.ts";
import { fakeService, type FakeService } from "./fake-service.ts";
import { buildApiServer } from "./index.ts";
import { assertError, caller, expectStatus, type Call } from "./test-helpers.ts";

const OP = "op-token";
const WELL_FORMED_VPC = "vpc-0123456789abcdef0";

describe("HTTP plumbing (fake service)", () => {
  let service: FakeService;
  let app: FastifyInstance;
  let call: Call;
  let tenant: string;
  let other: string;
  const logLines: string[] = [];

  before(async () => {
    service = fakeService(OP);
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    app = await buildApiServer({ service, bodyLimit: 2048, logger: { level: "error", stream } });
    call = caller(app);
    tenant = expectStatus<{ token: string }>(
      await call("POST", "/v1/projects", { token: OP, body: { name: "a" } }),
      201,
    ).token;
    other = expectStatus<{ token: string }>(
      await call("POST", "/v1/projects", { token: OP, body: { name: "b" } }),
      201,
    ).token;
  });
  after(async () => {
    await app.close();
  });

  describe("open endpoints", () => {
    it("GET /v1/health needs no token and carries a request id", async () => {
      const r = await call("GET", "/v1/health");
      assert.deepEqual(expectStatus(r, 200), {
        status: "ok",
        revision: await service.currentRevision(),
        store: "up",
      });
      assert.match(String(r.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
    });
    it("GET /openapi.json is an OpenAPI 3.1 document of every /v1 route", async () => {
      const doc = expectStatus<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
        await call("GET", "/openapi.json"),
        200,
      );
      assert.equal(doc.openapi, "3.1.0");
      for (const path of ["/v1/vpcs", "/v1/havips/{id}/history", "/v1/eips/{id}/associate", "/v1/events"]) {
        assert.ok(doc.paths[path], path);
      }
      assert.ok(!("/openapi.json" in doc.paths));
    });
    it("GET /docs serves Swagger UI", async () => {
      const r = await call("GET", "/docs");
      assert.equal(r.status, 200);
      assert.match(r.text, /swagger-ui/i);
    });
  });

  describe("auth", () => {
    it("no token: 401 Unauthorized with a WWW-Authenticate challenge", async () => {
      const r = await call("GET", "/v1/vpcs");
      assertError(r, "Unauthorized");
      assert.match(String(r.headers["www-authenticate"]), /^Bearer/);
    });
    it("unknown token and malformed Authorization: 401", async () => {
      assertError(await call("GET", "/v1/vpcs", { token: "nope" }), "Unauthorized");
      assertError(await call("GET", "/v1/vpcs", { headers: { authorization: `Basic ${tenant}` } }), "Unauthorized");
      assertError(await call("GET", "/v1/vpcs", { headers: { authorization: "Bearer" } }), "Unauthorized");
    });
    it("auth runs before validation: an anonymous bad body is 401, not 400", async () => {
      assertError(await call("POST", "/v1/vpcs", { body: { nonsense: true } }), "Unauthorized");
    });
    it("a project token on an operator endpoint: 403 Forbidden", async () => {
      for (const [method, url, body] of [
        ["GET", "/v1/projects", undefined],
        ["POST", "/v1/projects", { name: "x" }],
        ["POST", "/v1/eip-pools", { region: "r", cidr: "203.0.113.0/24" }],
        ["GET", "/v1/eip-pools", undefined],
        ["PUT", "/v1/quotas", { membersPerHaVip: 3 }],
        ["POST", "/v1/observations", { havipId: "havip-0123456789abcdef0", vnicId: "eni-0123456789abcdef0" }],
      ] as const) {
        assertError(await call(method, url, { token: tenant, body }), "Forbidden");
      }
    });
    it("the operator token reads tenant resources but does not create them (403)", async () => {
      expectStatus(await call("GET", "/v1/vpcs", { token: OP }), 200);
      assertError(
        await call("POST", "/v1/vpcs", { token: OP, body: { cidr: "10.0.0.0/16", region: "r" } }),
        "Forbidden",
      );
      assertError(await call("DELETE", `/v1/vpcs/${WELL_FORMED_VPC}`, { token: OP }), "Forbidden");
    });
    it("quotas are readable with any token", async () => {
      expectStatus(await call("GET", "/v1/quotas", { token: tenant }), 200);
      assertError(await call("GET", "/v1/quotas"), "Unauthorized");
    });
  });

  describe("errors", () => {
    it("unknown body field: 400 InvalidParameter naming the field", async () => {
      const r = await call("POST", "/v1/vpcs", {
        token: tenant,
        body: { cidr: "10.0.0.0/16", region: "r", colour: 1 },
      });
      assertError(r, "InvalidParameter", "'colour'");
    });
    it("missing and mistyped fields name the field", async () => {
      assertError(
        await call("POST", "/v1/vpcs", { token: tenant, body: { region: "r" } }),
        "InvalidParameter",
        "'cidr'",
      );
      assertError(
        await call("POST", "/v1/vpcs", { token: tenant, body: { cidr: 10, region: "r" } }),
        "InvalidParameter",
        "body/cidr",
      );
      assertError(await call("POST", "/v1/vpcs", { token: tenant, body: [] }), "InvalidParameter", "body");
      assertError(await call("POST", "/v1/vpcs", { token: tenant }), "InvalidParameter", "body");
    });
    it("malformed JSON: 400 MalformedRequest", async () => {
      const headers = { "content-type": "application/json" };
      for (const body of ['{"cidr": ', "{'a': 1}", "nul", '{"a":1}}']) {
        assertError(await call("POST", "/v1/vpcs", { token: tenant, headers, body }), "MalformedRequest");
      }
    });
    it("prototype poisoning in JSON is refused, not merged", async () => {
      const body = '{"__proto__": {"admin": true}, "cidr": "10.0.0.0/16", "region": "r"}';
      const r = await call("POST", "/v1/vpcs", {
        token: tenant,
        headers: { "content-type": "application/json" },
        body,
      });
      assertError(r, "MalformedRequest");
    });
    it("wrong content type: 415 UnsupportedMediaType", async () => {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
        const r = await call("POST", "/v1/vpcs", { token: tenant, headers: { "content-type": type }, body: "cidr=1" });
        assertError(r, "UnsupportedMediaType");
      }
    });
    it("body over the limit: 413 PayloadTooLarge", async () => {
      const r = await call("POST", "/v1/vpcs", { token: tenant, body: { cidr: "x".repeat(4096), region: "r" } });
      assertError(r, "PayloadTooLarge");
    });
    it("bad id in a path: 400 InvalidId; a well-formed unknown id: 404 NotFound", async () => {
      for (const id of ["vpc-1", "subnet-0123456789abcdef0", "vpc-0123456789ABCDEF0", "x", "vpc-0123456789abcdef0x"]) {
        assertError(await call("GET", `/v1/vpcs/${id}`, { token: tenant }), "InvalidId", "vpc-");
      }
      assertError(await call("GET", `/v1/vpcs/${WELL_FORMED_VPC}`, { token: tenant }), "NotFound");
    });
    it("bad id in a body: 400 InvalidId naming the field", async () => {
      const r = await call("POST", "/v1/subnets", {
        token: tenant,
        body: { vpcId: "subnet-0123456789abcdef0", cidr: "10.0.1.0/24", zone: "z" },
      });
      assertError(r, "InvalidId", "body/vpcId");
      const m = await call("POST", "/v1/havips", {
        token: tenant,
        body: { subnetId: "subnet-0123456789abcdef0", members: ["eni-0123456789abcdef0", "vpc-0123456789abcdef0"] },
      });
      assertError(m, "InvalidId", "body/members/1");
    });
    it("associate takes exactly one of havipId and vnicId", async () => {
      const url = "/v1/eips/eip-0123456789abcdef0/associate";
      assertError(await call("POST", url, { token: tenant, body: {} }), "InvalidParameter", /havipId.*vnicId/);
      assertError(
        await call("POST", url, {
          token: tenant,
          body: { havipId: "havip-0123456789abcdef0", vnicId: "eni-0123456789abcdef0" },
        }),
        "InvalidParameter",
        "unknown field",
      );
      assertError(await call("POST", url, { token: tenant, body: { havipId: WELL_FORMED_VPC } }), "InvalidId");
      const ok = await call("POST", url, { token: tenant, body: { vnicId: "eni-0123456789abcdef0" } });
      assertError(ok, "NotFound"); // reached the (fake) service
      assert.deepEqual(service.calls.at(-1)?.args.slice(1), [
        "eip-0123456789abcdef0",
        { vnicId: "eni-0123456789abcdef0" },
      ]);
    });
    it("disassociate accepts no body, an empty JSON body or {}, and refuses fields", async () => {
      const url = "/v1/eips/eip-0123456789abcdef0/disassociate";
      assertError(await call("POST", url, { token: tenant }), "NotFound");
      assertError(
        await call("POST", url, { token: tenant, headers: { "content-type": "application/json" }, body: "" }),
        "NotFound",
      );
      assertError(await call("POST", url, { token: tenant, body: {} }), "NotFound");
      assertError(await call("POST", url, { token: tenant, body: { force: true } }), "InvalidParameter", "'force'");
    });
    it("unknown route: 404 NotFound; known path, wrong method: 405 with Allow", async () => {
      assertError(await call("GET", "/v1/nothing", { token: tenant }), "NotFound");
      assertError(await call("GET", "/nothing"), "NotFound");
      const r = await call("PUT", "/v1/vpcs", { token: tenant, body: {} });
      assertError(r, "MethodNotAllowed");
      assert.match(String(r.headers.allow), /GET/);
      assert.match(String(r.headers.allow), /POST/);
    });
    it("an unexpected error: 500 InternalError, no details, request id logged", async () => {
      const r = await call("POST", "/v1/vpcs", { token: tenant, body: { cidr: "crash", region: "r" } });
      const message = assertError(r, "InternalError");
      assert.doesNotMatch(message + r.text, /boom|secret|stack/);
      const id = String(r.headers["x-request-id"]);
      assert.ok(
        logLines.some((l) => l.includes(id) && l.includes("boom")),
        "the error and its request id are in the log",
      );
    });
  });

  describe("paging parameters", () => {
    it("limit must be an integer from 1 to 1000", async () => {
      for (const limit of ["0", "1001", "-1", "abc", "1.5", "0x10", "1e2", "5&limit=6"]) {
        assertError(await call("GET", `/v1/vpcs?limit=${limit}`, { token: tenant }), "InvalidParameter", "limit");
      }
    });
    it("unknown query parameters are refused", async () => {
      assertError(await call("GET", "/v1/vpcs?colour=red", { token: tenant }), "InvalidParameter", "'colour'");
      assertError(await call("GET", `/v1/vpcs/${WELL_FORMED_VPC}?x=1`, { token: tenant }), "InvalidParameter", "'x'");
    });
    it("limit, cursor and filters reach the service", async () => {
      await call("GET", "/v1/vpcs?limit=7&cursor=abc", { token: tenant });
      assert.deepEqual(service.calls.at(-1)?.args[1], { limit: 7, cursor: "abc" });
      await call("GET", "/v1/vpcs", { token: tenant });
      assert.deepEqual(service.calls.at(-1)?.args[1], { limit: 100, cursor: null });
      await call("GET", `/v1/havips?vpcId=${WELL_FORMED_VPC}&subnetId=subnet-0123456789abcdef0&limit=1000`, {
        token: tenant,
      });
      assert.deepEqual(service.calls.at(-1)?.args[1], {
        limit: 1000,
        cursor: null,
        vpcId: WELL_FORMED_VPC,
        subnetId: "subnet-0123456789abcdef0",
      });
      assertError(await call("GET", "/v1/subnets?vpcId=vpc-x", { token: tenant }), "InvalidId");
    });
    it("pages follow nextCursor to the end", async () => {
      for (let i = 0; i < 5; i++) {
        await call("POST", "/v1/vpcs", { token: other, body: { cidr: `10.${i}.0.0/16`, region: "r" } });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
        const page: { items: Vpc[]; nextCursor: string | null } = expectStatus(
          await call("GET", `/v1/vpcs?limit=2${q}`, { token: other }),
          200,
        );
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((v) => v.cidr));
        cursor = page.nextCursor;
      } while (cursor !== null);
      assert.deepEqual(seen, ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"]);
    });
  });

  describe("Idempotency-Key", () => {
    it("a retry returns the first result without creating again", async () => {
      const before = service.vpcCreates;
      const body = { cidr: "10.9.0.0/16", region: "r", name: "idem" };
      const headers = { "idempotency-key": "create-vpc-1" };
      const first = await call("POST", "/v1/vpcs", { token: tenant, body, headers });
      const retry = await call("POST", "/v1/vpcs", {
        token: tenant,
        body: { region: "r", name: "idem", cidr: "10.9.0.0/16" },
        headers,
      });
      assert.equal(first.status, 201);
      assert.equal(retry.status, 201);
      assert.equal(retry.text, first.text);
      assert.equal(retry.headers["idempotent-replayed"], "true");
      assert.equal(first.headers["idempotent-replayed"], undefined);
      assert.equal(service.vpcCreates, before + 1);
    });
    it("the same key with a different request: 422 IdempotencyKey.Mismatch", async () => {
      const headers = { "idempotency-key": "create-vpc-2" };
      expectStatus(
        await call("POST", "/v1/vpcs", { token: tenant, body: { cidr: "10.10.0.0/16", region: "r" }, headers }),
        201,
      );
      const r = await call("POST", "/v1/vpcs", { token: tenant, body: { cidr: "10.11.0.0/16", region: "r" }, headers });
      assertError(r, "IdempotencyKey.Mismatch");
    });
    it("keys are per caller: another project's identical key creates its own", async () => {
      const headers = { "idempotency-key": "shared-key" };
      const body = { cidr: "10.12.0.0/16", region: "r" };
      const a = expectStatus<Vpc>(await call("POST", "/v1/vpcs", { token: tenant, body, headers }), 201);
      const b = expectStatus<Vpc>(await call("POST", "/v1/vpcs", { token: other, body, headers }), 201);
      assert.notEqual(a.id, b.id);
      assert.notEqual(a.projectId, b.projectId);
    });
    it("concurrent requests with one key create once", async () => {
      const before = service.vpcCreates;
      const headers = { "idempotency-key": "concurrent-key" };
      const body = { cidr: "10.13.0.0/16", region: "r" };
      const results = await Promise.all(
        Array.from({ length: 10 }, () => call("POST", "/v1/vpcs", { token: tenant, body, headers })),
      );
      assert.ok(results.every((r) => r.status === 201));
      assert.equal(new Set(results.map((r) => r.text)).size, 1);
      assert.equal(service.vpcCreates, before + 1);
    });
    it("a failed create is not recorded: the retry runs again", async () => {
      const headers = { "idempotency-key": "fails-first" };
      assertError(
        await call("POST", "/v1/vpcs", { token: tenant, body: { cidr: "crash", region: "r" }, headers }),
        "InternalError",
      );
      assertError(
        await call("POST", "/v1/vpcs", { token: tenant, body: { cidr: "crash", region: "r" }, headers }),
        "InternalError",
      );
      assert.equal(
        service.calls.filter((c) => c.method === "createVpc" && (c.args[1] as Vpc).cidr === "crash").length,
        3,
      );
    });
    it("a malformed key is InvalidParameter", async () => {
      const r = await call("POST", "/v1/vpcs", {
        token: tenant,
        body: { cidr: "10.14.0.0/16", region: "r" },
        headers: { "idempotency-key": "x".repeat(300) },
      });
      assertError(r, "InvalidParameter", "idempotency-key");
    });
  });

  describe("events as a JSON page", () => {
    it("wait=0 answers a page; a project sees only its own changes", async () => {
      const op = expectStatus<{
        items: { revision: number; projectId: string | null }[];
        lastRevision: number;
        more: boolean;
      }>(await call("GET", "/v1/events?since=0&wait=0&limit=1000", { token: OP }), 200);
      assert.equal(op.items.length, await service.currentRevision());
      assert.deepEqual(
        op.items.map((e) => e.revision),
        op.items.map((_, i) => i + 1),
      );
      const mine = expectStatus<{ items: { projectId: string | null }[] }>(
        await call("GET", "/v1/events?wait=0&limit=1000", { token: tenant }),
        200,
      );
      const projectIds = new Set(mine.items.map((e) => e.projectId));
      assert.equal(projectIds.size, 1);
      assert.ok(mine.items.length < op.items.length);
    });
    it("Accept: application/json, limit, since and Last-Event-ID", async () => {
      const headers = { accept: "application/json" };
      const page = expectStatus<{ items: { revision: number }[]; lastRevision: number; more: boolean }>(
        await call("GET", "/v1/events?since=2&limit=2", { token: OP, headers }),
        200,
      );
      assert.deepEqual(
        page.items.map((e) => e.revision),
        [3, 4],
      );
      assert.equal(page.lastRevision, 4);
      assert.equal(page.more, true);
      const resumed = expectStatus<{ items: { revision: number }[] }>(
        await call("GET", "/v1/events?since=0&limit=1", { token: OP, headers: { ...headers, "last-event-id": "4" } }),
        200,
      );
      assert.deepEqual(
        resumed.items.map((e) => e.revision),
        [5],
      );
      assertError(
        await call("GET", "/v1/events?wait=0", { token: OP, headers: { "last-event-id": "x" } }),
        "InvalidParameter",
        "last-event-id",
      );
      assertError(await call("GET", "/v1/events?wait=61", { token: OP }), "InvalidParameter", "wait");
    });
    it("wait=N answers as soon as a change commits", async () => {
      const head = await service.currentRevision();
      const started = Date.now();
      setTimeout(() => {
        service.commit({ projectId: null, resource: "quotas", id: "quotas", action: "updated", data: {} });
      }, 50);
      const page = expectStatus<{ items: { revision: number }[] }>(
        await call("GET", `/v1/events?since=${head}&wait=10`, { token: OP }),
        200,
      );
      assert.deepEqual(
        page.items.map((e) => e.revision),
        [head + 1],
      );
      assert.ok(Date.now() - started < 5000);
    });
    it("wait=N with nothing new answers an empty page after N seconds", async () => {
      const head = await service.currentRevision();
      const started = Date.now();
      const page = expectStatus<{ items: unknown[]; lastRevision: number }>(
        await call("GET", `/v1/events?since=${head}&wait=1`, { token: tenant }),
        200,
      );
      assert.deepEqual(page.items, []);
      assert.equal(page.lastRevision, head);
      assert.ok(Date.now() - started >= 900);
    });
    it("an error from the log before streaming is an ordinary error response", async () => {
      assertError(await call("GET", "/v1/events?since=999999", { token: OP }), "InvalidParameter");
    });
  });
});
