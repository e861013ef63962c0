// Test helpers for the HTTP layer: a thin client over fastify inject, and error-shape assertions.
// Used only by *.test.ts files.
import assert from "node:assert/strict";
import type { FastifyInstance } from "fastify";
import { ERROR_CATALOGUE, type ErrorCode } from "../errors.ts";
import type { Subnet, Vpc } from "../model.ts";
import type { ControlService } from "../service.ts";
import { openControlService } from "../services/index.ts";
import { buildApiServer, type BuildApiServerOptions } from "./index.ts";

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  /** The parsed JSON body (undefined when the body is empty). */
  json: unknown;
}

export type Call = (method: string, url: string, options?: CallOptions) => Promise<CallResult>;

export function caller(app: FastifyInstance): Call {
  return async (method, url, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await app.inject({
      method: method as "GET",
      url,
      headers,
      ...(options.body === undefined
        ? {}
        : typeof options.body === "string"
          ? { payload: options.body }
          : { payload: JSON.stringify(options.body), headers: { "content-type": "application/json", ...headers } }),
    });
    const text = response.body;
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, text, json };
  };
}

/** Asserts the response is the catalogue's error shape with this code and its status; returns the message. */
export function assertError(result: CallResult, code: ErrorCode, messagePart?: string | RegExp): string {
  const expectedStatus = ERROR_CATALOGUE[code].status;
  const body = result.json as { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | undefined;
  assert.equal(
    `${result.status} ${String(body?.error?.code)}`,
    `${expectedStatus} ${code}`,
    `expected ${expectedStatus} ${code}, got ${result.status}: ${result.text}`,
  );
  assert.deepEqual(Object.keys(body?.error ?? {}).sort(), ["code", "message", "requestId"]);
  assert.equal(typeof body?.error?.message, "string");
  assert.equal(body?.error?.requestId, result.headers["x-request-id"], "requestId matches x-request-id");
  assert.doesNotMatch(result.text, /\n\s+at /, "no stack trace in a response");
  const message = String(body?.error?.message);
  if (typeof messagePart === "string") assert.ok(message.includes(messagePart), `message ${message}`);
  else if (messagePart) assert.match(message, messagePart);
  return message;
}

/** The parsed body of a successful response, asserting its status first. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view for the test
export function expectStatus<T>(result: CallResult, status: number): T {
  assert.equal(result.status, status, `expected ${status}, got ${result.status}: ${result.text}`);
  return result.json as T;
}

export const OPERATOR_TOKEN = "operator-token-for-http-tests";

export interface RealApi {
  app: FastifyInstance;
  service: ControlService;
  call: Call;
  /** Creates a project through the API and returns its token. */
  newProject(name?: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

/** The real services (SQLite in memory unless a database URL is given) behind the real HTTP layer. */
export async function openRealApi(
  options: { databaseUrl?: string; bodyLimit?: number; events?: BuildApiServerOptions["events"] } = {},
): Promise<RealApi> {
  const service = await openControlService({
    databaseUrl: options.databaseUrl ?? ":memory:",
    operatorToken: OPERATOR_TOKEN,
  });
  const app = await buildApiServer({
    service,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.events === undefined ? {} : { events: options.events }),
  });
  const call = caller(app);
  let n = 0;
  return {
    app,
    service,
    call,
    async newProject(name = `project-${++n}`) {
      const r = await call("POST", "/v1/projects", { token: OPERATOR_TOKEN, body: { name } });
      return expectStatus<{ id: string; token: string }>(r, 201);
    },
    async close() {
      await app.close();
      await service.close();
    },
  };
}

/** A project with a VPC 10.0.0.0/16 and a subnet 10.0.1.0/24 (the seed example's network), via HTTP. */
export async function seedNetwork(api: RealApi, region = "region-1") {
  const project = await api.newProject();
  const token = project.token;
  const vpc = expectStatus<Vpc>(
    await api.call("POST", "/v1/vpcs", { token, body: { name: "vpc", cidr: "10.0.0.0/16", region } }),
    201,
  );
  const subnet = expectStatus<Subnet>(
    await api.call("POST", "/v1/subnets", {
      token,
      body: { vpcId: vpc.id, name: "subnet", cidr: "10.0.1.0/24", zone: "zone-a" },
    }),
    201,
  );
  return { project, token, vpc, subnet };
}
