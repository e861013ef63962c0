// VPCs: an IPv4 CIDR (/16–/28) in a region.
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { idParams } from "../ids.ts";
import { CreateVpcBody, PageOf, PagingQuery, VpcSchema } from "../schemas.ts";
import { createHeaders, errorResponses, listOptions, noContent, runCreate } from "./common.ts";

export function registerVpcRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["vpcs"];
  app.post(
    "/v1/vpcs",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "createVpc",
        summary: "Create a VPC",
        headers: createHeaders,
        body: CreateVpcBody,
        response: { 201: VpcSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, () => ctx.service.createVpc(actorOf(request), request.body)),
  );
  app.get(
    "/v1/vpcs",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "listVpcs",
        summary: "List VPCs",
        querystring: PagingQuery,
        response: { 200: PageOf(VpcSchema, "VpcPage"), ...errorResponses },
      },
    },
    async (request) => ctx.service.listVpcs(actorOf(request), listOptions(request.query)),
  );
  app.get(
    "/v1/vpcs/:id",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getVpc",
        summary: "Read a VPC",
        params: idParams("vpc"),
        response: { 200: VpcSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.getVpc(actorOf(request), request.params.id),
  );
  app.delete(
    "/v1/vpcs/:id",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "deleteVpc",
        summary: "Delete a VPC that has no subnets",
        params: idParams("vpc"),
        response: { ...noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.service.deleteVpc(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
