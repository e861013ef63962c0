// Follows the commits of every process on one PostgreSQL database: a dedicated connection LISTENs on the
// change log's channel (each write transaction NOTIFYs in its commit, with its last revision). When the
// connection is lost it is made again, with back-off, and the owner is told to catch up from the table:
// notifications sent while nobody listened are gone, the change table is not.
import type pg from "pg";
import { dedicatedClient, type PostgresTarget } from "./postgres.ts";

export interface ChangeNotificationsOptions {
  readonly target: PostgresTarget;
  readonly channel: string;
  /** Another transaction committed; its last revision when the payload names one. */
  onNotify(revision: number | undefined): void;
  /** Listening (again): whatever was committed while not listening must be read from the table. */
  onListening(): void;
  /** The listening connection was lost (the database is probably away); reconnecting. */
  onLost(error: unknown): void;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1000;
/** A connection that answers nothing for this long is given up (a server that vanished without a word). */
const HEARTBEAT_MS = 5000;

const ignore = (): void => undefined;

export class ChangeNotifications {
  readonly #options: ChangeNotificationsOptions;
  #client: pg.Client | undefined;
  #retryMs = RETRY_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: ChangeNotificationsOptions) {
    this.#options = options;
  }

  /** Starts listening; fails when the first connection cannot be made. */
  static async start(options: ChangeNotificationsOptions): Promise<ChangeNotifications> {
    const notifications = new ChangeNotifications(options);
    await notifications.#connect();
    return notifications;
  }

  /** True while the listening connection is up. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(ignore);
  }

  async #connect(): Promise<void> {
    const { target, channel } = this.#options;
    const client = dedicatedClient(target, "havipd-changes");
    client.on("error", ignore); // until it listens; failures before that reject connect() or the LISTEN
    try {
      await client.connect();
      await client.query(`listen "${channel}"`);
    } catch (e) {
      // Not awaited: ending a connection that failed half-way may wait for a close that never comes.
      void client.end().catch(ignore);
      throw e;
    }
    if (this.#closed) {
      await client.end().catch(ignore);
      return;
    }
    let gone = false;
    const lost = (error: unknown) => {
      if (gone) return;
      gone = true;
      this.#lost(client, error);
    };
    client.on("error", lost);
    client.on("end", () => {
      lost(new Error("the listening connection ended"));
    });
    client.on("notification", (message) => {
      if (message.channel !== channel) return;
      const revision = Number(message.payload);
      this.#options.onNotify(Number.isSafeInteger(revision) ? revision : undefined);
    });
    this.#client = client;
    this.#retryMs = RETRY_MIN_MS;
    this.#heartbeat(client, lost);
    this.#options.onListening();
  }

  /** Checks the connection now and then: a lost one is noticed even when no commit is under way. */
  #heartbeat(client: pg.Client, lost: (error: unknown) => void): void {
    this.#timer = setTimeout(() => {
      let timeout: NodeJS.Timeout | undefined;
      const silent = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => {
          reject(new Error(`the listening connection did not answer within ${HEARTBEAT_MS} ms`));
        }, HEARTBEAT_MS);
      });
      Promise.race([client.query("select 1"), silent])
        .then(
          () => {
            if (this.#client === client) this.#heartbeat(client, lost);
          },
          (error: unknown) => {
            lost(error);
          },
        )
        .finally(() => {
          clearTimeout(timeout);
        });
    }, HEARTBEAT_MS);
    this.#timer.unref();
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    clearTimeout(this.#timer);
    void client.end().catch(ignore);
    if (this.#closed) return;
    this.#options.onLost(error);
    this.#reconnect();
  }

  #reconnect(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#connect().catch(() => {
        this.#reconnect();
      });
    }, this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }
}
