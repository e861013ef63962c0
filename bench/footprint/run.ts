// Footprint benchmark (issue 5, item 4): havipd's resident memory with 10,000 vNICs and 1,000 HAVIPs in its store
// and applied to its (in-process) fabric, and the time to apply that spec from scratch — havipd restarted, the
// whole NetworkSpec read from the store and built into the fabric's tables (the daemon logs that duration as
// "fabric spec applied"). Baseline in the same run: havipd on an empty store.
//
//   node bench/footprint/run.ts [--quick]   (writes bench/results/footprint.json)
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Api } from "../control/client.ts";
import { BENCH_OPERATOR_TOKEN, type BenchDaemon, benchDir, startDaemon } from "../control/daemon.ts";
import { countAll, createHaVip, populate, type Scale } from "../control/population.ts";
import { load } from "../control/client.ts";
import { type BenchReport, publish, type ResultRow } from "../lib/report.ts";
import { summarise } from "../lib/stats.ts";

const FULL: Scale = { vnics: 10_000, havips: 1_000 };
const QUICK: Scale = { vnics: 1_000, havips: 100 };
/** Idle time before RSS is read (allocation of the start is over, the collector has had its chance). */
const SETTLE_MS = 2_000;

/** VmRSS of a process, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

interface Start {
  rssMiB: number;
  startupMs: number;
  applyMs: number;
  vnics: number;
  havips: number;
}

/** The daemon's "fabric spec applied" record (duration and what it applied). */
function specApplied(daemon: BenchDaemon): { durationMs: number; vnics: number; havips: number } {
  const record = daemon.logs().find((r) => r.msg === "fabric spec applied");
  if (record === undefined) throw new Error('havipd logged no "fabric spec applied"');
  return { durationMs: Number(record.durationMs), vnics: Number(record.vnics), havips: Number(record.havips) };
}

/** Starts havipd on dataDir, waits for it to settle, measures, stops it. */
async function measureStart(dataDir: string): Promise<Start> {
  const daemon = await startDaemon({ dataDir });
  try {
    await sleep(SETTLE_MS);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(rssMiB(daemon.pid));
      await sleep(100);
    }
    const applied = specApplied(daemon);
    return {
      rssMiB: summarise(samples).median,
      startupMs: daemon.readyAt - daemon.spawnedAt,
      applyMs: applied.durationMs,
      vnics: applied.vnics,
      havips: applied.havips,
    };
  } finally {
    await daemon.stop();
  }
}

export async function run(options: { quick: boolean }): Promise<BenchReport> {
  const scale = options.quick ? QUICK : FULL;
  const runs = options.quick ? 2 : 5;
  const empty = benchDir("havip-bench-footprint-empty-");
  const full = benchDir("havip-bench-footprint-");
  try {
    // The store: loaded through the API, then havipd stopped.
    const loader = await startDaemon({ dataDir: full.path });
    let loadSeconds: number;
    try {
      const operator = new Api(loader.url, BENCH_OPERATOR_TOKEN);
      const tenant = new Api(loader.url, "");
      const started = performance.now();
      const population = await populate(operator, tenant, scale);
      await load(64, scale.havips, (i) => createHaVip(tenant, population.subnetIds, i));
      const havips = await countAll(tenant, "/v1/havips");
      if (havips !== scale.havips) throw new Error(`expected ${scale.havips} HAVIPs, the API lists ${havips}`);
      loadSeconds = (performance.now() - started) / 1000;
      operator.close();
      tenant.close();
    } finally {
      await loader.stop();
    }

    // Alternating restarts of the empty and the populated havipd, so both see the same machine load.
    const base: Start[] = [];
    const loaded: Start[] = [];
    for (let i = 0; i < runs; i++) {
      base.push(await measureStart(empty.path));
      const start = await measureStart(full.path);
      if (start.vnics !== scale.vnics || start.havips !== scale.havips) {
        throw new Error(
          `the fabric applied ${start.vnics} vNICs and ${start.havips} HAVIPs, not ${JSON.stringify(scale)}`,
        );
      }
      loaded.push(start);
    }

    const rows: ResultRow[] = [];
    const pair = (caseName: string, unit: string, pick: (s: Start) => number) => {
      const b = summarise(base.map(pick));
      const l = summarise(loaded.map(pick));
      rows.push({ case: caseName, system: "empty store", unit, summary: b });
      rows.push({
        case: caseName,
        system: "havipd",
        unit,
        summary: l,
        baseline: { system: "empty store", ratio: l.median / b.median },
        extra: { runs: loaded.map(pick) },
      });
    };
    pair("resident memory (VmRSS)", "MiB", (s) => s.rssMiB);
    pair("apply spec from scratch", "ms", (s) => s.applyMs);
    pair("start (spawn → /v1/health)", "ms", (s) => s.startupMs);
    return {
      name: options.quick ? "footprint-quick" : "footprint",
      title: `Footprint: havipd with ${scale.vnics} vNICs and ${scale.havips} HAVIPs applied to its in-process fabric`,
      parameters: { ...scale, runs, settleMs: SETTLE_MS, storeLoadSeconds: loadSeconds, database: "sqlite" },
      notes: [
        `VmRSS read ${SETTLE_MS / 1000} s after havipd answered /v1/health (median of 5 reads); lower is better.`,
        'apply spec: store read + fabric tables built, as havipd logs it at start ("fabric spec applied").',
        "A small shared machine: machine.loadAverage in the JSON says how busy it was.",
      ],
      rows,
    };
  } finally {
    empty.remove();
    full.remove();
  }
}

if (import.meta.main) {
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
  publish(await run({ quick: process.argv.includes("--quick") }));
}
