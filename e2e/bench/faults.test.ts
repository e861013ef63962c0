// Smoke test of the fault benchmark (root; tiny: two faults once each, a randomized run of two): the report is
// well-formed, every fault has its black-hole and API rows with one sample each, the randomized run names its
// seed and replays the same sequence from it. Never a timing: the suite (e2e/faults) asserts the bounds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { rootOnly } from "../fabric-lab/helpers.ts";
import { run } from "../../bench/faults/run.ts";
import { FAULT_PG_PORTS } from "../faults/postgres.ts";

test(
  "faults benchmark, quick: rows per fault, a seeded randomized run",
  rootOnly("faults benchmark smoke"),
  async () => {
    const only = ["holder-track-fault", "partition-backup-out"];
    const report = await run({ quick: true, only, reps: 1, seed: 12345, random: 2, pgPort: FAULT_PG_PORTS.benchSmoke });
    assert.equal(report.name, "faults-quick");
    assert.equal(report.parameters?.seed, 12345);
    for (const fault of only) {
      const hole = report.rows.find((r) => r.case === fault && r.system === "black hole");
      const api = report.rows.find((r) => r.case === fault && r.system === "API → real holder");
      assert.ok(hole && api, `${fault}: both rows`);
      const errors = (hole.extra?.errors ?? []) as string[];
      assert.equal(hole.summary.n + errors.length, 1, `${fault}: one run, measured or failed with a reason`);
      assert.equal(api.summary.n, hole.summary.n);
      if (hole.summary.n === 1) assert.ok(Number.isFinite(hole.summary.median) && hole.summary.median >= 0);
    }
    const randomized = report.rows.find((r) => r.case === "randomized (seed 12345)");
    assert.ok(randomized, "the randomized run's row names its seed");
    const sequence = (randomized.extra?.sequence ?? []) as { fault: string }[];
    assert.equal(sequence.length, 2);
    assert.ok(
      sequence.every((s) => only.includes(s.fault)),
      "drawn from the chosen faults",
    );
  },
);
