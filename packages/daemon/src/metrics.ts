// Prometheus metrics at GET /metrics: the fabric's counters (read at scrape time, from the in-process fabric or
// from the agent with one `counters` request) and the API's request latency by route template and status.
// One Registry per daemon (tests run several daemons in one process; the global registry would mix them).
import type { buildApiServer } from "@havip/control";
import type { FabricCounters, HistogramSnapshot, VxlanCounters } from "@havip/fabric";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

type ApiServer = Awaited<ReturnType<typeof buildApiServer>>;

export interface FabricSnapshot {
  fabric: FabricCounters;
  vxlan: VxlanCounters | null;
}

/** Route label of a request that matched no route (bounded cardinality: never the raw URL). */
export const UNMATCHED_ROUTE = "unmatched";

/** camelCase counter keys → snake_case metric name parts. */
function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A histogram whose buckets are kept by someone else (the fabric's fixed-bucket latency counts): its
 * exposition is taken from the last snapshot given to `set` rather than from observations.
 */
class SnapshotHistogram extends Histogram {
  private snapshot: HistogramSnapshot | null = null;
  private readonly metricName: string;
  private readonly perSecond: number;
  // An unregistered twin, for the exposition's name/help/type header (prom-client builds it; we add values).
  private readonly header: Histogram;

  /** `perSecond`: the snapshot's units in one second (1e6 for microseconds). */
  constructor(name: string, help: string, perSecond: number, registry: Registry) {
    super({ name, help, buckets: [1], registers: [registry] });
    this.metricName = name;
    this.perSecond = perSecond;
    this.header = new Histogram({ name, help, buckets: [1], registers: [] });
  }

  set(snapshot: HistogramSnapshot | null): void {
    this.snapshot = snapshot;
  }

  // The registry renders the text format from getForPromString (prom-client 15), JSON from get().
  override get(): ReturnType<Histogram["get"]> {
    return this.getForPromString();
  }

  async getForPromString(): ReturnType<Histogram["get"]> {
    const base = await this.header.get();
    const s = this.snapshot;
    if (s === null) return { ...base, values: [] };
    const values: Awaited<ReturnType<Histogram["get"]>>["values"] = [];
    let cumulative = 0;
    s.bounds.forEach((bound, i) => {
      cumulative += s.counts[i] ?? 0;
      values.push({
        metricName: `${this.metricName}_bucket`,
        labels: { le: bound / this.perSecond },
        value: cumulative,
      });
    });
    values.push({ metricName: `${this.metricName}_bucket`, labels: { le: "+Inf" }, value: s.count });
    values.push({ metricName: `${this.metricName}_sum`, labels: {}, value: s.sum / this.perSecond });
    values.push({ metricName: `${this.metricName}_count`, labels: {}, value: s.count });
    return { ...base, values };
  }
}

/** Counters whose values are set from a snapshot (a counter that the fabric counts, exposed as is). */
class SnapshotCounter<T extends string> extends Counter<T> {
  setAll(rows: Iterable<[Partial<Record<T, string>>, number]>): void {
    this.reset();
    for (const [labels, value] of rows) this.inc(labels, value);
  }
}

const PORT_FIELDS = ["rxFrames", "rxBytes", "txFrames", "txBytes", "drops", "sendErrors"] as const;
const HAVIP_FIELDS = [
  "claims",
  "holderChanges",
  "deniedClaims",
  "stormGuarded",
  "fenced",
  "delivered",
  "verifications",
  "probesSent",
  "probeAnswers",
  "verifiedChanges",
  "withdrawals",
  "contestDamped",
] as const;
const HAVIP_HELP: Record<(typeof HAVIP_FIELDS)[number], string> = {
  claims: "Valid announcements accepted for the HAVIP (holder changes and refreshes).",
  holderChanges: "Holder changes of the HAVIP observed by the fabric.",
  deniedClaims: "Announcements for the HAVIP denied (wrong subnet, not a member, contested).",
  stormGuarded: "Holder changes of the HAVIP refused by the storm guard.",
  fenced: "Packets sourced from the HAVIP by a non-holder, dropped.",
  delivered: "Frames addressed to the HAVIP delivered to its holder.",
  verifications: "Verification rounds of the HAVIP (who has its address?).",
  probesSent: "Probe frames verification sent for the HAVIP (its cost).",
  probeAnswers: "Probe answers received for the HAVIP: an instance that has the address.",
  verifiedChanges: "Holder changes made by verification (the holder was silent, another had the address).",
  withdrawals: "Holders of the HAVIP released because nobody answered verification.",
  contestDamped: "Announcements for the HAVIP ignored while it was contested (flap damping).",
};

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly apiLatency: Histogram<"method" | "route" | "status">;
  private readonly frames: SnapshotCounter<"kind">;
  private readonly drops: SnapshotCounter<"reason">;
  private readonly ports = new Map<string, SnapshotCounter<"port">>();
  private readonly havips = new Map<string, SnapshotCounter<"havip">>();
  private readonly generation: Gauge<"havip">;
  private readonly held: Gauge<"havip">;
  private readonly contested: Gauge<"havip">;
  private readonly vxlan: SnapshotCounter<"kind">;
  private readonly announceToRepoint: SnapshotHistogram;
  private readonly fabricUp: Gauge;
  private readonly agentRestarts: Counter;

  constructor() {
    const registers = [this.registry];
    this.fabricUp = new Gauge({
      name: "havip_fabric_up",
      help: "1 when this scrape read the fabric's counters, 0 when the fabric (its agent) did not answer.",
      registers,
    });
    this.agentRestarts = new Counter({
      name: "havip_fabric_agent_restarts_total",
      help: "Fabric agents havipd started to replace one that exited or hung (--lab-dir supervision).",
      registers,
    });
    this.apiLatency = new Histogram({
      name: "havip_api_request_duration_seconds",
      help: "API request latency by route template, method and status code.",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.frames = new SnapshotCounter({
      name: "havip_fabric_frames_total",
      help: "Frames by what the fabric did with them (kind=in: received).",
      labelNames: ["kind"],
      registers,
    });
    this.drops = new SnapshotCounter({
      name: "havip_fabric_drops_total",
      help: "Frames the fabric dropped, by drop reason.",
      labelNames: ["reason"],
      registers,
    });
    for (const field of PORT_FIELDS) {
      const name = `havip_fabric_port_${snake(field)}_total`;
      const help = `Per fabric port: ${snake(field).replace(/_/g, " ")}.`;
      this.ports.set(field, new SnapshotCounter({ name, help, labelNames: ["port"], registers }));
    }
    for (const field of HAVIP_FIELDS) {
      const name = `havip_havip_${snake(field)}_total`;
      this.havips.set(field, new SnapshotCounter({ name, help: HAVIP_HELP[field], labelNames: ["havip"], registers }));
    }
    this.generation = new Gauge({
      name: "havip_havip_generation",
      help: "The HAVIP's holder generation as the fabric knows it.",
      labelNames: ["havip"],
      registers,
    });
    this.held = new Gauge({
      name: "havip_havip_held",
      help: "1 when the HAVIP has a holder, else 0.",
      labelNames: ["havip"],
      registers,
    });
    this.contested = new Gauge({
      name: "havip_havip_contested",
      help: "1 while several instances hold the HAVIP's address at once (split brain), else 0.",
      labelNames: ["havip"],
      registers,
    });
    this.vxlan = new SnapshotCounter({
      name: "havip_fabric_vxlan_total",
      help: "The fabric's VXLAN port set: datagrams in and out, and those it refused, by kind.",
      labelNames: ["kind"],
      registers,
    });
    this.announceToRepoint = new SnapshotHistogram(
      "havip_fabric_announce_to_repoint_seconds",
      "From a valid announcement's arrival at the fabric to its holder being re-pointed.",
      1e6, // the fabric counts microseconds
      this.registry,
    );
  }

  /** Installs the API latency hook (before the server is ready: fastify takes hooks until then). */
  observeRequests(app: ApiServer): void {
    app.addHook("onResponse", (request, reply, done) => {
      this.apiLatency.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? UNMATCHED_ROUTE,
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  /**
   * The fabric did not answer this scrape: its series are left out (not stale values) and havip_fabric_up is 0;
   * the API's own metrics are still served.
   */
  fabricUnavailable(): void {
    this.fabricUp.set(0);
    for (const m of [this.frames, this.drops, this.vxlan, this.generation, this.held, this.contested]) m.reset();
    for (const m of [...this.ports.values(), ...this.havips.values()]) m.reset();
    this.announceToRepoint.set(null);
  }

  /** havipd's supervisor replaced the fabric agent. */
  fabricAgentRestarted(): void {
    this.agentRestarts.inc();
  }

  /** Takes the fabric's counters in (at scrape time). */
  setFabric(snapshot: FabricSnapshot): void {
    this.fabricUp.set(1);
    const f = snapshot.fabric;
    this.frames.setAll(Object.entries(f.frames).map(([kind, v]) => [{ kind }, v]));
    this.drops.setAll(Object.entries(f.drops).map(([reason, v]) => [{ reason }, v]));
    for (const field of PORT_FIELDS) {
      this.ports.get(field)?.setAll(Object.entries(f.ports).map(([port, c]) => [{ port }, c[field]]));
    }
    for (const field of HAVIP_FIELDS) {
      this.havips.get(field)?.setAll(Object.entries(f.havips).map(([havip, c]) => [{ havip }, c[field]]));
    }
    this.generation.reset();
    this.held.reset();
    this.contested.reset();
    for (const [havip, c] of Object.entries(f.havips)) {
      this.generation.set({ havip }, c.generation);
      this.held.set({ havip }, c.holderVnicId === null ? 0 : 1);
      this.contested.set({ havip }, c.contest === null ? 0 : 1);
    }
    const vxlan = snapshot.vxlan === null ? [] : (Object.entries(snapshot.vxlan) as [string, number][]);
    this.vxlan.setAll(vxlan.map(([kind, v]): [{ kind: string }, number] => [{ kind: snake(kind) }, v]));
    this.announceToRepoint.set(f.announceToRepoint);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * GET /metrics, with the operator token (Prometheus: `authorization: {credentials_file: …}`). The fabric's
 * counters are read once per scrape.
 */
export function registerMetricsRoute(
  app: ApiServer,
  metrics: DaemonMetrics,
  fabricCounters: () => Promise<FabricSnapshot>,
): void {
  app.get("/metrics", { config: { access: "operator" }, schema: { hide: true } }, async (request, reply) => {
    try {
      metrics.setFabric(await fabricCounters());
    } catch (err) {
      // A scrape still answers (Prometheus keeps the target up, the API's metrics keep flowing); the gap shows as
      // havip_fabric_up 0.
      request.log.warn({ err }, "metrics: the fabric's counters could not be read");
      metrics.fabricUnavailable();
    }
    const { contentType, body } = await metrics.exposition();
    return reply.type(contentType).send(body);
  });
}
