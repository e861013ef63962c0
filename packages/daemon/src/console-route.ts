// Serves the web console's built files (packages/console/dist) at `/`: index.html, and the hashed bundles
// under /assets/ that vite names by content, so they may be cached for good. The console is a single page
// with hash routing, so no other path is needed and /v1/*, /docs and /metrics stay the API's.
import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import type { buildApiServer } from "@havip/control";

type ApiServer = Awaited<ReturnType<typeof buildApiServer>>;
/** The part of fastify's reply this handler uses (the daemon does not depend on fastify itself). */
interface Reply {
  code(status: number): Reply;
  header(name: string, value: string): Reply;
  type(contentType: string): Reply;
  send(body: string | Buffer): Reply;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Only our own origin: the console talks to the API it was served by, and is never framed. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const NOT_BUILT_MESSAGE =
  "The web console is not built: run `npm run build` in the havip checkout, then reload.\n";

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/**
 * The file under `root` that `relative` names, or null when it would leave `root` (`..`, absolute paths,
 * encoded NULs) — the one check that keeps this handler from serving the rest of the disk.
 */
export function containedPath(root: string, relative: string): string | null {
  if (relative === "" || relative.includes("\0") || relative.includes("\\")) return null;
  const base = resolve(root);
  const full = resolve(base, relative);
  return full.startsWith(base + sep) ? full : null;
}

async function fileOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch {
    return null; // missing, a directory, unreadable: all "not here"
  }
}

function secure(reply: Reply): Reply {
  return reply
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("content-security-policy", CONTENT_SECURITY_POLICY);
}

function notFound(reply: Reply, path: string): Reply {
  return reply.code(404).type("text/plain; charset=utf-8").send(`No console file ${path}.\n`);
}

/** Registers `/` and `/assets/*` on the API server; `dir` is the console's build output. */
export function registerConsoleRoute(app: ApiServer, dir: string): void {
  const page = async (_request: unknown, reply: Reply): Promise<Reply> => {
    const html = await fileOrNull(join(dir, "index.html"));
    if (html === null) {
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .header("cache-control", "no-store")
        .send(NOT_BUILT_MESSAGE);
    }
    // index.html names the current bundles: always revalidate it, so a rebuilt console is picked up.
    return secure(reply).type(CONTENT_TYPES[".html"]!).header("cache-control", "no-cache").send(html);
  };
  app.get("/", page);
  app.get("/index.html", page);

  app.get<{ Params: { "*": string } }>("/assets/*", async (request, reply) => {
    const name = request.params["*"];
    const path = containedPath(join(dir, "assets"), name);
    if (path === null) return notFound(reply, `/assets/${name}`);
    const body = await fileOrNull(path);
    if (body === null) return notFound(reply, `/assets/${name}`);
    // vite puts a content hash in every asset's name: a changed file gets a new name.
    return secure(reply)
      .type(contentTypeOf(path))
      .header("cache-control", "public, max-age=31536000, immutable")
      .send(body);
  });
}
