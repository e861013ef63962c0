// Mass failover: a host that held many HAVIPs is lost, and the instance beside it announces all of them at once.
// How long until havipd's API shows every new holder, on SQLite and on PostgreSQL, through havipd as users run it
// (a child process, its fabric in-process with its VXLAN port on loopback, the instances' VXLAN devices stood in
// for by UDP sockets), followed on the event stream.
//
//   node bench/mass-failover/run.ts [--quick] [--only=sqlite|postgres]   (writes bench/results/mass-failover.json)
//
// Baseline in the same run and the same daemon: as many `PUT /v1/quotas` one after another (c=1), the cheapest
// durable write the API has — what the same number of holder changes costs when each takes a commit of its own.
// Ratio: time until the API shows every new holder / the baseline's time.
import { freePort, gratuitousArp, Vtep } from "@havip/testkit";
import { Api, expectStatus, load } from "../control/client.ts";
import { countAll } from "../control/population.ts";
import { BENCH_OPERATOR_TOKEN, benchDir, startDaemon, type BenchDaemon } from "../control/daemon.ts";
import { forEachStore, storesFromArgs, type Store, type StoreName } from "../control/stores.ts";
import { publish, type BenchReport, type ResultRow } from "../lib/report.ts";
import { summarise } from "../lib/stats.ts";
import { watchHolders, type HolderChange } from "./events.ts";

export interface MassFailoverOptions {
  quick: boolean;
  /** Which stores to measure (default both). */
  backends?: readonly StoreName[];
}

const FULL = { havips: 1000, rounds: 10 };
const QUICK = { havips: 50, rounds: 2 };
/** How long one round may take before the benchmark gives up (a lost announcement, a stuck store). */
const ROUND_TIMEOUT_MS = 60_000;

interface Instance {
  id: string;
  primaryVnicId: string;
  vnics: { macAddress: string }[];
}

interface HaVipHeld {
  holder: { vnicId: string } | null;
}

interface Host {
  name: string;
  instance: Instance;
  vtep: Vtep;
  vni: number;
}

/** What a round of set-up opened, closed at the end by its caller (also when the set-up failed half-way). */
interface Owned {
  apis: Api[];
  vteps: Vtep[];
}

/** A project with one subnet, two instances attached through VTEPs on loopback, and `count` HAVIPs. */
async function tenant(daemon: BenchDaemon, fabricPort: number, count: number, owned: Owned) {
  const operator = new Api(daemon.url, BENCH_OPERATOR_TOKEN);
  owned.apis.push(operator);
  const project = await operator.ok<{ token: string }>("POST", "/v1/projects", { name: "bench" }, 201);
  await operator.ok("PUT", "/v1/quotas", { haVipsPerProject: 1_000_000 });
  const api = new Api(daemon.url, project.token);
  owned.apis.push(api);
  const vpc = await api.ok<{ id: string }>("POST", "/v1/vpcs", { cidr: "10.0.0.0/16", region: "region-1" }, 201);
  const subnet = await api.ok<{ id: string }>(
    "POST",
    "/v1/subnets",
    { vpcId: vpc.id, cidr: "10.0.0.0/20", zone: "zone-a" },
    201,
  );
  const hosts: Host[] = [];
  for (const [i, name] of ["vm-a", "vm-b"].entries()) {
    const instance = await api.ok<Instance>("POST", "/v1/instances", { name, subnetId: subnet.id }, 201);
    const vtep = new Vtep();
    owned.vteps.push(vtep);
    await vtep.open();
    const vni = 1001 + i;
    await operator.ok("PUT", `/v1/fabric/attachments/${instance.primaryVnicId}`, {
      remoteAddress: "127.0.0.1",
      remotePort: vtep.port,
      vni,
    });
    hosts.push({ name, instance, vtep, vni });
  }
  const havips: { id: string; ipAddress: string }[] = [];
  await load(16, count, async (i) => {
    const answer = expectStatus(await api.send("POST", "/v1/havips", { subnetId: subnet.id }), 201, "create HAVIP");
    havips[i] = answer.body as { id: string; ipAddress: string };
    return answer;
  });
  const announceAll = (host: Host) => {
    const mac = host.instance.vnics[0]!.macAddress;
    for (const h of havips) host.vtep.send(fabricPort, host.vni, gratuitousArp({ mac, ip: h.ipAddress }));
  };
  return { operator, api, hosts, havips, announceAll };
}

interface Round {
  /** From the first announcement sent to the last new holder shown on the event stream, ms. */
  allShownMs: number;
  /** Each HAVIP's time from the first announcement sent to its new holder shown, ms. */
  shownMs: number[];
}

/** Announces every HAVIP from `host` and waits until the event stream has shown it as holder of all of them. */
async function failoverRound(
  t: Awaited<ReturnType<typeof tenant>>,
  host: Host,
  changes: { onChange: ((c: HolderChange) => void) | null },
): Promise<Round> {
  const pending = new Set(t.havips.map((h) => h.id));
  const shownMs: number[] = [];
  let started = 0;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`${host.name}: ${pending.size} of ${t.havips.length} HAVIPs not shown after ${ROUND_TIMEOUT_MS} ms`),
      );
    }, ROUND_TIMEOUT_MS);
    changes.onChange = (c) => {
      if (c.vnicId !== host.instance.primaryVnicId || !pending.delete(c.havipId)) return;
      shownMs.push(c.seenAt - started);
      if (pending.size === 0) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  started = performance.now();
  t.announceAll(host);
  await done;
  changes.onChange = null;
  return { allShownMs: Math.max(...shownMs), shownMs };
}

