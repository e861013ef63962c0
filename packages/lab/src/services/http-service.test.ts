import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { httpAnswer, plainIpv4, startHttpService } from "./http-service.ts";

test("the HTTP service answers every request with the instance's name and the local address", async (t) => {
  const server = await startHttpService({ name: "vm-a", host: "127.0.0.1", port: 0 });
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  for (const path of ["/", "/anything?x=1"]) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("connection"), "close", "one connection per request, so failover shows");
    assert.equal(await response.text(), "vm-a 127.0.0.1\n");
  }
  const post = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x".repeat(100_000) });
  assert.equal(await post.text(), "vm-a 127.0.0.1\n");
});

test("answers and addresses are plain", () => {
  assert.equal(httpAnswer("vm-b", "::ffff:10.0.0.100"), "vm-b 10.0.0.100\n");
  assert.equal(httpAnswer("vm-b", undefined), "vm-b unknown\n");
  assert.equal(plainIpv4("10.0.0.1"), "10.0.0.1");
});

test("as a program it prints where it listens, and refuses to run without a name", async (t) => {
  const script = fileURLToPath(new URL("./http-service.ts", import.meta.url));
  const usage = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [script], (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : child.exitCode, stderr });
    });
  });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: http-service\.ts --name/);
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [script, "--name", "vm-z", "--host", "127.0.0.1", "--port", "0"]);
  t.after(() => child.kill());
  const line = await new Promise<string>((resolve) =>
    child.stdout.once("data", (d: Buffer) => {
      resolve(d.toString());
    }),
  );
  const port = (JSON.parse(line) as { listening: { port: number } }).listening.port;
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "vm-z 127.0.0.1\n");
});
