import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogging, formatPretty } from "./log.ts";

test("JSON logs are pino lines carrying the message and fields", () => {
  const lines: string[] = [];
  const { logger } = createLogging("info", "json", { write: (l) => lines.push(l) });
  logger.info({ url: "http://127.0.0.1:1" }, "listening");
  logger.debug("hidden below the level");
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(record.msg, "listening");
  assert.equal(record.url, "http://127.0.0.1:1");
  assert.equal(record.service, "havipd");
});

test("pretty logs are one readable line per record", () => {
  const line = JSON.stringify({ level: 40, time: Date.UTC(2025, 0, 1, 12, 34, 56, 789), msg: "slow", ms: 12, pid: 1 });
  assert.equal(formatPretty(line), "12:34:56.789 WARN  slow ms=12");
  assert.equal(formatPretty("not json\n"), "not json");
  const lines: string[] = [];
  const { logger } = createLogging("info", "pretty", { write: (l) => lines.push(l) });
  logger.info({ path: "/d/admin-token" }, "operator token read");
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}operator token read path=\/d\/admin-token\n$/);
});
