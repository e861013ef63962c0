// Smoke test of the data-plane benchmark (quick mode: one 1-second round per system, case and MTU): the report
// is well-formed, every system really moved traffic, every havip ratio is there (also for the datagrams that
// arrived at the receiving host), and nothing is left behind.
// It asserts no speed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { run } from "../../bench/dataplane/run.ts";
import { rootOnly } from "../fabric-lab/helpers.ts";

function benchNamespaces(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith("bdp"));
}

describe("bench: dataplane (quick)", rootOnly("bench dataplane"), () => {
  it(
    "measures TCP and 64-byte UDP on every system at both MTUs, with havip's ratios",
    { timeout: 240_000 },
    async () => {
      const report = await run({ quick: true });
      assert.equal(report.name, "dataplane-quick");
      const systems = ["linux-bridge", "kernel-vxlan", "havip"];
      const ovn = report.rows.some((r) => r.system === "ovn");
      if (ovn) systems.push("ovn");
      for (const mtu of [1500, 8950]) {
        for (const kind of ["tcp", "udp64", "udp64-arrived"]) {
          const name = `${kind}-${String(mtu)}`;
          for (const system of systems) {
            const row = report.rows.find((r) => r.case === name && r.system === system);
            assert.ok(row !== undefined, `${name} ${system}: no row (notes: ${(report.notes ?? []).join(" | ")})`);
            assert.equal(row.summary.n, 1, `${name} ${system}: ${JSON.stringify(row.extra?.errors)}`);
            // Traffic really crossed the system: bits or packets arrived at host 2.
            assert.ok(row.summary.median > 0, `${name} ${system}: nothing delivered`);
            assert.equal(row.unit, kind === "tcp" ? "Gbit/s" : "kpps");
            const runs = row.extra?.runs as Record<string, number>[];
            if (kind === "udp64") assert.ok(runs[0]!.delivered! > 0 && runs[0]!.sentKpps! > 0);
            if (kind === "udp64-arrived") {
              // The receiving host got at least what iperf3 read there (the rest it dropped at the socket).
              const udp = report.rows.find((r) => r.case === `udp64-${String(mtu)}` && r.system === system)!;
              assert.ok(row.summary.median >= 0.95 * udp.summary.median, `${name} ${system}: arrived < delivered`);
              assert.ok(runs[0]!.receiverDropped! >= 0);
            }
          }
          const havip = report.rows.find((r) => r.case === name && r.system === "havip")!;
          const ratios = havip.extra?.ratios as Record<string, number>;
          const bridge = report.rows.find((r) => r.case === name && r.system === "linux-bridge")!;
          assert.equal(havip.baseline?.system, "linux-bridge");
          assert.ok(Math.abs(havip.baseline.ratio - havip.summary.median / bridge.summary.median) < 1e-9);
          for (const base of systems.filter((s) => s !== "havip")) {
            assert.ok(Number.isFinite(ratios[base]) && ratios[base]! > 0, `${name}: havip/${base} missing`);
            assert.ok(report.notes?.some((n) => n.startsWith(`${name}:`) && n.includes(`havip/${base}`)));
          }
        }
      }
      assert.deepEqual(benchNamespaces(), [], "the benchmark left namespaces behind");
    },
  );
});
