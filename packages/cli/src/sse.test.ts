import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SseParser, type ServerSentEvent } from "./sse.ts";

const STREAM =
  ': heartbeat\n\nretry: 1000\n\nid: 1\nevent: created\ndata: {"revision":1}\n\n' +
  "id: 2\r\nevent: updated\r\ndata: line one\r\ndata: line two\r\n\r\ndata:no-space\n\n";

function parseAll(chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

const EXPECTED: ServerSentEvent[] = [
  { id: "1", event: "created", data: '{"revision":1}' },
  { id: "2", event: "updated", data: "line one\nline two" },
  { id: "2", event: "message", data: "no-space" },
];

test("parses ids, event names, multi-line data, CRLF, and skips comments and retry frames", () => {
  assert.deepEqual(parseAll([STREAM]), EXPECTED);
});

test("the result does not depend on how the stream is split into chunks (property)", () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: STREAM.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set([0, ...cuts, STREAM.length])].sort((a, b) => a - b);
      const chunks = points.slice(1).map((end, i) => STREAM.slice(points[i], end));
      assert.deepEqual(parseAll(chunks), EXPECTED);
    }),
  );
});

test("an event is not emitted before its terminating blank line", () => {
  assert.deepEqual(parseAll(["id: 5\ndata: x\n"]), []);
});
