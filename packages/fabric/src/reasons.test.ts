// The drop-reason catalogue: stable kebab-case names, all documented in README.md.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { DROP_REASONS, dropCode, dropReasonOf } from "./reasons.ts";

describe("drop reasons", () => {
  it("are unique kebab-case names with stable codes", () => {
    assert.equal(new Set(DROP_REASONS).size, DROP_REASONS.length);
    DROP_REASONS.forEach((r, i) => {
      assert.match(r, /^[a-z]+(?:-[a-z]+)*$/);
      assert.equal(dropCode(r), i);
      assert.equal(dropReasonOf(i), r);
    });
    assert.throws(() => dropReasonOf(DROP_REASONS.length), RangeError);
  });

  it("are exactly the reasons README.md documents", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("## Drop reasons"));
    const documented = [...table.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1]);
    assert.deepEqual(documented, [...DROP_REASONS]);
  });
});
