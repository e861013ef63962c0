// Control-plane benchmark (issue 5, item 3): HAVIP creates per second while growing to 10,000 HAVIPs, and the
// latency of GET /v1/havips/{id} and of the HAVIP list (first page and a deep page) at that scale, with 50,000
// vNICs in the store — on SQLite and on PostgreSQL, through havipd's HTTP API as users see it.
//
//   node bench/control/run.ts [--quick] [--only=sqlite|postgres] [--vnics=N --havips=N]   (writes bench/results/control.json)
//
// Baselines in the same run and the same daemon: for creates, PUT /v1/quotas (the cheapest durable write the API
// has: one transaction with its change-log entry and a commit); for reads, GET /v1/quotas (authenticated, one
// tiny query). Ratios are havip / baseline.
import { setTimeout as sleep } from "node:timers/promises";
import { summarise } from "../lib/stats.ts";
import { type BenchReport, publish, type ResultRow } from "../lib/report.ts";
import { Api, type Answer, expectStatus, load } from "./client.ts";
import { BENCH_OPERATOR_TOKEN, benchDir, startDaemon } from "./daemon.ts";
import { countAll, createHaVip, populate, type Scale } from "./population.ts";
import { forEachStore, storesFromArgs, type Store, type StoreName } from "./stores.ts";

export interface ControlOptions {
  quick: boolean;
  /** Which stores to measure (default both). */
  backends?: readonly StoreName[];
  /** Another size than the full or quick one (e.g. to compare with an older build in reasonable time). */
  scale?: Scale;
}

const FULL: Scale = { vnics: 50_000, havips: 10_000 };
const QUICK: Scale = { vnics: 1_000, havips: 200 };
const CONCURRENCY = [1, 16, 64] as const;
/** Share of the HAVIPs created at each concurrency (the rest of the way to the target). */
const SHARE: Record<(typeof CONCURRENCY)[number], number> = { 1: 0.1, 16: 0.3, 64: 0.6 };
const WINDOWS = 5;
/** Pause between the creates and the read measurements. */
const SETTLE_MS = 3_000;

interface BackendResult {
  rows: ResultRow[];
  /** HAVIPs the API listed after the creates (proof that they exist). */
  havipsListed: number;
}

function row(
  caseName: string,
  system: string,
  unit: string,
  xs: number[],
  base?: { system: string; median: number },
  extra?: Record<string, unknown>,
): ResultRow {
  const summary = summarise(xs);
  return {
    case: caseName,
    system,
    unit,
    summary,
    ...(base ? { baseline: { system: base.system, ratio: summary.median / base.median } } : {}),
    ...(extra ? { extra } : {}),
  };
}

/** Rates of `count` requests split in WINDOWS consecutive batches (the samples of the median and spread). */
async function windowRates(
  concurrency: number,
  count: number,
  one: (i: number) => Promise<Answer>,
  offset = 0,
): Promise<number[]> {
  const per = Math.max(1, Math.floor(count / WINDOWS));
  const rates: number[] = [];
  let done = 0;
  while (done < count) {
    const n = Math.min(per, count - done);
    const start = offset + done;
    const result = await load(concurrency, n, (i) => one(start + i));
    rates.push(result.rate);
    done += n;
  }
  return rates;
}

