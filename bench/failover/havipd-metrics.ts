// The live view of the fabric's announcement → re-point latency: havipd's GET /metrics histogram
// (havip_fabric_announce_to_repoint_seconds), scraped before a havip run's failovers and after them. The Topology
// contract does not expose havipd, so its Unix socket and token are found where bench/topologies/havip.ts puts them
// (its state directory `havip-bench-<prefix>…/havipd/`); when that layout changes, this returns null and the row is
// left out.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

const METRIC = "havip_fabric_announce_to_repoint_seconds";

export interface Histogram {
  /** Upper bounds in seconds (the last is +Inf) and cumulative counts. */
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** The histogram in a Prometheus text exposition; null when absent. */
export function parseHistogram(text: string, name: string = METRIC): Histogram | null {
  const buckets: { le: number; count: number }[] = [];
  let count: number | undefined;
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    const bucket = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\S+)$`).exec(line);
    if (bucket !== null) {
      buckets.push({ le: bucket[1] === "+Inf" ? Infinity : Number(bucket[1]), count: Number(bucket[2]) });
      continue;
    }
    const total = new RegExp(`^${name}_(count|sum)(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (total?.[1] === "count") count = Number(total[2]);
    else if (total?.[1] === "sum") sum = Number(total[2]);
  }
  if (buckets.length === 0 || count === undefined || sum === undefined) return null;
  return { buckets: buckets.sort((a, b) => a.le - b.le), count, sum };
}

/**
 * What was recorded between two scrapes of one histogram (`before` taken first): the failovers of a run without
 * what came before them (the first claim after the agent started, which pays the JIT's adaptation to the live
 * fabric). Throws when the two are not the same histogram at two moments.
 */
export function histogramSince(after: Histogram, before: Histogram): Histogram {
  if (
    after.buckets.length !== before.buckets.length ||
    after.buckets.some((b, i) => b.le !== before.buckets[i]!.le || b.count < before.buckets[i]!.count) ||
    after.count < before.count
  ) {
    throw new Error("histogramSince: the scrapes are not one histogram at two moments (bounds differ or counts fell)");
  }
  return {
    buckets: after.buckets.map((b, i) => ({ le: b.le, count: b.count - before.buckets[i]!.count })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/** The upper bound of the bucket holding quantile `q` (what a fixed-bucket histogram can say). */
export function bucketQuantile(h: Histogram, q: number): number {
  const rank = q * h.count;
  return h.buckets.find((b) => b.count >= rank && b.count > 0)?.le ?? NaN;
}

function get(socketPath: string, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Scrapes the havip topology's havipd (by the topology's prefix); null when it cannot be found or read. */
export async function scrapeAnnounceToRepoint(prefix: string): Promise<Histogram | null> {
  const state = readdirSync(tmpdir()).find((d) => d.startsWith(`havip-bench-${prefix}`));
  if (state === undefined) return null;
  const dir = join(tmpdir(), state, "havipd");
  const socket = join(dir, "havipd.sock");
  const tokenFile = join(dir, "admin-token");
  if (!existsSync(socket) || !existsSync(tokenFile)) return null;
  try {
    const r = await get(socket, "/metrics", readFileSync(tokenFile, "utf8").trim());
    return r.status === 200 ? parseHistogram(r.body) : null;
  } catch {
    return null;
  }
}
