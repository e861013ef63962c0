import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCount, formatDuration, reasonText, timeline } from "./format.ts";

test("formatDuration picks a unit people read at a glance", () => {
  assert.equal(formatDuration(850), "850 ms");
  assert.equal(formatDuration(1234), "1.2 s");
  assert.equal(formatDuration(42_000), "42 s");
  assert.equal(formatDuration(185_000), "3 min 5 s");
  assert.equal(formatDuration(2 * 3600_000 + 10 * 60_000), "2 h 10 min");
  assert.equal(formatDuration(4 * 86_400_000 + 3 * 3600_000), "4 d 3 h");
  assert.equal(formatDuration(-1), "—");
  assert.equal(formatDuration(Number.NaN), "—");
});

test("timeline lists holder changes newest first with the time since the previous one", () => {
  const rows = timeline([
    {
      generation: 2,
      instanceId: "i-b",
      vnicId: "eni-b",
      previousVnicId: "eni-a",
      at: "2026-01-01T00:00:03.500Z",
      reason: "announcement",
    },
    {
      generation: 1,
      instanceId: "i-a",
      vnicId: "eni-a",
      previousVnicId: null,
      at: "2026-01-01T00:00:01.000Z",
      reason: "announcement",
    },
    {
      generation: 3,
      instanceId: null,
      vnicId: null,
      previousVnicId: "eni-b",
      at: "2026-01-01T00:01:03.500Z",
      reason: "released",
    },
  ]);
  assert.deepEqual(
    rows.map((r) => [r.generation, r.sincePreviousMs]),
    [
      [3, 60_000],
      [2, 2500],
      [1, null],
    ],
  );
});

test("formatCount groups thousands", () => {
  assert.equal(formatCount(1_234_567), "1,234,567");
  assert.equal(formatCount(0), "0");
});

test("reasonText starts with the API's reason and explains the verification ones", () => {
  assert.equal(reasonText("announcement"), "announcement");
  assert.match(reasonText("verified"), /^verified: /);
  assert.match(reasonText("withdrawn"), /^withdrawn: nobody answered/);
  assert.equal(reasonText("manual"), "reported by hand");
});
