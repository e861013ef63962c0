// `--database`: which store havipd opens. The embedded default is a SQLite file in the data directory;
// PostgreSQL is named by a postgres:// URL. The result is what openControlService accepts.
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type DatabaseTarget =
  | { kind: "sqlite"; url: string; display: string } // url: an absolute file path
  | { kind: "memory"; url: ":memory:"; display: string }
  | { kind: "postgres"; url: string; display: string }; // display: the URL without its password

export const DEFAULT_DATABASE_FILE = "havip.db";

export class BadDatabaseUrl extends Error {}

export function resolveDatabase(arg: string | undefined, dataDir: string): DatabaseTarget {
  if (arg === undefined) return sqliteFile(join(dataDir, DEFAULT_DATABASE_FILE));
  const text = arg.trim();
  if (text === "") throw new BadDatabaseUrl("--database is empty");
  if (text === ":memory:" || text === "sqlite::memory:") {
    return { kind: "memory", url: ":memory:", display: "SQLite in memory (nothing is kept)" };
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return sqliteFile(resolve(text));
  if (scheme === "postgres" || scheme === "postgresql") return postgres(text);
  if (scheme === "file") return sqliteFile(filePath(text));
  if (scheme === "sqlite") {
    // sqlite:///abs/path.db, sqlite:relative/path.db, sqlite://localhost/abs/path.db
    const rest = text.slice("sqlite:".length);
    if (rest.startsWith("//")) return sqliteFile(filePath(`file:${rest}`));
    if (rest === "") throw new BadDatabaseUrl(`--database "${text}" names no file`);
    return sqliteFile(isAbsolute(rest) ? rest : resolve(rest));
  }
  throw new BadDatabaseUrl(
    `--database "${redact(text)}" is not supported: use a SQLite file path, a sqlite: or file: URL, or a postgres:// URL`,
  );
}

function sqliteFile(path: string): DatabaseTarget {
  return { kind: "sqlite", url: path, display: `SQLite file ${path}` };
}

function filePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    throw new BadDatabaseUrl(`--database "${url}" is not a valid file URL (use sqlite:///absolute/path.db)`);
  }
}

function postgres(text: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadDatabaseUrl(`--database "${redact(text)}" is not a valid PostgreSQL URL`);
  }
  if (url.hostname === "" && !url.searchParams.has("host")) {
    throw new BadDatabaseUrl(`--database "${redact(text)}" names no host`);
  }
  return { kind: "postgres", url: text, display: `PostgreSQL ${redact(text)}` };
}

/** A connection URL as it may appear in logs and error messages: the password replaced by "***". */
export function redact(text: string): string {
  return text.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/, "$1***@");
}
