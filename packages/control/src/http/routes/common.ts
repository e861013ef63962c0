// Pieces every route module uses: error responses for the OpenAPI document, the create-with-
// Idempotency-Key helper and the paging options.
import { Type } from "typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ListOptions } from "../../service.ts";
import { actorOf, type RouteContext } from "../app.ts";
import { fingerprint, idempotencyKey, scopeOf } from "../idempotency.ts";
import { ErrorResponse } from "../schemas.ts";

/** Every route documents its failures with the one error shape (the code enum lists the catalogue). */
export const errorResponses = {
  "4xx": { ...ErrorResponse, description: "A client error; see docs/reference/errors.md for the codes." },
  "5xx": { ...ErrorResponse, description: "InternalError; the requestId identifies it in the logs." },
};

export const noContent = { 204: Type.Null({ description: "Done; no body." }) };

/** Headers of a create (left open: other headers are allowed). */
export const createHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      pattern: "^[\\x21-\\x7e]{1,255}$",
      description: "A retry with the same key and the same request returns the first result (status and body).",
    }),
  ),
});

/**
 * Runs a create. With an Idempotency-Key header the first result (status and body) is recorded and a
 * retry gets it back instead of creating again.
 */
export async function runCreate<T>(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  create: () => Promise<T>,
  status = 201,
): Promise<T> {
  const key = idempotencyKey(request.headers["idempotency-key"]);
  if (key === null) {
    const body = await create();
    reply.code(status);
    return body;
  }
  const result = await ctx.idempotency.run(
    {
      scope: scopeOf(actorOf(request)),
      key,
      fingerprint: fingerprint(request.method, request.routeOptions.url ?? request.url, request.params, request.body),
    },
    async () => ({ status, body: await create() }),
  );
  reply.code(result.status);
  if (result.replayed) reply.header("idempotent-replayed", "true");
  return result.body as T;
}

export function listOptions(query: { limit?: number; cursor?: string }): ListOptions {
  return { limit: query.limit ?? 100, cursor: query.cursor ?? null };
}
