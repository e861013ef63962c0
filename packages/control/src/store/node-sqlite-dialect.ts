// A Kysely dialect for Node's built-in `node:sqlite` (DatabaseSync). Kysely's own SqliteDialect expects
// better-sqlite3; this driver speaks to StatementSync directly and begins every transaction IMMEDIATE,
// so a writer takes SQLite's write lock up front instead of failing on lock upgrade halfway through.
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
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

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const stmt = this.#db.prepare(compiled.sql);
      const params = toSqlite(compiled.parameters);
      // A statement that yields columns (SELECT, … RETURNING) is read with all(); others are run().
      // Rows come back with a null prototype; plain objects behave like pg's rows everywhere.
      if (stmt.columns().length > 0) return Promise.resolve({ rows: stmt.all(...params).map((r) => ({ ...r }) as R) });
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
