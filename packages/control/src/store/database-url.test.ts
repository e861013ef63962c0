import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDatabaseUrl } from "./database-url.ts";

test("database URLs: memory, paths, sqlite:// and file: URLs, postgres with an optional schema", () => {
  assert.deepEqual(parseDatabaseUrl(":memory:"), { kind: "sqlite", path: ":memory:" });
  assert.deepEqual(parseDatabaseUrl("/var/lib/havip/havip.db"), { kind: "sqlite", path: "/var/lib/havip/havip.db" });
  assert.deepEqual(parseDatabaseUrl("data/havip.db"), { kind: "sqlite", path: "data/havip.db" });
  assert.deepEqual(parseDatabaseUrl("sqlite:///var/lib/havip/h.db"), { kind: "sqlite", path: "/var/lib/havip/h.db" });
  assert.deepEqual(parseDatabaseUrl("file:///var/lib/havip/h%20x.db"), {
    kind: "sqlite",
    path: "/var/lib/havip/h x.db",
  });
  assert.deepEqual(parseDatabaseUrl("postgres://u@db:5432/havip"), {
    kind: "postgres",
    connectionString: "postgres://u@db:5432/havip",
    schema: null,
  });
  assert.deepEqual(parseDatabaseUrl("postgresql://u@db/havip?schema=t_1&sslmode=disable"), {
    kind: "postgres",
    connectionString: "postgresql://u@db/havip?sslmode=disable",
    schema: "t_1",
  });
  assert.throws(() => parseDatabaseUrl("postgres://u@db/havip?schema=a;drop"), /schema/);
  assert.throws(() => parseDatabaseUrl("mysql://x/y"), /unsupported/);
  assert.throws(() => parseDatabaseUrl(""), /non-empty/);
});
