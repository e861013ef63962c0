// Subnets: a CIDR inside the VPC's, no overlap with siblings; gateway = first usable address.
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { idParams } from "../ids.ts";
import { CreateSubnetBody, PageOf, SubnetListQuery, SubnetSchema } from "../schemas.ts";
import { createHeaders, errorResponses, listOptions, noContent, runCreate } from "./common.ts";

export function registerSubnetRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["subnets"];
  app.post(
    "/v1/subnets",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "createSubnet",
        summary: "Create a subnet in a VPC",
        headers: createHeaders,
        body: CreateSubnetBody,
        response: { 201: SubnetSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, () => ctx.service.createSubnet(actorOf(request), request.body)),
  );
  app.get(
    "/v1/subnets",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "listSubnets",
        summary: "List subnets, optionally of one VPC",
        querystring: SubnetListQuery,
        response: { 200: PageOf(SubnetSchema, "SubnetPage"), ...errorResponses },
      },
    },
    async (request) => {
      const { vpcId } = request.query;
      return ctx.service.listSubnets(actorOf(request), {
        ...listOptions(request.query),
        ...(vpcId === undefined ? {} : { vpcId }),
      });
    },
  );
  app.get(
    "/v1/subnets/:id",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getSubnet",
        summary: "Read a subnet",
        params: idParams("subnet"),
        response: { 200: SubnetSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.getSubnet(actorOf(request), request.params.id),
  );
  app.delete(
    "/v1/subnets/:id",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "deleteSubnet",
        summary: "Delete a subnet that has no instances and no HAVIPs",
        params: idParams("subnet"),
        response: { ...noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.service.deleteSubnet(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
