// `havip lab status`: the lab's record checked against the machine, and what havipd knows of it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LabContext } from "./lab-context.ts";

export async function labStatus(lc: LabContext): Promise<string> {
  const { labDir } = lc.places;
  if (!existsSync(join(labDir, "lab-state.json"))) {
    return `no lab is up in ${labDir} (start havipd as root with --lab-dir ${labDir})\n`;
  }
  const lab = lc.lab();
  const state = lab.state;
  const lines = [`lab in ${labDir}, prefix ${state.prefix}`, "namespaces:"];
  for (const n of state.namespaces) {
    const present = existsSync(join("/run/netns", n.name))
      ? ""
      : "  (MISSING: havip lab up seed-example makes it again)";
    lines.push(`  ${n.name.padEnd(20)} ${n.role}${present}`);
  }
  lines.push("instances:");
  if (state.instances.length === 0) lines.push("  none (havip lab instance up <instance>)");
  for (const i of state.instances) {
    lines.push(`  ${i.name.padEnd(12)} ${`${i.ip}/${i.prefixLen}`.padEnd(18)} ${i.mac}  VNI ${i.vni}  MTU ${i.mtu}`);
  }
  lines.push("processes:");
  for (const p of state.processes) {
    lines.push(
      `  ${p.label.padEnd(14)} in ${p.namespace.padEnd(18)} pid ${String(p.pid)} ${lab.processRunning(p) ? "running" : "NOT RUNNING"}`,
    );
  }
  try {
    const admin = await lc.admin();
    const { items } = await admin.get<{ items: { vnicId: string; vni: number }[] }>("/v1/fabric/attachments");
    lines.push(`havipd (${admin.api}): ${items.length} attachments`);
  } catch (e) {
    lines.push(`havipd: ${e instanceof Error ? e.message : String(e)}`);
  }
  return `${lines.join("\n")}\n`;
}
