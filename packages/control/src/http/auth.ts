// Bearer-token authentication and the per-route access check. Runs in onRequest, before the body is
// read or validated, so an anonymous caller learns nothing about a route's schema.
import type { FastifyRequest } from "fastify";
import { ApiError } from "../errors.ts";
import type { ControlService } from "../service.ts";
import { setActor, type Access } from "./app.ts";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = BEARER.exec(header);
  return match?.[1] ?? null;
}

export function makeAuthHook(service: ControlService) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    if (request.is404) return;
    // Routes of plugins (OpenAPI, docs) carry no access level and are public; every /v1 route declares
    // one (server.ts refuses to start otherwise).
    const access: Access = request.routeOptions.config.access ?? "public";
    if (access === "public") return;
    const token = bearerToken(request.headers.authorization);
    if (token === null) throw new ApiError("Unauthorized", "Missing bearer token (Authorization: Bearer <token>).");
    const actor = await service.authenticate(token);
    if (actor === null) throw new ApiError("Unauthorized", "The bearer token is not valid.");
    if (access === "operator" && actor.kind !== "operator") {
      throw new ApiError("Forbidden", "This endpoint needs the operator token.");
    }
    if (access === "tenant" && actor.kind !== "project") {
      throw new ApiError("Forbidden", "Tenant resources are created and changed with a project token.");
    }
    setActor(request, actor);
  };
}
