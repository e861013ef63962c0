// Server-sent events over fetch. EventSource cannot send an Authorization header, so the console reads
// /v1/events with fetch and a stream reader, parses the text/event-stream format itself, and reconnects
// with Last-Event-ID after a drop — the API then continues exactly after the last event it delivered.

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** An incremental parser of the event-stream format (WHATWG HTML §9.2.6), fed arbitrary text chunks. */
export class SseParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];

  /** Feeds a chunk; returns the messages it completed. */
  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for the next chunk.
      if (this.buffer[end] === "\r" && end === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(this.buffer.startsWith("\r\n", end) ? end + 2 : end + 1);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return null;
      }
      const message = { id: this.id, event: this.event || "message", data: this.data.join("\n") };
      this.event = "";
      this.data = [];
      return message;
    }
    if (line.startsWith(":")) return null; // a comment (the API's heartbeat)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return null;
  }
}

export type StreamState = "connecting" | "live" | "reconnecting" | "stopped";

export interface EventStreamOptions {
  /** Opens the stream; `lastEventId` is null on the first connection. */
  open(lastEventId: string | null, signal: AbortSignal): Promise<Response>;
  onMessage(message: SseMessage): void;
  onState(state: StreamState, detail?: string): void;
  /** Whether to give up after this error (e.g. the token was revoked). */
  isFatal?(error: unknown): boolean;
  /** Delays between attempts, in ms: grows from the first to the last value. */
  backoffMs?: readonly number[];
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Reads the stream until stopped, reconnecting with the last id received. Returns a stop function. */
export function followEventStream(options: EventStreamOptions): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  const backoff = options.backoffMs ?? [500, 1000, 2000, 5000, 10_000];
  const sleep = (ms: number) => (options.sleep ? options.sleep(ms, signal) : abortableSleep(ms, signal));
  const stopped = () => signal.aborted; // a function: the flag changes across awaits
  let lastEventId: string | null = null;

  const run = async () => {
    let attempt = 0;
    while (!stopped()) {
      options.onState(attempt === 0 && lastEventId === null ? "connecting" : "reconnecting");
      try {
        const response = await options.open(lastEventId, signal);
        const body = response.body;
        if (body === null) throw new Error("the event stream has no body");
        const reader = body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        options.onState("live");
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          attempt = 0; // data flows: the next drop starts the backoff afresh
          for (const message of parser.push(value)) {
            if (message.id !== null) lastEventId = message.id;
            options.onMessage(message);
          }
        }
      } catch (e) {
        if (stopped()) break;
        if (options.isFatal?.(e) === true) {
          options.onState("stopped", e instanceof Error ? e.message : String(e));
          return;
        }
      }
      if (stopped()) break;
      const delay = backoff[Math.min(attempt, backoff.length - 1)] ?? 1000;
      attempt++;
      options.onState("reconnecting");
      await sleep(delay);
    }
    options.onState("stopped");
  };
  void run();
  return () => {
    controller.abort();
  };
}
