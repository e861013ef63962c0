import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { cell, renderDetails, renderTable, time } from "./table.ts";

const columns = [
  { header: "ID", value: (r: { id: string; n: number | null }) => r.id },
  { header: "COUNT", value: (r: { id: string; n: number | null }) => r.n },
  { header: "LAST", value: () => "x" },
];

test("columns are aligned, empty values print as -, lines carry no trailing spaces", () => {
  const text = renderTable(columns, [
    { id: "havip-1", n: 2 },
    { id: "h", n: null },
  ]);
  assert.equal(text, "ID       COUNT  LAST\nhavip-1  2      x\nh        -      x\n");
  assert.equal(renderTable(columns, []), "ID  COUNT  LAST\n");
});

test("every column starts at the same offset on every line (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ id: fc.string({ unit: "grapheme-ascii", minLength: 1 }), n: fc.nat() }), { maxLength: 8 }),
      (rows) => {
        const safe = rows.map((r) => ({ id: r.id.replace(/\s/g, "_"), n: r.n }));
        const lines = renderTable(columns, safe).trimEnd().split("\n");
        // Cells hold no spaces, so a column starts wherever a non-space follows two or more spaces.
        const starts = lines.map((line) => [...line.matchAll(/(?<= {2})\S/g)].map((m) => m.index).join(","));
        assert.equal(new Set(starts).size, 1);
        assert.ok(lines.every((line) => line === line.trimEnd()));
      },
    ),
  );
});

test("control characters in values cannot reach the terminal", () => {
  assert.equal(cell("evil\u001b[31mname\n"), "evil?[31mname?");
  assert.equal(cell(0), "0");
  assert.equal(cell(""), "-");
});

test("details are key/value lines with aligned values", () => {
  assert.equal(
    renderDetails([
      ["id", "vpc-1"],
      ["generation", 2],
      ["eip", null],
    ]),
    "id          vpc-1\ngeneration  2\neip         -\n",
  );
});

test("times drop their milliseconds", () => {
  assert.equal(time("2025-01-02T03:04:05.678Z"), "2025-01-02T03:04:05Z");
  assert.equal(time("2025-01-02T03:04:05Z"), "2025-01-02T03:04:05Z");
  assert.equal(time(null), null);
});
