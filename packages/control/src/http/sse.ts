// Server-sent events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html) for the
// change log: one event per committed change, `id` = revision so that a reconnecting client's
// Last-Event-ID is exactly the `since` to resume from.
import type { ChangeEvent } from "../model.ts";
import type { Actor } from "../service.ts";

/** One change as an SSE frame. JSON.stringify never emits a raw newline, so `data` is one line. */
export function eventFrame(event: ChangeEvent): string {
  return `id: ${event.revision}\nevent: ${event.action}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A comment line: ignored by clients, keeps proxies and idle timers from closing the stream. */
export function commentFrame(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** An `error` event telling the client why the server ends the stream (it should reconnect). */
export function errorFrame(body: unknown): string {
  return `event: error\ndata: ${JSON.stringify(body)}\n\n`;
}

export function retryFrame(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** Which changes a caller sees: the operator all of them, a project only its own resources'. */
export function visibleTo(actor: Actor, event: ChangeEvent): boolean {
  return actor.kind === "operator" || event.projectId === actor.projectId;
}

/** The revision in a Last-Event-ID header, null when absent; throws on a value that is not a revision. */
export function parseLastEventId(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  if (value === undefined || value.trim() === "") return null;
  if (!/^\d{1,15}$/.test(value.trim())) throw new RangeError("Last-Event-ID must be a revision number");
  return Number(value.trim());
}

/**
 * Joins the backlog (read page by page from the log) and the live feed (pushed after each commit) into
 * one gap-free, duplicate-free sequence. The caller subscribes to the live feed *before* reading the
 * backlog and hands every live event to `live()`: while the backlog is being read they are buffered;
 * `drained()` flushes the buffer; afterwards live events pass straight through. Anything at or below
 * the last revision already emitted is dropped, so an event that is both in the backlog and in the live
 * feed goes out once, and the output is in revision order.
 */
export class ChangeMerger {
  #last: number;
  #buffer: ChangeEvent[] = [];
  #draining = true;
  readonly #emit: (event: ChangeEvent) => void;

  constructor(since: number, emit: (event: ChangeEvent) => void) {
    this.#last = since;
    this.#emit = emit;
  }

  get lastRevision(): number {
    return this.#last;
  }

  backlog(event: ChangeEvent): void {
    this.#pass(event);
  }

  live(event: ChangeEvent): void {
    if (this.#draining) this.#buffer.push(event);
    else this.#pass(event);
  }

  drained(): void {
    const buffered = this.#buffer;
    this.#buffer = [];
    this.#draining = false;
    for (const event of buffered) this.#pass(event);
  }

  #pass(event: ChangeEvent): void {
    if (event.revision <= this.#last) return;
    this.#last = event.revision;
    this.#emit(event);
  }
}
