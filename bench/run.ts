// The runner behind `npm run bench`: runs the named benchmarks (default: all), prints every table, and writes
// bench/results/summary.md, one markdown table of the headline numbers for the README.
//
//   npm run bench [-- --quick] [-- fabric dataplane failover mass-failover control footprint faults]
//
// The fabric pipeline benchmark publishes on its own and runs as a child process; every other benchmark is a
// module bench/<name>/run.ts exporting `run({ quick })`. Benchmarks of the Linux parts are skipped, loudly,
// when not root; a missing or failing benchmark is reported and the others still run (exit code 1 at the end).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fmt, machine, publish } from "./lib/report.ts";
import type { BenchReport } from "./lib/report.ts";
import { requireRootFor } from "./lib/root.ts";

export const BENCHMARKS = [
  "fabric",
  "dataplane",
  "failover",
  "mass-failover",
  "control",
  "footprint",
  "faults",
] as const;
type Benchmark = (typeof BENCHMARKS)[number];
/** Those that make namespaces (and so need root). */
const ROOT_ONLY: ReadonlySet<Benchmark> = new Set(["dataplane", "failover", "faults"]);

/** One line of the summary table. */
export interface HeadlineRow {
  bench: string;
  case: string;
  system: string;
  median: number;
  unit: string;
  spreadPct: number;
  /** e.g. "0.52× linux-bridge, 1.10× ovn"; empty when the row has no baseline. */
  versus: string;
}

interface Outcome {
  bench: Benchmark;
  status: "ok" | "skipped" | "missing" | "failed";
  detail?: string;
}

/** "0.52×", or "—" when there is no ratio (a side measured nothing). */
function ratioText(x: number): string {
  return Number.isFinite(x) ? `${fmt(x)}×` : "—";
}

/** The headline rows of a report: every row, with every ratio it carries (extra.ratios, else its baseline). */
export function headlines(report: BenchReport): HeadlineRow[] {
  return report.rows.map((r) => {
    const ratios = r.extra?.ratios;
    let versus = "";
    if (typeof ratios === "object" && ratios !== null && Object.keys(ratios).length > 0) {
      versus = Object.entries(ratios as Record<string, number>)
        .map(([base, x]) => `${ratioText(x)} ${base}`)
        .join(", ");
    } else if (r.baseline !== undefined) {
      versus = `${ratioText(r.baseline.ratio)} ${r.baseline.system}`;
    }
    return {
      bench: report.name,
      case: r.case,
      system: r.system,
      median: r.summary.median,
      unit: r.unit,
      spreadPct: r.summary.spreadPct,
      versus,
    };
  });
}

interface PipelineScenario {
  name: string;
  medianFps: number;
  spreadPct: number;
  ratioToBaseline: number;
}

/** The fabric pipeline's own JSON (bench/fabric/pipeline.ts) as headline rows. */
export function pipelineHeadlines(json: {
  scenarios: PipelineScenario[];
  failover?: { p50Us: number; p99Us: number };
  holderConfirm?: {
    vnics: number;
    inPlace: { p50Ms: number; p99Ms: number };
    fullCompile: { p50Ms: number; p99Ms: number };
  };
}): HeadlineRow[] {
  const rows: HeadlineRow[] = json.scenarios.map((s) => ({
    bench: "fabric-pipeline",
    case: s.name,
    system: "fabric (in-process)",
    median: s.medianFps / 1e6,
    unit: "Mframes/s",
    spreadPct: s.spreadPct,
    versus: s.name === "baseline" ? "" : `${fmt(s.ratioToBaseline)}× copy loop`,
  }));
  if (json.failover !== undefined) {
    rows.push({
      bench: "fabric-pipeline",
      case: "announcement → delivery",
      system: "fabric (in-process)",
      median: json.failover.p50Us,
      unit: `µs (p99 ${fmt(json.failover.p99Us)})`,
      spreadPct: NaN,
      versus: "",
    });
  }
  const c = json.holderConfirm;
  if (c !== undefined) {
    const at = `holder confirmed, ${fmt(c.vnics)} vNICs`;
    rows.push(
      {
        bench: "fabric-pipeline",
        case: at,
        system: "fabric (full compile)",
        median: c.fullCompile.p50Ms,
        unit: `ms paused (p99 ${fmt(c.fullCompile.p99Ms)})`,
        spreadPct: NaN,
        versus: "",
      },
      {
        bench: "fabric-pipeline",
        case: at,
        system: "fabric (in place)",
        median: c.inPlace.p50Ms,
        unit: `ms paused (p99 ${fmt(c.inPlace.p99Ms)})`,
        spreadPct: NaN,
        versus: `${fmt(c.inPlace.p50Ms / c.fullCompile.p50Ms)}× full compile`,
      },
    );
  }
  return rows;
}

