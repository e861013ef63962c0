import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { followEventStream, SseParser, type SseMessage, type StreamState } from "./sse.ts";

const STREAM =
  ': heartbeat\n\nid: 43\nevent: holder-changed\ndata: {"revision":43}\n\n' +
  "id: 44\r\nevent: created\r\ndata: a\r\ndata: b\r\n\r\n" +
  "data:no-space\n\n";

const EXPECTED: SseMessage[] = [
  { id: "43", event: "holder-changed", data: '{"revision":43}' },
  { id: "44", event: "created", data: "a\nb" },
  { id: "44", event: "message", data: "no-space" }, // the last id stays until a new one comes
];

test("SseParser reads the API's stream: ids, event names, multi-line data, comments, CRLF", () => {
  assert.deepEqual(new SseParser().push(STREAM), EXPECTED);
});

test("SseParser gives the same messages however the text is split into chunks", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const parser = new SseParser();
      const out: SseMessage[] = [];
      let from = 0;
      for (const at of [...points, STREAM.length]) {
        out.push(...parser.push(STREAM.slice(from, at)));
        from = at;
      }
      assert.deepEqual(out, EXPECTED);
    }),
  );
});

test("SseParser holds an unfinished message back until its blank line", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push("id: 1\ndata: x\n"), []);
  assert.deepEqual(parser.push("\n"), [{ id: "1", event: "message", data: "x" }]);
});

function streamOf(text: string): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    }),
  );
}

test("followEventStream reconnects after a drop with the last id it received", async () => {
  const opened: (string | null)[] = [];
  const messages: string[] = [];
  const states: StreamState[] = [];
  let stop: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    stop = followEventStream({
      open: (lastEventId) => {
        opened.push(lastEventId);
        if (opened.length === 1) return Promise.resolve(streamOf("id: 7\ndata: first\n\n"));
        if (opened.length === 2) return Promise.reject(new Error("connection refused"));
        resolve();
        return Promise.resolve(streamOf("id: 8\ndata: second\n\n"));
      },
      onMessage: (m) => messages.push(m.data),
      onState: (s) => states.push(s),
      sleep: () => new Promise((r) => setTimeout(r, 1)), // a real tick, so the test's own timers run
    });
  });
  await done;
  await new Promise((r) => setTimeout(r, 20));
  stop();
  assert.deepEqual(opened.slice(0, 3), [null, "7", "7"]);
  assert.deepEqual(messages.slice(0, 2), ["first", "second"]);
  assert.equal(states[0], "connecting");
  assert.ok(states.includes("live") && states.includes("reconnecting"));
});

test("followEventStream stops for good on a fatal error (a revoked token)", async () => {
  const states: StreamState[] = [];
  let calls = 0;
  const stopped = new Promise<void>((resolve) => {
    followEventStream({
      open: () => {
        calls++;
        return Promise.reject(new Error("401"));
      },
      onMessage: () => undefined,
      onState: (s) => {
        states.push(s);
        if (s === "stopped") resolve();
      },
      isFatal: () => true,
      sleep: () => Promise.resolve(),
    });
  });
  await stopped;
  assert.equal(calls, 1);
  assert.equal(states.at(-1), "stopped");
});
