// Instances: created with a primary vNIC in a subnet; deleting one releases its vNICs' addresses and
// any HAVIP holder role.
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { idParams } from "../ids.ts";
import { CreateInstanceBody, InstanceSchema, PageOf, VpcSubnetListQuery } from "../schemas.ts";
import { createHeaders, errorResponses, listOptions, noContent, runCreate } from "./common.ts";

export function registerInstanceRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["instances"];
  app.post(
    "/v1/instances",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "createInstance",
        summary: "Create an instance with its primary vNIC in a subnet",
        headers: createHeaders,
        body: CreateInstanceBody,
        response: { 201: InstanceSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, () => ctx.service.createInstance(actorOf(request), request.body)),
  );
  app.get(
    "/v1/instances",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "listInstances",
        summary: "List instances, optionally of one VPC or subnet",
        querystring: VpcSubnetListQuery,
        response: { 200: PageOf(InstanceSchema, "InstancePage"), ...errorResponses },
      },
    },
    async (request) => {
      const { vpcId, subnetId } = request.query;
      return ctx.service.listInstances(actorOf(request), {
        ...listOptions(request.query),
        ...(vpcId === undefined ? {} : { vpcId }),
        ...(subnetId === undefined ? {} : { subnetId }),
      });
    },
  );
  app.get(
    "/v1/instances/:id",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getInstance",
        summary: "Read an instance and its vNICs",
        params: idParams("instance"),
        response: { 200: InstanceSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.getInstance(actorOf(request), request.params.id),
  );
  app.delete(
    "/v1/instances/:id",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "deleteInstance",
        summary: "Delete an instance (releases its addresses and HAVIP holder role)",
        params: idParams("instance"),
        response: { ...noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.service.deleteInstance(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
