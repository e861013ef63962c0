// How every benchmark reports: a table on stdout and a JSON file bench/results/<name>.json with the machine, the
// date, each row's summary over repeated runs, and its ratio to the baseline measured in the same run.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import type { Summary } from "./stats.ts";

export interface ResultRow {
  /** What was measured, e.g. "tcp-1500". */
  case: string;
  /** The system under test, e.g. "havip", "ovn", "linux-bridge". */
  system: string;
  /** The unit of `summary`, e.g. "Gbit/s", "kpps", "ms". */
  unit: string;
  summary: Summary;
  /** The row this one is compared with (same case), and value/baseline of the medians. */
  baseline?: { system: string; ratio: number };
  /** Anything else worth keeping (raw runs, parameters). */
  extra?: Record<string, unknown>;
}

export interface BenchReport {
  name: string;
  title: string;
  /** How to read the numbers, one or two sentences (printed under the table). */
  notes?: string[];
  parameters?: Record<string, unknown>;
  rows: ResultRow[];
}

export function machine(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? null,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** A number with three significant digits or so, as every bench table prints it; "—" when not finite. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** The report as an aligned text table. */
export function renderTable(report: BenchReport): string {
  const head = ["case", "system", "median", "min", "max", "p99", "spread", "unit", "vs", "ratio"];
  const body = report.rows.map((r) => [
    r.case,
    r.system,
    fmt(r.summary.median),
    fmt(r.summary.min),
    fmt(r.summary.max),
    fmt(r.summary.p99),
    Number.isFinite(r.summary.spreadPct) ? `${r.summary.spreadPct.toFixed(0)}%` : "—",
    r.unit,
    r.baseline?.system ?? "",
    r.baseline === undefined ? "" : `${fmt(r.baseline.ratio)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [report.title, line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  for (const n of report.notes ?? []) out.push(`  ${n}`);
  return out.join("\n");
}

/** Prints the table and writes bench/results/<name>.json; returns the file's path. */
export function publish(report: BenchReport): string {
  process.stdout.write(`\n${renderTable(report)}\n`);
  const dir = new URL("../results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${report.name}.json`, dir);
  const doc = { at: new Date().toISOString(), machine: machine(), ...report };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(`  → ${file.pathname}\n`);
  return file.pathname;
}
