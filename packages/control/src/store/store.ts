// The store: a Kysely handle on SQLite (node:sqlite) or PostgreSQL (pg), migrated at open, and `write`,
// the one way to change state: a transaction that serialises writers, assigns gapless revisions in commit
// order and records every change in the `changes` table beside the change itself. Concurrent writes share a
// commit (group commit, see `write`): one fsync for many acknowledged writes. `runOnce` makes the
// writes of an idempotent request and the record of its Idempotency-Key one transaction.
// On PostgreSQL several processes may share the database: each write transaction NOTIFYs its last revision,
// and every store LISTENs, so each process's change feed delivers every process's commits. A database that
// goes away fails calls (the API answers 503 ServiceUnavailable.Store), never the process; the store
// reconnects by itself.
import { AsyncLocalStorage } from "node:async_hooks";
import { DatabaseSync } from "node:sqlite";
import { type ControlledTransaction, Kysely, PostgresDialect, sql, type Transaction } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import type { ChangeEvent } from "../model.ts";
import { ChangeFeed, type ChangeListener } from "./change-feed.ts";
import { constraintError } from "./constraints.ts";
import { parseDatabaseUrl } from "./database-url.ts";
import {
  type Lease,
  type LeaseOptions,
  type Leases,
  localLeases,
  postgresLeases,
  type WaitForLeaseOptions,
} from "./lease.ts";
import { migrationProvider } from "./migrations.ts";
import { NodeSqliteDialect } from "./node-sqlite-dialect.ts";
import { ChangeNotifications } from "./notifications.ts";
import { changeChannel, ensureSchema, openPool, type PostgresTarget } from "./postgres.ts";
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

/** The Idempotency-Key a request runs under: who asked, the key, and the digest of the request. */
export interface IdempotencyClaim {
  readonly actorKey: string;
  readonly key: string;
  readonly fingerprint: string;
}

/** What runOnce did: ran (and committed its writes with the key), or found the key already recorded. */
export type OnceOutcome<T> =
  | { readonly kind: "ran"; readonly value: T }
  | { readonly kind: "recorded"; readonly fingerprint: string; readonly response: string };

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /**
   * Runs fn in a serialised write transaction; maps constraint violations to catalogue errors. Inside
   * runOnce, fn joins runOnce's transaction instead and its result is returned before that commits.
   */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /**
   * Runs `run` once for its claim, exactly once across crashes: every `write` that run makes joins one
   * transaction, which commits only when run resolves and together with the key's record of run's result
   * (its JSON). So no crash leaves a create without its key or a key without its create, and a retry
   * finds the first result at once. When run fails, everything is rolled back and nothing is recorded.
   * When the key is already recorded (a race with another process), run is stopped at its first write,
   * having written nothing, and the record is returned. `run` should not read through `db` after its
   * first write: it would not see its own uncommitted writes (SQLite: it would wait for them forever).
   */
  runOnce<T>(claim: IdempotencyClaim, run: () => Promise<T>): Promise<OnceOutcome<T>>;
  changesSince(since: number, limit: number, projectId?: string): Promise<ChangeEvent[]>;
  currentRevision(): Promise<number>;
  /** Every committed change, this process's and (PostgreSQL) other processes', in revision order. */
  onChange(listener: ChangeListener): () => void;
  /**
   * Takes the lease `name` if no one (in any process on this database) holds it; null when someone does.
   * PostgreSQL: a session advisory lock on a dedicated connection; when that connection dies or stops
   * answering, the lease is lost and onLost fires. SQLite: always granted.
   */
  acquireLease(name: string, options: LeaseOptions): Promise<Lease | null>;
  /** Waits until the lease `name` is granted (through outages too), or options.signal aborts. */
  waitForLease(name: string, options: WaitForLeaseOptions): Promise<Lease>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl: string;
  now?: () => Date;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /**
   * PostgreSQL: the database went away (false, with the error) or is back (true); called on each change.
   * The store rides it out by itself; this is for the operator's log.
   */
  onAvailability?: (available: boolean, error?: unknown) => void;
}

