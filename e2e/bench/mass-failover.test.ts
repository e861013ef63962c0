// Smoke test of the mass-failover benchmark (quick mode: 50 HAVIPs, 2 rounds): the report is well-formed, every
// round really moved every HAVIP (the event stream showed each new holder; the API lists them all held by the
// last announcer, which the benchmark checks and fails otherwise), and the timing has its baseline from the same
// run. Never a timing. SQLite always; PostgreSQL on HAVIP_TEST_PG_URL (set by scripts/test.sh), skipped loudly
// without it (failed in CI).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BenchReport } from "../../bench/lib/report.ts";
import { run } from "../../bench/mass-failover/run.ts";
import { postgresSkip } from "./postgres.ts";

function checkReport(report: BenchReport, backend: string): void {
  assert.equal(report.name, "mass-failover-quick");
  assert.equal((report.parameters?.verified as Record<string, number>)[backend], 50, "every HAVIP moved");
  const atOnce = report.rows.filter((r) => r.case === `${backend} 50 at once`);
  const havip = atOnce.find((r) => r.system === "havip");
  assert.ok(havip, "the havip row");
  assert.ok(
    atOnce.some((r) => r.system === havip.baseline?.system),
    "its baseline is in the same run",
  );
  for (const row of atOnce) {
    assert.equal(row.summary.n, 2, `${row.system}: one sample per round`);
    assert.ok(Number.isFinite(row.summary.median) && row.summary.median > 0, `${row.system}: a median`);
  }
  const each = report.rows.find((r) => r.case === `${backend} each HAVIP`);
  assert.equal(each?.summary.n, 100, "every HAVIP's time in every round");
}

test("mass-failover benchmark, quick, SQLite: every HAVIP moves in every round", { timeout: 90_000 }, async () => {
  checkReport(await run({ quick: true, backends: ["sqlite"] }), "sqlite");
});

const pgSkip = postgresSkip("mass-failover benchmark");

test(
  "mass-failover benchmark, quick, PostgreSQL: every HAVIP moves in every round",
  { timeout: 90_000, skip: pgSkip },
  async () => {
    const report = await run({ quick: true, backends: ["postgres"] });
    checkReport(report, "postgres");
    assert.equal((report.parameters?.postgres as { source: string }).source, "HAVIP_TEST_PG_URL");
  },
);
