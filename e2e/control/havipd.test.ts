// havipd as an operator meets it: the generated operator token, one-line startup errors, graceful
// shutdown (in-flight requests finish, event streams close), a second signal, and the bin shims.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { freePort } from "@havip/testkit";
import { api, hasStackTrace, HAVIP, HAVIPD, OPERATOR_TOKEN, REPO, startHavipd, tempDir } from "./harness.ts";

/** Runs havipd to completion (for flags and startup errors). */
function runHavipd(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [HAVIPD, "--log-format", "json", ...args], {
    env: { ...process.env, HAVIP_ADMIN_TOKEN: OPERATOR_TOKEN, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function assertOneLineError(result: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.match(lines[0]!, /^havipd: /);
  assert.match(lines[0]!, pattern);
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
}

test(
  "without HAVIP_ADMIN_TOKEN the first start writes a 0600 token file, names its path, and a restart reuses it",
  { timeout: 60_000 },
  async (t) => {
    const dataDir = await tempDir(t, "havipd-token-");
    const first = await startHavipd(t, { dataDir, env: { HAVIP_ADMIN_TOKEN: undefined } });
    const path = join(dataDir, "admin-token");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const token = (await readFile(path, "utf8")).trim();
    assert.ok(first.stdout().includes(path), "the log names where the token is");
    assert.ok(!first.stdout().includes(token) && !first.stderr().includes(token), "the token itself is never logged");
    assert.equal((await api(first.url, token, "GET", "/v1/projects")).status, 200);
    assert.equal((await api(first.url, "not-the-token-at-all", "GET", "/v1/projects")).status, 401);
    assert.deepEqual(await first.stop(), { code: 0, signal: null });

    const second = await startHavipd(t, { dataDir, env: { HAVIP_ADMIN_TOKEN: undefined } });
    assert.equal((await readFile(path, "utf8")).trim(), token);
    assert.equal((await api(second.url, token, "GET", "/v1/projects")).status, 200);
    assert.match(second.stdout(), /operator token read from/);
    await second.stop();
  },
);

test("--help and --version", () => {
  const help = runHavipd(["--help"]);
  assert.equal(help.code, 0);
  for (const flag of ["--listen", "--data-dir", "--database", "--log-level", "HAVIP_ADMIN_TOKEN"])
    assert.ok(help.stdout.includes(flag), flag);
  const version = runHavipd(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^havipd \d+\.\d+\.\d+\n$/);
});

test(
  "startup errors are one line with a non-zero exit: usage, port in use, data dir, database",
  { timeout: 60_000 },
  async (t) => {
    const dataDir = await tempDir(t, "havipd-errors-");
    assertOneLineError(runHavipd(["--listen", "nowhere"]), 2, /--listen expects HOST:PORT/);
    assertOneLineError(runHavipd(["--bogus"]), 2, /Unknown option '--bogus'/);
    assertOneLineError(
      runHavipd(["--database", "mysql://root@db/havip", "--data-dir", dataDir]),
      2,
      /--database .* is not supported/,
    );

    // Port in use: something else listens there.
    const blocker = createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    assertOneLineError(
      runHavipd(["--listen", `127.0.0.1:${port}`, "--data-dir", dataDir]),
      1,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`),
    );

    // A data directory that cannot exist: a path through a regular file.
    const file = join(dataDir, "a-file");
    await writeFile(file, "");
    assertOneLineError(
      runHavipd(["--data-dir", join(file, "data"), "--listen", "127.0.0.1:0"], { HAVIP_ADMIN_TOKEN: "" }),
      1,
      /data directory .* cannot be created: a path component is not a directory/,
    );

    // PostgreSQL that is not there (a port nobody listens on); the password never shows.
    const closed = await freePort();
    const unreachable = runHavipd([
      "--database",
      `postgres://havip:sekret@127.0.0.1:${closed}/havip`,
      "--listen",
      "127.0.0.1:0",
    ]);
    assertOneLineError(
      unreachable,
      1,
      /cannot reach the database \(PostgreSQL postgres:\/\/havip:\*\*\*@127\.0\.0\.1:\d+\/havip\): connection refused/,
    );
    assert.ok(!unreachable.stderr.includes("sekret") && !unreachable.stdout.includes("sekret"));

    // A SQLite "database" that is not one.
    const notDb = join(dataDir, "not.db");
    await writeFile(notDb, "this is not a SQLite database, just text that is long enough to have a header".repeat(20));
    assertOneLineError(
      runHavipd(["--database", notDb, "--listen", "127.0.0.1:0", "--data-dir", dataDir]),
      1,
      /cannot open the database \(SQLite file .*not\.db\)/,
    );
  },
);

/** Opens a raw connection and sends a create whose body is only half there: an in-flight request. */
async function halfSentCreate(url: string, name: string): Promise<{ socket: Socket; finish: () => Promise<string> }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, "connect");
  const body = JSON.stringify({ name });
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /v1/projects HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${OPERATOR_TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`,
  );
  let answer = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (answer += chunk));
  const ended = once(socket, "close");
  return {
    socket,
    async finish() {
      socket.write(body.slice(half));
      await ended;
      return answer;
    },
  };
}

test(
  "SIGTERM: in-flight requests finish, event streams are closed, new connections are refused, exit 0",
  { timeout: 60_000 },
  async (t) => {
    const dataDir = await tempDir(t, "havipd-graceful-");
    const daemon = await startHavipd(t, { dataDir });

    const events = await fetch(`${daemon.url}/v1/events`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, accept: "text/event-stream" },
    });
    assert.equal(events.status, 200);
    const reader = events.body!.getReader();
    const inFlight = await halfSentCreate(daemon.url, "late");
    await new Promise((resolve) => setTimeout(resolve, 100)); // the request has reached the server

    daemon.child.kill("SIGTERM");
    // The event stream ends (after any frames already sent).
    const streamEnded = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    assert.equal(await streamEnded, true);
    // Still waiting for the half-sent request: havipd has not exited.
    const early = await Promise.race([
      daemon.exited,
      new Promise((resolve) => {
        setTimeout(() => {
          resolve("running");
        }, 300);
      }),
    ]);
    assert.equal(early, "running");
    await assert.rejects(fetch(`${daemon.url}/v1/health`), "no new connections while shutting down");

    const answer = await inFlight.finish();
    assert.match(answer, /^HTTP\/1\.1 201 /);
    assert.match(answer, /"name":"late"/);
    assert.deepEqual(await daemon.exited, { code: 0, signal: null });
    assert.match(daemon.stdout(), /havipd stopped/);
    assert.ok(!hasStackTrace(daemon.stderr()));

    // The request that finished during shutdown was committed.
    const again = await startHavipd(t, { dataDir });
    const projects = await api<{ items: { name: string }[] }>(again.url, OPERATOR_TOKEN, "GET", "/v1/projects");
    assert.deepEqual(
      projects.body.items.map((p) => p.name),
      ["late"],
    );
    await again.stop();
  },
);

test("a second signal during the shutdown exits at once", { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDir(t, "havipd-second-");
  const daemon = await startHavipd(t, { dataDir });
  const inFlight = await halfSentCreate(daemon.url, "never-finished");
  t.after(() => inFlight.socket.destroy());
  await new Promise((resolve) => setTimeout(resolve, 100));
  daemon.child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 600)); // past the window in which a repeat counts as the same signal
  const before = Date.now();
  daemon.child.kill("SIGINT");
  const exit = await daemon.exited;
  assert.deepEqual(exit, { code: 1, signal: null });
  assert.ok(Date.now() - before < 2000, "exits at once");
  assert.match(daemon.stdout(), /received again: exiting at once/);
});

/** A Node older than 24 on this machine, if any (the machines ship Node 20 as /usr/bin/node). */
function olderNode(): string | undefined {
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node"]) {
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
    if (Number(version.split(".")[0]) < 24) return candidate;
  }
  return undefined;
}

test("the bin shims run under an older system Node by re-executing with the repository's Node 24", async (t) => {
  const found = olderNode();
  if (found === undefined || !existsSync(join(REPO, ".tools/bin/node"))) {
    t.skip("no older Node or no .tools/bin/node on this machine: nothing to check");
    return;
  }
  const node: string = found;
  const checks: [string, RegExp][] = [
    [join(REPO, "node_modules/.bin/havip"), /^\d+\.\d+\.\d+\n$/],
    [join(REPO, "node_modules/.bin/havipd"), /^havipd \d+\.\d+\.\d+\n$/],
    [HAVIP, /^\d+\.\d+\.\d+\n$/],
  ];
  for (const [bin, pattern] of checks) {
    const result = spawnSync(node, [bin, "--version"], { encoding: "utf8" });
    assert.equal(result.status, 0, `${bin}: ${result.stderr}`);
    assert.match(result.stdout, pattern);
  }
  // The exit status of the real program comes through the shim.
  const usage = spawnSync(node, [HAVIP, "frob"], { encoding: "utf8" });
  assert.equal(usage.status, 2);
  // A signal reaches the real program: havipd under the shim stops cleanly on SIGTERM.
  const dataDir = await tempDir(t, "havipd-shim-");
  const port = await freePort();
  const child = spawn(node, [HAVIPD, "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir], {
    env: { ...process.env, HAVIP_ADMIN_TOKEN: OPERATOR_TOKEN },
    stdio: "ignore",
  });
  t.after(() => child.kill("SIGKILL"));
  const exited = once(child, "exit");
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/v1/health`).catch(() => undefined))?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGTERM");
  assert.deepEqual(await exited, [0, null]);
});
