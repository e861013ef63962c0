// The control plane's HTTP API: buildApiServer composes it over a ControlService.
export { buildApiServer, type BuildApiServerOptions } from "./server.ts";
export {
  memoryIdempotencyStore,
  type IdempotencyStore,
  type IdempotentRequest,
  type StoredResponse,
} from "./idempotency.ts";
export { bearerToken } from "./auth.ts";
