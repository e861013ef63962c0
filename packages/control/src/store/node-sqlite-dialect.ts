// A Kysely dialect for Node's built-in `node:sqlite` (DatabaseSync). Kysely's own SqliteDialect expects
// better-sqlite3; this driver speaks to StatementSync directly and begins every transaction IMMEDIATE,
// so a writer takes SQLite's write lock up front instead of failing on lock upgrade halfway through.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";

export class NodeSqliteDialect implements Dialect {
  readonly #open: () => DatabaseSync;
  constructor(open: () => DatabaseSync) {
    this.#open = open;
  }
  createDriver(): Driver {
    return new NodeSqliteDriver(this.#open);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter(); // supportsMultipleConnections = false: Kysely serialises users of the connection
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class NodeSqliteDriver implements Driver {
  readonly #open: () => DatabaseSync;
  #db: DatabaseSync | undefined;
  #connection: NodeSqliteConnection | undefined;
  constructor(open: () => DatabaseSync) {
    this.#open = open;
  }
  init(): Promise<void> {
    this.#db = this.#open();
    this.#connection = new NodeSqliteConnection(this.#db);
    return Promise.resolve();
  }
  acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#connection) return Promise.reject(new Error("sqlite driver used before init"));
    return Promise.resolve(this.#connection);
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }
  releaseConnection(): Promise<void> {
    return Promise.resolve();
  }
  destroy(): Promise<void> {
    if (this.#db?.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

function toSqlite(values: readonly unknown[]): SQLInputValue[] {
  return values.map((v): SQLInputValue => {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (v === undefined) return null;
    return v as SQLInputValue;
  });
}

/** Prepared statements kept per SQL text; a bound on their number (lists of `in (?, ?, …)` vary in length). */
const MAX_CACHED_STATEMENTS = 500;

interface Prepared {
  readonly stmt: StatementSync;
  /** Yields columns (SELECT, … RETURNING): read with all(); others are run(). */
  readonly reads: boolean;
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  // Preparing is a good part of a small query's cost, and Kysely compiles the same SQL text again and again.
  readonly #statements = new Map<string, Prepared>();
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  #prepared(sql: string): Prepared {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.clear();
      const stmt = this.#db.prepare(sql);
      prepared = { stmt, reads: stmt.columns().length > 0 };
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }
  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const { stmt, reads } = this.#prepared(compiled.sql);
      const params = toSqlite(compiled.parameters);
      // Rows come back with a null prototype; plain objects behave like pg's rows everywhere.
      if (reads) return Promise.resolve({ rows: stmt.all(...params).map((r) => ({ ...r }) as R) });
      const { changes, lastInsertRowid } = stmt.run(...params);
      return Promise.resolve({
        rows: [],
        numAffectedRows: BigInt(changes),
        insertId: BigInt(lastInsertRowid),
      });
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }
  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiled.query)) throw new Error("sqlite driver streams only SELECT queries");
    const stmt = this.#db.prepare(compiled.sql);
    for (const row of stmt.iterate(...toSqlite(compiled.parameters)))
      yield await Promise.resolve({ rows: [{ ...row } as R] });
  }
}
