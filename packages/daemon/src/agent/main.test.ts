import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { kernelHasCustomSlices } from "@havip/testkit";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "havip-agent-main-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The scheduler slice (ns) of process `pid`'s main thread, as the kernel reports it. */
function sliceOf(pid: number | "self"): number {
  return Number(/se\.slice\s*:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/sched`, "utf8"))?.[1]);
}

/** Starts the agent (no VXLAN: no root needed), reads its ready line and its slice, stops it. */
async function startAndRead(args: string[]): Promise<{ ready: Record<string, unknown>; sliceNs: number }> {
  const socket = join(dir, `a-${args.join("")}.sock`);
  const child = spawn(process.execPath, [MAIN, "--socket", socket, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        if (out.includes("\n")) resolve(out.split("\n")[0]!);
      });
      child.once("exit", (code) => {
        reject(new Error(`the agent exited (${code}) before it was ready`));
      });
    });
    return { ready: JSON.parse(line) as Record<string, unknown>, sliceNs: sliceOf(child.pid!) };
  } finally {
    child.kill("SIGTERM");
  }
}

const customSlices = kernelHasCustomSlices();

describe("fabric agent program", () => {
  it("forwards on a 100 µs scheduler slice by default, and says so in its ready line", async () => {
    const { ready, sliceNs } = await startAndRead([]);
    assert.equal(ready.ready, true);
    assert.equal(ready.observationDelayMs, 2, "holder changes reach havipd 2 ms later by default");
    assert.deepEqual(ready.rxModeration, { holdUs: 100, minFrames: 8 }, "receive moderation on by default");
    if (!customSlices) {
      assert.equal(ready.cpuSliceUs, null, "an older kernel keeps its own slice");
      return;
    }
    assert.equal(ready.cpuSliceUs, 100);
    assert.equal(sliceNs, 100_000);
  });

  it("takes --cpu-slice-us, and 0 leaves the kernel's slice", async () => {
    const set = await startAndRead(["--cpu-slice-us", "300"]);
    if (customSlices) {
      assert.equal(set.ready.cpuSliceUs, 300);
      assert.equal(set.sliceNs, 300_000);
    }
    const left = await startAndRead(["--cpu-slice-us", "0"]);
    assert.equal(left.ready.cpuSliceUs, null);
    assert.equal(left.sliceNs, sliceOf("self"), "the slice it inherited");
  });

  it("refuses a slice the kernel would not take, in one line", () => {
    for (const bad of ["50", "abc", "200000"]) {
      const r = spawnSync(process.execPath, [MAIN, "--socket", join(dir, "x.sock"), "--cpu-slice-us", bad], {
        encoding: "utf8",
      });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^fabric agent: --cpu-slice-us: a CPU slice is a whole number of microseconds from 100/);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
  });

  it("refuses an unknown option or a missing value with a message, not a stack trace", () => {
    for (const args of [["--bogus"], ["--observation-delay-ms", "-1"], ["--io"]]) {
      const r = spawnSync(process.execPath, [MAIN, "--socket", join(dir, "x.sock"), ...args], { encoding: "utf8" });
      assert.equal(r.status, 2, args.join(" "));
      assert.match(r.stderr, /^fabric agent: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });

  it("takes --observation-delay-ms from 0 to 1000, and refuses anything else in one line", async () => {
    assert.equal((await startAndRead(["--observation-delay-ms", "0"])).ready.observationDelayMs, 0);
    for (const bad of ["-1", "1.5", "2ms", "1001"]) {
      const r = spawnSync(process.execPath, [MAIN, "--socket", join(dir, "x.sock"), `--observation-delay-ms=${bad}`], {
        encoding: "utf8",
      });
      assert.equal(r.status, 2);
      assert.equal(r.stderr, `fabric agent: --observation-delay-ms expects an integer from 0 to 1000, got "${bad}"\n`);
    }
  });

  it("takes --rx-moderation-us (0: off) and --rx-moderation-frames, and refuses anything else in one line", async () => {
    const set = await startAndRead(["--rx-moderation-us", "250", "--rx-moderation-frames", "16"]);
    assert.deepEqual(set.ready.rxModeration, { holdUs: 250, minFrames: 16 });
    assert.equal((await startAndRead(["--rx-moderation-us", "0"])).ready.rxModeration, null);
    for (const [option, bad, range] of [
      ["rx-moderation-us", "-1", "0 to 100000"],
      ["rx-moderation-us", "100001", "0 to 100000"],
      ["rx-moderation-us", "0.5", "0 to 100000"],
      ["rx-moderation-frames", "0", "1 to 512"],
      ["rx-moderation-frames", "513", "1 to 512"],
      ["rx-moderation-frames", "x", "1 to 512"],
    ] as const) {
      const r = spawnSync(process.execPath, [MAIN, "--socket", join(dir, "x.sock"), `--${option}=${bad}`], {
        encoding: "utf8",
      });
      assert.equal(r.status, 2, `${option} ${bad}`);
      assert.equal(r.stderr, `fabric agent: --${option} expects an integer from ${range}, got "${bad}"\n`);
    }
  });

  it("polices ARP and broadcast per vNIC by default; takes --police-* rates and bursts, 0 pps: off", async () => {
    const defaults = await startAndRead([]);
    assert.deepEqual(defaults.ready.policing, {
      arpPerSecond: 200,
      arpBurst: 400,
      broadcastPerSecond: 1000,
      broadcastBurst: 2000,
    });
    const set = await startAndRead(["--police-arp-pps", "50", "--police-arp-burst", "60", "--police-broadcast-pps=0"]);
    assert.deepEqual(set.ready.policing, {
      arpPerSecond: 50,
      arpBurst: 60,
      broadcastPerSecond: 0,
      broadcastBurst: 2000,
    });
    const off = await startAndRead(["--police-arp-pps", "0", "--police-broadcast-pps", "0"]);
    assert.equal(off.ready.policing, null);
    for (const [args, message] of [
      [["--police-arp-pps=-3"], 'fabric agent: --police-arp-pps expects an integer from 0 to 10000000, got "-3"'],
      [
        ["--police-broadcast-burst", "1e3"],
        'fabric agent: --police-broadcast-burst expects an integer from 0 to 10000000, got "1e3"',
      ],
      [
        ["--police-arp-burst", "0"],
        "fabric agent: --police-arp-burst must be at least 1 when --police-arp-pps is not 0",
      ],
    ] as const) {
      const r = spawnSync(process.execPath, [MAIN, "--socket", join(dir, "x.sock"), ...args], { encoding: "utf8" });
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stderr, `${message}\n`);
    }
  });

  it("says on its way out why it went: stopping on SIGTERM, then its exit code", async () => {
    const socket = join(dir, "exit.sock");
    const child = spawn(process.execPath, [MAIN, "--socket", socket], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    for (let i = 0; i < 400 && !out.includes('"ready":true'); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    const lines = out.trim().split("\n").slice(1);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      [
        { stopping: true, signal: "SIGTERM" },
        { exited: true, code: 0 },
      ],
    );
  });
});
