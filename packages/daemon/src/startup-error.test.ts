import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveDatabase } from "./database-url.ts";
import { databaseFailure, fabricAgentFailure, listenFailure } from "./startup-error.ts";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

test("listen failures say where and why in one line", () => {
  const at = { host: "127.0.0.1", port: 7480 };
  assert.equal(
    listenFailure(withCode("listen EADDRINUSE: address already in use 127.0.0.1:7480", "EADDRINUSE"), at).message,
    "cannot listen on 127.0.0.1:7480: address already in use (is another havipd running?)",
  );
  assert.match(
    listenFailure(withCode("x", "EACCES"), { host: "::1", port: 80 }).message,
    /^cannot listen on \[::1\]:80: permission denied/,
  );
  assert.match(listenFailure(new Error("odd\nsecond line"), at).message, /^cannot listen on 127\.0\.0\.1:7480: odd$/);
});

test("database failures hide the password and name the reason", () => {
  const pg = resolveDatabase("postgres://u:hunter2@127.0.0.1:1/db", "/d");
  const refused = databaseFailure(withCode("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"), pg).message;
  assert.equal(refused, "cannot reach the database (PostgreSQL postgres://u:***@127.0.0.1:1/db): connection refused");
  const aggregate = Object.assign(new AggregateError([withCode("connect ECONNREFUSED ::1:1", "ECONNREFUSED")], ""), {});
  assert.match(databaseFailure(aggregate, pg).message, /: connection refused$/);
  assert.match(
    databaseFailure(withCode('password authentication failed for user "u"', "28P01"), pg).message,
    /authentication failed$/,
  );
  const sqlite = resolveDatabase("/nope/x.db", "/d");
  assert.equal(
    databaseFailure(withCode("unable to open database file", "ERR_SQLITE_ERROR"), sqlite).message,
    "cannot open the database (SQLite file /nope/x.db): unable to open database file",
  );
});

test("a fabric agent that is not there is named with what to check", () => {
  const e = Object.assign(new Error("connect ENOENT /run/x.sock"), { code: "ENOENT" });
  assert.equal(
    fabricAgentFailure(e, "/run/x.sock").message,
    "cannot use the fabric agent at unix:/run/x.sock: no such socket (is the fabric agent running?)",
  );
});
