import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderTable } from "./report.ts";
import { summarise } from "./stats.ts";

describe("bench report", () => {
  it("renders one aligned row per result with its ratio to the baseline", () => {
    const text = renderTable({
      name: "t",
      title: "demo",
      rows: [
        { case: "tcp", system: "bridge", unit: "Gbit/s", summary: summarise([20, 25, 30]) },
        {
          case: "tcp",
          system: "havip",
          unit: "Gbit/s",
          summary: summarise([2, 2.5, 3]),
          baseline: { system: "bridge", ratio: 0.1 },
        },
      ],
      notes: ["higher is better"],
    });
    const lines = text.split("\n");
    assert.equal(lines[0], "demo");
    assert.match(lines[3]!, /^tcp\s+bridge\s+25\.0\s+20\.0\s+30\.0/);
    assert.match(lines[4]!, /havip\s+2\.50 .*bridge\s+0\.10×$/);
    assert.equal(lines.at(-1), "  higher is better");
    const widths = new Set(lines.slice(1, 5).map((l) => l.length));
    assert.equal(widths.size, 1, "every row is as wide as the header");
  });
});
