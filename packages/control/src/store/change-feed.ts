// Delivers committed changes to listeners in revision order, each once. Two sources feed it: this process's
// own commits (at once, from the committing code) and the change table, read past the last delivered
// revision whenever another process may have committed (a PostgreSQL notification, a reconnect).
//
// Why no revision is ever skipped: the feed delivers only the next revision (delivered + 1) and holds back
// everything past a gap until the gap is filled, re-reading the table meanwhile. Revisions are gapless in
// the table: a writer allocates them under the writer lock (store.ts) and records them with the counter in
// its own transaction, so a revision whose writer rolled back is allocated again by the next writer. So a
// gap is always a revision still on its way (for this process's commits: finishing in another order as
// seen from JavaScript), never one that will not come.
import type { ChangeEvent } from "../model.ts";

export type ChangeListener = (event: ChangeEvent) => void;

/** Reads committed changes with revision > since, oldest first, at most limit. */
export type ReadChanges = (since: number, limit: number) => Promise<ChangeEvent[]>;

const GAP_FILL_DELAY_MS = 50;
/** After a failed read (the database away), the next try. A reconnect catches up at once anyway. */
const READ_RETRY_MS = 1000;
const PAGE = 1000;

export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  readonly #pending = new Map<number, ChangeEvent>();
  readonly #read: ReadChanges;
  #delivered: number;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  #readAgain = false;
  #closed = false;

  constructor(startRevision: number, read: ReadChanges) {
    this.#delivered = startRevision;
    this.#read = read;
  }

  /** The newest revision delivered to listeners. */
  get delivered(): number {
    return this.#delivered;
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after a commit with that transaction's events (or with events read from the table). */
  committed(events: readonly ChangeEvent[]): void {
    if (this.#closed) return;
    for (const e of events) if (e.revision > this.#delivered) this.#pending.set(e.revision, e);
    this.#drain();
    if (this.#pending.size > 0) this.#schedule(GAP_FILL_DELAY_MS);
  }

  /**
   * Something may have been committed elsewhere: reads the table past the last delivered revision.
   * `upTo`, when known (a notification's revision), skips the read if it was delivered already.
   */
  catchUp(upTo?: number): void {
    if (this.#closed || (upTo !== undefined && upTo <= this.#delivered)) return;
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    void this.#readTable();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
    this.#pending.clear();
  }

  async #readTable(): Promise<void> {
    try {
      for (;;) {
        const since = this.#delivered;
        const events = await this.#read(since, PAGE);
        this.committed(events);
        const woken = this.#takeWake();
        if (this.#closed) return;
        // Held back at a gap: the gap timer reads again a little later.
        if (events.length > 0 && this.#delivered === since) return;
        // A full page may have more behind it; a wake-up during the read may be for a later commit.
        if (events.length < PAGE && !woken) return;
      }
    } catch {
      this.#schedule(READ_RETRY_MS);
    } finally {
      this.#reading = false;
      this.#readAgain = false;
    }
  }

  /** Whether catchUp was called while a read was under way (and forgets it). */
  #takeWake(): boolean {
    const woken = this.#readAgain;
    this.#readAgain = false;
    return woken;
  }

  #drain(): void {
    for (;;) {
      const next = this.#pending.get(this.#delivered + 1);
      if (!next) return;
      this.#pending.delete(next.revision);
      this.#delivered = next.revision;
      for (const listener of this.#listeners) {
        try {
          listener(next);
        } catch {
          // A failing listener must not stop delivery to the others, nor fail the writer.
        }
      }
    }
  }

  #schedule(ms: number): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.catchUp();
    }, ms);
    this.#timer.unref();
  }
}
