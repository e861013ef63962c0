import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KERNEL_DEFAULT_HALT_POLL_NS, applyHaltPoll, parseHaltPollWish } from "./halt-poll.ts";

const dir = mkdtempSync(join(tmpdir(), "havip-halt-poll-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for the sysfs parameter holding `value`. */
function parameter(name: string, value: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${value}\n`);
  return path;
}

describe("guest halt polling for the latency benchmarks", () => {
  it("reads the wish: unset → the kernel's default, keep, or nanoseconds", () => {
    assert.deepEqual(parseHaltPollWish(undefined), { kind: "set", ns: KERNEL_DEFAULT_HALT_POLL_NS });
    assert.deepEqual(parseHaltPollWish(" "), { kind: "set", ns: 200_000 });
    assert.deepEqual(parseHaltPollWish("keep"), { kind: "keep" });
    assert.deepEqual(parseHaltPollWish("0"), { kind: "set", ns: 0 });
    assert.deepEqual(parseHaltPollWish("50000"), { kind: "set", ns: 50_000 });
    for (const bad of ["-1", "1.5", "200us", "10000001", "on"]) {
      assert.throws(() => parseHaltPollWish(bad), /BENCH_GUEST_HALT_POLL_NS must be 'keep' or an integer from 0 to/);
    }
  });

  it("sets the value for the run and puts the one found back", () => {
    const path = parameter("set", "0");
    const s = applyHaltPoll({ kind: "set", ns: 200_000 }, path);
    assert.equal(s.foundNs, 0);
    assert.equal(s.duringNs, 200_000);
    assert.equal(readFileSync(path, "utf8"), "200000");
    s.restore();
    assert.equal(readFileSync(path, "utf8"), "0");
    writeFileSync(path, "7");
    s.restore(); // once only
    assert.equal(readFileSync(path, "utf8"), "7");
  });

  it("changes nothing for keep, for the value already set, or without the parameter", () => {
    const path = parameter("keep", "0");
    assert.deepEqual((({ foundNs, duringNs }) => ({ foundNs, duringNs }))(applyHaltPoll({ kind: "keep" }, path)), {
      foundNs: 0,
      duringNs: 0,
    });
    const same = parameter("same", "200000");
    assert.equal(applyHaltPoll({ kind: "set", ns: 200_000 }, same).duringNs, 200_000);
    const missing = applyHaltPoll({ kind: "set", ns: 200_000 }, join(dir, "absent"));
    assert.equal(missing.foundNs, null);
    assert.equal(missing.duringNs, null);
    assert.equal(readFileSync(path, "utf8"), "0\n", "not rewritten");
  });

  it("puts the value back when the process exits without restoring", () => {
    const path = parameter("exit", "0");
    const module = fileURLToPath(new URL("./halt-poll.ts", import.meta.url));
    const script =
      `const { applyHaltPoll } = await import(${JSON.stringify(module)});` +
      `const s = applyHaltPoll({ kind: "set", ns: 123 }, ${JSON.stringify(path)});` +
      `console.log(s.duringNs); process.exitCode = 3;`;
    let status = 0;
    let out: string;
    try {
      out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    } catch (e) {
      status = (e as { status: number }).status;
      out = (e as { stdout: string }).stdout;
    }
    assert.equal(status, 3);
    assert.equal(out.trim(), "123", "set while it ran");
    assert.equal(readFileSync(path, "utf8"), "0", "restored at exit");
  });
});
