// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, and the share
// of idle, GC and program time. For a quick look without a profiler UI:
//
//   node bench/fabric/profile-summary.ts DIR-or-FILE.cpuprofile [top=25]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const target = process.argv[2];
if (target === undefined) {
  process.stderr.write("usage: node bench/fabric/profile-summary.ts DIR-or-FILE.cpuprofile [top]\n");
  process.exit(2);
}
const top = Number(process.argv[3] ?? 25);
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(target, f))
  : [target];

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    const f = node.callFrame;
    const where = f.url === "" ? "" : ` ${basename(f.url)}:${f.lineNumber + 1}`;
    const key = `${f.functionName === "" ? "(anonymous)" : f.functionName}${where}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    totalUs += dt;
  }
  const idle = selfUs.get("(idle)") ?? 0;
  const busy = totalUs - idle;
  console.log(`${basename(file)}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy`);
  const rows = [...selfUs.entries()].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]);
  for (const [key, us] of rows.slice(0, top)) {
    console.log(`${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(6)}%  ${key}`);
  }
}
