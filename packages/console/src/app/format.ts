// Formatting for people: durations, times, and the holder timeline with the gap since the previous change.
import type { HolderChangeReason, HolderHistoryEntry } from "@havip/control";

/** "850 ms", "12.4 s", "3 min 5 s", "2 h 10 min", "4 d 3 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const totalS = Math.floor(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m} min ${totalS % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A timestamp in the viewer's locale with seconds, and its exact ISO form for a tooltip. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export interface TimelineRow extends HolderHistoryEntry {
  /** Time since the previous holder change, or null for the first. */
  sincePreviousMs: number | null;
}

/** Holder changes, newest first, each with the time since the change before it. */
export function timeline(entries: readonly HolderHistoryEntry[]): TimelineRow[] {
  const oldestFirst = [...entries].sort((a, b) => a.generation - b.generation);
  const rows = oldestFirst.map((entry, i): TimelineRow => {
    const previous = oldestFirst[i - 1];
    return {
      ...entry,
      sincePreviousMs: previous === undefined ? null : Date.parse(entry.at) - Date.parse(previous.at),
    };
  });
  return rows.reverse();
}

/** Counters as people read them: 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

const REASONS: Record<HolderChangeReason, string> = {
  announcement: "announcement",
  verified: "verified: it answered, the holder did not",
  withdrawn: "withdrawn: nobody answered",
  released: "released",
  manual: "reported by hand",
};

/** Why the holder changed, in words (the API's reason first, so it can be searched for). */
export function reasonText(reason: HolderChangeReason): string {
  return REASONS[reason];
}
