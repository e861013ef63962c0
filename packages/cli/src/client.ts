// The API over HTTP with the global fetch. API errors become ApiRequestError (code, message); failures to
// reach havipd become one ConnectionError line. Creates carry an Idempotency-Key, so the client's own
// retry after a dropped connection (and a user's retry with --idempotency-key) cannot create twice.
import { ApiRequestError, ConnectionError } from "./errors.ts";

export const REQUEST_TIMEOUT_MS = 30_000;
const RETRIES_AFTER_DROPPED_CONNECTION = 2;

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Set on creates: the same key is sent on every attempt. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

export class ApiClient {
  readonly api: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(api: string, token: string | undefined, fetchImpl: typeof fetch) {
    this.api = api;
    this.#token = token;
    this.#fetch = fetchImpl;
  }

  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.size > 0 ? `?${params.toString()}` : "";
    return `${this.api}${path}${search}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": "havip-cli", ...extra };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    return headers;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, query === undefined ? {} : { query });
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers = this.headers(options.headers);
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    // Safe to repeat: reads, and creates that carry an idempotency key.
    const repeatable = method === "GET" || options.idempotencyKey !== undefined;
    const url = this.url(path, options.query);
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          headers,
          body: options.body === undefined ? null : JSON.stringify(options.body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (e) {
        if (repeatable && attempt < RETRIES_AFTER_DROPPED_CONNECTION && connectionDropped(e)) continue;
        throw this.connectionError(e);
      }
      return (await this.#read(response)) as T;
    }
  }

  /** Every item of a list endpoint, page after page. */
  async listAll<T>(path: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get<PageOf<T>>(path, { ...query, limit: 1000, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return items;
  }

  async #read(response: Response): Promise<unknown> {
    const text = await response.text().catch((e: unknown) => {
      throw this.connectionError(e);
    });
    if (response.ok) {
      if (text === "") return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new ConnectionError(`the answer from ${this.api} is not JSON (is it havipd?)`);
      }
    }
    throw errorFromResponse(response.status, response.statusText, text);
  }

  connectionError(e: unknown): ConnectionError {
    return new ConnectionError(`cannot reach havipd at ${this.api}: ${connectionReason(e)}`);
  }
}

export function errorFromResponse(status: number, statusText: string, text: string): ApiRequestError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } };
    const error = body.error;
    if (error && typeof error.code === "string") {
      const message = typeof error.message === "string" ? error.message : "";
      const requestId = typeof error.requestId === "string" ? error.requestId : undefined;
      return new ApiRequestError(error.code, message, status, requestId);
    }
  } catch {
    // not the API's error body: a proxy or another server answered
  }
  return new ApiRequestError(`HTTP${status}`, statusText === "" ? `the server answered ${status}` : statusText, status);
}

function causeCode(e: unknown): string | undefined {
  for (let current: unknown = e, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    if (current instanceof AggregateError) current = current.errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function connectionDropped(e: unknown): boolean {
  const code = causeCode(e);
  return code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE";
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "unknown host",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
  ERR_SSL_WRONG_VERSION_NUMBER: "TLS handshake failed (is the API served over plain http?)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
};

export function connectionReason(e: unknown): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const code = causeCode(e);
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  const cause = (e as { cause?: unknown }).cause;
  const message = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
  return message === "" ? (code ?? "unknown error") : message;
}
