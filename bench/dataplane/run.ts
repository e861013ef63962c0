// Data plane, instance to instance (issue 5, item 1): iperf3 TCP throughput and 64-byte UDP packets/s delivered
// from host 1 to host 2, at MTU 1500 and at jumbo MTU 8950, on havip's fabric (instances attached by kernel
// VXLAN, "havip", and by veth, "havip-veth") and on the baselines of the same run (Linux bridge over veth,
// kernel VXLAN peer to peer, and OVN when bench/topologies/ovn.ts is there).
//
//   node bench/dataplane/run.ts [--quick]     (root; writes bench/results/dataplane.json)
//
// Per MTU every system is brought up, then the rounds run interleaved (round r: each system's TCP run, then
// its UDP run, the order rotating per round) so that the machine's drift hits every system alike; then all
// are taken down. BENCH_RUNS (default 5) and BENCH_SECONDS (default 5) tune the full run; BENCH_SYSTEMS
// (comma-separated) narrows it to some systems.
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { BenchReport, ResultRow } from "../lib/report.ts";
import { publish } from "../lib/report.ts";
import { requireRootFor } from "../lib/root.ts";
import { ratio, summarise } from "../lib/stats.ts";
import type { Topology, TopologyFactory } from "../lib/topology.ts";
import { havip, havipVeth } from "../topologies/havip.ts";
import { kernelVxlan } from "../topologies/kernel-vxlan.ts";
import { linuxBridge } from "../topologies/linux-bridge.ts";
import { tcpThroughput, udp64Rate, UDP_PAYLOAD } from "./iperf.ts";

export const MTUS = [1500, 8950] as const;
const HOSTS = ["vm-a", "vm-b"] as const;
/** The baselines every havip row is compared with, in the order the ratios are printed. */
const BASELINES = ["linux-bridge", "kernel-vxlan", "ovn"] as const;
/** havip's variants: each gets its ratios to every baseline. */
const HAVIPS = ["havip", "havip-veth"] as const;
const isHavip = (name: string): boolean => (HAVIPS as readonly string[]).includes(name);

interface System {
  name: string;
  factory: TopologyFactory;
  /** A short tag for the prefix, so each system's namespaces are told apart at a glance. */
  tag: string;
}

/**
 * OVN HOOK: bench/topologies/ovn.ts is written by another helper (same Topology contract). When the file is
 * there it joins the run; its factory is the export `ovnTopology` (or `ovn`, or the default export).
 */
async function ovnSystem(): Promise<System | string> {
  const file = new URL("../topologies/ovn.ts", import.meta.url);
  if (!existsSync(file)) return "OVN not measured: bench/topologies/ovn.ts is not there yet";
  const mod = (await import(file.href)) as Record<"ovnTopology" | "ovn" | "default", TopologyFactory | undefined>;
  const factory = mod.ovnTopology ?? mod.ovn ?? mod.default;
  if (typeof factory !== "function")
    return "OVN not measured: bench/topologies/ovn.ts exports no `ovnTopology` factory";
  return { name: "ovn", factory, tag: "o" };
}

async function systems(notes: string[]): Promise<System[]> {
  const list: System[] = [
    { name: "linux-bridge", factory: linuxBridge, tag: "b" },
    { name: "kernel-vxlan", factory: kernelVxlan, tag: "v" },
    { name: "havip", factory: havip, tag: "h" },
    { name: "havip-veth", factory: havipVeth, tag: "e" },
  ];
  const ovn = await ovnSystem();
  if (typeof ovn === "string") notes.push(ovn);
  else list.push(ovn);
  // BENCH_SYSTEMS=havip,ovn narrows a run (while working on one system); the default is every system.
  const only = process.env.BENCH_SYSTEMS?.split(",").filter((x) => x !== "");
  return only === undefined || only.length === 0 ? list : list.filter((s) => only.includes(s.name));
}

/** Raw results of one (case, system): values in the row's unit, plus per-run details. */
interface Series {
  values: number[];
  details: Record<string, number>[];
  errors: string[];
}

type Results = Map<string, Series>;

function seriesOf(series: Results, key: string): Series {
  let s = series.get(key);
  if (s === undefined) {
    s = { values: [], details: [], errors: [] };
    series.set(key, s);
  }
  return s;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function run(options: { quick: boolean }): Promise<BenchReport> {
  const series: Results = new Map();
  const rounds = options.quick ? 1 : Number(process.env.BENCH_RUNS ?? 5);
  const seconds = options.quick ? 1 : Number(process.env.BENCH_SECONDS ?? 5);
  const notes: string[] = [];
  const all = await systems(notes);
  const runId = randomBytes(2).toString("hex");

  for (const mtu of MTUS) {
    const up: { system: System; topology: Topology }[] = [];
    try {
      for (const system of all) {
        const prefix = `bdp${system.tag}${runId}${mtu === 1500 ? "s" : "j"}-`;
        try {
          const started = performance.now();
          up.push({ system, topology: await system.factory({ hosts: HOSTS, mtu, prefix }) });
          const took = (performance.now() - started) / 1000;
          process.stderr.write(`  ${system.name} up at MTU ${String(mtu)} in ${took.toFixed(1)} s\n`);
        } catch (e) {
          const why = `${system.name} at MTU ${String(mtu)} not measured: ${message(e)}`;
          notes.push(why);
          process.stderr.write(`!! ${why}\n`);
        }
      }
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < up.length; k++) {
          const { system, topology } = up[(k + r) % up.length]!;
          const [a, b] = topology.hosts;
          if (a === undefined || b === undefined) throw new Error(`${system.name}: fewer than two hosts`);
          const tcp = seriesOf(series, `tcp-${String(mtu)}|${system.name}`);
          let tcpText = "error";
          try {
            const t = await tcpThroughput(a, b, seconds);
            tcp.values.push(t.gbps);
            tcp.details.push({ gbps: t.gbps, retransmits: t.retransmits });
            tcpText = `${t.gbps.toFixed(2)} Gbit/s`;
          } catch (e) {
            tcp.errors.push(message(e));
          }
          const udp = seriesOf(series, `udp64-${String(mtu)}|${system.name}`);
          const arrived = seriesOf(series, `udp64-arrived-${String(mtu)}|${system.name}`);
          let udpText = "error";
          try {
            const u = await udp64Rate(a, b, seconds);
            udp.values.push(u.deliveredKpps);
            udp.details.push({ ...u });
            arrived.values.push(u.arrivedKpps);
            arrived.details.push({ arrivedKpps: u.arrivedKpps, receiverDropped: u.receiverDropped });
            udpText =
              `${u.deliveredKpps.toFixed(0)} kpps (sent ${u.sentKpps.toFixed(0)}, ` +
              `arrived at ${b.name} ${u.arrivedKpps.toFixed(0)})`;
          } catch (e) {
            udp.errors.push(message(e));
            arrived.errors.push(message(e));
          }
          const round = `${String(r + 1)}/${String(rounds)}`;
          process.stderr.write(
            `  mtu ${String(mtu)} round ${round} ${system.name}: tcp ${tcpText}, udp64 ${udpText}\n`,
          );
        }
      }
    } finally {
      for (const { topology } of up.reverse()) await topology.down().catch(() => undefined);
    }
  }
  return report(series, all, { quick: options.quick, rounds, seconds }, notes);
}

