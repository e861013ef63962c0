// Reasons havipd cannot start, phrased for a person: main prints the message as one line and exits 1.
import type { DatabaseTarget } from "./database-url.ts";
import type { ListenAddress } from "./listen-address.ts";

export class StartupError extends Error {
  override readonly name = "StartupError";
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function firstLine(e: unknown): string {
  // A connection that tried several addresses fails with an AggregateError whose own message is empty.
  if (e instanceof AggregateError && e.message === "" && e.errors.length > 0) return firstLine(e.errors[0]);
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0] ?? message;
}

/** The fabric's VXLAN socket could not bind (--fabric-listen). */
export function fabricListenFailure(e: unknown, at: ListenAddress): StartupError {
  const failure = listenFailure(e, at);
  return new StartupError(`fabric: ${failure.message} (UDP, --fabric-listen)`);
}

/** The fabric agent could not be reached or refused the start (--fabric-agent). */
export function fabricAgentFailure(e: unknown, socketPath: string): StartupError {
  const reason = ((): string => {
    switch (codeOf(e)) {
      case "ENOENT":
        return "no such socket (is the fabric agent running?)";
      case "ECONNREFUSED":
        return "connection refused (is the fabric agent running?)";
      case "EACCES":
        return "permission denied";
      default:
        return firstLine(e);
    }
  })();
  return new StartupError(`cannot use the fabric agent at unix:${socketPath}: ${reason}`);
}

export function listenFailure(e: unknown, at: ListenAddress): StartupError {
  const where =
    at.path !== undefined
      ? `unix:${at.path}`
      : at.host.includes(":")
        ? `[${at.host}]:${at.port}`
        : `${at.host}:${at.port}`;
  const reason = ((): string => {
    switch (codeOf(e)) {
      case "EADDRINUSE":
        return "address already in use (is another havipd running?)";
      case "EACCES":
        return "permission denied (ports below 1024 need privileges)";
      case "EADDRNOTAVAIL":
        return "the address does not belong to this machine";
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return "unknown host name";
      default:
        return firstLine(e);
    }
  })();
  return new StartupError(`cannot listen on ${where}: ${reason}`);
}

// pg raises SQLSTATE codes; node:sqlite raises ERR_SQLITE_ERROR with the SQLite message.
const PG_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "unknown host name",
  EAI_AGAIN: "unknown host name",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ECONNRESET: "connection reset",
  "28P01": "authentication failed",
  "28000": "authentication failed",
  "3D000": "the database does not exist",
  "57P03": "the server is starting up or shutting down",
  "53300": "too many connections",
};

export function databaseFailure(e: unknown, target: DatabaseTarget): StartupError {
  if (e instanceof StartupError) return e;
  const code = codeOf(e) ?? (e instanceof AggregateError ? codeOf(e.errors[0]) : undefined);
  if (target.kind === "postgres") {
    const reason = (code !== undefined ? PG_REASONS[code] : undefined) ?? firstLine(e);
    return new StartupError(`cannot reach the database (${target.display}): ${reason}`);
  }
  return new StartupError(`cannot open the database (${target.display}): ${firstLine(e)}`);
}
