// Everything the CLI takes from the outside world, passed in so tests can run commands in-process.
import { randomUUID } from "node:crypto";
import { homedir } from "node:os";

export interface Output {
  write(text: string): unknown;
}

export interface CliEnvironment {
  stdout: Output;
  stderr: Output;
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch;
  homeDir: string;
  newIdempotencyKey: () => string;
  /** Aborted when the user interrupts a long-running command (events --follow). */
  signal?: AbortSignal;
}

export function processEnvironment(): CliEnvironment {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    fetch: globalThis.fetch,
    homeDir: homedir(),
    newIdempotencyKey: randomUUID,
  };
}
