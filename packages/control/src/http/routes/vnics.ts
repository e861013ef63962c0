// Extra vNICs on an instance, in a subnet of the instance's VPC.
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { idParams } from "../ids.ts";
import { CreateVnicBody, VnicSchema } from "../schemas.ts";
import { createHeaders, errorResponses, runCreate } from "./common.ts";

export function registerVnicRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["vnics"];
  app.post(
    "/v1/vnics",
    {
      config: { access: "tenant" },
      schema: {
        tags,
        operationId: "createVnic",
        summary: "Add a vNIC to an instance",
        headers: createHeaders,
        body: CreateVnicBody,
        response: { 201: VnicSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, () => ctx.service.createVnic(actorOf(request), request.body)),
  );
  app.get(
    "/v1/vnics/:id",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getVnic",
        summary: "Read a vNIC",
        params: idParams("vnic"),
        response: { 200: VnicSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.getVnic(actorOf(request), request.params.id),
  );
}