async function benchBackend(backend: Store, scale: Scale, quick: boolean): Promise<BackendResult> {
  const dir = benchDir(`havip-bench-control-${backend.name}-`);
  const daemon = await startDaemon({ dataDir: dir.path, ...(backend.database ? { database: backend.database } : {}) });
  const operator = new Api(daemon.url, BENCH_OPERATOR_TOKEN);
  const tenant = new Api(daemon.url, "");
  const rows: ResultRow[] = [];
  const b = backend.name;
  let total: number;
  try {
    const population = await populate(operator, tenant, scale);
    rows.push(
      row(`${b} setup vNICs c=64`, "havip", "creates/s", [population.vnicRate], undefined, {
        vnics: scale.vnics,
        seconds: population.vnicSetupMs / 1000,
      }),
    );

    // Creates, growing to the target: at each concurrency first the baseline write, then the HAVIP creates.
    const quotaWrite = () => operator.send("PUT", "/v1/quotas", { haVipsPerProject: 1_000_000 });
    let created = 0;
    for (const c of CONCURRENCY) {
      const count = c === 64 ? scale.havips - created : Math.round(scale.havips * SHARE[c]);
      const baseCount = Math.max(WINDOWS, Math.round(count / 4));
      const base = await windowRates(c, baseCount, async () => expectStatus(await quotaWrite(), 200, "PUT quotas"));
      const rates = await windowRates(c, count, (i) => createHaVip(tenant, population.subnetIds, i), created);
      created += count;
      const caseName = `${b} create c=${c}`;
      const baseRow = row(caseName, "PUT /v1/quotas", "writes/s", base);
      rows.push(baseRow);
      rows.push(
        row(
          caseName,
          "POST /v1/havips",
          "creates/s",
          rates,
          { system: baseRow.system, median: baseRow.summary.median },
          {
            havipsAfter: created,
            windows: rates,
          },
        ),
      );
    }
    total = await countAll(tenant, "/v1/havips");
    if (total !== scale.havips) throw new Error(`expected ${scale.havips} HAVIPs through the API, found ${total}`);
    const ids: string[] = [];
    let cursor: string | null = null;
    const pageCursors: string[] = [];
    do {
      const q: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const page: { items: { id: string }[]; nextCursor: string | null } = await tenant.ok(
        "GET",
        `/v1/havips?limit=100${q}`,
      );
      for (const h of page.items) ids.push(h.id);
      cursor = page.nextCursor;
      if (cursor !== null) pageCursors.push(cursor);
    } while (cursor !== null);

    // Latency at full scale in steady state (the fabric has caught up with the creates: a few seconds' pause),
    // one request at a time (what one user sees), random ids.
    await sleep(SETTLE_MS);
    const reads = quick ? 300 : 3000;
    const listReads = quick ? 100 : 500;
    const baseRead = await load(1, reads, async () =>
      expectStatus(await tenant.send("GET", "/v1/quotas"), 200, "GET quotas"),
    );
    const readBase = { system: "GET /v1/quotas", median: summarise(baseRead.latencies).median };
    const get = await load(1, reads, async () => {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      return expectStatus(await tenant.send("GET", `/v1/havips/${id}`), 200, "GET havip");
    });
    const first = await load(1, listReads, async () =>
      expectStatus(await tenant.send("GET", "/v1/havips?limit=100"), 200, "list first page"),
    );
    // The deep page: 90 % of the way through the list.
    const deepCursor = pageCursors[Math.floor(pageCursors.length * 0.9)] ?? pageCursors.at(-1) ?? "";
    const deep = await load(1, listReads, async () =>
      expectStatus(
        await tenant.send("GET", `/v1/havips?limit=100&cursor=${encodeURIComponent(deepCursor)}`),
        200,
        "list deep page",
      ),
    );
    rows.push(row(`${b} GET by id`, "GET /v1/quotas", "ms", baseRead.latencies));
    rows.push(row(`${b} GET by id`, "GET /v1/havips/{id}", "ms", get.latencies, readBase, { havips: total }));
    rows.push(row(`${b} list limit=100`, "GET /v1/quotas", "ms", baseRead.latencies));
    rows.push(row(`${b} list limit=100`, "first page", "ms", first.latencies, readBase));
    rows.push(row(`${b} list limit=100`, "deep page (90%)", "ms", deep.latencies, readBase));
  } finally {
    operator.close();
    tenant.close();
    await daemon.stop();
    dir.remove();
  }
  return { rows, havipsListed: total };
}

export async function run(options: ControlOptions): Promise<BenchReport> {
  const scale = options.scale ?? (options.quick ? QUICK : FULL);
  const backends = options.backends ?? ["sqlite", "postgres"];
  const rows: ResultRow[] = [];
  const havipsListed: Record<string, number> = {};
  const parameters: Record<string, unknown> = {
    ...scale,
    concurrency: CONCURRENCY,
    windowsPerCase: WINDOWS,
    havipsListed,
  };
  await forEachStore(backends, parameters, async (store) => {
    const result = await benchBackend(store, scale, options.quick);
    rows.push(...result.rows);
    havipsListed[store.name] = result.havipsListed;
  });
  return {
    name: options.scale ? `control-${scale.havips}-${scale.vnics}` : options.quick ? "control-quick" : "control",
    title: `Control plane: ${scale.havips} HAVIPs, ${scale.vnics} vNICs, havipd over HTTP (keep-alive)`,
    parameters,
    notes: [
      "creates/s: median over 5 consecutive windows while the table grows; higher is better. ms: per-request latency, lower is better.",
      "Baselines in the same daemon: PUT /v1/quotas (cheapest durable write), GET /v1/quotas (cheapest authenticated read).",
      "SQLite: WAL, synchronous=FULL (fsync per commit group). A small shared machine: machine.loadAverage in the JSON says how busy it was.",
    ],
    rows,
  };
}

if (import.meta.main) {
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
  const backends = storesFromArgs(process.argv);
  const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const [vnics, havips] = [flag("vnics"), flag("havips")];
  const scale =
    vnics !== undefined && havips !== undefined ? { vnics: Number(vnics), havips: Number(havips) } : undefined;
  const report = await run({
    quick: process.argv.includes("--quick"),
    ...(backends ? { backends } : {}),
    ...(scale ? { scale } : {}),
  });
  publish(report);
}
