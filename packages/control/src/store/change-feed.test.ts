import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChangeEvent } from "../model.ts";
import { ChangeFeed } from "./change-feed.ts";

const ev = (revision: number): ChangeEvent => ({
  revision,
  at: "2026-01-01T00:00:00.000Z",
  projectId: null,
  resource: "quotas",
  id: "quotas",
  action: "updated",
  data: null,
});

test("events committed out of order are delivered in revision order, once", () => {
  const feed = new ChangeFeed(10, () => Promise.resolve([]));
  const seen: number[] = [];
  feed.subscribe((e) => seen.push(e.revision));
  feed.committed([ev(13)]);
  feed.committed([ev(11), ev(12)]);
  feed.committed([ev(12)]);
  feed.committed([ev(9)]);
  assert.deepEqual(seen, [11, 12, 13]);
  feed.close();
});

test("a gap left by another process is filled from the change table", async () => {
  const table = [ev(2), ev(3)];
  const feed = new ChangeFeed(1, (since) => Promise.resolve(table.filter((e) => e.revision > since)));
  const seen: number[] = [];
  feed.subscribe((e) => seen.push(e.revision));
  feed.committed([ev(3)]);
  assert.deepEqual(seen, []);
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(seen, [2, 3]);
  feed.close();
});

test("a throwing listener does not stop the others", () => {
  const feed = new ChangeFeed(0, () => Promise.resolve([]));
  const seen: number[] = [];
  feed.subscribe(() => {
    throw new Error("bad listener");
  });
  const stop = feed.subscribe((e) => seen.push(e.revision));
  feed.committed([ev(1)]);
  stop();
  feed.committed([ev(2)]);
  assert.deepEqual(seen, [1]);
  feed.close();
});
