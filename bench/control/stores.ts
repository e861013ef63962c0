// The stores a control-plane benchmark measures havipd on: SQLite (a file in havipd's data directory) and
// PostgreSQL (bench/control/postgres.ts: a throw-away cluster of its own, or a fresh schema on HAVIP_TEST_PG_URL).
import { startPostgres } from "./postgres.ts";

export const STORES = ["sqlite", "postgres"] as const;
export type StoreName = (typeof STORES)[number];

/** A store to give havipd: its name and `--database` (undefined: havipd's own SQLite file). */
export interface Store {
  name: StoreName;
  database: string | undefined;
}

/**
 * Runs `measure` on each of `names`, in that order, SQLite first when both; the PostgreSQL server is stopped
 * afterwards, also on failure. `parameters.postgres` records which server it was and its fsync setting.
 */
export async function forEachStore(
  names: readonly StoreName[],
  parameters: Record<string, unknown>,
  measure: (store: Store) => Promise<void>,
): Promise<void> {
  if (names.includes("sqlite")) await measure({ name: "sqlite", database: undefined });
  if (!names.includes("postgres")) return;
  const postgres = await startPostgres();
  parameters.postgres = { source: postgres.source, fsync: postgres.fsync };
  try {
    await measure({ name: "postgres", database: postgres.url });
  } finally {
    await postgres.stop();
  }
}

/** `--only=sqlite,postgres` from the command line (undefined: every store); exits 2 naming an unknown store. */
export function storesFromArgs(argv: readonly string[]): StoreName[] | undefined {
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  if (only === undefined) return undefined;
  const names = only.split(",");
  const unknown = names.filter((n) => !(STORES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`--only: unknown store(s) ${unknown.join(", ")}; known: ${STORES.join(", ")}\n`);
    process.exit(2);
  }
  return names as StoreName[];
}
