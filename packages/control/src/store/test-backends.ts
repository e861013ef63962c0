// Test support: runs a suite against every store backend — SQLite (a file in a temp dir) and PostgreSQL
// (HAVIP_TEST_PG_URL, one fresh schema per opened service, dropped at the end). Without that variable
// the PostgreSQL half is skipped loudly, or fails when CI is set.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type ErrorCode, isApiError } from "../errors.ts";
import type { Actor } from "../service.ts";
import {
  type ControlServiceWithIdempotency,
  type OpenControlServiceOptions,
  openControlService,
} from "../services/index.ts";
import pg from "pg";

export const OPERATOR_TOKEN = "test-operator-token-0123456789";
export const OPERATOR: Actor = { kind: "operator" };

export interface Backend {
  readonly name: "sqlite" | "postgres";
  /** A new, empty database URL. */
  newUrl(): Promise<string>;
  /** Opens a service on url (a new database when omitted); closed and removed after the suite. */
  open(options?: Partial<OpenControlServiceOptions>): Promise<ControlServiceWithIdempotency>;
}

function backend(name: Backend["name"], makeUrl: () => Promise<string>, drop: (url: string) => Promise<void>): Backend {
  const urls = new Set<string>();
  const open = new Set<ControlServiceWithIdempotency>();
  after(async () => {
    for (const svc of open) await svc.close().catch(() => undefined);
    for (const url of urls) await drop(url);
  });
  const newUrl = async () => {
    const url = await makeUrl();
    urls.add(url);
    return url;
  };
  return {
    name,
    newUrl,
    async open(options = {}) {
      const svc = await openControlService({
        operatorToken: OPERATOR_TOKEN,
        ...options,
        databaseUrl: options.databaseUrl ?? (await newUrl()),
      });
      open.add(svc);
      const close = svc.close.bind(svc);
      svc.close = async () => {
        open.delete(svc);
        await close();
      };
      return svc;
    },
  };
}

function sqliteBackend(): Backend {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  return backend(
    "sqlite",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "havip-store-"));
      dirs.push(dir);
      return join(dir, "havip.db");
    },
    () => Promise.resolve(),
  );
}

// One database per test process, dropped when the file's tests end. Schemas are not dropped one by one:
// kysely's migrator introspects the tables of every schema of its database, and a schema dropped by a
// concurrent test in the same database makes that introspection fail.
let processDatabase: { baseUrl: string; name: string; ready: Promise<void> } | undefined;
if (process.env.HAVIP_TEST_PG_URL) {
  after(async () => {
    if (!processDatabase) return;
    const { baseUrl, name } = processDatabase;
    await processDatabase.ready.catch(() => undefined);
    // Not forced: a test that left a service open keeps its connections; its database then stays until the
    // throw-away server is removed (scripts/pg-test.sh stop) instead of failing that test's pool.
    await adminQuery(baseUrl, `drop database if exists "${name}"`).catch(() => undefined);
  });
}

/** A URL naming a fresh schema in this test process's own database (created on first use). */
export async function freshPostgresUrl(baseUrl: string, prefix = "t"): Promise<string> {
  if (!processDatabase) {
    const name = `havip_t_${process.pid}_${randomBytes(4).toString("hex")}`;
    processDatabase = { baseUrl, name, ready: adminQuery(baseUrl, `create database "${name}"`) };
  }
  await processDatabase.ready;
  const url = new URL(baseUrl);
  url.pathname = `/${processDatabase.name}`;
  url.searchParams.set("schema", `${prefix}_${randomBytes(6).toString("hex")}`);
  return url.toString();
}

async function adminQuery(baseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function postgresBackend(baseUrl: string): Backend {
  return backend(
    "postgres",
    () => freshPostgresUrl(baseUrl),
    () => Promise.resolve(),
  );
}

/** Declares `suite` once per backend (as a describe block named after it). */
export function forEachBackend(title: string, suite: (backend: Backend) => void): void {
  void describe(`${title} [sqlite]`, () => {
    suite(sqliteBackend());
  });
  const pgUrl = process.env.HAVIP_TEST_PG_URL;
  if (pgUrl) {
    void describe(`${title} [postgres]`, () => {
      suite(postgresBackend(pgUrl));
    });
  } else if (process.env.CI) {
    void test(`${title} [postgres]`, () => {
      assert.fail("HAVIP_TEST_PG_URL is not set: CI must run the store suite on PostgreSQL (scripts/pg-test.sh start)");
    });
  } else {
    void test(`${title} [postgres]`, (t) => {
      t.skip(
        "SKIPPED: HAVIP_TEST_PG_URL is not set; run `scripts/pg-test.sh start` and export its URL to test PostgreSQL",
      );
    });
  }
}

/** Awaits p and checks that it failed with the catalogue code. */
export async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isApiError(e), `expected ApiError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return true;
  });
}

/** A project with a VPC (10.0.0.0/16, region r1) and a subnet 10.0.1.0/24 in zone z1. */
export async function seedTenant(svc: ControlServiceWithIdempotency, name = "tenant") {
  const { project, token } = await svc.createProject(OPERATOR, { name });
  const actor: Actor = { kind: "project", projectId: project.id };
  const vpc = await svc.createVpc(actor, { name: "vpc", cidr: "10.0.0.0/16", region: "r1" });
  const subnet = await svc.createSubnet(actor, { vpcId: vpc.id, name: "sn", cidr: "10.0.1.0/24", zone: "z1" });
  return { project, token, actor, vpc, subnet };
}

/** Declares a PostgreSQL-only suite (several processes on one database); skipped loudly without HAVIP_TEST_PG_URL. */
export function postgresOnly(title: string, suite: (baseUrl: string) => void): void {
  const pgUrl = process.env.HAVIP_TEST_PG_URL;
  if (pgUrl) {
    void describe(`${title} [postgres]`, () => {
      suite(pgUrl);
    });
  } else if (process.env.CI) {
    void test(`${title} [postgres]`, () => {
      assert.fail("HAVIP_TEST_PG_URL is not set: CI must run the store suite on PostgreSQL (scripts/pg-test.sh start)");
    });
  } else {
    void test(`${title} [postgres]`, (t) => {
      t.skip(
        "SKIPPED: HAVIP_TEST_PG_URL is not set; run `scripts/pg-test.sh start` and export its URL to test PostgreSQL",
      );
    });
  }
}

/** Runs one statement as an administrator of the test server (e.g. pg_terminate_backend). */
export async function adminSql(url: string, text: string): Promise<void> {
  const server = new URL(url);
  server.search = ""; // without `schema=`, which pg would not understand
  const client = new pg.Client({ connectionString: server.toString() });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
