import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { formatTimeline, outageMs, parseProbeLine, replyEdges, type FailoverTimeline } from "./lab-timeline.ts";

const base: FailoverTimeline = {
  action: "keepalived stopped on vm-a",
  actionAt: 10_000,
  oldHolder: "vm-a",
  newHolder: "vm-b",
  lastOldReplyAt: 9_990,
  announcementAt: 10_600,
  apiHolderAt: 10_604,
  firstNewReplyAt: 10_660,
  probeEveryMs: 20,
  probes: 120,
  failedProbes: 30,
};

test("the timeline lists the steps in time order, as offsets from the action, and the outage in ms", () => {
  assert.equal(
    formatTimeline(base),
    [
      "failover timeline (0 = keepalived stopped on vm-a):",
      "  -    10 ms  last reply from vm-a",
      "  +     0 ms  keepalived stopped on vm-a",
      "  +   600 ms  announcement seen: the fabric took vm-b as holder",
      "  +   604 ms  holder changed in the API: vm-b",
      "  +   660 ms  first reply from vm-b",
      "client-visible outage: 670 ms (probes every 20 ms: 120 sent, 30 without an answer)",
      "",
    ].join("\n"),
  );
});

test("steps never seen are listed as such, and the outage is unknown without a reply from the new holder", () => {
  const text = formatTimeline({ ...base, announcementAt: null, firstNewReplyAt: null, apiHolderAt: null });
  assert.match(text, / {2}not seen {2}announcement seen/);
  assert.match(text, / {2}not seen {2}first reply from vm-b/);
  assert.match(text, /client-visible outage: unknown/);
});

test("reply edges: the first new reply after the action, the last old reply before it", () => {
  const probes = [
    { at: 1, who: "vm-a" },
    { at: 2, who: "vm-a" },
    { at: 3, who: null },
    { at: 4, who: null },
    { at: 5, who: "vm-b" },
    { at: 6, who: "vm-b" },
  ];
  assert.deepEqual(replyEdges(probes, "vm-a", "vm-b", 2), { lastOldReplyAt: 2, firstNewReplyAt: 5 });
  assert.deepEqual(replyEdges(probes, "vm-a", "vm-c", 2), { lastOldReplyAt: 2, firstNewReplyAt: null });
  assert.equal(outageMs({ lastOldReplyAt: 2, firstNewReplyAt: 5 }), 3);
  assert.equal(outageMs({ lastOldReplyAt: null, firstNewReplyAt: 5 }), null);
});

test("property: the outage is never negative and the last old reply never follows the first new one", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 1000 }), who: fc.constantFrom("vm-a", "vm-b", null) })),
      fc.integer({ min: 0, max: 1000 }),
      (raw, actionAt) => {
        const probes = [...raw].sort((a, b) => a.at - b.at);
        const edges = replyEdges(probes, "vm-a", "vm-b", actionAt);
        const outage = outageMs(edges);
        if (outage !== null) assert.ok(outage >= 0);
        if (edges.firstNewReplyAt !== null) assert.ok(edges.firstNewReplyAt >= actionAt);
      },
    ),
  );
});

test("probe lines: JSON with a numeric time and a name or null; anything else is ignored", () => {
  assert.deepEqual(parseProbeLine('{"at":12,"who":"vm-a"}'), { at: 12, who: "vm-a" });
  assert.deepEqual(parseProbeLine('{"at":12,"who":null}'), { at: 12, who: null });
  assert.equal(parseProbeLine("Cannot find module"), undefined);
  assert.equal(parseProbeLine('{"at":"12","who":null}'), undefined);
  assert.equal(parseProbeLine('{"at":12,"who":3}'), undefined);
});
