// havip capture: the request it sends, the pcap it writes (to a file or to stdout), progress on stderr, errors.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../cli.ts";
import type { CliEnvironment } from "../environment.ts";

const PCAP = Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, ...new Array<number>(16).fill(0)]);
const HAVIP_ID = "havip-0123456789abcdef0";

interface Seen {
  path: string;
  body: unknown;
  authorization: string | null;
}

async function run(argv: string[], answer: () => Response) {
  const seen: Seen[] = [];
  let stderr = "";
  const stdout: (string | Uint8Array)[] = [];
  const environment: CliEnvironment = {
    stdout: { write: (x: string | Uint8Array) => stdout.push(x) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { HAVIP_CONFIG: "/nonexistent/havip-test/config.json", HAVIP_API: "http://127.0.0.1:9", HAVIP_TOKEN: "t0k" },
    fetch: (input, init) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      const headers = new Headers(init?.headers);
      seen.push({
        path: url.pathname,
        body: typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined,
        authorization: headers.get("authorization"),
      });
      if (url.pathname === "/v1/havips") {
        return Promise.resolve(Response.json({ items: [{ id: HAVIP_ID, name: "db" }], nextCursor: null }));
      }
      return Promise.resolve(answer());
    },
    homeDir: "/nonexistent",
    newIdempotencyKey: () => "k",
  };
  const code = await runCli(argv, environment);
  return { code, seen, stderr, stdout };
}

const pcapAnswer = (frames: number) => () =>
  new Response(PCAP, {
    status: 200,
    headers: { "content-type": "application/vnd.tcpdump.pcap", "x-capture-frames": String(frames) },
  });

test("capture resolves a HAVIP name, sends count and timeout, writes the pcap and reports the frames", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "havip-capture-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "x.pcap");
  const r = await run(["capture", "db", "--count", "50", "-w", file, "--timeout", "20"], pcapAnswer(7));
  assert.equal(r.code, 0, r.stderr);
  const post = r.seen.find((s) => s.path === "/v1/captures");
  assert.ok(post !== undefined);
  assert.deepEqual(post.body, { target: HAVIP_ID, count: 50, timeoutMs: 20_000 });
  assert.equal(post.authorization, "Bearer t0k");
  assert.deepEqual(new Uint8Array(await readFile(file)), PCAP);
  assert.match(r.stderr, new RegExp(`capturing on ${HAVIP_ID}: up to 50 frames`));
  assert.match(r.stderr, /7 frames written to .*x\.pcap/);
});

test("capture -w - writes the bytes to stdout; vNIC ids and internet are not looked up; defaults apply", async () => {
  const r = await run(["capture", "eni-0123456789abcdef0", "-w", "-"], pcapAnswer(0));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout, [PCAP]);
  assert.deepEqual(
    r.seen.map((s) => s.path),
    ["/v1/captures"],
  );
  assert.deepEqual(r.seen[0]?.body, { target: "eni-0123456789abcdef0", count: 100, timeoutMs: 10_000 });
  const inet = await run(["capture", "internet", "-w", "-"], pcapAnswer(0));
  assert.deepEqual(inet.seen[0]?.body, { target: "internet", count: 100, timeoutMs: 10_000 });
});

test("capture reports API errors (exit 1) and bad options (exit 2)", async () => {
  const refused = await run(["capture", "internet", "-w", "-"], () =>
    Response.json(
      { error: { code: "Forbidden", message: "needs the operator token", requestId: "r" } },
      { status: 403 },
    ),
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Forbidden/);
  assert.deepEqual(refused.stdout, []);
  assert.equal((await run(["capture", "internet", "-w", "-", "--count", "0"], pcapAnswer(0))).code, 2);
  assert.equal((await run(["capture", "internet", "-w", "-", "--timeout", "301"], pcapAnswer(0))).code, 2);
  assert.equal((await run(["capture", "internet"], pcapAnswer(0))).code, 2);
});
