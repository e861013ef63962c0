// Plain-text output: aligned columns for lists, "key  value" lines for one resource.

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
}

const NONE = "-";

/** Control characters (a name holding an escape sequence or a newline) must not reach the terminal. */
export function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return NONE;
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** Columns separated by two spaces, each as wide as its widest cell; the last column is not padded. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => cell(c.value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => width(line[i] ?? ""))));
  return cells
    .map((line) =>
      line
        .map((text, i) => (i === line.length - 1 ? text : text + " ".repeat((widths[i] ?? 0) - width(text))))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/** One resource as aligned "key  value" lines. */
export function renderDetails(fields: readonly (readonly [string, string | number | null | undefined])[]): string {
  const keyWidth = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${key.padEnd(keyWidth)}  ${cell(value)}\n`).join("");
}

const graphemes = new Intl.Segmenter();

/** Display width in graphemes, so accented names line up (double-width CJK glyphs are not measured). */
function width(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}

/** "2025-01-02T03:04:05.678Z" → "2025-01-02T03:04:05Z": people rarely need the milliseconds. */
export function time(iso: string | null | undefined): string | null {
  if (iso === null || iso === undefined) return null;
  return iso.replace(/\.\d+Z$/, "Z");
}
