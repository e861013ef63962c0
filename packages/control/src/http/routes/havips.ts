// HAVIPs: an address in one subnet, optional member list, holder observed (never elected).
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { idParams } from "../ids.ts";
import {
  CreateHaVipBody,
  HaVipSchema,
  HolderHistoryEntrySchema,
  PageOf,
  PagingQuery,
  UpdateHaVipBody,
  VpcSubnetListQuery,
} from "../schemas.ts";
import { createHeaders, errorResponses, listOptions, noContent, runCreate } from "./common.ts";

export function registerHaVipRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["havips"];
  app.post(
    "/v1/havips",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "createHaVip",
        summary: "Create a HAVIP (address chosen or auto-allocated in the subnet)",
        headers: createHeaders,
        body: CreateHaVipBody,
        response: { 201: HaVipSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, () => ctx.service.createHaVip(actorOf(request), request.body)),
  );
  app.get(
    "/v1/havips",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "listHaVips",
        summary: "List HAVIPs, optionally of one VPC or subnet",
        querystring: VpcSubnetListQuery,
        response: { 200: PageOf(HaVipSchema, "HaVipPage"), ...errorResponses },
      },
    },
    async (request) => {
      const { vpcId, subnetId } = request.query;
      return ctx.service.listHaVips(actorOf(request), {
        ...listOptions(request.query),
        ...(vpcId === undefined ? {} : { vpcId }),
        ...(subnetId === undefined ? {} : { subnetId }),
      });
    },
  );
  app.get(
    "/v1/havips/:id",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getHaVip",
        summary: "Read a HAVIP with its holder and EIP",
        params: idParams("havip"),
        response: { 200: HaVipSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.getHaVip(actorOf(request), request.params.id),
  );
  app.patch(
    "/v1/havips/:id",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "updateHaVip",
        summary: "Change a HAVIP's name, description or members (members: null clears the list)",
        params: idParams("havip"),
        body: UpdateHaVipBody,
        response: { 200: HaVipSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.updateHaVip(actorOf(request), request.params.id, request.body),
  );
  app.delete(
    "/v1/havips/:id",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "deleteHaVip",
        summary: "Delete a HAVIP that has no EIP bound",
        params: idParams("havip"),
        response: { ...noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.service.deleteHaVip(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.get(
    "/v1/havips/:id/history",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getHaVipHistory",
        summary: "A HAVIP's holder changes, oldest first",
        params: idParams("havip"),
        querystring: PagingQuery,
        response: { 200: PageOf(HolderHistoryEntrySchema, "HolderHistoryPage"), ...errorResponses },
      },
    },
    async (request) => ctx.service.getHaVipHistory(actorOf(request), request.params.id, listOptions(request.query)),
  );
}
