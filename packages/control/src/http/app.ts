// Types shared by the HTTP layer's modules: the typed fastify instance, route access levels and the
// authenticated caller of a request.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ApiError } from "../errors.ts";
import type { Actor, ControlService, HolderVerification } from "../service.ts";
import type { IdempotencyStore } from "./idempotency.ts";

export type ApiApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * Who may call a route:
 * - public: no token (health, OpenAPI, docs);
 * - reader: any valid token (operators read everything, projects read their own);
 * - tenant: a project token (creates and changes a project's resources);
 * - operator: the operator token (projects, pools, quotas, observations).
 */
export type Access = "public" | "reader" | "tenant" | "operator";

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** What the route modules need. */
export interface RouteContext {
  service: ControlService;
  idempotency: IdempotencyStore;
  /** Asks the fabric who has a HAVIP's address and waits until its finding is recorded (none: API-only). */
  verifyHolder?: (havipId: string) => Promise<HolderVerification | null>;
}

const actors = new WeakMap<FastifyRequest, Actor>();

export function setActor(request: FastifyRequest, actor: Actor): void {
  actors.set(request, actor);
}

/** The authenticated caller; routes that are not public always have one (the auth hook ran first). */
export function actorOf(request: FastifyRequest): Actor {
  const actor = actors.get(request);
  if (!actor) throw new ApiError("Unauthorized", "No valid bearer token was given.");
  return actor;
}