/** The summary page: when, where, one table, and what did not run. */
export function renderSummary(rows: readonly HeadlineRow[], outcomes: readonly Outcome[], quick: boolean): string {
  const m = machine();
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const lines = [
    `# Benchmark summary${quick ? " (quick run: smoke sizes, not for publication)" : ""}`,
    "",
    `Measured ${new Date().toISOString()} on ${String(m.cpu)}, ${String(m.cores)} cores, ${String(m.memoryGiB)} GiB, ` +
      `Node ${String(m.node)}; load average at the end ${(m.loadAverage as number[]).join(", ")}.`,
    "Median and spread ((max − min) / median) over repeated runs; ratios against baselines measured in the same run.",
    "",
    "| benchmark | case | system | median | unit | spread | ratio |",
    "|---|---|---|---:|---|---:|---|",
    ...rows.map(
      (r) =>
        `| ${cell(r.bench)} | ${cell(r.case)} | ${cell(r.system)} | ${fmt(r.median)} | ${cell(r.unit)} | ` +
        `${Number.isFinite(r.spreadPct) ? `${r.spreadPct.toFixed(0)}%` : "—"} | ${cell(r.versus)} |`,
    ),
  ];
  const notRun = outcomes.filter((o) => o.status !== "ok");
  if (notRun.length > 0) {
    lines.push(
      "",
      ...notRun.map((o) => `- **${o.bench}: ${o.status}**${o.detail === undefined ? "" : ` — ${o.detail}`}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

const RESULTS = new URL("./results/", import.meta.url);

/**
 * Runs bench/fabric/pipeline.ts, which writes bench/results/fabric-pipeline.json itself. A quick run uses smoke
 * sizes and must not replace the real results: its file becomes fabric-pipeline-quick.json and the previous one
 * is put back.
 */
async function runPipeline(quick: boolean): Promise<HeadlineRow[]> {
  const script = fileURLToPath(new URL("./fabric/pipeline.ts", import.meta.url));
  const file = new URL("fabric-pipeline.json", RESULTS);
  const previous = quick && existsSync(file) ? readFileSync(file, "utf8") : undefined;
  const env = {
    ...process.env,
    ...(quick
      ? {
          BENCH_FRAMES: "200000",
          BENCH_RUNS: "2",
          BENCH_FAILOVERS: "2000",
          BENCH_CONFIRM_VNICS: "1000",
          BENCH_CONFIRM_ROUNDS: "6",
        }
      : {}),
  };
  const child = spawn(process.execPath, [script], { stdio: "inherit", env });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const text = code === 0 ? readFileSync(file, "utf8") : undefined;
  if (quick && code === 0) {
    writeFileSync(new URL("fabric-pipeline-quick.json", RESULTS), text ?? "");
    if (previous === undefined) rmSync(file, { force: true });
    else writeFileSync(file, previous);
  }
  if (text === undefined) throw new Error(`bench/fabric/pipeline.ts exited with ${String(code)}`);
  return pipelineHeadlines(JSON.parse(text) as Parameters<typeof pipelineHeadlines>[0]);
}

async function runModule(name: Benchmark, quick: boolean): Promise<HeadlineRow[] | "missing"> {
  const file = new URL(`./${name}/run.ts`, import.meta.url);
  if (!existsSync(file)) return "missing";
  const mod = (await import(file.href)) as { run?: (options: { quick: boolean }) => Promise<BenchReport> };
  if (typeof mod.run !== "function") throw new Error(`bench/${name}/run.ts exports no run()`);
  const report = await mod.run({ quick });
  publish(report);
  return headlines(report);
}

/** The headline rows of a benchmark from its result file (what `--summary` reads instead of running it). */
function fromFile(name: Benchmark, quick: boolean): { rows: HeadlineRow[]; at: string } | "missing" {
  const base = name === "fabric" ? "fabric-pipeline" : name;
  const file = new URL(`${base}${quick ? "-quick" : ""}.json`, RESULTS);
  if (!existsSync(file)) return "missing";
  const json = JSON.parse(readFileSync(file, "utf8")) as { at?: string };
  const rows =
    name === "fabric"
      ? pipelineHeadlines(json as Parameters<typeof pipelineHeadlines>[0])
      : headlines(json as unknown as BenchReport);
  return { rows, at: json.at ?? "unknown" };
}

/** `--summary`: rebuilds summary.md from the result files of the named benchmarks (all by default). */
function summariseFiles(chosen: readonly Benchmark[], quick: boolean): number {
  const rows: HeadlineRow[] = [];
  const outcomes: Outcome[] = [];
  const measured: string[] = [];
  for (const bench of chosen) {
    const got = fromFile(bench, quick);
    if (got === "missing") {
      outcomes.push({ bench, status: "missing", detail: "no result file: run it first" });
      continue;
    }
    rows.push(...got.rows);
    measured.push(`${bench} ${got.at}`);
    outcomes.push({ bench, status: "ok" });
  }
  const file = new URL(quick ? "summary-quick.md" : "summary.md", RESULTS);
  const summary = renderSummary(rows, outcomes, quick).replace(
    /^Measured [^\n]*$/m,
    `Summarised from bench/results/ (measured: ${measured.join("; ")}) on ${String(machine().cpu)}, ${String(machine().cores)} cores.`,
  );
  writeFileSync(file, summary);
  process.stdout.write(`${summary}\n  → ${file.pathname}\n`);
  return outcomes.some((o) => o.status !== "ok") ? 1 : 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes("--quick");
  const named = argv.filter((a) => !a.startsWith("--"));
  const unknown = named.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHMARKS.join(", ")}\n`);
    return 2;
  }
  const chosen = named.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => named.includes(b));
  if (argv.includes("--summary")) return summariseFiles(chosen, quick);
  const rows: HeadlineRow[] = [];
  const outcomes: Outcome[] = [];
  for (const bench of chosen) {
    process.stdout.write(`\n=== ${bench}${quick ? " (quick)" : ""} ===\n`);
    if (ROOT_ONLY.has(bench) && !requireRootFor(bench)) {
      outcomes.push({ bench, status: "skipped", detail: "needs root" });
      continue;
    }
    try {
      const got = bench === "fabric" ? await runPipeline(quick) : await runModule(bench, quick);
      if (got === "missing") {
        process.stderr.write(`\n!!! ${bench}: MISSING — bench/${bench}/run.ts is not there !!!\n\n`);
        outcomes.push({ bench, status: "missing", detail: `bench/${bench}/run.ts is not there` });
      } else {
        rows.push(...got);
        outcomes.push({ bench, status: "ok" });
      }
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      process.stderr.write(`\n!!! ${bench}: FAILED — ${detail} !!!\n\n`);
      outcomes.push({ bench, status: "failed", detail });
    }
  }
  mkdirSync(RESULTS, { recursive: true });
  const file = new URL(quick ? "summary-quick.md" : "summary.md", RESULTS);
  const summary = renderSummary(rows, outcomes, quick);
  writeFileSync(file, summary);
  process.stdout.write(`\n${summary}\n  → ${file.pathname}\n`);
  return outcomes.some((o) => o.status === "failed" || o.status === "missing") ? 1 : 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