const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** At most this many writes share one commit (bounds the wait of the last one). */
const MAX_GROUP = 128;
/** Change-log rows per INSERT (SQLite allows 32,766 bound parameters; 7 per row). */
const LOG_ROWS_PER_INSERT = 500;

type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A write waiting for the next group commit. */
interface QueuedWrite {
  readonly fn: (tx: WriteTx) => Promise<unknown>;
  settle(outcome: WriteOutcome): void;
}

/** A write transaction in progress: its revisions so far and the changes it recorded. */
interface WriteState {
  readonly trx: Transaction<Database>;
  revision: number;
  readonly at: string;
  readonly now: Date;
  readonly changes: ChangeEvent[];
}

/** Rolls back quietly: the error that brought us here is the one to report. */
async function rollBack(trx: ControlledTransaction<Database>): Promise<void> {
  if (trx.isCommitted || trx.isRolledBack) return;
  await trx
    .rollback()
    .execute()
    .catch(() => undefined);
}

/** One runOnce: its claim, its transaction once the first write opened it, and how it ended. */
interface OnceScope {
  readonly claim: IdempotencyClaim;
  open: Promise<WriteState & { trx: ControlledTransaction<Database> }> | undefined;
  /** Set when the key turned out to be recorded already. */
  recorded: (OnceOutcome<never> & { kind: "recorded" }) | undefined;
  failed: boolean;
  closed: boolean;
}

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

async function openPostgres(target: PostgresTarget, poolSize: number) {
  await ensureSchema(target);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPool(target, poolSize) }) });
}

/**
 * A failure as callers should see it: a catalogue error for a violated constraint. An outage stays the
 * driver's error (isStoreOutage tells it): the HTTP layer answers it 503 ServiceUnavailable.Store, and
 * callers that retry (the fabric's holder recording) keep telling it from a final refusal (an ApiError).
 */
