export * from "./model.ts";
export * from "./errors.ts";
export * from "./service.ts";
export {
  openControlService,
  type OpenControlServiceOptions,
  type ControlServiceWithIdempotency,
  type IdempotentResult,
} from "./services/index.ts";
export { buildApiServer, type BuildApiServerOptions } from "./http/index.ts";
export { isStoreOutage, type Lease, type LeaseOptions, type WaitForLeaseOptions } from "./store/index.ts";
