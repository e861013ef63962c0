// GET /v1/events: the change log. By default a server-sent event stream (backlog after `since`, then live
// changes, heartbeats every 15 s); with `wait=N` or `Accept: application/json` one JSON page instead.
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { ApiError } from "../../errors.ts";
import type { ChangeEvent } from "../../model.ts";
import type { Actor, ControlService } from "../../service.ts";
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { toApiError, errorBody } from "../error-handler.ts";
import { EventsPageSchema, EventsQuery } from "../schemas.ts";
import { ChangeMerger, commentFrame, errorFrame, eventFrame, parseLastEventId, retryFrame, visibleTo } from "../sse.ts";
import { errorResponses } from "./common.ts";

export interface EventStreamOptions {
  heartbeatMs: number; // comment frames keep idle connections open
  pageSize: number; // backlog read size
  maxBufferedBytes: number; // a client this far behind is cut off; it resumes with Last-Event-ID
}

export const DEFAULT_EVENT_STREAM_OPTIONS: EventStreamOptions = {
  heartbeatMs: 15_000,
  pageSize: 500,
  maxBufferedBytes: 8 * 1024 * 1024,
};

/** Open streams, ended when the server closes (fastify waits for open connections otherwise). */
export type OpenStreams = Set<() => void>;

function wantsJsonPage(request: FastifyRequest, wait: number | undefined): boolean {
  if (wait !== undefined) return true;
  const accept = request.headers.accept ?? "";
  return !accept.includes("text/event-stream") && accept.includes("application/json");
}

function sinceOf(request: FastifyRequest, querySince: number | undefined): number {
  try {
    return parseLastEventId(request.headers["last-event-id"]) ?? querySince ?? 0;
  } catch {
    throw new ApiError("InvalidParameter", "headers/last-event-id must be a revision number.");
  }
}

/** Resolves when a change visible to the actor and newer than `since` commits, or after `ms`. */
function nextChange(service: ControlService, actor: Actor, since: number, ms: number, request: FastifyRequest) {
  let unsubscribe = (): void => undefined;
  let timer: NodeJS.Timeout | undefined;
  let onClose = (): void => undefined;
  const arrived = new Promise<void>((resolve) => {
    unsubscribe = service.onChange((event) => {
      if (event.revision > since && visibleTo(actor, event)) resolve();
    });
    timer = setTimeout(resolve, ms);
    onClose = resolve;
    request.raw.once("close", onClose);
  });
  return {
    arrived,
    dispose() {
      unsubscribe();
      clearTimeout(timer);
      request.raw.off("close", onClose);
    },
  };
}

async function eventsPage(
  service: ControlService,
  request: FastifyRequest,
  actor: Actor,
  since: number,
  limit: number,
  wait: number,
) {
  // Subscribe before reading so a change committed between the read and the wait is not slept through.
  const watch = wait > 0 ? nextChange(service, actor, since, wait * 1000, request) : null;
  try {
    let items = await service.eventsSince(actor, since, limit);
    if (items.length === 0 && watch) {
      await watch.arrived;
      items = await service.eventsSince(actor, since, limit);
    }
    const last = items.at(-1);
    return { items, lastRevision: last ? last.revision : since, more: items.length === limit };
  } finally {
    watch?.dispose();
  }
}

async function streamEvents(
  service: ControlService,
  request: FastifyRequest,
  reply: FastifyReply,
  actor: Actor,
  since: number,
  options: EventStreamOptions,
  open: OpenStreams,
): Promise<void> {
  const res: ServerResponse = reply.raw;
  const state = { streaming: false, closed: false };
  const write = (frame: string): boolean => state.streaming && !state.closed && res.write(frame);
  const merger = new ChangeMerger(since, (event) => {
    write(eventFrame(event));
    if (res.writableLength > options.maxBufferedBytes) {
      const tooSlow = new ApiError("InternalError", "The client reads too slowly; resume with Last-Event-ID.");
      write(errorFrame(errorBody(tooSlow, request.id)));
      finish();
    }
  });
  // Live events are buffered from here on, before the backlog is read: no gap between the two.
  const unsubscribe = service.onChange((event: ChangeEvent) => {
    if (visibleTo(actor, event)) merger.live(event);
  });
  const heartbeat = setInterval(() => write(commentFrame("heartbeat")), options.heartbeatMs);
  heartbeat.unref();
  const stop = (): void => {
    unsubscribe();
    clearInterval(heartbeat);
  };
  function finish(): void {
    if (state.closed) return;
    state.closed = true;
    stop();
    open.delete(finish);
    res.end();
  }

  let page: ChangeEvent[];
  try {
    page = await service.eventsSince(actor, since, options.pageSize); // a failure here is an ordinary response
  } catch (e) {
    stop();
    throw e;
  }

  reply.hijack();
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-request-id": request.id,
  });
  state.streaming = true;
  open.add(finish);
  res.on("close", finish);
  write(retryFrame(1000));
  write(commentFrame(`havip events after revision ${since}`));

  try {
    for (;;) {
      for (const event of page) merger.backlog(event);
      if (page.length < options.pageSize || state.closed) break;
      if (res.writableNeedDrain) await Promise.race([once(res, "drain"), once(res, "close")]);
      page = await service.eventsSince(actor, merger.lastRevision, options.pageSize);
    }
    merger.drained();
  } catch (e) {
    const error = toApiError(e);
    if (error.code === "InternalError") request.log.error({ err: e, requestId: request.id }, "event stream failed");
    write(errorFrame(errorBody(error, request.id)));
    finish();
  }
}

export function registerEventRoutes(
  app: ApiApp,
  ctx: RouteContext,
  options: EventStreamOptions,
  open: OpenStreams,
): void {
  app.get(
    "/v1/events",
    {
      config: { access: "reader" },
      schema: {
        tags: ["events"],
        operationId: "events",
        summary: "The change log: server-sent events, or a JSON page with wait=N / Accept: application/json",
        description:
          "Without `wait` and without `Accept: application/json` the answer is a `text/event-stream`: every " +
          "change after `since` (or the `Last-Event-ID` header, which wins) as `id: <revision>`, " +
          "`event: <action>`, `data: <ChangeEvent JSON>`, then live changes as they commit, with a comment " +
          "line every 15 s. A project token sees only its project's changes.",
        querystring: EventsQuery,
        headers: Type.Object({
          "last-event-id": Type.Optional(
            Type.String({ description: "The last revision received; resumes after it (wins over since)" }),
          ),
        }),
        response: { 200: EventsPageSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const since = sinceOf(request, request.query.since);
      const wait = request.query.wait;
      if (wantsJsonPage(request, wait)) {
        return eventsPage(ctx.service, request, actor, since, request.query.limit ?? 100, wait ?? 0);
      }
      await streamEvents(ctx.service, request, reply, actor, since, options, open);
      return reply;
    },
  );
}
