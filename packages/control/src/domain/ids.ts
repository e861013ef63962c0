// Resource ids: a type prefix and 17 random lowercase hex digits, in the style of cloud ids.
import { randomBytes } from "node:crypto";
import { ApiError } from "../errors.ts";

export const ID_PREFIX = {
  project: "proj",
  vpc: "vpc",
  subnet: "subnet",
  instance: "i",
  vnic: "eni",
  havip: "havip",
  eip: "eip",
  pool: "pool",
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ID_DIGITS = 17;

export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}-${randomBytes(9).toString("hex").slice(0, ID_DIGITS)}`;
}

export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${ID_PREFIX[kind]}-`;
  return value.startsWith(prefix) && /^[0-9a-f]{17}$/.test(value.slice(prefix.length));
}

/** The kind of a well-formed id, or null. */
export function idKind(value: string): IdKind | null {
  for (const kind of Object.keys(ID_PREFIX) as IdKind[]) if (isId(kind, value)) return kind;
  return null;
}

/** Throws InvalidId unless value is a well-formed id of the given kind. */
export function requireId(kind: IdKind, value: unknown, field = "id"): string {
  if (typeof value !== "string" || !isId(kind, value)) {
    throw new ApiError("InvalidId", `${field} must be an id of the form ${ID_PREFIX[kind]}-<17 hex digits>.`);
  }
  return value;
}
