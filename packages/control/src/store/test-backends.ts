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
import { dropPostgresSchema } from "./store.ts";

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

function postgresBackend(baseUrl: string): Backend {
  return backend(
    "postgres",
    () => {
      const url = new URL(baseUrl);
      url.searchParams.set("schema", `t_${randomBytes(6).toString("hex")}`);
      return Promise.resolve(url.toString());
    },
    dropPostgresSchema,
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
