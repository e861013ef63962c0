import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { ChangeEvent } from "../model.ts";
import { ChangeMerger, commentFrame, eventFrame, parseLastEventId, visibleTo } from "./sse.ts";

function change(revision: number, projectId: string | null = "proj-0123456789abcdef0"): ChangeEvent {
  return {
    revision,
    at: "2026-01-01T00:00:00.000Z",
    projectId,
    resource: "havip",
    id: "havip-0123456789abcdef0",
    action: "updated",
    data: { note: "line one\nline two" },
  };
}

/** Parses an SSE text into events the way a browser's EventSource would. */
function parseSse(text: string): { id?: string; event?: string; data: string }[] {
  const out: { id?: string; event?: string; data: string }[] = [];
  for (const block of text.split("\n\n")) {
    const fields: { id?: string; event?: string; data: string[] } = { data: [] };
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const [name, ...rest] = line.split(": ");
      const value = rest.join(": ");
      if (name === "id") fields.id = value;
      else if (name === "event") fields.event = value;
      else if (name === "data") fields.data.push(value);
    }
    if (fields.data.length > 0) out.push({ ...fields, data: fields.data.join("\n") });
  }
  return out;
}

describe("SSE framing", () => {
  it("an event frame carries id = revision, event = action and the change as one data line", () => {
    const frame = eventFrame(change(42));
    assert.ok(frame.endsWith("\n\n"));
    assert.equal(frame.split("\n").filter((l) => l.startsWith("data:")).length, 1);
    const parsed = parseSse(frame);
    assert.equal(parsed.length, 1);
    assert.deepEqual(
      parsed.map((e) => [e.id, e.event, JSON.parse(e.data) as unknown]),
      [["42", "updated", change(42)]],
    );
  });
  it("comments never break out of their line", () => {
    assert.equal(commentFrame("a\nevent: x\r\ndata: y"), ": a event: x data: y\n\n");
    assert.deepEqual(parseSse(commentFrame("a\ndata: y")), []);
  });
  it("Last-Event-ID: a revision, absent, or refused", () => {
    assert.equal(parseLastEventId(undefined), null);
    assert.equal(parseLastEventId(""), null);
    assert.equal(parseLastEventId("17"), 17);
    assert.equal(parseLastEventId(" 17 "), 17);
    assert.throws(() => parseLastEventId("abc"));
    assert.throws(() => parseLastEventId("-1"));
    assert.throws(() => parseLastEventId("1e3"));
  });
  it("a project sees its own changes only; the operator sees all", () => {
    const mine = change(1, "proj-0123456789abcdef0");
    const theirs = change(2, "proj-fffffffffffffffff");
    const operatorLevel = change(3, null);
    const project = { kind: "project", projectId: "proj-0123456789abcdef0" } as const;
    assert.deepEqual(
      [mine, theirs, operatorLevel].map((e) => visibleTo(project, e)),
      [true, false, false],
    );
    assert.ok([mine, theirs, operatorLevel].every((e) => visibleTo({ kind: "operator" }, e)));
  });
});

describe("ChangeMerger: backlog + live without gap or duplicate", () => {
  it("emits every revision after `since` exactly once, in order, for any interleaving", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }), // committed before the watcher subscribed
        fc.integer({ min: 0, max: 30 }), // committed afterwards
        fc.integer({ min: 1, max: 7 }), // backlog page size
        fc.array(fc.boolean(), { maxLength: 80 }), // schedule: true = a commit happens, false = read a page
        (before, afterwards, pageSize, schedule) => {
          const since = Math.floor(before / 2);
          const total = before + afterwards;
          let committed = before;
          const out: number[] = [];
          const merger = new ChangeMerger(since, (e) => out.push(e.revision));
          const commit = () => {
            committed += 1;
            merger.live(change(committed)); // the listener subscribed before any backlog read
          };
          let step = 0;
          // Backlog: read pages from the committed log, with commits racing in between.
          for (;;) {
            while (schedule[step++] === true && committed < total) commit();
            const from = merger.lastRevision;
            const page: ChangeEvent[] = [];
            for (let r = from + 1; r <= Math.min(committed, from + pageSize); r++) page.push(change(r));
            for (const e of page) merger.backlog(e);
            if (page.length < pageSize) break;
          }
          merger.drained();
          while (committed < total) commit();
          assert.deepEqual(
            out,
            Array.from({ length: total - since }, (_, i) => since + i + 1),
          );
        },
      ),
    );
  });
  it("a live event that is also in the backlog goes out once", () => {
    const out: number[] = [];
    const merger = new ChangeMerger(0, (e) => out.push(e.revision));
    merger.live(change(2));
    merger.live(change(3));
    merger.backlog(change(1));
    merger.backlog(change(2));
    merger.drained();
    merger.live(change(3));
    merger.live(change(4));
    assert.deepEqual(out, [1, 2, 3, 4]);
  });
});