function mapStoreError(e: unknown): unknown {
  return constraintError(e) ?? e;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const target = parseDatabaseUrl(options.databaseUrl);
  const now = options.now ?? (() => new Date());
  const dialect: StoreDialect = target.kind;
  const db = target.kind === "sqlite" ? openSqlite(target.path) : await openPostgres(target, options.poolSize ?? 10);
  const channel = target.kind === "postgres" ? changeChannel(target) : null;

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

  let feed: ChangeFeed;
  let notifications: ChangeNotifications | undefined;
  let leases: Leases;
  try {
    feed = new ChangeFeed(await currentRevision(), changesSince);
    if (target.kind === "postgres") {
      // Listening starts after the feed's first revision was read: whatever was committed in between is
      // read from the table when listening begins (onListening), so nothing falls between the two.
      let available = true;
      notifications = await ChangeNotifications.start({
        target,
        channel: changeChannel(target),
        onNotify: (revision) => {
          feed.catchUp(revision);
        },
        onListening: () => {
          feed.catchUp();
          if (available) return;
          available = true;
          options.onAvailability?.(true);
        },
        onLost: (error) => {
          if (!available) return;
          available = false;
          options.onAvailability?.(false, error);
        },
      });
      leases = postgresLeases(target);
    } else {
      leases = localLeases();
    }
  } catch (e) {
    await db.destroy();
    throw e;
  }

  /** Takes the writer lock (see below); returns the last committed revision. */
  async function takeWriterLock(trx: Transaction<Database>): Promise<number> {
    // PostgreSQL: the row lock on the counter serialises writers, so revision order = commit order.
    // SQLite: BEGIN IMMEDIATE already holds the database's single write lock.
    let counter = trx.selectFrom("revision_counter").select("revision").where("id", "=", 1);
    if (dialect === "postgres") counter = counter.forUpdate();
    const { revision } = await counter.executeTakeFirstOrThrow();
    return revision;
  }

  /** One write's state: its revisions start after `revision`; its timestamp is taken now (lock held). */
  function writeState(trx: Transaction<Database>, revision: number): WriteState {
    const date = now();
    return { trx, revision, at: date.toISOString(), now: date, changes: [] };
  }

  async function beginWrite(trx: Transaction<Database>): Promise<WriteState> {
    return writeState(trx, await takeWriterLock(trx));
  }

  function writeTx(state: WriteState): WriteTx {
    return {
      db: state.trx,
      at: state.at,
      now: state.now,
      record: (change) => state.changes.push({ ...change, revision: ++state.revision, at: state.at }),
    };
  }

  /** Appends changes to the change log and moves the counter to the last of them, in the transaction. */
  async function logChanges(trx: Transaction<Database>, changes: readonly ChangeEvent[]): Promise<void> {
    const last = changes.at(-1);
    if (last === undefined) return;
    for (let i = 0; i < changes.length; i += LOG_ROWS_PER_INSERT) {
      await trx
        .insertInto("changes")
        .values(
          changes.slice(i, i + LOG_ROWS_PER_INSERT).map((c) => ({
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
    }
    await trx.updateTable("revision_counter").set({ revision: last.revision }).where("id", "=", 1).execute();
    // Delivered to every listening store when (and only if) this transaction commits.
    if (channel !== null) await sql`select pg_notify(${channel}, ${String(last.revision)})`.execute(trx);
  }

  // The runOnce in progress on this async path, if any: how `write` knows to join its transaction.
  const onceScope = new AsyncLocalStorage<OnceScope>();

  // Group commit. Writes that arrive while a commit is in progress (its fsync, or the writes before it) queue
  // up and are committed together in the next transaction: one fsync for the group instead of one per write,
  // which is what bounds the write rate with full durability. Each write runs in its own savepoint, so one that
  // fails is rolled back alone; every write is answered only after the group committed (an acknowledged write
  // is durable), and a failed group fails all its writes (none of them committed).
  const queue: QueuedWrite[] = [];
  let draining = false;

  function write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const scope = onceScope.getStore();
    if (scope !== undefined && !scope.closed) return writeOnce(scope, fn);
    return new Promise<T>((resolve, reject) => {
      queue.push({
        fn,
        settle: (o) => {
          if (o.ok) resolve(o.value as T);
          else reject(o.error); // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors -- the write's own error, as thrown
        },
      });
      if (!draining) {
        draining = true;
        void drain();
      }
    });
  }

  async function drain(): Promise<void> {
    try {
      do {
        // One turn of the event loop first: requests that arrived during the last commit get to queue their writes.
        await new Promise((resolve) => setImmediate(resolve));
        await commitGroup(queue.splice(0, MAX_GROUP));
      } while (queue.length > 0);
    } finally {
      draining = false;
    }
  }

  async function commitGroup(group: readonly QueuedWrite[]): Promise<void> {
    const alone = group.length === 1;
    const outcomes: WriteOutcome[] = [];
    const committed: ChangeEvent[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        let revision = await takeWriterLock(trx);
        for (const queued of group) {
          const state = writeState(trx, revision);
          if (!alone) await sql`savepoint w`.execute(trx);
          try {
            const value = await queued.fn(writeTx(state));
            if (!alone) await sql`release savepoint w`.execute(trx);
            revision = state.revision;
            committed.push(...state.changes);
            outcomes.push({ ok: true, value });
          } catch (e) {
            if (alone) throw e;
            await sql`rollback to savepoint w`.execute(trx);
            await sql`release savepoint w`.execute(trx);
            outcomes.push({ ok: false, error: mapStoreError(e) });
          }
        }
        await logChanges(trx, committed);
      });
    } catch (e) {
      const error = mapStoreError(e);
      for (const queued of group) queued.settle({ ok: false, error });
      return;
    }
    feed.committed(committed);
    group.forEach((queued, i) => {
      queued.settle(outcomes[i]!);
    });
  }

  /** A write inside runOnce: joins (at the first write, opens) the run's one transaction; no commit here. */
  async function writeOnce<T>(scope: OnceScope, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    scope.open ??= openOnce(scope);
    const state = await scope.open;
    try {
      return await fn(writeTx(state));
    } catch (e) {
      scope.failed = true; // even if run swallows this error, its transaction must not commit
      throw mapStoreError(e);
    }
  }

  async function openOnce(scope: OnceScope): Promise<WriteState & { trx: ControlledTransaction<Database> }> {
    const trx = await db.startTransaction().execute();
    try {
      const state = await beginWrite(trx);
      // Under the writer lock, a key recorded by a request that raced this one is visible (PostgreSQL's
      // read committed takes a new snapshot per statement): stop before writing anything.
      const row = await trx
        .selectFrom("idempotency_keys")
        .select(["fingerprint", "response"])
        .where("actor_key", "=", scope.claim.actorKey)
        .where("idem_key", "=", scope.claim.key)
        .executeTakeFirst();
      if (row) {
        scope.recorded = { kind: "recorded", fingerprint: row.fingerprint, response: row.response ?? "null" };
        throw new Error("Idempotency-Key already recorded: this run stops at its first write");
      }
      return { ...state, trx };
    } catch (e) {
      await rollBack(trx);
      throw e;
    }
  }

  async function runOnce<T>(claim: IdempotencyClaim, run: () => Promise<T>): Promise<OnceOutcome<T>> {
    const scope: OnceScope = { claim, open: undefined, recorded: undefined, failed: false, closed: false };
    let value: T;
    try {
      value = await onceScope.run(scope, run);
    } catch (e) {
      scope.closed = true;
      await rollbackOnce(scope);
      if (scope.recorded) return scope.recorded;
      throw e;
    }
    scope.closed = true; // writes started later by run's leftovers (timers) are ordinary writes
    if (scope.recorded || scope.failed) {
      await rollbackOnce(scope);
      if (scope.recorded) return scope.recorded;
      throw new Error("a write failed inside an idempotent run that went on: nothing was committed");
    }
    const response = JSON.stringify(value ?? null);
    if (scope.open === undefined) return recordAlone(claim, response, value);
    const state = await scope.open;
    try {
      await logChanges(state.trx, state.changes);
      await state.trx
        .insertInto("idempotency_keys")
        .values({
          actor_key: claim.actorKey,
          idem_key: claim.key,
          fingerprint: claim.fingerprint,
          state: "done",
          response,
          created_at: state.at,
        })
        .execute();
      await state.trx.commit().execute();
    } catch (e) {
      await rollBack(state.trx);
      throw mapStoreError(e);
    }
    feed.committed(state.changes);
    return { kind: "ran", value };
  }

  async function rollbackOnce(scope: OnceScope): Promise<void> {
    const state = await scope.open?.catch(() => undefined); // a failed open has rolled back already
    if (state) await rollBack(state.trx);
  }

  /** A run that wrote nothing: its key is recorded on its own (running it twice changed nothing). */
  async function recordAlone<T>(claim: IdempotencyClaim, response: string, value: T): Promise<OnceOutcome<T>> {
    const inserted = await db
      .insertInto("idempotency_keys")
      .values({
        actor_key: claim.actorKey,
        idem_key: claim.key,
        fingerprint: claim.fingerprint,
        state: "done",
        response,
        created_at: now().toISOString(),
      })
      .onConflict((oc) => oc.columns(["actor_key", "idem_key"]).doNothing())
      .returning("idem_key")
      .executeTakeFirst();
    if (inserted) return { kind: "ran", value };
    const row = await db
      .selectFrom("idempotency_keys")
      .select(["fingerprint", "response"])
      .where("actor_key", "=", claim.actorKey)
      .where("idem_key", "=", claim.key)
      .executeTakeFirstOrThrow();
    return { kind: "recorded", fingerprint: row.fingerprint, response: row.response ?? "null" };
  }

  return {
    db,
    dialect,
    write,
    runOnce,
    changesSince,
    currentRevision,
    onChange: (listener) => feed.subscribe(listener),
    acquireLease: (name, leaseOptions) => leases.acquire(name, leaseOptions),
    waitForLease: (name, leaseOptions) => leases.waitFor(name, leaseOptions),
    async close() {
      feed.close();
      await notifications?.close();
      await leases.close();
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
