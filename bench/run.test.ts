import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BenchReport } from "./lib/report.ts";
import { summarise } from "./lib/stats.ts";
import { headlines, pipelineHeadlines, renderSummary } from "./run.ts";

const report: BenchReport = {
  name: "dataplane",
  title: "t",
  rows: [
    { case: "tcp-1500", system: "linux-bridge", unit: "Gbit/s", summary: summarise([20, 24, 22]) },
    {
      case: "tcp-1500",
      system: "havip",
      unit: "Gbit/s",
      summary: summarise([2, 2.2, 2.4]),
      baseline: { system: "linux-bridge", ratio: 0.1 },
      extra: { ratios: { "linux-bridge": 0.1, ovn: 1.375, "kernel-vxlan": NaN } },
    },
    {
      case: "GET by id",
      system: "sqlite",
      unit: "ms",
      summary: summarise([1]),
      baseline: { system: "GET /v1/quotas", ratio: 2 },
    },
  ],
};

describe("bench runner summary", () => {
  it("every ratio of a row appears (extra.ratios first, else the baseline)", () => {
    const rows = headlines(report);
    assert.equal(rows.length, 3);
    assert.equal(rows[0]!.versus, "");
    assert.equal(rows[1]!.versus, "0.10× linux-bridge, 1.38× ovn, — kernel-vxlan");
    assert.equal(rows[1]!.median, 2.2);
    assert.equal(rows[2]!.versus, "2.00× GET /v1/quotas");
  });

  it("the fabric pipeline's own JSON becomes rows in Mframes/s plus the announcement latency and the confirmation pause", () => {
    const rows = pipelineHeadlines({
      scenarios: [
        { name: "baseline", medianFps: 100e6, spreadPct: 3, ratioToBaseline: 1 },
        { name: "switch", medianFps: 10e6, spreadPct: 7, ratioToBaseline: 0.1 },
      ],
      failover: { p50Us: 0.7, p99Us: 1.1 },
      holderConfirm: { vnics: 10000, inPlace: { p50Ms: 0.02, p99Ms: 0.1 }, fullCompile: { p50Ms: 40, p99Ms: 90 } },
    });
    assert.deepEqual(
      rows.map((r) => [r.case, r.system, r.median, r.versus]),
      [
        ["baseline", "fabric (in-process)", 100, ""],
        ["switch", "fabric (in-process)", 10, "0.10× copy loop"],
        ["announcement → delivery", "fabric (in-process)", 0.7, ""],
        ["holder confirmed, 10000 vNICs", "fabric (full compile)", 40, ""],
        ["holder confirmed, 10000 vNICs", "fabric (in place)", 0.02, "0.00050× full compile"],
      ],
    );
  });

  it("renders one markdown table with the machine, and lists what did not run", () => {
    const md = renderSummary(
      headlines(report),
      [{ bench: "failover", status: "skipped", detail: "needs root" }],
      false,
    );
    const lines = md.split("\n");
    assert.ok(lines.some((l) => l.startsWith("Measured ") && l.includes("cores")));
    assert.ok(
      lines.includes(
        "| dataplane | tcp-1500 | havip | 2.20 | Gbit/s | 18% | 0.10× linux-bridge, 1.38× ovn, — kernel-vxlan |",
      ),
    );
    assert.ok(lines.includes("- **failover: skipped** — needs root"));
    assert.ok(!md.includes("quick run"));
    assert.ok(renderSummary([], [], true).includes("quick run"));
  });
});
