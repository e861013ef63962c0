// Smoke test of the control-plane benchmark (quick mode: 200 HAVIPs, 1,000 vNICs): the report is well-formed, every
// case has its baseline from the same run, and the HAVIPs really exist (the API lists them all). Never a timing.
// SQLite always; PostgreSQL on HAVIP_TEST_PG_URL (set by scripts/test.sh), skipped loudly without it (failed in CI).
import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "../../bench/control/run.ts";
import type { BenchReport } from "../../bench/lib/report.ts";
import { postgresSkip } from "./postgres.ts";

function checkReport(report: BenchReport, backend: string): void {
  assert.equal(report.name, "control-quick");
  assert.equal((report.parameters?.havipsListed as Record<string, number>)[backend], 200, "every create is listed");
  const cases = [
    `${backend} create c=1`,
    `${backend} create c=16`,
    `${backend} create c=64`,
    `${backend} GET by id`,
    `${backend} list limit=100`,
  ];
  for (const name of cases) {
    const rows = report.rows.filter((r) => r.case === name);
    assert.ok(rows.length >= 2, `${name}: a havip row and its baseline`);
    for (const row of rows) {
      assert.ok(row.summary.n > 0, `${name}/${row.system}: samples`);
      assert.ok(Number.isFinite(row.summary.median) && row.summary.median > 0, `${name}/${row.system}: a median`);
      if (row.baseline) {
        assert.ok(
          rows.some((r) => r.system === row.baseline?.system),
          `${name}: the baseline row is in the same run`,
        );
        assert.ok(Number.isFinite(row.baseline.ratio) && row.baseline.ratio > 0);
      }
    }
    assert.ok(
      rows.some((r) => r.baseline !== undefined),
      `${name}: compared with a baseline`,
    );
  }
  const creates = report.rows.filter((r) => r.case.startsWith(`${backend} create`) && r.system === "POST /v1/havips");
  const made = creates.map((r) => Number(r.extra?.havipsAfter));
  assert.deepEqual(made, [20, 80, 200], "the creates grew the table to the target");
}

test("control benchmark, quick, SQLite: well-formed report, every HAVIP created", { timeout: 90_000 }, async () => {
  checkReport(await run({ quick: true, backends: ["sqlite"] }), "sqlite");
});

const pgSkip = postgresSkip("control benchmark");

test(
  "control benchmark, quick, PostgreSQL: well-formed report, every HAVIP created",
  { timeout: 90_000, skip: pgSkip },
  async () => {
    const report = await run({ quick: true, backends: ["postgres"] });
    checkReport(report, "postgres");
    assert.equal((report.parameters?.postgres as { source: string }).source, "HAVIP_TEST_PG_URL");
  },
);
