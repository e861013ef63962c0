// Builds the API server: fastify with TypeBox schemas, bearer auth, one error handler, the OpenAPI
// document and Swagger UI, and every /v1 route. The caller decides whether to listen() or inject().
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ApiError } from "../errors.ts";
import type { ControlService, HolderVerification } from "../service.ts";
import type { ApiApp, RouteContext } from "./app.ts";
import { makeAuthHook } from "./auth.ts";
import { handleError, sendError } from "./error-handler.ts";
import { memoryIdempotencyStore, serviceIdempotencyStore, type IdempotencyStore } from "./idempotency.ts";
import { openApiOptions } from "./openapi.ts";
import { registerEipPoolRoutes } from "./routes/eip-pools.ts";
import { registerEipRoutes } from "./routes/eips.ts";
import {
  DEFAULT_EVENT_STREAM_OPTIONS,
  registerEventRoutes,
  type EventStreamOptions,
  type OpenStreams,
} from "./routes/events.ts";
import { registerHaVipRoutes } from "./routes/havips.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerInstanceRoutes } from "./routes/instances.ts";
import { registerObservationRoutes } from "./routes/observations.ts";
import { registerProjectRoutes } from "./routes/projects.ts";
import { registerQuotaRoutes } from "./routes/quotas.ts";
import { registerSubnetRoutes } from "./routes/subnets.ts";
import { registerVnicRoutes } from "./routes/vnics.ts";
import { registerVpcRoutes } from "./routes/vpcs.ts";
import { RouteTable } from "./route-table.ts";
import { validatorCompiler } from "./validator.ts";

export interface BuildApiServerOptions {
  service: ControlService;
  /** fastify/pino logger options; false (default) logs nothing. */
  logger?: boolean | object;
  /** Largest accepted request body in bytes (default 64 KiB). */
  bodyLimit?: number;
  /**
   * Where Idempotency-Key results are kept. Default: the service's own durable runner (`idempotent`,
   * provided by openControlService), else in memory for 24 h.
   */
  idempotency?: IdempotencyStore;
  /** Event stream tuning (heartbeat interval, backlog page size); tests shorten the heartbeat. */
  events?: Partial<EventStreamOptions>;
  /**
   * Verifies a HAVIP's holder in the fabric after a manual observation (havipd passes its fabric's); without it,
   * `POST /v1/observations` records the report as it is.
   */
  verifyHolder?: (havipId: string) => Promise<HolderVerification | null>;
}

const NoQuery = Type.Object({}, { additionalProperties: false });

export async function buildApiServer(options: BuildApiServerOptions): Promise<FastifyInstance> {
  const { service } = options;
  const app: ApiApp = Fastify({
    logger: (options.logger ?? false) as FastifyServerOptions["logger"],
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // A URL that cannot be decoded never reaches a route or the error handler: answer it here.
    frameworkErrors: (error, request, reply) => {
      handleError(error, request, reply);
    },
    routerOptions: { ignoreTrailingSlash: true },
    exposeHeadRoutes: false, // HEAD of an event stream would stream; the API has no use for HEAD
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);

  // JSON only. An empty body counts as no body (a bodiless POST with a JSON content type is common);
  // routes that need one then answer InvalidParameter.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });

  const routes = new RouteTable();
  app.addHook("onRoute", (route) => {
    routes.add(route.method, route.url);
    if (!route.url.startsWith("/v1/")) return;
    if (route.config?.access === undefined) throw new Error(`route ${route.url} declares no access level`);
    // Every route is closed: an unknown query parameter is an error, not silently ignored.
    if (route.schema && route.schema.querystring === undefined) route.schema.querystring = NoQuery;
  });

  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  app.addHook("onRequest", makeAuthHook(service));
  app.setErrorHandler((error, request, reply) => handleError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    const allowed = routes.methodsFor(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header("allow", allowed.join(", "));
      return sendError(
        request,
        reply,
        new ApiError("MethodNotAllowed", `${request.method} is not allowed on ${path}.`),
      );
    }
    return sendError(request, reply, new ApiError("NotFound", `No route ${request.method} ${path}.`));
  });

  await app.register(swagger, openApiOptions());
  app.get("/openapi.json", { schema: { hide: true } }, (_request, reply) => reply.send(app.swagger()));

  const idempotency = options.idempotency ?? serviceIdempotencyStore(service) ?? memoryIdempotencyStore();
  const ctx: RouteContext = {
    service,
    idempotency,
    ...(options.verifyHolder === undefined ? {} : { verifyHolder: options.verifyHolder }),
  };
  const openStreams: OpenStreams = new Set();
  app.addHook("preClose", (done) => {
    for (const end of [...openStreams]) end();
    done();
  });

  registerHealthRoutes(app, ctx);
  registerProjectRoutes(app, ctx);
  registerEipPoolRoutes(app, ctx);
  registerQuotaRoutes(app, ctx);
  registerObservationRoutes(app, ctx);
  registerVpcRoutes(app, ctx);
  registerSubnetRoutes(app, ctx);
  registerInstanceRoutes(app, ctx);
  registerVnicRoutes(app, ctx);
  registerHaVipRoutes(app, ctx);
  registerEipRoutes(app, ctx);
  registerEventRoutes(app, ctx, { ...DEFAULT_EVENT_STREAM_OPTIONS, ...options.events }, openStreams);

  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { url: "/openapi.json" } });
  return app;
}
