// EIPs: public addresses from the region's pools, bound to at most one target (a HAVIP or a vNIC).
import { Type } from "typebox";
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { idParams } from "../ids.ts";
import { AllocateEipBody, AssociateEipBody, EipSchema, PageOf, PagingQuery } from "../schemas.ts";
import { createHeaders, errorResponses, listOptions, noContent, runCreate } from "./common.ts";

// disassociate takes no parameters; an empty JSON object (or no body) is accepted.
const EmptyBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);

export function registerEipRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["eips"];
  app.post(
    "/v1/eips",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "allocateEip",
        summary: "Allocate an EIP from the region's pools",
        headers: createHeaders,
        body: AllocateEipBody,
        response: { 201: EipSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, () => ctx.service.allocateEip(actorOf(request), request.body)),
  );
  app.get(
    "/v1/eips",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "listEips",
        summary: "List EIPs",
        querystring: PagingQuery,
        response: { 200: PageOf(EipSchema, "EipPage"), ...errorResponses },
      },
    },
    async (request) => ctx.service.listEips(actorOf(request), listOptions(request.query)),
  );
  app.get(
    "/v1/eips/:id",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getEip",
        summary: "Read an EIP and its binding",
        params: idParams("eip"),
        response: { 200: EipSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.getEip(actorOf(request), request.params.id),
  );
  app.delete(
    "/v1/eips/:id",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "releaseEip",
        summary: "Release an EIP that is not bound",
        params: idParams("eip"),
        response: { ...noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.service.releaseEip(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.post(
    "/v1/eips/:id/associate",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "associateEip",
        summary: "Bind an EIP to a HAVIP or a vNIC",
        params: idParams("eip"),
        body: AssociateEipBody,
        response: { 200: EipSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.associateEip(actorOf(request), request.params.id, request.body),
  );
  app.post(
    "/v1/eips/:id/disassociate",
    {
      config: { access: "tenant" },
      preValidation: (request, _reply, done) => {
        request.body ??= null; // no body at all is fine too
        done();
      },
      schema: {
        tags,
        operationId: "disassociateEip",
        summary: "Unbind an EIP",
        params: idParams("eip"),
        body: EmptyBody,
        response: { 200: EipSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.disassociateEip(actorOf(request), request.params.id),
  );
}
