// Failover benchmark (issue 5, item 2): keepalived (VRRPv3, advert_int 0.1 and 1) on vm-a and vm-b, vm-c probing
// the VIP over UDP every millisecond (responders on vm-a and vm-b echo from the VIP) with tcpdump running; the holder's link is cut, then restored (keepalived preempts
// back: a second failover). From the client's capture, per failover: the client-visible outage, and the delay
// the platform adds from the new holder's gratuitous ARP to its first reply; from the control plane, when it
// showed the new holder. Same hosts, same keepalived configuration, on havip and on OVN, in the same run.
//
//   node bench/failover/run.ts [--quick]     (root; writes bench/results/failover.json)
//   BENCH_FAILOVER_CYCLES=20 (cut + preempt pairs per system and advert_int), BENCH_PROBE_INTERVAL_MS=1,
//   BENCH_FAILOVER_KEEP=1 (keep the captures), BENCH_FAILOVER_SYSTEMS=havip and BENCH_FAILOVER_ADVERTS=0.1
//   (narrow a run), BENCH_GUEST_HALT_POLL_NS=200000 (idle vCPUs poll before halting; keep: leave the machine)
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { KeepalivedConfig } from "@havip/lab";
import { readPcap } from "@havip/wire";
import { applyHaltPoll, parseHaltPollWish } from "../lib/halt-poll.ts";
import { publish, type BenchReport, type ResultRow } from "../lib/report.ts";
import { requireRootFor } from "../lib/root.ts";
import { ratio, summarise, type Summary } from "../lib/stats.ts";
import type { BenchHost, Topology, TopologyFactory } from "../lib/topology.ts";
import { havip, havipNoVerify } from "../topologies/havip.ts";
import { ovnTopology } from "../topologies/ovn.ts";
import { downOnInterrupt, ipIn } from "../topologies/shared.ts";
import {
  analyseFailovers,
  probeRoundTrips,
  observations,
  type FailoverEvent,
  type FailoverKind,
  type FailoverSample,
  type Seen,
} from "./analyse.ts";
import { bucketQuantile, histogramSince, scrapeAnnounceToRepoint, type Histogram } from "./havipd-metrics.ts";
import { failoverSelection } from "./selection.ts";
import {
  startCapture,
  startKeepalived,
  startParentCapture,
  startProber,
  startResponder,
  type Running,
} from "./processes.ts";

export const VIP = "10.0.1.50";
const HOSTS = ["vm-a", "vm-b", "vm-c"] as const;
const SYSTEMS: readonly { name: string; factory: TopologyFactory }[] = [
  { name: "havip", factory: havip },
  { name: "ovn", factory: ovnTopology },
  // Only when asked for (BENCH_FAILOVER_SYSTEMS=havip,havip-noverify): what holder verification costs a failover.
  { name: "havip-noverify", factory: havipNoVerify },
];
/** The systems a run measures unless BENCH_FAILOVER_SYSTEMS names others. */
const DEFAULT_SYSTEMS = ["havip", "ovn"];
/** After each holder change: longer than keepalived's second gratuitous-ARP burst (garp_master_delay 1 s). */
const SETTLE_MS = 1600;
const HOLDER_TIMEOUT_MS = 20_000;

/** Wall-clock milliseconds with sub-millisecond resolution: the clock pcap timestamps are on. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The keepalived configuration of both parents (only the priority differs): as the lab's fast VRRPv3 case. */
export function keepalivedConfig(priority: number, advertInterval: number): KeepalivedConfig {
  return {
    instances: [
      {
        name: "VI_1",
        version: 3,
        virtualRouterId: 51,
        advertInterval,
        state: "BACKUP",
        garpMasterDelay: 1,
        priority,
        virtualAddresses: [{ address: VIP, prefixLen: 24 }],
      },
    ],
  };
}

/** How often the control plane is polled in a watched failover (its time is measured) and in a quiet one. */
const WATCH_POLL_MS = 1;
const QUIET_POLL_MS = 50;

/** Polls the control plane's view of the holder every `everyMs`; the arrival time of the first `want`. */
async function holderShown(
  topo: Topology,
  want: string,
  timeoutMs: number,
  everyMs = WATCH_POLL_MS,
): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const shown = await topo.holder!().catch(() => null);
    const at = wallClockMs();
    if (shown === want) return at;
    await sleep(everyMs);
  }
  return null;
}

