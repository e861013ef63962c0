// Paging: limit 1–1000 (default 100) and an opaque cursor. The cursor is base64url of the last item's
// sort key, so pages are stable under inserts and deletes elsewhere in the list.
import { ApiError } from "../errors.ts";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ApiError("InvalidParameter", `limit must be an integer from 1 to ${MAX_LIMIT}.`);
  }
  return limit;
}

/** Encodes a sort key (strings and numbers) as an opaque cursor. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/** Decodes a cursor made by encodeCursor with the given shape; anything else is InvalidParameter. */
export function decodeCursor<const S extends readonly ("string" | "number")[]>(
  cursor: string,
  shape: S,
): { [K in keyof S]: S[K] extends "string" ? string : number } {
  const bad = () => new ApiError("InvalidParameter", "cursor is not valid for this list.");
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (!Array.isArray(value) || value.length !== shape.length) throw bad();
  const items = value as unknown[];
  shape.forEach((type, i) => {
    const item = items[i];
    if (type === "number" ? !Number.isSafeInteger(item) : typeof item !== "string") throw bad();
  });
  return value as { [K in keyof S]: S[K] extends "string" ? string : number };
}

/** Trims a fetched list of limit + 1 rows to a page; nextCursor points after the last returned row. */
export function toPage<R, T>(
  rows: readonly R[],
  limit: number,
  map: (row: R) => T,
  key: (row: R) => readonly (string | number)[],
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept.at(-1);
  return { items: kept.map(map), nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}
