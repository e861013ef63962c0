// Quotas: anyone may read them; the operator changes them (partial update).
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { QuotasSchema, UpdateQuotasBody } from "../schemas.ts";
import { errorResponses } from "./common.ts";

export function registerQuotaRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["quotas"];
  app.get(
    "/v1/quotas",
    {
      config: { access: "reader" },
      schema: {
        tags,
        operationId: "getQuotas",
        summary: "Read the deployment's quotas",
        response: { 200: QuotasSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.getQuotas(actorOf(request)),
  );
  app.put(
    "/v1/quotas",
    {
      config: { access: "operator" },
      schema: {
        tags,
        operationId: "setQuotas",
        summary: "Change some quotas; fields left out keep their value (operator)",
        body: UpdateQuotasBody,
        response: { 200: QuotasSchema, ...errorResponses },
      },
    },
    async (request) => ctx.service.setQuotas(actorOf(request), request.body),
  );
}
