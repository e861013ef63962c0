// Keeps the error catalogue, docs/reference/errors.md and the OpenAPI document in sync, and checks that
// the OpenAPI document covers every route with its schemas.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { ERROR_CATALOGUE } from "../errors.ts";
import { fakeService } from "./fake-service.ts";
import { buildApiServer } from "./index.ts";

const DOCS = new URL("../../../../docs/reference/", import.meta.url);

interface OpenApiOperation {
  operationId?: string;
  parameters?: { in: string; name: string; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
}

function documentedCodes(markdown: string): Map<string, number> {
  const codes = new Map<string, number>();
  for (const line of markdown.split("\n")) {
    const row = /^\|\s*`([A-Za-z0-9.]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (row) {
      assert.ok(!codes.has(row[1]!), `${row[1]} is documented twice`);
      codes.set(row[1]!, Number(row[2]));
    }
  }
  return codes;
}

describe("catalogue, docs and OpenAPI stay in sync", () => {
  let app: FastifyInstance;
  let doc: OpenApiDocument;
  before(async () => {
    app = await buildApiServer({ service: fakeService() });
    doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
  });
  after(async () => {
    await app.close();
  });

  it("every catalogue code is in docs/reference/errors.md with its status, and nothing else is", async () => {
    const documented = documentedCodes(await readFile(new URL("errors.md", DOCS), "utf8"));
    for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) {
      assert.equal(documented.get(code), status, `${code} (${status}) in errors.md`);
    }
    for (const code of documented.keys())
      assert.ok(code in ERROR_CATALOGUE, `errors.md names ${code}, not in the catalogue`);
  });

  it("no other docs page names a code outside the catalogue", async () => {
    for (const page of ["api.md", "havip-lifecycle.md", "eip-lifecycle.md"]) {
      const text = await readFile(new URL(page, DOCS), "utf8");
      for (const [, code] of text.matchAll(
        /`((?:Invalid|Insufficient|Quota|Dependency|Incorrect|Idempotency|EventLog)[A-Za-z]*\.[A-Za-z0-9]+)`/g,
      )) {
        assert.ok(code! in ERROR_CATALOGUE, `${page} names ${code}, not in the catalogue`);
      }
    }
  });

  it("every route documents its errors with the catalogue's codes as an enum", () => {
    const codes = Object.keys(ERROR_CATALOGUE).sort();
    let operations = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        operations++;
        for (const range of ["4XX", "5XX"]) {
          const schema = op.responses[range]?.content?.["application/json"]?.schema as
            { properties: { error: { properties: { code: { enum: string[] } } } } } | undefined;
          assert.ok(schema, `${method.toUpperCase()} ${path} documents ${range}`);
          assert.deepEqual(
            [...schema.properties.error.properties.code.enum].sort(),
            codes,
            `${method} ${path} ${range}`,
          );
        }
      }
    }
    assert.ok(operations >= 30, `${operations} operations`);
  });

  it("documents every endpoint of the contract, each with an operationId", () => {
    const expected = [
      "get /v1/health",
      "post /v1/projects",
      "get /v1/projects",
      "post /v1/eip-pools",
      "get /v1/eip-pools",
      "delete /v1/eip-pools/{id}",
      "get /v1/quotas",
      "put /v1/quotas",
      "post /v1/observations",
      "post /v1/vpcs",
      "get /v1/vpcs",
      "get /v1/vpcs/{id}",
      "delete /v1/vpcs/{id}",
      "post /v1/subnets",
      "get /v1/subnets",
      "get /v1/subnets/{id}",
      "delete /v1/subnets/{id}",
      "post /v1/instances",
      "get /v1/instances",
      "get /v1/instances/{id}",
      "delete /v1/instances/{id}",
      "post /v1/vnics",
      "get /v1/vnics/{id}",
      "post /v1/havips",
      "get /v1/havips",
      "get /v1/havips/{id}",
      "patch /v1/havips/{id}",
      "delete /v1/havips/{id}",
      "get /v1/havips/{id}/history",
      "post /v1/eips",
      "get /v1/eips",
      "get /v1/eips/{id}",
      "delete /v1/eips/{id}",
      "post /v1/eips/{id}/associate",
      "post /v1/eips/{id}/disassociate",
      "get /v1/events",
    ];
    const actual = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m} ${path}`),
    );
    assert.deepEqual(actual.sort(), [...expected].sort());
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
    assert.ok(ids.every((id) => typeof id === "string"));
    assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
    const events = doc.paths["/v1/events"]?.get?.responses["200"]?.content ?? {};
    assert.deepEqual(Object.keys(events).sort(), ["application/json", "text/event-stream"]);
  });

  it("request bodies are closed (additionalProperties: false)", () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const body = op.requestBody?.content["application/json"]?.schema;
        if (!body) continue;
        const variants = (body.anyOf as Record<string, unknown>[] | undefined) ?? [body];
        for (const v of variants) {
          if (v.type === "null") continue;
          assert.equal(v.additionalProperties, false, `${method} ${path} body`);
        }
      }
    }
  });
});
