// The PostgreSQL half of a benchmark's smoke test runs on HAVIP_TEST_PG_URL (scripts/test.sh starts a server and
// sets it). Without it the half is skipped loudly, and in CI a test that fails takes its place.
import assert from "node:assert/strict";
import { test } from "node:test";

/** The skip reason for `what`'s PostgreSQL tests, or false when they can run. */
export function postgresSkip(what: string): string | false {
  const url = process.env.HAVIP_TEST_PG_URL;
  if (url !== undefined && url !== "") return false;
  const reason = `!!! ${what} [postgres]: SKIPPED — HAVIP_TEST_PG_URL is not set (scripts/pg-test.sh start) !!!`;
  process.stderr.write(`\n${reason}\n\n`);
  if (process.env.CI !== undefined && process.env.CI !== "") {
    test(`${what} [postgres] must run in CI`, () => {
      assert.fail("HAVIP_TEST_PG_URL must be set in CI");
    });
  }
  return reason;
}
