import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { kernelHasCustomSlices } from "@havip/testkit";
import { checkCpuSliceUs } from "./cpu-slice.ts";

const MODULE = fileURLToPath(new URL("./cpu-slice.ts", import.meta.url));

/** Runs `body` in a child Node (the slice is the calling thread's: the test runner's own stays as it is). */
function inChild(body: string): unknown {
  const script = `import * as s from ${JSON.stringify(MODULE)};\n${body}`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  return JSON.parse(out) as unknown;
}

describe("cpu slice", () => {
  it("sets the calling thread's slice, as the kernel itself reports it (/proc/thread-self/sched)", () => {
    const result = inChild(`
      import { readFileSync } from "node:fs";
      const kernel = () => Number(/se\\.slice\\s*:\\s*(\\d+)/.exec(readFileSync("/proc/thread-self/sched", "utf8"))?.[1]);
      const before = kernel();
      const first = s.setCpuSlice(100);
      const after100 = kernel();
      const second = s.setCpuSlice(250);
      console.log(JSON.stringify({ before, first, after100, second, read: s.cpuSliceUs(), after250: kernel() }));
    `) as Record<string, unknown>;
    if (!kernelHasCustomSlices()) {
      assert.deepEqual(result.first, {
        ok: false,
        reason: "the kernel kept its own slice (a custom slice needs Linux 6.12 or later)",
      });
      return;
    }
    assert.deepEqual(result.first, { ok: true, sliceUs: 100 }, "the addon is built by scripts/build-native.sh");
    assert.equal(result.after100, 100_000);
    assert.notEqual(result.before, 100_000, "the default slice is longer");
    assert.deepEqual(result.second, { ok: true, sliceUs: 250 });
    assert.equal(result.read, 250);
    assert.equal(result.after250, 250_000);
  });

  it("accepts whole microseconds from 100 to 100,000 only", () => {
    for (const ok of [100, 1000, 100_000]) checkCpuSliceUs(ok);
    for (const bad of [0, 99, 100_001, 150.5, Number.NaN]) {
      assert.throws(() => {
        checkCpuSliceUs(bad);
      }, RangeError);
    }
  });
});