function report(
  series: Results,
  all: readonly System[],
  run: { quick: boolean; rounds: number; seconds: number },
  notes: string[],
): BenchReport {
  const { rounds, seconds } = run;
  const rows: ResultRow[] = [];
  for (const mtu of MTUS) {
    for (const kind of ["tcp", "udp64", "udp64-arrived"] as const) {
      const name = `${kind}-${String(mtu)}`;
      const unit = kind === "tcp" ? "Gbit/s" : "kpps";
      const medians = new Map<string, number>();
      for (const system of all) {
        const s = series.get(`${name}|${system.name}`);
        if (s === undefined) continue;
        medians.set(system.name, summarise(s.values).median);
      }
      const ratiosOf = new Map<string, Record<string, number>>();
      for (const h of HAVIPS) {
        const ratios: Record<string, number> = {};
        for (const base of BASELINES) {
          if (medians.has(base)) ratios[base] = ratio(medians.get(h) ?? NaN, medians.get(base));
        }
        if (medians.has(h)) ratiosOf.set(h, ratios);
      }
      for (const system of all) {
        const s = series.get(`${name}|${system.name}`);
        if (s === undefined) continue;
        const ratios = ratiosOf.get(system.name) ?? {};
        const row: ResultRow = {
          case: name,
          system: system.name,
          unit,
          summary: summarise(s.values),
          extra: {
            runs: s.details,
            ...(s.errors.length > 0 ? { errors: s.errors } : {}),
            ...(isHavip(system.name) ? { ratios } : {}),
          },
        };
        if (isHavip(system.name) && ratios["linux-bridge"] !== undefined) {
          row.baseline = { system: "linux-bridge", ratio: ratios["linux-bridge"] };
        }
        if (s.errors.length > 0)
          notes.push(`${name} ${system.name}: ${String(s.errors.length)} failed run(s): ${s.errors[0]!}`);
        rows.push(row);
      }
      for (const [h, ratios] of ratiosOf) {
        const listed = Object.entries(ratios).map(([base, x]) => `${h}/${base} ${x.toFixed(2)}×`);
        if (listed.length > 0) notes.push(`${name}: ${listed.join(", ")}`);
      }
      const [vxlan, veth] = [medians.get("havip"), medians.get("havip-veth")];
      if (vxlan !== undefined && veth !== undefined) {
        notes.push(`${name}: havip-veth/havip ${ratio(veth, vxlan).toFixed(2)}× (veth attachment vs VXLAN)`);
      }
      if (kind === "udp64") {
        const sent = all.flatMap((system) => {
          const s = series.get(`${name}|${system.name}`);
          const kpps = summarise(s?.details.map((d) => d.sentKpps ?? NaN) ?? []).median;
          return Number.isFinite(kpps) ? [`${system.name} ${kpps.toFixed(0)}`] : [];
        });
        if (sent.length > 0) notes.push(`${name}: iperf3 sender kpps (median): ${sent.join(", ")}`);
      }
    }
  }
  notes.push(
    `TCP: receiver's Gbit/s; udp64: ${String(20 + 8 + UDP_PAYLOAD)}-byte IP packets delivered per second ` +
      `(received minus lost), iperf3 -b 0 from one sender core; ${String(rounds)} round(s) × ${String(seconds)} s.`,
    "udp64-arrived: the same runs, datagrams/s that reached the receiving host (its kernel's Udp InDatagrams + " +
      "RcvbufErrors): what the network delivered, whether or not iperf3 found the CPU time to read it.",
  );
  return {
    // A quick (smoke) run does not overwrite the real results.
    name: run.quick ? "dataplane-quick" : "dataplane",
    title: "Data plane: instance to instance (iperf3, host 1 → host 2)",
    notes,
    parameters: {
      rounds,
      seconds,
      mtus: [...MTUS],
      hosts: [...HOSTS],
      udpPayload: UDP_PAYLOAD,
      systems: all.map((s) => s.name),
    },
    rows,
  };
}

if (import.meta.main) {
  if (requireRootFor("dataplane")) publish(await run({ quick: process.argv.includes("--quick") }));
}
