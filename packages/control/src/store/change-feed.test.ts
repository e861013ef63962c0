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

test("catchUp reads the table past the last delivered revision, and skips a read for a revision delivered already", async () => {
  const table = [ev(1), ev(2), ev(3)];
  const reads: number[] = [];
  const feed = new ChangeFeed(0, (since) => {
    reads.push(since);
    return Promise.resolve(table.filter((e) => e.revision > since));
  });
  const seen: number[] = [];
  feed.subscribe((e) => seen.push(e.revision));
  feed.committed([ev(1)]);
  feed.catchUp(1); // our own commit's notification: nothing to read
  assert.deepEqual(reads, []);
  feed.catchUp(3);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(reads, [1]);
  feed.close();
});

test("a revision past a gap is held back until the gap's transaction commits, then both are delivered in order", async () => {
  // Revision 12 is visible while 11 is still in flight: the feed must not deliver 12 first (nor skip 11).
  const table = [ev(12)];
  const feed = new ChangeFeed(10, (since) => Promise.resolve(table.filter((e) => e.revision > since)));
  const seen: number[] = [];
  feed.subscribe((e) => seen.push(e.revision));
  feed.catchUp();
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(seen, [], "12 is held back while 11 is missing");
  table.unshift(ev(11));
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(seen, [11, 12]);
  feed.close();
});

test("a wake-up during a read reads again: a commit that the running read's snapshot missed is not lost", async () => {
  const table = [ev(1)];
  let release: () => void = () => undefined;
  let first = true;
  const feed = new ChangeFeed(0, (since) => {
    const rows = table.filter((e) => e.revision > since);
    if (!first) return Promise.resolve(rows);
    first = false;
    return new Promise((resolve) => {
      release = () => {
        resolve(rows);
      };
    });
  });
  const seen: number[] = [];
  feed.subscribe((e) => seen.push(e.revision));
  feed.catchUp();
  table.push(ev(2)); // committed while the first read is under way, after its snapshot
  feed.catchUp(2);
  release();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [1, 2]);
  feed.close();
});

test("a failed read (the database away) is tried again", async () => {
  let down = true;
  const feed = new ChangeFeed(0, () => (down ? Promise.reject(new Error("ECONNREFUSED")) : Promise.resolve([ev(1)])));
  const seen: number[] = [];
  feed.subscribe((e) => seen.push(e.revision));
  feed.catchUp();
  await new Promise((r) => setTimeout(r, 50));
  down = false;
  await new Promise((r) => setTimeout(r, 1200));
  assert.deepEqual(seen, [1]);
  feed.close();
});
