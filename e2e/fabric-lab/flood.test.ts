// A bad actor costs bounded resources (issue 15 §7): vm-A and vm-B run keepalived for 10.0.1.50 (the members),
// vm-D (same subnet, not a member) floods gratuitous ARPs for it from a raw packet socket as fast as it can for
// 3 s, while vm-A pings vm-B every 10 ms. The holder never changes, havipd's log grows by a few lines whose
// counts add up to the denials, the fabric polices the flood (`rate-limited`, counted for vm-D), and every ping
// is answered. The pings' p50/p99 are reported, not asserted (a shared machine's timing).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CaseLab, keepalivedFor, rootOnly, type CaseVm } from "./helpers.ts";
import { eventually, removeDir } from "../lab/helpers.ts";

const VIP = "10.0.1.50";
const VMS: readonly CaseVm[] = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5001 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5002 },
  { lab: "vm-d", name: "vm-D", ip: "10.0.1.14", vni: 5004 },
];
const FLOOD_SECONDS = 3;
const PINGS = 400; // every 10 ms: the flood and a little on either side
const SENDER = fileURLToPath(new URL("./fixture-garp-flood.c", import.meta.url));

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** What iputils' ping printed: packets sent and answered, and the round trips' p50, p99 and max. */
function pingSummary(out: string): { transmitted: number; received: number; text: string } {
  const transmitted = Number(/(\d+) packets transmitted/.exec(out)?.[1]);
  const received = Number(/(\d+) received/.exec(out)?.[1]);
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((x, y) => x - y);
  const text = `${received} of ${transmitted} answered; p50 ${percentile(rtts, 50)} ms, p99 ${percentile(rtts, 99)} ms, max ${rtts.at(-1)} ms`;
  return { transmitted, received, text };
}

test(
  "flood: a non-member's gratuitous-ARP flood is policed, logged in a few lines, and harms no neighbour",
  rootOnly("fabric-lab flood"),
  async (t) => {
    const build = mkdtempSync(join(tmpdir(), "havip-garp-flood-"));
    t.after(() => {
      removeDir(build);
    });
    const sender = join(build, "garp-flood");
    execFileSync("gcc", ["-O2", "-o", sender, SENDER]);

    const run = await CaseLab.start(t, "hpo");
    const { lab } = run;
    const net = await run.network("flood", VMS, { members: ["vm-a", "vm-b"] });
    for (const [name, priority] of [
      ["vm-a", 150],
      ["vm-b", 100],
    ] as const) {
      await lab.startKeepalived(name, keepalivedFor(VIP, priority, { nopreempt: true }));
    }
    const before = await net.holderIs("vm-a");
    const vmD = net.vnicOf("vm-d");
    const havipdLog = lab.processes().find((p) => p.label === "havipd")?.logFile;
    assert.ok(havipdLog !== undefined, "havipd's log file");
    const logLines = () =>
      readFileSync(havipdLog, "utf8")
        .split("\n")
        .filter((l) => l !== "");
    const counted = async () => {
      const { fabric } = await run.counters();
      const h = fabric.havips[net.havip.id];
      return {
        denied: h?.deniedClaims ?? 0,
        holderChanges: h?.holderChanges ?? 0,
        rateLimited: fabric.drops["rate-limited"],
        policed: fabric.policed[vmD]?.arp ?? 0,
      };
    };
    // vm-A resolves vm-B before the clock starts; then the same pings without a flood, for comparison.
    await lab.exec("vm-a", "ping", ["-n", "-c", "1", "-W", "2", "10.0.1.12"]);
    const quiet = pingSummary(
      (await lab.execResult("vm-a", "ping", ["-n", "-i", "0.01", "-c", "200", "-W", "2", "10.0.1.12"])).stdout,
    );
    t.diagnostic(`vm-A → vm-B pings without a flood: ${quiet.text}`);
    const was = await counted();
    const linesBefore = logLines().length;

    const mac = net.instances.get("vm-d")!.vnics[0]!.macAddress;
    const [ping, flood] = await Promise.all([
      lab.execResult("vm-a", "ping", ["-n", "-i", "0.01", "-c", String(PINGS), "-W", "2", "10.0.1.12"], {
        timeoutMs: 30_000,
      }),
      (async () => {
        // The pings run a little before the flood starts and after it ends.
        await new Promise((r) => setTimeout(r, 300));
        return lab.execResult("vm-d", sender, ["eth0", mac, VIP, String(FLOOD_SECONDS)], { timeoutMs: 30_000 });
      })(),
    ]);
    const sent = JSON.parse(flood.stdout) as { sent: number; failed: number; seconds: number };
    const rate = Math.round(sent.sent / sent.seconds);
    t.diagnostic(`vm-D sent ${sent.sent} gratuitous ARPs in ${sent.seconds} s (${rate}/s; ${sent.failed} refused)`);
    assert.ok(rate >= 20_000, `a flood: ${rate} frames/s`);

    // The flood is policed and counted for vm-D; the claims that got through the bucket are denied.
    const now = await eventually("the flood in the counters", 10_000, async () => {
      const c = await counted();
      return c.denied + c.policed - was.denied - was.policed >= sent.sent * 0.5 ? c : undefined;
    });
    const policed = now.policed - was.policed;
    const denied = now.denied - was.denied;
    t.diagnostic(`fabric: ${policed} rate-limited for vm-D, ${denied} denied claims`);
    assert.ok(policed >= 10_000, `rate-limited for vm-D: ${policed}`);
    assert.ok(now.rateLimited >= policed, "counted among the drop reasons too");
    assert.ok(denied <= 400 + 200 * (FLOOD_SECONDS + 2), `${denied} claims got past the policing`);

    // The holder never changed.
    assert.equal(now.holderChanges, was.holderChanges);
    const after = await net.shown();
    assert.deepEqual([after.holder?.vnicId, after.generation], [before.holder?.vnicId, before.generation]);

    // havipd's log: a few lines, standing for every denial once the last count is written.
    const flooded = await eventually("the log to count every denial", 10_000, () => {
      const lines = logLines().slice(linesBefore);
      const deniedLines = lines
        .map((l) => JSON.parse(l) as { msg?: string; suppressed?: number; vnicId?: string })
        .filter((r) => r.msg === "claim denied");
      const stands = deniedLines.reduce((n, r) => n + 1 + (r.suppressed ?? 0), 0);
      return Promise.resolve(stands >= denied ? { lines, deniedLines, stands } : undefined);
    });
    t.diagnostic(
      `havipd's log: ${flooded.lines.length} lines during the flood, ${flooded.deniedLines.length} "claim denied" standing for ${flooded.stands} denials`,
    );
    assert.ok(flooded.lines.length < 200, `${flooded.lines.length} log lines`);
    assert.equal(flooded.stands, denied, "the lines' counts add up to the denied claims");
    assert.ok(flooded.deniedLines.every((r) => r.vnicId === vmD));

    // Every ping answered; timing reported.
    const flooding = pingSummary(ping.stdout);
    t.diagnostic(`vm-A → vm-B pings during the flood: ${flooding.text}`);
    assert.equal(flooding.transmitted, PINGS);
    assert.equal(flooding.received, flooding.transmitted, "every ping answered");

    await run.down();
  },
);
