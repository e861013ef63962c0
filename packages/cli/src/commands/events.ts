// The change log: `havip events` prints what changed since a revision; --follow keeps the stream open and,
// when the connection drops, resumes from the last revision it printed, so no change is missed or repeated.
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { ChangeEvent } from "@havip/control";
import { errorFromResponse, type ApiClient } from "../client.ts";
import type { Context } from "../context.ts";
import { ApiRequestError } from "../errors.ts";
import { revision } from "../parsers.ts";
import { SseParser } from "../sse.ts";
import { renderTable } from "../table.ts";
import { instancesOfEvents } from "../contest.ts";
import { InstanceNameCache, lookupInstanceNames } from "../names.ts";
import { eventColumns, eventHeader, eventLine } from "../views.ts";
import type { ContextOf } from "./shared.ts";

interface EventsPage {
  items: ChangeEvent[];
  lastRevision: number;
  more: boolean;
}

const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 5000];

export function registerEventCommands(program: CommandUnknownOpts, context: ContextOf): void {
  program
    .command("events")
    .description("changes after a revision (the whole log by default); --follow streams new ones")
    .option("--since <revision>", "print changes with a revision above this one", revision, 0)
    .option("--follow", "keep streaming changes as they commit (Ctrl-C to stop)")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      if (opts.follow === true) await follow(ctx, client, opts.since);
      else await printLog(ctx, client, opts.since);
    });
}

/** Reads the log page by page. --json prints one page {items, lastRevision, more: false}. */
async function printLog(ctx: Context, client: ApiClient, since: number): Promise<void> {
  const items: ChangeEvent[] = [];
  let last = since;
  for (;;) {
    const page = await client.get<EventsPage>("/v1/events", { since: last, wait: 0, limit: 1000 });
    items.push(...page.items);
    last = page.lastRevision;
    if (!page.more || page.items.length === 0) break;
  }
  if (ctx.json) ctx.printJson({ items, lastRevision: last, more: false });
  else {
    const names = await lookupInstanceNames(ctx, instancesOfEvents(items));
    ctx.print(renderTable(eventColumns(items, names), items));
  }
}

/** One line per change: a table line, or one JSON object per line with --json. */
async function follow(ctx: Context, client: ApiClient, since: number): Promise<void> {
  const signal = ctx.environment.signal;
  const stopped = (): boolean => signal?.aborted === true; // changes while we wait: not narrowed
  let last = since;
  const stream = { connectedOnce: false }; // set from a callback, so not a plain local
  let failures = 0;
  const names = new InstanceNameCache(ctx);
  if (!ctx.json) ctx.print(`${eventHeader()}\n`);
  while (!stopped()) {
    try {
      await streamOnce(ctx, client, last, {
        opened: () => (stream.connectedOnce = true),
        event: async (event) => {
          last = event.revision;
          failures = 0;
          if (ctx.json) ctx.print(`${JSON.stringify(event)}\n`);
          else ctx.print(`${eventLine(event, await names.for(instancesOfEvents([event])))}\n`);
        },
      });
    } catch (e) {
      if (stopped()) return;
      // An API error (bad token, expired revision) will not heal by retrying; nor will a first connection
      // that never succeeded. A stream that worked and then dropped is resumed.
      if (e instanceof ApiRequestError || !stream.connectedOnce) throw e;
    }
    if (stopped()) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(failures, RECONNECT_DELAYS_MS.length - 1)] ?? 5000;
    failures++;
    if (failures === 1) ctx.note(`connection to ${client.api} lost; resuming after revision ${last}`);
    await sleep(delay, signal);
  }
}

async function streamOnce(
  ctx: Context,
  client: ApiClient,
  since: number,
  on: { opened: () => void; event: (event: ChangeEvent) => Promise<void> },
): Promise<void> {
  let response: Response;
  try {
    response = await ctx.environment.fetch(client.url("/v1/events", { since }), {
      headers: client.headers({ accept: "text/event-stream", "last-event-id": String(since) }),
      ...(ctx.environment.signal ? { signal: ctx.environment.signal } : {}),
    });
  } catch (e) {
    throw client.connectionError(e);
  }
  if (!response.ok) throw errorFromResponse(response.status, response.statusText, await response.text());
  on.opened();
  if (response.body === null) return;
  let failure: ApiRequestError | undefined;
  // Printed one after another once a chunk is parsed: printing may look up a name, and lines keep their order.
  const arrived: ChangeEvent[] = [];
  const parser = new SseParser((frame) => {
    if (frame.event === "error") {
      // The server ends the stream and says why; EventLog.Expired means resuming is impossible.
      const error = errorFromResponse(500, "", frame.data);
      if (error.code === "EventLog.Expired") failure = error;
      return;
    }
    const event = JSON.parse(frame.data) as ChangeEvent;
    if (event.revision > since) {
      since = event.revision;
      arrived.push(event);
    }
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body) {
      parser.push(decoder.decode(chunk, { stream: true }));
      for (const event of arrived.splice(0)) await on.event(event);
      if (failure) throw failure;
    }
  } catch (e) {
    if (e instanceof ApiRequestError) throw e;
    throw client.connectionError(e);
  }
  // The server ended the stream (shutting down, or this client fell too far behind): resume.
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
