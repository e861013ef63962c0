// The console's static handler on a real API server: content types, cache headers, no way out of dist/,
// a helpful 503 before the console is built, and the API's own paths left alone.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildApiServer, openControlService, type ControlService } from "@havip/control";
import { containedPath, contentTypeOf, NOT_BUILT_MESSAGE, registerConsoleRoute } from "./console-route.ts";
import { resolveDatabase } from "./database-url.ts";

let root: string;
let service: ControlService;
const servers: { close(): Promise<unknown> }[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), "havipd-console-route-"));
  const dist = join(root, "dist");
  await mkdir(join(dist, "assets"), { recursive: true });
  await writeFile(join(dist, "index.html"), "<!doctype html><title>havip</title>");
  await writeFile(join(dist, "assets", "index-3f2a9c.js"), "console.log(1)");
  await writeFile(join(dist, "assets", "index-3f2a9c.css"), "body{}");
  await writeFile(join(root, "secret.txt"), "not for the web");
  service = await openControlService({
    databaseUrl: resolveDatabase(undefined, root).url,
    operatorToken: "console-route-operator-token",
  });
});

after(async () => {
  for (const s of servers) await s.close();
  await service.close();
  await rm(root, { recursive: true, force: true });
});

async function serve(dir: string): Promise<string> {
  const app = await buildApiServer({ service, logger: false });
  registerConsoleRoute(app, dir);
  await app.listen({ host: "127.0.0.1", port: 0 });
  servers.push(app);
  const address = app.server.address();
  assert.ok(address !== null && typeof address === "object");
  return `http://127.0.0.1:${address.port}`;
}

test("contentTypeOf knows the bundle's file kinds", () => {
  assert.equal(contentTypeOf("a/index-1.js"), "text/javascript; charset=utf-8");
  assert.equal(contentTypeOf("x.CSS"), "text/css; charset=utf-8");
  assert.equal(contentTypeOf("x.svg"), "image/svg+xml");
  assert.equal(contentTypeOf("x.unknown"), "application/octet-stream");
});

test("containedPath refuses every way out of the directory", () => {
  assert.equal(containedPath("/srv/dist/assets", "a.js"), "/srv/dist/assets/a.js");
  assert.equal(containedPath("/srv/dist/assets", "sub/a.js"), "/srv/dist/assets/sub/a.js");
  for (const bad of ["", "..", "../index.html", "../../secret.txt", "/etc/passwd", "a/../../x", "a\0.js", "..\\x"]) {
    assert.equal(containedPath("/srv/dist/assets", bad), null, bad);
  }
});

test("serves index.html at / and hashed assets with long-lived caching", async () => {
  const url = await serve(join(root, "dist"));
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("cache-control"), "no-cache");
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.match(await page.text(), /<title>havip<\/title>/);

  const js = await fetch(`${url}/assets/index-3f2a9c.js`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(await js.text(), "console.log(1)");
  const css = await fetch(`${url}/assets/index-3f2a9c.css`);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  await css.text();

  const missing = await fetch(`${url}/assets/nope.js`);
  assert.equal(missing.status, 404);
  await missing.text();
  for (const sneaky of [
    "/assets/..%2findex.html",
    "/assets/..%2f..%2fsecret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
  ]) {
    const r = await fetch(`${url}${sneaky}`);
    const body = await r.text();
    assert.equal(r.status, 404, sneaky);
    assert.doesNotMatch(body, /not for the web/);
  }
});

test("the API's own paths are not shadowed", async () => {
  const url = await serve(join(root, "dist"));
  const health = await fetch(`${url}/v1/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, "ok");
  const openapi = await fetch(`${url}/openapi.json`);
  assert.equal(openapi.status, 200);
  await openapi.text();
  const unknown = await fetch(`${url}/v1/nothing-here`);
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, "NotFound");
});

test("before the console is built, / answers 503 saying how to build it", async () => {
  const url = await serve(join(root, "not-built"));
  const r = await fetch(`${url}/`);
  assert.equal(r.status, 503);
  assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await r.text(), NOT_BUILT_MESSAGE);
  assert.match(NOT_BUILT_MESSAGE, /npm run build/);
  assert.equal(await fetch(`${url}/assets/index-3f2a9c.js`).then(async (a) => (await a.text(), a.status)), 404);
});
