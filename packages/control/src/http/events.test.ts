// GET /v1/events over a real socket (listen on 127.0.0.1:0, read with fetch): the resume test of issue 2
// (a watcher that disconnects and resumes with Last-Event-ID receives every change exactly once, in
// order), per-project filtering, heartbeats, and streams ending when the server closes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ChangeEvent, Subnet, Vpc } from "../model.ts";
import { expectStatus, OPERATOR_TOKEN, openRealApi, seedNetwork, type RealApi } from "./test-helpers.ts";

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A minimal EventSource over fetch: yields parsed events and counts comment lines. */
class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  contentType = "";
  readonly #controller = new AbortController();
  #buffer = "";
  #waiters: (() => void)[] = [];
  #done = false;
  ended: Promise<void> = Promise.resolve();

  static async open(url: string, headers: Record<string, string>): Promise<SseReader> {
    const reader = new SseReader();
    const response = await fetch(url, { headers, signal: reader.#controller.signal });
    reader.status = response.status;
    reader.contentType = response.headers.get("content-type") ?? "";
    if (!response.body) throw new Error("no body");
    const body = response.body.pipeThrough(new TextDecoderStream()).getReader();
    reader.ended = (async () => {
      try {
        for (;;) {
          const { value, done } = await body.read();
          if (done) break;
          reader.#feed(value);
        }
      } catch {
        // aborted by close()
      } finally {
        reader.#done = true;
        reader.#wake();
      }
    })();
    return reader;
  }

  #feed(text: string): void {
    this.#buffer += text;
    let end: number;
    while ((end = this.#buffer.indexOf("\n\n")) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const event: SseEvent = { id: undefined, event: undefined, data: "" };
      let hasData = false;
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments++;
        else if (line.startsWith("id: ")) event.id = line.slice(4);
        else if (line.startsWith("event: ")) event.event = line.slice(7);
        else if (line.startsWith("data: ")) {
          event.data += line.slice(6);
          hasData = true;
        }
      }
      if (hasData) this.events.push(event);
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until `predicate` holds (checked after every chunk), or fails after `ms`. */
  async until(predicate: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (this.#done) throw new Error(`stream ended before the condition held (${this.events.length} events)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.events.length} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  get isDone(): boolean {
    return this.#done;
  }

  changes(): ChangeEvent[] {
    return this.events.filter((e) => e.event !== "error").map((e) => JSON.parse(e.data) as ChangeEvent);
  }

  async close(): Promise<void> {
    this.#controller.abort();
    await this.ended;
  }
}

describe("GET /v1/events over a real socket (real services)", () => {
  let api: RealApi;
  let base: string;
  before(async () => {
    api = await openRealApi({ events: { heartbeatMs: 100, pageSize: 3 } }); // small pages: the backlog spans many
    await api.app.listen({ host: "127.0.0.1", port: 0 });
    const address = api.app.server.address();
    assert.ok(address && typeof address === "object");
    base = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await api.close();
  });

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  it("a watcher that disconnects and resumes with Last-Event-ID gets every change exactly once, in order", async () => {
    const start = await api.service.currentRevision();
    const { token, vpc } = await seedNetwork(api);
    const makeSubnet = (k: number) =>
      api.call("POST", "/v1/subnets", { token, body: { vpcId: vpc.id, cidr: `10.0.${10 + k}.0/24`, zone: "z" } });

    // 1. Watch from `start`: the backlog (project, VPC, subnet) then live changes.
    const first = await SseReader.open(`${base}/v1/events?since=${start}`, auth(OPERATOR_TOKEN));
    assert.equal(first.status, 200);
    assert.match(first.contentType, /^text\/event-stream/);
    for (let k = 0; k < 5; k++) expectStatus<Subnet>(await makeSubnet(k), 201);
    await first.until(() => first.events.length >= 6);
    await first.close();
    const seenFirst = first.changes();
    const lastId = first.events.at(-1)?.id;
    assert.ok(lastId);

    // 2. Changes while nobody watches.
    for (let k = 5; k < 12; k++) expectStatus<Subnet>(await makeSubnet(k), 201);

    // 3. Resume with Last-Event-ID (it wins over since=0) while more changes keep committing.
    const second = await SseReader.open(`${base}/v1/events?since=0`, {
      ...auth(OPERATOR_TOKEN),
      "last-event-id": lastId,
    });
    const writers = (async () => {
      for (let k = 12; k < 20; k++) expectStatus<Subnet>(await makeSubnet(k), 201);
    })();
    await writers;
    const head = await api.service.currentRevision();
    await second.until(() => Number(second.events.at(-1)?.id ?? 0) >= head);
    await second.close();

    const all = [...seenFirst, ...second.changes()].map((e) => e.revision);
    assert.deepEqual(
      all,
      Array.from({ length: head - start }, (_, i) => start + i + 1),
      "every revision after `start`, once, in order",
    );
    for (const e of [...first.events, ...second.events]) {
      const change = JSON.parse(e.data) as ChangeEvent;
      assert.equal(e.id, String(change.revision));
      assert.equal(e.event, change.action);
    }
    const subnets = [...seenFirst, ...second.changes()].filter(
      (e) => e.resource === "subnet" && e.action === "created",
    );
    assert.equal(subnets.length, 21); // the seed subnet and 20 more
  });

  it("a project token sees only its own project's changes", async () => {
    const start = await api.service.currentRevision();
    const a = await seedNetwork(api);
    const b = await seedNetwork(api);
    const watcher = await SseReader.open(`${base}/v1/events?since=${start}`, auth(a.token));
    expectStatus<Vpc>(
      await api.call("POST", "/v1/vpcs", { token: b.token, body: { cidr: "10.9.0.0/16", region: "r" } }),
      201,
    );
    const mine = expectStatus<Vpc>(
      await api.call("POST", "/v1/vpcs", { token: a.token, body: { cidr: "10.8.0.0/16", region: "r" } }),
      201,
    );
    await watcher.until(() => watcher.changes().some((e) => e.id === mine.id));
    await watcher.close();
    const changes = watcher.changes();
    assert.ok(changes.length >= 4); // project, VPC, subnet, VPC
    assert.ok(changes.every((e) => e.projectId === a.project.id));
  });

  it("heartbeat comments keep an idle stream alive", async () => {
    const head = await api.service.currentRevision();
    const watcher = await SseReader.open(`${base}/v1/events?since=${head}`, auth(OPERATOR_TOKEN));
    const before = watcher.comments;
    await watcher.until(() => watcher.comments >= before + 2, 3000);
    await watcher.close();
    assert.equal(watcher.events.length, 0);
  });

  it("errors before the stream starts are ordinary JSON errors", async () => {
    const r = await fetch(`${base}/v1/events`, { headers: { ...auth(OPERATOR_TOKEN), "last-event-id": "nope" } });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { code: string } };
    assert.equal(body.error.code, "InvalidParameter");
    const anonymous = await fetch(`${base}/v1/events`);
    assert.equal(anonymous.status, 401);
  });

  it("the JSON page form works over the socket too", async () => {
    const r = await fetch(`${base}/v1/events?since=0&limit=2`, {
      headers: { ...auth(OPERATOR_TOKEN), accept: "application/json" },
    });
    assert.equal(r.status, 200);
    const page = (await r.json()) as { items: ChangeEvent[]; lastRevision: number; more: boolean };
    assert.deepEqual(
      page.items.map((e) => e.revision),
      [1, 2],
    );
    assert.equal(page.lastRevision, 2);
    assert.equal(page.more, true);
  });
});

describe("event streams and server shutdown", () => {
  it("closing the server ends open streams instead of hanging", async () => {
    const api = await openRealApi();
    await api.app.listen({ host: "127.0.0.1", port: 0 });
    const address = api.app.server.address();
    assert.ok(address && typeof address === "object");
    const watcher = await SseReader.open(`http://127.0.0.1:${address.port}/v1/events`, {
      authorization: `Bearer ${OPERATOR_TOKEN}`,
    });
    await watcher.until(() => watcher.comments >= 1);
    const started = Date.now();
    await api.close();
    await watcher.ended;
    assert.ok(watcher.isDone);
    assert.ok(Date.now() - started < 3000, "close did not wait for the stream");
  });
});
