import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { Context } from "../context.ts";

/** Builds the context of the command whose action runs (its options merged with the global ones). */
export type ContextOf = (command: CommandUnknownOpts) => Context;

export function path(base: string, id: string, suffix = ""): string {
  return `${base}/${encodeURIComponent(id)}${suffix}`;
}
