import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseInvocation, UsageError, type DaemonOptions } from "./options.ts";

function run(argv: string[], env: NodeJS.ProcessEnv = {}): DaemonOptions {
  const invocation = parseInvocation(argv, env, "/home/op");
  if (invocation.kind !== "run") assert.fail(`expected a run, got ${invocation.kind}`);
  return invocation.options;
}

test("defaults: loopback port 7480, ./data, SQLite file in the data dir, level info", () => {
  const o = run([]);
  assert.deepEqual(o.listen, { host: "127.0.0.1", port: 7480 });
  assert.equal(o.dataDir, "/home/op/data");
  assert.equal(o.database.kind, "sqlite");
  assert.equal(o.database.url, join("/home/op/data", "havip.db"));
  assert.equal(o.logLevel, "info");
  assert.equal(o.logFormat, "auto");
  assert.equal(o.operatorTokenFromEnv, undefined);
});

test("flags override the environment, which overrides the defaults", () => {
  const env = { HAVIP_DATA_DIR: "/var/lib/havip", HAVIP_ADMIN_TOKEN: "x".repeat(20) };
  assert.equal(run([], env).dataDir, "/var/lib/havip");
  assert.equal(run(["--data-dir", "state"], env).dataDir, "/home/op/state");
  assert.equal(run([], env).operatorTokenFromEnv, "x".repeat(20));
  const o = run(["--listen", "0.0.0.0:9000", "--database", "postgres://h/db", "--log-level", "debug"], env);
  assert.deepEqual(o.listen, { host: "0.0.0.0", port: 9000 });
  assert.equal(o.database.kind, "postgres");
  assert.equal(o.logLevel, "debug");
  assert.equal(run(["--data-dir=elsewhere"]).database.url, join("/home/op/elsewhere", "havip.db"));
});

test("help and version", () => {
  assert.deepEqual(parseInvocation(["--help"], {}, "/"), { kind: "help" });
  assert.deepEqual(parseInvocation(["-h"], {}, "/"), { kind: "help" });
  assert.deepEqual(parseInvocation(["--version"], {}, "/"), { kind: "version" });
  assert.deepEqual(parseInvocation(["-V"], {}, "/"), { kind: "version" });
});

test("usage errors name the problem in one line", () => {
  const cases: [string[], RegExp][] = [
    [["--listen", "7480"], /--listen expects HOST:PORT/],
    [["--log-level", "loud"], /--log-level must be one of/],
    [["--log-format", "xml"], /--log-format must be json or pretty/],
    [["--database", "mysql://db"], /--database .* is not supported/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["extra"], /Unexpected argument 'extra'/],
    [["--listen"], /--listen/],
  ];
  for (const [argv, pattern] of cases) {
    assert.throws(
      () => parseInvocation(argv, {}, "/"),
      (e: unknown) => e instanceof UsageError && pattern.test(e.message) && !e.message.includes("\n"),
      argv.join(" "),
    );
  }
});

test("--fabric-listen: off by default, HOST:PORT for the fabric's VXLAN port set", () => {
  assert.equal(run([]).fabricListen, null);
  assert.deepEqual(run(["--fabric-listen", "169.254.77.1:4789"]).fabricListen, { host: "169.254.77.1", port: 4789 });
  assert.throws(
    () => run(["--fabric-listen", "4789"]),
    (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /^--fabric-listen expects HOST:PORT/);
      return true;
    },
  );
});

test("--fabric-agent: an absolute Unix socket path, not together with --fabric-listen", () => {
  assert.equal(run([]).fabricAgent, null);
  assert.equal(run(["--fabric-agent", "unix:/run/havip/fabric.sock"]).fabricAgent, "/run/havip/fabric.sock");
  assert.throws(() => run(["--fabric-agent", "fabric.sock"]), UsageError);
  assert.throws(
    () => run(["--fabric-agent", "unix:/a.sock", "--fabric-listen", "127.0.0.1:4789"]),
    /exclude each other/,
  );
});

test("--lab-dir: off by default; a directory (resolved) and a prefix; not with --fabric-listen or --fabric-agent", () => {
  assert.equal(run([]).lab, null);
  assert.deepEqual(run(["--lab-dir", "data/lab"]).lab, { dir: "/home/op/data/lab", prefix: "hvl-" });
  assert.deepEqual(run(["--lab-dir", "/l", "--lab-prefix", "lab2-"]).lab, { dir: "/l", prefix: "lab2-" });
  const refused = (argv: string[], message: RegExp) => {
    assert.throws(
      () => parseInvocation(argv, {}, "/"),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  };
  refused(["--lab-dir", "/l", "--fabric-listen", "169.254.77.1:4789"], /leave out --fabric-listen/);
  refused(["--lab-dir", "/l", "--fabric-agent", "unix:/a.sock"], /leave out --fabric-listen and --fabric-agent/);
  refused(["--lab-dir", "/l", "--lab-prefix", "Bad"], /--lab-prefix must be/);
  refused(["--lab-prefix", "hvl-"], /--lab-prefix needs --lab-dir/);
  refused(["--lab-dir", ""], /--lab-dir is empty/);
});
