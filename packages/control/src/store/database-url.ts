// Reads the `databaseUrl` option: ":memory:", a SQLite file path, `sqlite:///abs/path.db`, a `file:` URL,
// or `postgres://…` / `postgresql://…` (an extra `schema=NAME` query parameter selects a PostgreSQL schema,
// created when missing; tests use it to isolate themselves).
import { fileURLToPath } from "node:url";

export type DatabaseTarget =
  | { kind: "sqlite"; path: string } // ":memory:" or a file path
  | { kind: "postgres"; connectionString: string; schema: string | null };

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url === "" || url.trim() !== url) throw new Error("database URL must be a non-empty string");
  if (url === ":memory:") return { kind: "sqlite", path: ":memory:" };
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get("schema");
    if (schema !== null && !SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
    parsed.searchParams.delete("schema");
    return { kind: "postgres", connectionString: parsed.toString(), schema };
  }
  if (url.startsWith("sqlite://")) {
    const rest = url.slice("sqlite://".length);
    if (rest === ":memory:" || rest === "/:memory:") return { kind: "sqlite", path: ":memory:" };
    return { kind: "sqlite", path: decodeURIComponent(rest) };
  }
  if (url.startsWith("file:")) return { kind: "sqlite", path: fileURLToPath(url) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new Error(`unsupported database URL scheme: ${url}`);
  return { kind: "sqlite", path: url };
}
