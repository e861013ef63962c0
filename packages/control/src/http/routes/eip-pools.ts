// Operator: the public address pools EIPs are allocated from, per region.
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { idParams } from "../ids.ts";
import { CreateEipPoolBody, EipPoolSchema, PageOf, PagingQuery } from "../schemas.ts";
import { createHeaders, errorResponses, listOptions, noContent, runCreate } from "./common.ts";

export function registerEipPoolRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["eip-pools"];
  app.post(
    "/v1/eip-pools",
    {
      config: { access: "operator" },
      schema: {
        tags,
        operationId: "createEipPool",
        summary: "Add a public address pool for a region (operator)",
        headers: createHeaders,
        body: CreateEipPoolBody,
        response: { 201: EipPoolSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, () => ctx.service.createEipPool(actorOf(request), request.body)),
  );
  app.get(
    "/v1/eip-pools",
    {
      config: { access: "operator" },
      schema: {
        tags,
        operationId: "listEipPools",
        summary: "List EIP pools (operator)",
        querystring: PagingQuery,
        response: { 200: PageOf(EipPoolSchema, "EipPoolPage"), ...errorResponses },
      },
    },
    async (request) => ctx.service.listEipPools(actorOf(request), listOptions(request.query)),
  );
  app.delete(
    "/v1/eip-pools/:id",
    {
      config: { access: "operator" },
      schema: {
        tags,
        operationId: "deleteEipPool",
        summary: "Delete an EIP pool with no allocated EIPs (operator)",
        params: idParams("pool"),
        response: { ...noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.service.deleteEipPool(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
