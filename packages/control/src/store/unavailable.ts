// Tells a database that is away (down, restarting, unreachable, its connection cut) from every other error,
// so that the API answers 503 ServiceUnavailable.Store — a condition to retry — instead of 500, and the
// rest of havipd treats it as an outage to ride out rather than a bug.
import { ApiError } from "../errors.ts";

// PostgreSQL SQLSTATEs of an outage: class 08 (connection exception), the server shutting down or
// starting up (57P01–57P03), and too many connections (53300: the server is there but takes no one).
const OUTAGE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

// Socket and resolver errors of a server that is not (or no longer) there.
const OUTAGE_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

// node-postgres reports a lost or refused connection with plain Errors that carry only a message.
const OUTAGE_MESSAGE =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect|Connection ended unexpectedly)$/;

export const STORE_UNAVAILABLE_MESSAGE =
  "The database is unavailable; havipd reconnects by itself. Retry the request (a write that got this answer may or may not have been recorded: retry it with the same Idempotency-Key).";

/** True when e (or an error it wraps) says the database is unreachable or went away. */
export function isStoreOutage(e: unknown, depth = 0): boolean {
  if (typeof e !== "object" || e === null || depth > 4) return false;
  const err = e as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (typeof err.code === "string" && (OUTAGE_SQLSTATE.test(err.code) || OUTAGE_ERRNO.has(err.code))) return true;
  if (typeof err.message === "string" && OUTAGE_MESSAGE.test(err.message)) return true;
  // Connecting to a host name with several addresses fails with an AggregateError of one error each.
  if (Array.isArray(err.errors) && err.errors.length > 0 && err.errors.every((x) => isStoreOutage(x, depth + 1)))
    return true;
  return err.cause !== undefined && isStoreOutage(err.cause, depth + 1);
}

/** The catalogue error for an outage, or null when e is something else. */
export function storeUnavailableError(e: unknown): ApiError | null {
  if (e instanceof ApiError) return e.code === "ServiceUnavailable.Store" ? e : null;
  return isStoreOutage(e) ? new ApiError("ServiceUnavailable.Store", STORE_UNAVAILABLE_MESSAGE) : null;
}
