import { test } from "node:test";
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { BadDatabaseUrl, redact, resolveDatabase } from "./database-url.ts";

test("the default database is havip.db in the data directory", () => {
  assert.deepEqual(resolveDatabase(undefined, "/srv/havip"), {
    kind: "sqlite",
    url: join("/srv/havip", "havip.db"),
    display: `SQLite file ${join("/srv/havip", "havip.db")}`,
  });
});

test("SQLite can be named by a path, a sqlite: URL or a file: URL", () => {
  assert.equal(resolveDatabase("state/x.db", "/d").url, resolve("state/x.db"));
  assert.equal(resolveDatabase("/abs/x.db", "/d").url, "/abs/x.db");
  assert.equal(resolveDatabase("sqlite:///abs/y.db", "/d").url, "/abs/y.db");
  assert.equal(resolveDatabase("sqlite:rel.db", "/d").url, resolve("rel.db"));
  assert.equal(resolveDatabase("file:///abs/z%20q.db", "/d").url, "/abs/z q.db");
  assert.equal(resolveDatabase(":memory:", "/d").kind, "memory");
});

test("PostgreSQL URLs pass through; their password never appears in the display text", () => {
  const target = resolveDatabase("postgres://havip:s3cret@db.example:5432/havip", "/d");
  assert.equal(target.kind, "postgres");
  assert.equal(target.url, "postgres://havip:s3cret@db.example:5432/havip");
  assert.ok(!target.display.includes("s3cret"));
  assert.equal(resolveDatabase("postgresql://db/havip", "/d").kind, "postgres");
});

test("unknown schemes and malformed URLs are refused with a message naming the option", () => {
  for (const bad of ["mysql://root:pw@db/x", "http://x", "", "sqlite:", "postgres://", "file://remote-host/x.db"]) {
    assert.throws(
      () => resolveDatabase(bad, "/d"),
      (e: unknown) => e instanceof BadDatabaseUrl && e.message.includes("--database") && !e.message.includes("pw@"),
      bad,
    );
  }
});

test("redact hides only the password", () => {
  assert.equal(redact("postgres://u:p@h/db"), "postgres://u:***@h/db");
  assert.equal(redact("postgres://u@h/db"), "postgres://u@h/db");
  assert.equal(redact("/plain/path"), "/plain/path");
});
