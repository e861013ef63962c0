// Smoke test of the failover benchmark in quick mode: two cuts and two preemptions on havip and on OVN at
// advert_int 0.1. Asserted: the systems really failed over (replies from both holders, each holder's gratuitous
// ARP captured, the control plane followed), every failover produced a sample, the report is well-formed, and
// nothing is left behind. Never that a number is small.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { run, type RunRecord } from "../../bench/failover/run.ts";
import { namespacesWithPrefix } from "../lab/helpers.ts";
import { rootOnly } from "../fabric-lab/helpers.ts";

test(
  "failover benchmark, quick: havip and OVN each fail over four times and every failover is measured",
  rootOnly("bench failover"),
  async () => {
    const report = await run({ quick: true });
    assert.equal(report.name, "failover");
    const runs = (report.parameters as { runs: RunRecord[] }).runs;
    assert.deepEqual(
      runs.map((r) => `${r.system}@${r.advertInterval}`),
      ["havip@0.1", "ovn@0.1"],
    );
    for (const r of runs) {
      const what = `${r.system}:`;
      assert.ok(r.repliesFrom["vm-a"]! > 0, `${what} vm-c got replies from vm-a`);
      assert.ok(r.repliesFrom["vm-b"]! > 0, `${what} vm-c got replies from vm-b`);
      // Two pairs: the first with the control plane watched (polled every millisecond), the second quiet.
      assert.deepEqual(
        r.failovers.map((s) => `${s.kind}→${s.newHolder}${s.apiWatched ? " watched" : ""}`),
        ["cut→vm-b watched", "preempt→vm-a watched", "cut→vm-b", "preempt→vm-a"],
      );
      for (const s of r.failovers) {
        const which = `${what} ${s.kind}${s.apiWatched ? " (watched)" : ""}`;
        assert.notEqual(s.announcedAt, null, `${which}: the new holder's gratuitous ARP was captured`);
        assert.notEqual(s.firstReplyAt, null, `${which}: a reply from the new holder`);
        assert.notEqual(s.lastOldReplyAt, null, `${which}: a reply from the old holder before`);
        assert.ok(s.outageMs !== null && s.outageMs > 0, `${which}: an outage was measured`);
        if (s.apiWatched) assert.notEqual(s.apiMs, null, `${which}: the control plane showed the new holder`);
        else assert.equal(s.apiMs, null, `${which}: not timed when quiet`);
        assert.ok(s.announcedAt! >= s.triggerAt, `${which}: the announcement came after the trigger`);
        // The new holder's own capture: the request it answered first arrived, and its echo left, in between.
        assert.ok(s.holderAnswerMs !== null && s.holderAnswerMs >= 0, `${which}: the new holder's answer was timed`);
        assert.ok(
          s.fabricDelayMs !== null && s.platformDelayMs !== null && s.fabricDelayMs <= s.platformDelayMs,
          `${which}: the network's part is part of the platform delay`,
        );
      }
      if (r.system === "ovn") {
        // OVN floods the parents' gratuitous ARPs to the whole switch: the client sees both holders' announcements.
        assert.ok(r.failovers.every((s) => s.garpAt !== null && s.garpToReplyMs !== null));
        assert.deepEqual(
          r.failovers.map((s) => s.garpSenderMac),
          r.failovers.map((s) => (s.newHolder === "vm-a" ? "02:00:0a:00:01:0b" : "02:00:0a:00:01:0c")),
        );
      }
    }
    for (const row of report.rows) {
      assert.ok(row.case !== "" && row.unit !== "", "every row names its case and unit");
      if (row.system === "havip" && row.baseline !== undefined) assert.equal(row.baseline.system, "ovn");
    }
    const oneEach = [
      "outage-v3-0.1",
      "announce-to-reply-v3-0.1",
      "platform-delay-v3-0.1",
      "holder-answer-v3-0.1",
      "fabric-delay-v3-0.1",
      "api-holder-v3-0.1",
      "outage-preempt-v3-0.1",
    ];
    for (const c of oneEach) {
      for (const system of ["havip", "ovn"]) {
        const row = report.rows.find((r) => r.case === c && r.system === system);
        assert.ok(row !== undefined, `a row ${c} for ${system}`);
        assert.equal(row.summary.n, 1, `${c} ${system}: one sample`);
      }
    }
    for (const system of ["havip", "ovn"]) {
      const rtt = report.rows.find((r) => r.case === "probe-rtt-v3-0.1" && r.system === system);
      assert.ok(rtt !== undefined && rtt.summary.n > 100, `${system}: the probes were answered throughout`);
    }
    assert.deepEqual(namespacesWithPrefix("foh"), [], "no havip namespace left");
    assert.deepEqual(namespacesWithPrefix("foo"), [], "no OVN namespace left");
    assert.deepEqual(
      readdirSync(tmpdir()).filter((d) => d.startsWith("havip-bench-fo")),
      [],
      "no temporary directory left",
    );
  },
);
