// What every service module shares: the store, the clock, the deployment's quotas and paging helpers.
import { type RawBuilder, type SelectQueryBuilder, sql } from "kysely";
import { decodeCursor, pageLimit } from "../domain/index.ts";
import type { Quotas } from "../model.ts";
import type { ListOptions } from "../service.ts";
import type { Store } from "../store/index.ts";

export interface ServiceContext {
  readonly store: Store;
  readonly operatorToken: string;
  /** DEFAULT_QUOTAS with the deployment's overrides; the operator's stored settings apply on top. */
  readonly baseQuotas: Quotas;
}

export interface ListWindow {
  limit: number;
  /** The (created_at, id) of the last item of the previous page. */
  after: readonly [string, string] | null;
}

/** Validates limit and cursor of a list ordered by (created_at, id). */
export function listWindow(opts: ListOptions): ListWindow {
  const limit = pageLimit(opts.limit);
  const cursor = opts.cursor ?? null;
  return {
    limit,
    after: cursor === null || cursor === "" ? null : decodeCursor(cursor, ["string", "string"] as const),
  };
}

/**
 * The keyset condition "after the cursor" on unqualified created_at and id columns (both dialects). A row-value
 * comparison, which SQLite and PostgreSQL both turn into a range scan of a (…, created_at, id) index.
 */
export function afterKey(after: readonly [string, string]): RawBuilder<boolean> {
  return sql<boolean>`((created_at, id) > (${after[0]}, ${after[1]}))`;
}

export const byCreation = (r: { created_at: string; id: string }): readonly [string, string] => [r.created_at, r.id];

/** One page of a list in (created_at, id) order: the rows after the cursor, plus one to tell if more follow. */
export function pageOf<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>, window: ListWindow): Promise<O[]> {
  const after = window.after;
  return (after ? q.where(afterKey(after)) : q)
    .orderBy(sql`created_at`)
    .orderBy(sql`id`)
    .limit(window.limit + 1)
    .execute();
}
