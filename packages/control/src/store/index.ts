export {
  openStore,
  dropPostgresSchema,
  type Store,
  type WriteTx,
  type IdempotencyClaim,
  type OnceOutcome,
  type StoreDialect,
  type StoreOptions,
} from "./store.ts";
export { parseDatabaseUrl, type DatabaseTarget } from "./database-url.ts";
export { constraintError, isUniqueViolation } from "./constraints.ts";
export { isStoreOutage, storeUnavailableError } from "./unavailable.ts";
export type { Lease, LeaseOptions, WaitForLeaseOptions } from "./lease.ts";
export type { Database } from "./schema.ts";
export * from "./rows.ts";
