// `havip lab failover`: takes the HAVIP's holder down (stops its keepalived, or cuts its link) while vm-C
// probes http://<HAVIP>/ every few ms, and watches the fabric's counters and the API for the new holder.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import type { HaVip, Instance } from "@havip/control";
import type { Lab } from "@havip/lab";
import type { ApiClient } from "../client.ts";
import { KINDS, resolveId } from "../resolve.ts";
import { labAwait, LabFailure, labNameOf, type LabContext } from "./lab-context.ts";
import { parseProbeLine, replyEdges, type FailoverTimeline, type Probe } from "./lab-timeline.ts";
import { path } from "./shared.ts";

export interface FailoverOptions {
  havip: string;
  client: string;
  cutLink: boolean;
  everyMs: number;
  timeoutMs: number;
}

// Node in the client's namespace: one GET per tick on a fresh connection (no keep-alive to the old
// holder), each result a JSON line with the time its answer (or failure) arrived.
const PROBE = `
const http = require("node:http");
const [url, every] = [process.argv[1], Number(process.argv[2])];
const done = (who) => process.stdout.write(JSON.stringify({ at: Date.now(), who }) + "\\n");
const tick = () => {
  let settled = false;
  const finish = (who) => { if (!settled) { settled = true; done(who); setTimeout(tick, every); } };
  const req = http.get(url, { agent: false, timeout: 100 }, (res) => {
    let body = ""; res.setEncoding("utf8");
    res.on("data", (c) => (body += c)); res.on("end", () => finish(body.split(" ")[0] || null));
    res.on("error", () => finish(null));
  });
  req.on("timeout", () => { req.destroy(); });
  req.on("error", () => finish(null));
};
tick();`;

interface Counters {
  fabric: { havips?: Record<string, { holderVnicId: string | null; generation: number } | undefined> };
}

export async function failover(lc: LabContext, options: FailoverOptions): Promise<FailoverTimeline> {
  const admin = await lc.admin();
  const lab = lc.lab();
  const havipId = await resolveId<HaVip>(admin, KINDS.havip, options.havip);
  const havip = await admin.get<HaVip>(path("/v1/havips", havipId));
  if (havip.holder === null) throw new LabFailure(`HAVIP ${havip.name} has no holder yet: nothing to fail over`);
  const holder = await admin.get<Instance>(path("/v1/instances", havip.holder.instanceId));
  const oldLab = labNameOf(holder.name);
  const clientLab = await labNameFor(admin, lab, options.client);
  const nameOfVnic = await vnicNames(admin, havip);

  const probes: Probe[] = [];
  const argv = lab.commandIn(clientLab, process.execPath, [
    "-e",
    PROBE,
    `http://${havip.ipAddress}/`,
    String(options.everyMs),
  ]);
  const [program = "ip", ...args] = argv;
  const probe = spawn(program, args, { stdio: ["ignore", "pipe", "ignore"] });
  createInterface({ input: probe.stdout }).on("line", (line) => {
    const p = parseProbeLine(line);
    if (p !== undefined) probes.push(p);
  });
  try {
    // A second of service before: the client must be reaching the old holder.
    const servedBefore = await until(5000, () => probes.some((p) => p.who === oldLab));
    if (!servedBefore)
      throw new LabFailure(`${clientLab} does not reach http://${havip.ipAddress}/ served by ${oldLab}`);
    await sleep(1000);

    const actionAt = Date.now();
    const action = options.cutLink ? `link of ${oldLab} cut (eth0 down)` : `keepalived stopped on ${oldLab}`;
    const stopping = options.cutLink
      ? labAwait(() => lab.setLink(oldLab, "down"))
      : labAwait(() => lab.stopKeepalived(oldLab));
    let announcementAt: number | null = null;
    let apiHolderAt: number | null = null;
    let newVnic: string | null = null;
    let firstNew: Probe | undefined;
    const deadline = actionAt + options.timeoutMs;
    while (Date.now() < deadline) {
      const [counters, shown] = await Promise.all([
        admin.get<Counters>("/v1/fabric/counters"),
        admin.get<HaVip>(path("/v1/havips", havipId)),
      ]);
      const fabricHolder = counters.fabric.havips?.[havipId]?.holderVnicId ?? null;
      if (announcementAt === null && fabricHolder !== null && fabricHolder !== havip.holder.vnicId) {
        announcementAt = Date.now();
        newVnic ??= fabricHolder;
      }
      if (apiHolderAt === null && shown.holder !== null && shown.holder.vnicId !== havip.holder.vnicId) {
        apiHolderAt = Date.now();
        newVnic ??= shown.holder.vnicId;
      }
      const newLab = newVnic === null ? undefined : nameOfVnic.get(newVnic);
      firstNew = newLab === undefined ? undefined : probes.find((p) => p.who === newLab && p.at >= actionAt);
      if (announcementAt !== null && apiHolderAt !== null && firstNew !== undefined) break;
      await sleep(5);
    }
    await stopping;
    await sleep(200); // a few more probes after the first new reply
    const newHolder = newVnic === null ? null : (nameOfVnic.get(newVnic) ?? newVnic);
    const edges = replyEdges(probes, oldLab, newHolder ?? "", actionAt);
    const window = probes.filter((p) => p.at >= actionAt - 1000);
    return {
      action,
      actionAt,
      oldHolder: oldLab,
      newHolder,
      ...edges,
      announcementAt,
      apiHolderAt,
      probeEveryMs: options.everyMs,
      probes: window.length,
      failedProbes: window.filter((p) => p.who === null).length,
    };
  } finally {
    probe.kill("SIGTERM");
  }
}

async function until(timeoutMs: number, check: () => boolean): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

/** The lab's names of the HAVIP's subnet members (vNIC id → lab name), for naming the new holder. */
async function vnicNames(admin: ApiClient, havip: HaVip): Promise<Map<string, string>> {
  const instances = await admin.listAll<Instance>("/v1/instances", { subnetId: havip.subnetId });
  const names = new Map<string, string>();
  for (const i of instances) for (const v of i.vnics) names.set(v.id, labNameOf(i.name));
  return names;
}

async function labNameFor(admin: ApiClient, lab: Lab, ref: string): Promise<string> {
  if (lab.state.instances.some((i) => i.name === ref)) return ref;
  if (lab.state.instances.some((i) => i.name === labNameOf(ref))) return labNameOf(ref);
  const id = await resolveId<Instance>(admin, KINDS.instance, ref);
  return labNameOf((await admin.get<Instance>(path("/v1/instances", id))).name);
}
