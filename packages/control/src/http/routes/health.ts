// Liveness and readiness (the API and its store answer) and the change log's head, without a token.
import type { ApiApp, RouteContext } from "../app.ts";
import { HealthSchema } from "../schemas.ts";
import { errorResponses } from "./common.ts";

export function registerHealthRoutes(app: ApiApp, ctx: RouteContext): void {
  app.get(
    "/v1/health",
    {
      config: { access: "public" },
      schema: {
        tags: ["health"],
        operationId: "health",
        summary: "Liveness: answers when the API and its store respond",
        security: [],
        response: { 200: HealthSchema, ...errorResponses },
      },
    },
    // Reading the revision is the store check: a database that is away fails it, and the error handler
    // answers 503 ServiceUnavailable.Store (readiness probes and load balancers take the replica out).
    async () => ({ status: "ok" as const, revision: await ctx.service.currentRevision(), store: "up" as const }),
  );
}
