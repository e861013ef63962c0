// A small reader for server-sent events (the subset havipd sends: id, event, data, retry, comments).

export interface ServerSentEvent {
  id: string | undefined;
  event: string; // "message" when the frame names none
  data: string;
}

/** Splits a text stream into events. Feed it chunks; it calls `onEvent` for every complete event. */
export class SseParser {
  #buffer = "";
  #id: string | undefined;
  #event = "";
  #data: string[] = [];
  readonly #onEvent: (event: ServerSentEvent) => void;

  constructor(onEvent: (event: ServerSentEvent) => void) {
    this.#onEvent = onEvent;
  }

  push(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) return;
      // A lone "\r" at the end may be the first half of "\r\n": wait for the next chunk.
      if (match[0] === "\r" && match.index === this.#buffer.length - 1) return;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length > 0) {
        this.#onEvent({
          id: this.#id,
          event: this.#event === "" ? "message" : this.#event,
          data: this.#data.join("\n"),
        });
      }
      this.#event = "";
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return; // a comment (heartbeat)
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#id = value;
    // "retry" and unknown fields: ignored (the CLI reconnects on its own schedule).
  }
}