async function benchBackend(
  { name, database }: Store,
  size: { havips: number; rounds: number },
): Promise<{ rows: ResultRow[]; verified: number }> {
  const dir = benchDir(`havip-bench-mass-${name}-`);
  const fabricPort = await freePort("udp4");
  const daemon = await startDaemon({
    dataDir: dir.path,
    ...(database === undefined ? {} : { database }),
    args: ["--fabric-listen", `127.0.0.1:${fabricPort}`],
  });
  const owned: Owned = { apis: [], vteps: [] };
  const changes: { onChange: ((c: HolderChange) => void) | null } = { onChange: null };
  let watch: Awaited<ReturnType<typeof watchHolders>> | undefined;
  try {
    const t = await tenant(daemon, fabricPort, size.havips, owned);
    watch = await watchHolders(daemon.url, BENCH_OPERATOR_TOKEN, 0, (c) => changes.onChange?.(c));
    const [a, b] = t.hosts as [Host, Host];
    process.stderr.write(`mass-failover: ${name}: ${size.havips} HAVIPs, vm-a takes them all\n`);
    await failoverRound(t, a, changes);
    const rounds: Round[] = [];
    const baselineMs: number[] = [];
    for (let r = 0; r < size.rounds; r++) {
      const to = r % 2 === 0 ? b : a;
      const round = await failoverRound(t, to, changes);
      rounds.push(round);
      const operator = t.operator;
      const base = await load(1, size.havips, async () =>
        expectStatus(await operator.send("PUT", "/v1/quotas", { haVipsPerProject: 1_000_000 }), 200, "PUT quotas"),
      );
      baselineMs.push(base.elapsedMs);
      process.stderr.write(
        `mass-failover: ${name}: round ${r + 1}/${size.rounds}: ${to.name} shown as holder of all ${size.havips} ` +
          `after ${round.allShownMs.toFixed(0)} ms; ${size.havips} PUT /v1/quotas one after another ${base.elapsedMs.toFixed(0)} ms\n`,
      );
    }
    const last = size.rounds % 2 === 1 ? b : a;
    const lastVnic = last.instance.primaryVnicId;
    const verified = await countAll<HaVipHeld>(t.api, "/v1/havips", (h) => h.holder?.vnicId === lastVnic);
    if (verified !== size.havips) {
      throw new Error(`${name}: the API lists ${verified} HAVIPs held by ${last.name}, not ${size.havips}`);
    }
    const baseline = summarise(baselineMs);
    const all = summarise(rounds.map((r) => r.allShownMs));
    const each = summarise(rounds.flatMap((r) => r.shownMs));
    const baseSystem = "PUT /v1/quotas c=1";
    return {
      verified,
      rows: [
        {
          case: `${name} ${size.havips} at once`,
          system: "havip",
          unit: "ms until all shown",
          summary: all,
          baseline: { system: baseSystem, ratio: all.median / baseline.median },
          extra: {
            holderChangesPerSecond: (size.havips / all.median) * 1000,
            rounds: rounds.map((r) => r.allShownMs),
          },
        },
        {
          case: `${name} ${size.havips} at once`,
          system: baseSystem,
          unit: "ms until all shown",
          summary: baseline,
          extra: { writesPerSecond: (size.havips / baseline.median) * 1000, rounds: baselineMs },
        },
        {
          case: `${name} each HAVIP`,
          system: "havip",
          unit: "ms until shown",
          summary: each,
          extra: { samples: each.n },
        },
      ],
    };
  } finally {
    watch?.close();
    for (const api of owned.apis) api.close();
    for (const vtep of owned.vteps) await vtep.close();
    await daemon.stop();
    dir.remove();
  }
}

export async function run(options: MassFailoverOptions): Promise<BenchReport> {
  const size = options.quick ? QUICK : FULL;
  const backends = options.backends ?? ["sqlite", "postgres"];
  const rows: ResultRow[] = [];
  const verified: Record<string, number> = {};
  const parameters: Record<string, unknown> = { ...size, verified };
  await forEachStore(backends, parameters, async (store) => {
    const result = await benchBackend(store, size);
    rows.push(...result.rows);
    verified[store.name] = result.verified;
  });
  return {
    name: options.quick ? "mass-failover-quick" : "mass-failover",
    title: `Mass failover: ${size.havips} HAVIPs announced at once by one instance, until havipd's API shows them all`,
    parameters,
    notes: [
      "havip: from the first gratuitous ARP sent to the last holder-changed event on GET /v1/events (the fabric",
      "re-points at once; this is the control plane recording every new holder). Each round moves all of them to",
      "the other instance. Baseline: as many PUT /v1/quotas one after another (one commit each), same daemon.",
      "each HAVIP: every HAVIP's own time until shown, over all rounds.",
    ],
    rows,
  };
}

if (import.meta.main) {
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
  const backends = storesFromArgs(process.argv);
  publish(await run({ quick: process.argv.includes("--quick"), ...(backends ? { backends } : {}) }));
}