/** What one (system, advert_int) run produced. */
export interface SystemRun {
  system: string;
  advertInterval: number;
  samples: FailoverSample[];
  /** Probe echoes in the client's capture by the holder that sent them, and the VIP's announcements it saw. */
  repliesFrom: Record<string, number>;
  announcements: number;
  /** Round trips of every answered probe of the run (steady state and failovers alike). */
  probeRttMs: Summary;
  /**
   * havip only: havipd's live announcement → re-point histogram over the run's failovers (null if unreadable);
   * `startUp`: what it held before them (the first claim, on an agent that had just started).
   */
  announceToRepoint?: (Histogram & { startUp?: Histogram }) | null;
}

/** How a run appears in the report's parameters (the raw per-failover samples included). */
export interface RunRecord {
  system: string;
  advertInterval: number;
  repliesFrom: Record<string, number>;
  announcements: number;
  probeRttMs: Summary;
  failovers: FailoverSample[];
}

/** One system at one advert_int: a fresh topology, keepalived, capture and probe, `cycles` cut/restore pairs. */
export async function measureSystem(
  system: { name: string; factory: TopologyFactory },
  advertInterval: number,
  cycles: number,
  probeIntervalMs: number,
): Promise<SystemRun> {
  const prefix = `fo${system.name[0]!}${randomBytes(2).toString("hex")}-`;
  const dir = mkdtempSync(join(tmpdir(), `havip-bench-failover-${prefix}`));
  // BENCH_FAILOVER_KEEP=1 keeps the captures and keepalived logs for a closer look (the path is printed).
  const keep = process.env.BENCH_FAILOVER_KEEP === "1";
  const removeDir = () => {
    if (keep) process.stderr.write(`failover: ${system.name} captures kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  };
  const unregister = downOnInterrupt(removeDir);
  const running: Running[] = [];
  let topo: Topology | undefined;
  try {
    topo = await system.factory({ hosts: HOSTS, prefix, vip: { address: VIP, parents: ["vm-a", "vm-b"] } });
    if (topo.holder === undefined) throw new Error(`${system.name}: the topology reports no holder`);
    const byName = new Map(topo.hosts.map((h) => [h.name, h]));
    const [a, b, c] = HOSTS.map((n) => byName.get(n)!) as [BenchHost, BenchHost, BenchHost];
    running.push(await startKeepalived(a, dir, keepalivedConfig(150, advertInterval)));
    running.push(await startKeepalived(b, dir, keepalivedConfig(100, advertInterval)));
    if ((await holderShown(topo, a.name, HOLDER_TIMEOUT_MS)) === null) {
      throw new Error(`${system.name}: vm-a never became the holder`);
    }
    const capture = await startCapture(c, dir, VIP);
    running.push(capture.tcpdump);
    const parentCaptures = [await startParentCapture(a, dir, VIP), await startParentCapture(b, dir, VIP)];
    running.push(...parentCaptures.map((p) => p.tcpdump));
    running.push(await startResponder(a, dir, VIP), await startResponder(b, dir, VIP));
    const probe = await startProber(c, dir, VIP, probeIntervalMs);
    running.push(probe);
    await sleep(SETTLE_MS);
    // The histogram so far (vm-a's first claim, on an agent that has just started) is taken out of the run's rows.
    const startUp = system.name.startsWith("havip") ? await scrapeAnnounceToRepoint(prefix) : undefined;

    const events: FailoverEvent[] = [];
    const progress = (line: string) =>
      process.stderr.write(`failover: ${system.name}, advert_int ${advertInterval}: ${line}\n`);
    progress(`up, vm-a holds; ${cycles} cut/restore pairs, probing every ${probeIntervalMs} ms`);
    const failover = async (
      kind: FailoverKind,
      from: BenchHost,
      to: BenchHost,
      n: number,
      apiWatched: boolean,
    ): Promise<void> => {
      const triggerAt = wallClockMs();
      // The cut: vm-a's link goes down; the restore brings it back, and keepalived's priority 150 preempts.
      await ipIn(a.namespace, ["link", "set", "eth0", kind === "cut" ? "down" : "up"]);
      const shownAt = await holderShown(topo!, to.name, HOLDER_TIMEOUT_MS, apiWatched ? WATCH_POLL_MS : QUIET_POLL_MS);
      progress(
        `${kind} ${n}/${cycles} (${apiWatched ? "control plane watched" : "quiet"}): it showed ${to.name} ` +
          (shownAt === null
            ? `not within ${HOLDER_TIMEOUT_MS} ms`
            : `${(shownAt - triggerAt).toFixed(0)} ms after the trigger`),
      );
      events.push({
        kind,
        triggerAt,
        oldHolder: { name: from.name, mac: from.mac },
        newHolder: { name: to.name, mac: to.mac },
        apiWatched,
        apiAt: apiWatched ? shownAt : null,
      });
      await sleep(SETTLE_MS);
    };
    // Alternating pairs: a watched pair measures the control plane (polled every millisecond, which loads the
    // machine: one HTTP request per millisecond on havip, an ovn-sbctl process per poll on OVN); a quiet pair
    // measures the data plane without that load.
    for (let i = 0; i < cycles; i++) {
      const watched = i % 2 === 0;
      await failover("cut", a, b, i + 1, watched);
      await failover("preempt", b, a, i + 1, watched);
    }
    const atEnd = system.name.startsWith("havip") ? await scrapeAnnounceToRepoint(prefix) : undefined;
    const announceToRepoint =
      atEnd === undefined || atEnd === null || startUp === undefined || startUp === null
        ? atEnd
        : { ...histogramSince(atEnd, startUp), startUp };
    await probe.stop();
    await sleep(100); // the last replies into the capture
    for (const t of [capture, ...parentCaptures]) await t.tcpdump.stop("SIGINT");

    const seen = observations(readPcap(readFileSync(capture.file)).records, VIP);
    const parents: Record<string, Seen[]> = {};
    parentCaptures.forEach((p, i) => {
      const pcap = readPcap(readFileSync(p.file));
      parents[[a, b][i]!.name] = observations(pcap.records, VIP, pcap.linktype);
    });
    const repliesFrom: Record<string, number> = {};
    for (const h of [a, b]) {
      const mac = Number.parseInt(h.mac.replaceAll(":", ""), 16);
      repliesFrom[h.name] = seen.filter((s) => s.kind === "reply" && s.mac === mac).length;
    }
    return {
      system: system.name,
      advertInterval,
      samples: analyseFailovers(seen, parents, events),
      repliesFrom,
      announcements: seen.filter((s) => s.kind === "garp").length,
      probeRttMs: summarise(probeRoundTrips(seen)),
      ...(announceToRepoint === undefined ? {} : { announceToRepoint }),
    };
  } finally {
    for (const r of running.reverse()) await r.stop().catch(() => undefined);
    await topo?.down();
    await removeDir();
    unregister();
  }
}

type Metric =
  "outageMs" | "garpToReplyMs" | "announceToReplyMs" | "platformDelayMs" | "holderAnswerMs" | "fabricDelayMs" | "apiMs";
const METRICS: readonly { metric: Metric; case: string }[] = [
  { metric: "outageMs", case: "outage" },
  { metric: "garpToReplyMs", case: "garp-to-reply" },
  { metric: "announceToReplyMs", case: "announce-to-reply" },
  { metric: "platformDelayMs", case: "platform-delay" },
  { metric: "holderAnswerMs", case: "holder-answer" },
  { metric: "fabricDelayMs", case: "fabric-delay" },
  { metric: "apiMs", case: "api-holder" },
];

/**
 * The values of `metric` over the failovers of `kind` that measure it: the control plane's time from the watched
 * failovers, everything else from the quiet ones (`watched` = true: the data-plane metrics while it was polled).
 */
function values(samples: readonly FailoverSample[], kind: FailoverKind, metric: Metric, watched?: boolean): number[] {
  const fromWatched = watched ?? metric === "apiMs";
  return samples
    .filter((s) => s.kind === kind && s.apiWatched === fromWatched)
    .flatMap((s) => (s[metric] === null ? [] : [s[metric]]));
}

/** The rows: per advert_int, failover kind and metric, one row per system; havip's against OVN's. */
export function rowsOf(runs: readonly SystemRun[]): ResultRow[] {
  const rows: ResultRow[] = [];
  const adverts = [...new Set(runs.map((r) => r.advertInterval))];
  for (const advert of adverts) {
    const ovnRtt = runs.find((r) => r.system === "ovn" && r.advertInterval === advert)?.probeRttMs.median;
    for (const run of runs.filter((r) => r.advertInterval === advert)) {
      rows.push({
        case: `probe-rtt-v3-${advert}`,
        system: run.system,
        unit: "ms",
        summary: run.probeRttMs,
        ...(run.system === "ovn" || ovnRtt === undefined
          ? {}
          : { baseline: { system: "ovn", ratio: ratio(run.probeRttMs.median, ovnRtt) } }),
      });
    }
    for (const kind of ["cut", "preempt"] as const) {
      for (const { metric, case: name } of METRICS) {
        const caseName = `${name}${kind === "cut" ? "" : "-preempt"}-v3-${advert}`;
        const ovn = runs.find((r) => r.system === "ovn" && r.advertInterval === advert);
        const ovnMedian = ovn === undefined ? undefined : summarise(values(ovn.samples, kind, metric)).median;
        for (const run of runs.filter((r) => r.advertInterval === advert)) {
          const xs = values(run.samples, kind, metric);
          const measuredIn = run.samples.filter((s) => s.kind === kind && s.apiWatched === (metric === "apiMs"));
          const row: ResultRow = {
            case: caseName,
            system: run.system,
            unit: "ms",
            summary: summarise(xs),
            extra: {
              samples: xs,
              missing: measuredIn.length - xs.length,
              failovers: metric === "apiMs" ? "watched (control plane polled every 1 ms)" : "quiet",
              ...(metric === "apiMs" ? {} : { samplesWhileWatched: values(run.samples, kind, metric, true) }),
              ...(metric === "apiMs"
                ? { view: run.system === "ovn" ? "ovn-sbctl virtual_parent, polled" : "GET /v1/havips/{id}, polled" }
                : {}),
            },
          };
          if (run.system !== "ovn" && ovnMedian !== undefined) {
            row.baseline = { system: "ovn", ratio: ratio(row.summary.median, ovnMedian) };
          }
          rows.push(row);
        }
      }
    }
  }
  return rows;
}

/** The in-process fabric's announcement → first delivery to the new holder, from the fabric benchmark's file. */
function inFabricRow(): ResultRow | undefined {
  const file = fileURLToPath(new URL("../results/fabric-pipeline.json", import.meta.url));
  if (!existsSync(file)) return undefined;
  const doc = JSON.parse(readFileSync(file, "utf8")) as {
    at?: string;
    failover?: { iterations: number; p50Us: number; p99Us: number; maxUs: number };
  };
  const f = doc.failover;
  if (f === undefined) return undefined;
  const summary: Summary = {
    n: f.iterations,
    median: f.p50Us,
    min: NaN,
    max: f.maxUs,
    p90: NaN,
    p99: f.p99Us,
    spreadPct: NaN,
  };
  return {
    case: "in-fabric-announce-to-delivery",
    system: "havip",
    unit: "µs",
    summary,
    extra: { source: "bench/results/fabric-pipeline.json (bench/fabric/pipeline.ts, in-process)", measuredAt: doc.at },
  };
}

/** havipd's own histogram of the same in-fabric step, live over the run's failovers (bucket upper bounds). */
function liveFabricRows(runs: readonly SystemRun[]): ResultRow[] {
  return runs.flatMap((r): ResultRow[] => {
    const h = r.announceToRepoint;
    if (h === undefined || h === null || h.count === 0) return [];
    const us = (q: number) => bucketQuantile(h, q) * 1e6;
    const summary: Summary = {
      n: h.count,
      median: us(0.5),
      min: NaN,
      max: us(1),
      p90: us(0.9),
      p99: us(0.99),
      spreadPct: NaN,
    };
    return [
      {
        case: `in-fabric-live-v3-${r.advertInterval}`,
        system: r.system,
        unit: "µs",
        summary,
        extra: {
          source: "havipd GET /metrics, havip_fabric_announce_to_repoint_seconds (quantiles are bucket upper bounds)",
          meanUs: (h.sum / h.count) * 1e6,
          buckets: h.buckets.map((b) => ({ le: b.le === Infinity ? "+Inf" : b.le, count: b.count })),
          ...(h.startUp === undefined
            ? {}
            : {
                // Left out of the rows above: the claims before the first failover (the agent had just started).
                beforeFailovers: {
                  count: h.startUp.count,
                  meanUs: h.startUp.count === 0 ? null : (h.startUp.sum / h.startUp.count) * 1e6,
                  maxBucketUs: h.startUp.count === 0 ? null : bucketQuantile(h.startUp, 1) * 1e6,
                },
              }),
        },
      },
    ];
  });
}

export async function run(options: { quick: boolean }): Promise<BenchReport> {
  // BENCH_FAILOVER_ADVERTS=0.1 and BENCH_FAILOVER_SYSTEMS=havip narrow a run (while working on one case).
  const selected = failoverSelection(
    process.env,
    SYSTEMS.map((s) => s.name),
    options.quick,
    DEFAULT_SYSTEMS,
  );
  const adverts = selected.adverts;
  const systems = SYSTEMS.filter((s) => selected.systems.includes(s.name));
  // Half of the pairs watch the control plane, half are quiet: 40 pairs give 20 samples per row.
  const cycles = options.quick ? 2 : Number(process.env.BENCH_FAILOVER_CYCLES ?? 40);
  const probeIntervalMs = Number(process.env.BENCH_PROBE_INTERVAL_MS ?? 1);
  const runs: SystemRun[] = [];
  // Idle vCPUs poll before they halt during the run (bench/lib/halt-poll.ts); both systems alike.
  const haltPoll = applyHaltPoll(parseHaltPollWish(process.env.BENCH_GUEST_HALT_POLL_NS));
  process.stderr.write(
    haltPoll.foundNs === null
      ? "failover: no guest halt polling parameter (not a haltpoll guest): machine left as it is\n"
      : `failover: guest halt polling ${String(haltPoll.duringNs)} ns for this run (found ${String(haltPoll.foundNs)})\n`,
  );
  try {
    for (const advert of adverts) {
      for (const system of systems) runs.push(await measureSystem(system, advert, cycles, probeIntervalMs));
    }
  } finally {
    haltPoll.restore();
  }
  const rows = [...rowsOf(runs), ...liveFabricRows(runs)];
  const fabric = inFabricRow();
  if (fabric !== undefined) rows.push(fabric);
  return {
    name: "failover",
    title: "Failover: keepalived VRRPv3 in vm-a/vm-b, vm-c probing the VIP over UDP at 1 kHz (ms; lower is better)",
    notes: [
      "outage: first reply from the new holder − last reply from the old (client's capture); cut = holder's link cut,",
      "preempt = link restored and vm-a (priority 150) takes the VIP back. garp-to-reply: the new holder's gratuitous",
      "ARP as the client sees it → its first reply (— for havip: the HAVIP's member list is vm-a/vm-b, so the fabric",
      "floods announcements to members only, §2.6). announce-to-reply: the gratuitous ARP leaving the new holder →",
      `first reply at the client (both include the wait for the client's next probe, every ${probeIntervalMs} ms).`,
      "platform-delay: first reply − the later of that ARP leaving and the client's request it answers (no probe wait).",
      "holder-answer: that request arriving at the new holder → its reply leaving it (the instance's own time, from",
      "the holder's capture); fabric-delay: platform-delay − holder-answer (the network's part of the round trip).",
      "api-holder: the control plane shows the new holder − that ARP leaving it (havip: REST API polled every 1 ms;",
      "ovn: ovn-sbctl polled, one process per poll), from the watched half of the failovers; every other row from",
      "the quiet half, where the control plane is polled every 50 ms (the 1 ms polling loads the machine; the data",
      "plane's samples during it are in extra.samplesWhileWatched).",
      "in-fabric: announcement → first frame to the new holder inside the fabric (in-process benchmark, µs);",
      "in-fabric-live: havipd's /metrics histogram of announcement arrival → re-point over this run's failovers (bucket bounds; the first claim, before them, is in extra.beforeFailovers).",
      "probe-rtt: the client's probe round trips over the whole run (what any reply costs on this system now).",
      "Measured on a shared 2-core machine under load from other work; ratio = havip median / ovn median.",
      `Idle vCPUs poll for ${String(haltPoll.duringNs ?? "—")} ns before halting during the run (guest_halt_poll_ns,`,
      `found ${String(haltPoll.foundNs ?? "—")}; BENCH_GUEST_HALT_POLL_NS, see bench/failover/README.md), both systems alike.`,
    ],
    parameters: {
      vip: VIP,
      hosts: HOSTS,
      keepalived: { version: 3, priorities: { "vm-a": 150, "vm-b": 100 }, garpMasterDelay: 1 },
      advertIntervals: adverts,
      cyclesPerRun: cycles,
      failoversPerRun: cycles * 2,
      probeIntervalMs,
      guestHaltPollNs: { found: haltPoll.foundNs, duringRun: haltPoll.duringNs },
      runs: runs.map((r): RunRecord => ({
        system: r.system,
        advertInterval: r.advertInterval,
        repliesFrom: r.repliesFrom,
        announcements: r.announcements,
        probeRttMs: r.probeRttMs,
        failovers: r.samples,
      })),
    },
    rows,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (requireRootFor("failover")) {
    const report = await run({ quick: process.argv.includes("--quick") }).catch((e: unknown) => {
      process.stderr.write(`failover: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    });
    publish(report);
  }
}
