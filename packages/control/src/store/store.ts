// The store: a Kysely handle on SQLite (node:sqlite) or PostgreSQL (pg), migrated at open, and `write`,
// the one way to change state: a transaction that serialises writers, assigns gapless revisions in commit
// order and records every change in the `changes` table beside the change itself.
import { DatabaseSync } from "node:sqlite";
import { Kysely, PostgresDialect, type Transaction } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import type { ChangeEvent } from "../model.ts";
import { ChangeFeed, type ChangeListener } from "./change-feed.ts";
import { constraintError } from "./constraints.ts";
import { parseDatabaseUrl } from "./database-url.ts";
import { migrationProvider } from "./migrations.ts";
import { NodeSqliteDialect } from "./node-sqlite-dialect.ts";
import { toChangeEvent } from "./rows.ts";
import type { Database } from "./schema.ts";

export type StoreDialect = "sqlite" | "postgres";

/** What a write transaction can do besides queries: record the changes it makes. */
export interface WriteTx {
  readonly db: Transaction<Database>;
  /** This write's timestamp (ISO 8601), taken once the writer lock is held. */
  readonly at: string;
  readonly now: Date;
  record(change: Omit<ChangeEvent, "revision" | "at">): void;
}

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /** Runs fn in a serialised write transaction; maps constraint violations to catalogue errors. */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  changesSince(since: number, limit: number, projectId?: string): Promise<ChangeEvent[]>;
  currentRevision(): Promise<number>;
  onChange(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl: string;
  now?: () => Date;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

const SQLITE_BUSY_TIMEOUT_MS = 5000;

function openSqlite(path: string): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new NodeSqliteDialect(() => {
      const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
      if (path !== ":memory:") db.exec("pragma journal_mode = wal");
      db.exec(`pragma busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      db.exec("pragma foreign_keys = on");
      // FULL: an acknowledged write survives a power cut too, not only a killed process.
      db.exec("pragma synchronous = full");
      return db;
    }),
  });
}

async function openPostgres(connectionString: string, schema: string | null, poolSize: number) {
  if (schema !== null) {
    const setup = new pg.Client({ connectionString });
    await setup.connect();
    try {
      await setup.query(`create schema if not exists "${schema}"`);
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    ...(schema !== null ? { options: `-c search_path="${schema}"` } : {}),
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const target = parseDatabaseUrl(options.databaseUrl);
  const now = options.now ?? (() => new Date());
  const dialect: StoreDialect = target.kind;
  const db =
    target.kind === "sqlite"
      ? openSqlite(target.path)
      : await openPostgres(target.connectionString, target.schema, options.poolSize ?? 10);

  try {
    const migrator = new Migrator({
      db,
      provider: migrationProvider,
      ...(target.kind === "postgres" && target.schema !== null ? { migrationTableSchema: target.schema } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error("migration failed", { cause: error });
  } catch (e) {
    await db.destroy();
    throw e;
  }

  async function changesSince(since: number, limit: number, projectId?: string): Promise<ChangeEvent[]> {
    let q = db.selectFrom("changes").selectAll().where("revision", ">", since);
    if (projectId !== undefined) q = q.where("project_id", "=", projectId);
    const rows = await q.orderBy("revision").limit(limit).execute();
    return rows.map(toChangeEvent);
  }

  async function currentRevision(): Promise<number> {
    const row = await db
      .selectFrom("revision_counter")
      .select("revision")
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return row.revision;
  }

  const feed = new ChangeFeed(await currentRevision(), (since) => changesSince(since, 1000));

  async function write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    let committed: ChangeEvent[] = [];
    let result: T;
    try {
      result = await db.transaction().execute(async (trx) => {
        // PostgreSQL: the row lock on the counter serialises writers, so revision order = commit order.
        // SQLite: BEGIN IMMEDIATE already holds the database's single write lock.
        let counter = trx.selectFrom("revision_counter").select("revision").where("id", "=", 1);
        if (dialect === "postgres") counter = counter.forUpdate();
        const { revision: start } = await counter.executeTakeFirstOrThrow();
        let revision = start;
        const date = now();
        const at = date.toISOString();
        const changes: ChangeEvent[] = [];
        const out = await fn({
          db: trx,
          at,
          now: date,
          record: (change) => changes.push({ ...change, revision: ++revision, at }),
        });
        if (changes.length > 0) {
          await trx
            .insertInto("changes")
            .values(
              changes.map((c) => ({
                revision: c.revision,
                at: c.at,
                project_id: c.projectId,
                resource: c.resource,
                resource_id: c.id,
                action: c.action,
                data: JSON.stringify(c.data ?? null),
              })),
            )
            .execute();
          await trx.updateTable("revision_counter").set({ revision }).where("id", "=", 1).execute();
        }
        committed = changes;
        return out;
      });
    } catch (e) {
      throw constraintError(e) ?? e;
    }
    feed.committed(committed);
    return result;
  }

  return {
    db,
    dialect,
    write,
    changesSince,
    currentRevision,
    onChange: (listener) => feed.subscribe(listener),
    async close() {
      feed.close();
      await db.destroy();
    },
  };
}

/** Drops a PostgreSQL schema created for a test run (by a `schema=` URL parameter). */
export async function dropPostgresSchema(databaseUrl: string): Promise<void> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind !== "postgres" || target.schema === null) return;
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${target.schema}" cascade`);
  } finally {
    await client.end();
  }
}
