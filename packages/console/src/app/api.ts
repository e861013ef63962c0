// A small client of havipd's API for the browser: bearer token on every call, JSON in and out, and the
// API's own error text kept as written (the console shows it to the user unchanged).
import type { Page } from "@havip/control";

/** An error answered by the API: its stable code and message, as the API wrote them. */
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  constructor(status: number, code: string, message: string, requestId: string | null) {
    super(message);
    this.name = "ApiFailure";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
  /** What the console prints: "Code: message". */
  get text(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** The text to show for anything a call threw (the API's error, or the network's). */
export function errorText(e: unknown): string {
  if (e instanceof ApiFailure) return e.text;
  if (e instanceof Error) return `Network error: ${e.message}`;
  return String(e);
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; requestId?: unknown };
}

/** Turns a failed response into an ApiFailure, tolerating bodies that are not the API's JSON. */
export async function failureOf(response: Response): Promise<ApiFailure> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as ErrorBody;
    const e = body.error;
    if (e && typeof e.code === "string" && typeof e.message === "string") {
      return new ApiFailure(response.status, e.code, e.message, typeof e.requestId === "string" ? e.requestId : null);
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return new ApiFailure(response.status, `HTTP ${response.status}`, text.trim() || response.statusText, null);
}

export type Fetch = typeof fetch;

/** A text field of a submitted form, trimmed ("" when absent or a file). */
export function formText(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === "string" ? value.trim() : "";
}

export class ApiClient {
  readonly token: string;
  private readonly base: string;
  private readonly fetchFn: Fetch;
  constructor(token: string, base = "", fetchFn: Fetch = (input, init) => fetch(input, init)) {
    this.token = token;
    this.base = base;
    this.fetchFn = fetchFn;
  }

  /** A raw authorised request (the event stream and the capture download need the Response itself). */
  async raw(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...init.headers };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const response = await this.fetchFn(`${this.base}${path}`, {
      method,
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      signal: init.signal ?? null,
    });
    if (!response.ok) throw await failureOf(response);
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.raw(method, path, body === undefined ? {} : { body });
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>("GET", path);
  }

  /** Every item of a paged list, following nextCursor. */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    const sep = path.includes("?") ? "&" : "?";
    do {
      const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const page: Page<T> = await this.get<Page<T>>(`${path}${sep}limit=1000${query}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  }
}
