// The failover timeline of `havip lab failover`: what the client saw (its probes' replies), what the fabric
// saw (the announcement) and what the API said, as offsets from the moment the holder was taken down.

/** One probe of the client: when its answer (or failure) arrived, and who answered (null: no answer). */
export interface Probe {
  at: number;
  who: string | null;
}

export interface FailoverTimeline {
  /** What was done to the holder at `actionAt`, e.g. "keepalived stopped on vm-a". */
  action: string;
  actionAt: number;
  oldHolder: string;
  newHolder: string | null;
  lastOldReplyAt: number | null;
  /** When the fabric's counters first showed the new holder (its announcement was taken). */
  announcementAt: number | null;
  apiHolderAt: number | null;
  firstNewReplyAt: number | null;
  probeEveryMs: number;
  probes: number;
  failedProbes: number;
}

/** A line the probe prints: `{"at": <ms>, "who": "<name>" | null}`; anything else is undefined. */
export function parseProbeLine(line: string): Probe | undefined {
  try {
    const value = JSON.parse(line) as { at?: unknown; who?: unknown };
    if (typeof value.at !== "number") return undefined;
    if (value.who !== null && typeof value.who !== "string") return undefined;
    return { at: value.at, who: value.who };
  } catch {
    return undefined;
  }
}

/**
 * The client's edges of the outage: the first reply from the new holder after the action, and the last
 * reply from the old holder before that one.
 */
export function replyEdges(
  probes: readonly Probe[],
  oldHolder: string,
  newHolder: string,
  actionAt: number,
): { lastOldReplyAt: number | null; firstNewReplyAt: number | null } {
  const firstNew = probes.find((p) => p.who === newHolder && p.at >= actionAt);
  const before = probes.filter((p) => p.who === oldHolder && (firstNew === undefined || p.at <= firstNew.at));
  return { lastOldReplyAt: before.at(-1)?.at ?? null, firstNewReplyAt: firstNew?.at ?? null };
}

/** The client-visible outage: from the old holder's last reply to the new holder's first; null if either is missing. */
export function outageMs(t: Pick<FailoverTimeline, "lastOldReplyAt" | "firstNewReplyAt">): number | null {
  if (t.lastOldReplyAt === null || t.firstNewReplyAt === null) return null;
  return t.firstNewReplyAt - t.lastOldReplyAt;
}

function offset(at: number, zero: number): string {
  const ms = Math.round(at - zero);
  const sign = ms < 0 ? "-" : "+";
  return `${sign}${String(Math.abs(ms)).padStart(6)} ms`;
}

export function formatTimeline(t: FailoverTimeline): string {
  const newName = t.newHolder ?? "the new holder";
  const rows: { at: number | null; what: string }[] = [
    { at: t.lastOldReplyAt, what: `last reply from ${t.oldHolder}` },
    { at: t.actionAt, what: t.action },
    { at: t.announcementAt, what: `announcement seen: the fabric took ${newName} as holder` },
    { at: t.apiHolderAt, what: `holder changed in the API: ${newName}` },
    { at: t.firstNewReplyAt, what: `first reply from ${newName}` },
  ];
  const seen = rows.filter((r): r is { at: number; what: string } => r.at !== null).sort((a, b) => a.at - b.at);
  const missing = rows.filter((r) => r.at === null);
  const lines = [`failover timeline (0 = ${t.action}):`];
  for (const r of seen) lines.push(`  ${offset(r.at, t.actionAt)}  ${r.what}`);
  for (const r of missing) lines.push(`  ${"not seen".padStart(10)}  ${r.what}`);
  const outage = outageMs(t);
  const probes = `probes every ${t.probeEveryMs} ms: ${t.probes} sent, ${t.failedProbes} without an answer`;
  lines.push(
    outage === null
      ? `client-visible outage: unknown, service did not resume within the wait (${probes})`
      : `client-visible outage: ${Math.round(outage)} ms (${probes})`,
  );
  return `${lines.join("\n")}\n`;
}
