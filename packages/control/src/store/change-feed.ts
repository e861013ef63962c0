// Delivers committed changes to listeners in revision order. Writers can finish their commits in any
// order as seen from JavaScript (several PostgreSQL connections), so events are held until every lower
// revision was delivered; a gap that persists (a writer in another process) is filled from the table.
import type { ChangeEvent } from "../model.ts";

export type ChangeListener = (event: ChangeEvent) => void;

const GAP_FILL_DELAY_MS = 50;

export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  readonly #pending = new Map<number, ChangeEvent>();
  readonly #readSince: (revision: number) => Promise<ChangeEvent[]>;
  #delivered: number;
  #gapTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(startRevision: number, readSince: (revision: number) => Promise<ChangeEvent[]>) {
    this.#delivered = startRevision;
    this.#readSince = readSince;
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after a commit with that transaction's events. */
  committed(events: readonly ChangeEvent[]): void {
    if (this.#closed) return;
    for (const e of events) if (e.revision > this.#delivered) this.#pending.set(e.revision, e);
    this.#drain();
    if (this.#pending.size > 0) this.#scheduleGapFill();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#gapTimer);
    this.#listeners.clear();
    this.#pending.clear();
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

  #scheduleGapFill(): void {
    if (this.#gapTimer) return;
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = undefined;
      if (this.#closed || this.#pending.size === 0) return;
      this.#readSince(this.#delivered).then(
        (events) => {
          this.committed(events);
        },
        () => {
          if (!this.#closed) this.#scheduleGapFill();
        },
      );
    }, GAP_FILL_DELAY_MS);
    this.#gapTimer.unref();
  }
}
