// Test helpers: run the CLI in-process against a fake API (a routing function instead of a server).
import type { CliEnvironment } from "./environment.ts";
import { runCli } from "./cli.ts";

export interface RecordedRequest {
  method: string;
  origin: string; // scheme, host and port the request went to
  path: string; // without the query
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

export type Answer = { status: number; body?: unknown } | { stream: string[] } | Error;
export type Route = (request: RecordedRequest) => Answer | undefined;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  requests: RecordedRequest[];
}

export function fakeFetch(route: Route, requests: RecordedRequest[]): typeof fetch {
  const impl: typeof fetch = (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const text = typeof init?.body === "string" ? init.body : undefined;
    const request: RecordedRequest = {
      method: init?.method ?? "GET",
      origin: url.origin,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers,
      body: text === undefined ? undefined : (JSON.parse(text) as unknown),
    };
    requests.push(request);
    const answer = route(request) ?? {
      status: 404,
      body: { error: { code: "NotFound", message: `no route ${request.method} ${request.path}`, requestId: "r" } },
    };
    if (answer instanceof Error) return Promise.reject(answer);
    if ("stream" in answer) {
      const encoder = new TextEncoder();
      const chunks = answer.stream;
      return Promise.resolve(
        new Response(
          new ReadableStream({
            start(controller) {
              for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
              controller.close();
            },
          }),
          { status: 200, headers: { "content-type": "text/event-stream" } },
        ),
      );
    }
    const body = answer.body === undefined ? null : JSON.stringify(answer.body);
    return Promise.resolve(new Response(answer.status === 204 ? null : body, { status: answer.status }));
  };
  return impl;
}

export async function runWith(
  argv: string[],
  route: Route,
  options: { env?: Record<string, string | undefined>; homeDir?: string; signal?: AbortSignal } = {},
): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const requests: RecordedRequest[] = [];
  let keys = 0;
  const environment: CliEnvironment = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    // No config file unless a test asks for one.
    env: { HAVIP_CONFIG: "/nonexistent/havip-test/config.json", ...options.env },
    fetch: fakeFetch(route, requests),
    homeDir: options.homeDir ?? "/nonexistent",
    newIdempotencyKey: () => `key-${++keys}`,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await runCli(argv, environment);
  return { code, stdout, stderr, requests };
}

export function apiError(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message, requestId: "req-1" } } };
}

export function connectionRefused(): Error {
  return new TypeError("fetch failed", {
    cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7480"), { code: "ECONNREFUSED" }),
  });
}
