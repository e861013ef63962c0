// What can go wrong in a command, and how each is reported: one line on stderr and an exit code.
//   1: the request failed (an API error, or havipd could not be reached)
//   2: the command line was wrong (unknown option, missing argument, bad value)

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The API answered with an error: `{"error": {code, message, requestId}}`. */
export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  constructor(code: string, message: string, status: number, requestId?: string) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

/** havipd could not be reached, or its answer was not the API's. */
export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
}

/** The command line is wrong in a way the option parser cannot see (e.g. two targets for an EIP). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function describeFailure(e: unknown): { line: string; exitCode: number } {
  if (e instanceof ApiRequestError) return { line: `error: ${e.code}: ${oneLine(e.message)}`, exitCode: EXIT_FAILED };
  if (e instanceof ConnectionError) return { line: `error: ${oneLine(e.message)}`, exitCode: EXIT_FAILED };
  if (e instanceof UsageError) return { line: `error: ${oneLine(e.message)}`, exitCode: EXIT_USAGE };
  const message = e instanceof Error ? e.message : String(e);
  return { line: `error: unexpected: ${oneLine(message)}`, exitCode: EXIT_FAILED };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
