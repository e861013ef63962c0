import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isLabError } from "./errors.ts";
import { isRunning, stopProcessTree, waitUntil } from "./proc.ts";
import { readLog, spawnLogged, waitForLog } from "./processes.ts";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "havip-processes-"));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test("a spawned process logs to its file and is found by its log line", async (t) => {
  const logFile = join(tempDir(t), "svc.log");
  const p = spawnLogged(
    [process.execPath, "-e", "console.log('ready 42'); console.error('on stderr'); setInterval(() => {}, 1000)"],
    {
      logFile,
    },
  );
  assert.ok(p.identity !== null);
  const match = await waitForLog(logFile, /ready (\d+)/, 5000, p.identity);
  assert.equal(match[1], "42");
  await waitForLog(logFile, /on stderr/, 5000, p.identity);
  assert.deepEqual(await stopProcessTree(p.identity, 2000), { how: "term" });
  assert.equal(isRunning(p.identity), false);
});

test("waitForLog fails early, quoting the log, when the process exits first", async (t) => {
  const logFile = join(tempDir(t), "broken.log");
  const p = spawnLogged([process.execPath, "-e", "console.error('boom: bad config'); process.exit(1)"], { logFile });
  const started = Date.now();
  await assert.rejects(waitForLog(logFile, /never/, 10_000, p.identity), (e) => {
    assert.ok(isLabError(e, "Lab.ProcessFailed"));
    assert.match(e.message, /exited before it printed.*boom: bad config/s);
    return true;
  });
  assert.ok(Date.now() - started < 5000, "did not wait for the timeout");
});

test("waitForLog times out with the log's tail", async (t) => {
  const logFile = join(tempDir(t), "quiet.log");
  const p = spawnLogged([process.execPath, "-e", "console.log('something else'); setInterval(() => {}, 1000)"], {
    logFile,
  });
  assert.ok(p.identity !== null);
  t.after(() => stopProcessTree(p.identity ?? { pid: 0, startTime: 0 }, 1000));
  // Its line first: on a loaded machine Node may take longer than the timeout under test just to start.
  await waitForLog(logFile, /something else/, 10_000, p.identity);
  await assert.rejects(waitForLog(logFile, /ready/, 300, p.identity), /did not print, within 300 ms.*something else/s);
});

test("waitForLog reads from an offset, so an older run's lines do not count", async (t) => {
  const logFile = join(tempDir(t), "again.log");
  const first = spawnLogged([process.execPath, "-e", "console.log('ready')"], { logFile, keepAlive: true });
  await waitForLog(logFile, /ready/, 5000);
  const offset = Buffer.byteLength(readLog(logFile));
  assert.ok(offset > 0 && first.stdin === null);
  await assert.rejects(waitForLog(logFile, /ready/, 200, undefined, offset), /did not print/);
});

test("stdin may be a pipe; closing it is how the caller says goodbye", async (t) => {
  const logFile = join(tempDir(t), "pipe.log");
  const p = spawnLogged(
    [
      process.execPath,
      "-e",
      "process.stdin.on('data', d => console.log('got ' + d)); process.stdin.on('end', () => process.exit(0))",
    ],
    { logFile, stdin: "pipe", keepAlive: true },
  );
  assert.ok(p.stdin !== null && p.identity !== null);
  p.stdin.write("hello\n");
  await waitForLog(logFile, /got hello/, 5000, p.identity);
  p.stdin.end();
  const identity = p.identity;
  assert.ok(await waitUntil(() => !isRunning(identity), 5000), "the process exits when its stdin closes");
});
