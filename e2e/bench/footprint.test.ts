// Smoke test of the footprint benchmark (quick mode: 1,000 vNICs, 100 HAVIPs): the report is well-formed, the
// restarted havipd really applied the whole store to its fabric (the benchmark checks the daemon's own count of
// vNICs and HAVIPs applied, and fails otherwise), and each number has its empty-store baseline. Never a timing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "../../bench/footprint/run.ts";

test("footprint benchmark, quick: well-formed report with its empty-store baseline", { timeout: 90_000 }, async () => {
  const report = await run({ quick: true });
  assert.equal(report.name, "footprint-quick");
  assert.equal(report.parameters?.vnics, 1000);
  assert.equal(report.parameters.havips, 100);
  for (const name of ["resident memory (VmRSS)", "apply spec from scratch", "start (spawn → /v1/health)"]) {
    const base = report.rows.find((r) => r.case === name && r.system === "empty store");
    const loaded = report.rows.find((r) => r.case === name && r.system === "havipd");
    assert.ok(base && loaded, `${name}: both rows`);
    assert.equal(loaded.baseline?.system, "empty store");
    assert.ok(loaded.summary.n >= 2 && base.summary.n === loaded.summary.n, `${name}: repeated runs`);
    assert.ok(Number.isFinite(loaded.summary.median) && loaded.summary.median > 0);
    assert.ok(Number.isFinite(base.summary.median) && base.summary.median > 0);
  }
  const rss = report.rows.find((r) => r.case === "resident memory (VmRSS)" && r.system === "havipd")!;
  assert.ok(rss.summary.min > 10, "RSS in MiB is a plausible number for a Node process");
});
