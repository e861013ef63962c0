import assert from "node:assert/strict";
import { test } from "node:test";
import { isLabError } from "./errors.ts";
import { commandLine, run, runResult } from "./run.ts";

const node = process.execPath;

test("run resolves with stdout and stderr of a command that exits 0", async () => {
  const r = await run(node, ["-e", "process.stdout.write('out'); process.stderr.write('err')"]);
  assert.deepEqual(r, { stdout: "out", stderr: "err", code: 0 });
});

test("run passes input on stdin", async () => {
  const r = await run(node, ["-e", "process.stdin.pipe(process.stdout)"], { input: "hello" });
  assert.equal(r.stdout, "hello");
});

test("a failing command is an error naming the command, its exit code and its stderr", async () => {
  await assert.rejects(
    run(node, ["-e", "console.error('it broke: badly'); process.exit(3)", "arg with space"]),
    (e) => {
      assert.ok(isLabError(e, "Lab.CommandFailed"));
      assert.match(e.message, /-e 'console\.error\(.*' 'arg with space' exited with code 3: it broke: badly$/);
      return true;
    },
  );
});

test("runResult resolves with a non-zero exit code instead of throwing", async () => {
  const r = await runResult(node, ["-e", "process.exit(7)"]);
  assert.equal(r.code, 7);
});

test("a command that runs too long is killed and reported", async () => {
  const started = Date.now();
  await assert.rejects(run(node, ["-e", "setTimeout(() => {}, 10000)"], { timeoutMs: 200 }), (e) => {
    assert.ok(isLabError(e, "Lab.CommandTimedOut"));
    assert.match(e.message, /did not finish within 200 ms/);
    return true;
  });
  assert.ok(Date.now() - started < 5000);
});

test("a program that is not installed is Lab.ProgramMissing", async () => {
  await assert.rejects(run("havip-no-such-program", []), (e) => isLabError(e, "Lab.ProgramMissing"));
});

test("commandLine quotes what a shell would split", () => {
  assert.equal(commandLine("ip", ["-n", "hvl-vm-a", "addr"]), "ip -n hvl-vm-a addr");
  assert.equal(commandLine("sh", ["-c", "echo 'x' y"]), `sh -c 'echo '\\''x'\\'' y'`);
  assert.equal(commandLine("x", [""]), "x ''");
});
