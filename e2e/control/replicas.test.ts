// Two havipd on one PostgreSQL form one system: a change made through either replica appears in the other's
// event stream (GET /v1/events, server-sent events) within a second, and under concurrent writes through
// both, both streams deliver the same revisions in the same order, none skipped.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test, type TestContext } from "node:test";
import type { ChangeEvent, Project, Vpc } from "@havip/control";
import pg from "pg";
import { api, OPERATOR_TOKEN, startHavipd, tempDir, type Havipd } from "./harness.ts";
import { needsPostgresServer, startPostgres } from "./pg-server.ts";

/** Follows a replica's event stream from `since`: every event, with the time it arrived. */
class EventStream {
  readonly events: { event: ChangeEvent; at: number }[] = [];
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  /** Why the stream ended before close() (its replica stopped at the test's end, or a failure). */
  failure: unknown = null;

  constructor(daemon: Havipd, since: number) {
    this.#done = this.#read(daemon, since).catch((e: unknown) => {
      if (!this.#abort.signal.aborted) this.failure = e;
    });
  }

  async #read(daemon: Havipd, since: number): Promise<void> {
    const response = await fetch(`${daemon.url}/v1/events?since=${since}`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, accept: "text/event-stream" },
      signal: this.#abort.signal,
    });
    assert.equal(response.status, 200);
    assert.ok(response.body);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split("\n")
          .filter((line) => line.startsWith("data: "))
          .map((line) => line.slice("data: ".length))
          .join("\n");
        const isChange = frame.split("\n").some((line) => line.startsWith("id: "));
        if (isChange && data !== "") this.events.push({ event: JSON.parse(data) as ChangeEvent, at: Date.now() });
      }
    }
  }

  revisions(): number[] {
    return this.events.map((e) => e.event.revision);
  }

  /** Resolves with the arrival time of the first event matching `match`. */
  async arrival(match: (e: ChangeEvent) => boolean, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.events.find((e) => match(e.event));
      if (found) return found.at;
      if (Date.now() > deadline) throw new Error(`no matching event within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }
}

async function twoReplicas(t: TestContext): Promise<{ a: Havipd; b: Havipd; token: string }> {
  const shared = process.env.HAVIP_TEST_PG_URL;
  const baseUrl = shared ?? (await startPostgres(t)).url;
  const schema = `replicas_${randomBytes(6).toString("hex")}`;
  const database = `${baseUrl}?schema=${schema}`;
  if (shared !== undefined) {
    // The replicas' schema in the shared test database goes with the test.
    t.after(async () => {
      const client = new pg.Client({ connectionString: shared });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    });
  }
  // One at a time: the first creates the schema and runs the migrations.
  const a = await startHavipd(t, { dataDir: await tempDir(t, "havip-replica-a-"), args: ["--database", database] });
  const b = await startHavipd(t, { dataDir: await tempDir(t, "havip-replica-b-"), args: ["--database", database] });
  const project = await api<Project & { token: string }>(a.url, OPERATOR_TOKEN, "POST", "/v1/projects", {
    name: "replicas",
  });
  assert.equal(project.status, 201);
  return { a, b, token: project.body.token };
}

async function currentRevision(daemon: Havipd): Promise<number> {
  const health = await api<{ revision: number }>(daemon.url, OPERATOR_TOKEN, "GET", "/v1/health");
  assert.equal(health.status, 200);
  return health.body.revision;
}

async function createVpc(daemon: Havipd, token: string, name: string): Promise<Vpc> {
  const vpc = await api<Vpc>(daemon.url, token, "POST", "/v1/vpcs", { name, cidr: "10.0.0.0/16", region: "r1" });
  assert.equal(vpc.status, 201, JSON.stringify(vpc.body));
  return vpc.body;
}

const skip = process.env.HAVIP_TEST_PG_URL ? { skip: false as const } : needsPostgresServer("replicas");

test("a change through one replica is in the other's event stream within a second, both ways", skip, async (t) => {
  const { a, b, token } = await twoReplicas(t);
  const since = await currentRevision(a);
  const streamA = new EventStream(a, since);
  const streamB = new EventStream(b, since);
  t.after(() => Promise.all([streamA.close(), streamB.close()]));
  await new Promise((r) => setTimeout(r, 300)); // the streams are open

  for (const [from, to, label] of [
    [a, streamB, "a→b"],
    [b, streamA, "b→a"],
  ] as const) {
    for (let round = 0; round < 3; round++) {
      const sent = Date.now();
      const vpc = await createVpc(from, token, `${label}-${round}`);
      const arrived = await to.arrival((e) => e.id === vpc.id && e.action === "created", 3000);
      const latency = arrived - sent;
      t.diagnostic(`${label} round ${round}: ${latency} ms from the create's request to the other stream`);
      assert.ok(latency < 1000, `${label}: ${latency} ms`);
    }
  }
  assert.equal(streamA.failure ?? streamB.failure, null, "both streams stayed open");
});

test(
  "concurrent writes through both replicas: both streams deliver every revision, in the same order",
  skip,
  async (t) => {
    const { a, b, token } = await twoReplicas(t);
    const since = await currentRevision(a);
    const streamA = new EventStream(a, since);
    const streamB = new EventStream(b, since);
    t.after(() => Promise.all([streamA.close(), streamB.close()]));

    const writers = [a, b].flatMap((daemon, d) =>
      Array.from({ length: 3 }, async (_, w) => {
        for (let n = 0; n < 15; n++) await createVpc(daemon, token, `d${d}-w${w}-${n}`);
      }),
    );
    await Promise.all(writers);
    const last = await currentRevision(b);
    assert.equal(await currentRevision(a), last);
    assert.ok(last - since >= 90, `${last - since} changes`);
    const deadline = Date.now() + 2000;
    while (Math.min(streamA.revisions().at(-1) ?? 0, streamB.revisions().at(-1) ?? 0) < last) {
      assert.ok(
        Date.now() < deadline,
        `streams at ${streamA.revisions().at(-1)} / ${streamB.revisions().at(-1)} of ${last}`,
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    const expected = Array.from({ length: last - since }, (_, i) => since + i + 1);
    assert.deepEqual(streamA.revisions(), expected, "replica a's stream: every revision once, in order");
    assert.deepEqual(streamB.revisions(), expected, "replica b's stream: every revision once, in order");
    assert.deepEqual(
      streamA.events.map((e) => e.event),
      streamB.events.map((e) => e.event),
      "the same change under each revision",
    );
  },
);
