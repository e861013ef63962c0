// VRRPv3 with advert_int 0.1 on the real fabric: vm-C probes http://10.0.1.50/ every few milliseconds from
// a long-running prober; vm-A's keepalived stops; the client-visible outage (last reply from vm-A to first
// reply from vm-B) is printed. Asserted: service resumed on vm-B at the same address, and the API shows vm-B.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually } from "../lab/helpers.ts";
import { CaseLab, keepalivedFor, rootOnly, type CaseVm } from "./helpers.ts";

const VIP = "10.0.1.50";
const VMS: readonly CaseVm[] = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5001 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5002 },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", vni: 5003 },
];

// The prober: one fresh connection per request (no keep-alive, so a reply names the instance serving now),
// a 100 ms timeout, a new request 5 ms after the last ended; one line per reply: "<epoch ms> <name|->".
const PROBER = `
const http = require("node:http");
const once = () => new Promise((resolve) => {
  const req = http.get({ host: process.argv[1], path: "/", agent: false, timeout: 100 }, (res) => {
    let body = ""; res.setEncoding("utf8"); res.on("data", (c) => (body += c));
    res.on("end", () => resolve(body.split(" ")[0] || "-"));
    res.on("error", () => resolve("-"));
  });
  req.on("timeout", () => req.destroy());
  req.on("error", () => resolve("-"));
});
(async () => { for (;;) { const who = await once(); process.stdout.write(Date.now() + " " + who + "\\n");
  await new Promise((r) => setTimeout(r, 5)); } })();
`;

interface Probe {
  at: number;
  who: string;
}

function probes(log: string): Probe[] {
  return log
    .split("\n")
    .map((l) => /^(\d+) (\S+)$/.exec(l))
    .flatMap((m) => (m === null ? [] : [{ at: Number(m[1]), who: m[2]! }]));
}

test(
  "VRRPv3, advert_int 0.1: vm-B serves 10.0.1.50 after vm-A's keepalived stops",
  rootOnly("fabric-lab vrrp3-fast"),
  async (t) => {
    const run = await CaseLab.start(t, "hvv3");
    const { lab } = run;
    const net = await run.network("fast", VMS);
    for (const [name, priority] of [
      ["vm-a", 150],
      ["vm-b", 100],
    ] as const) {
      await lab.startHttpService(name);
      await lab.startKeepalived(
        name,
        keepalivedFor(VIP, priority, { version: 3, advertInterval: 0.1, garpMasterDelay: 1 }),
      );
    }
    await net.holderIs("vm-a");
    const prober = lab.spawn("vm-c", process.execPath, ["-e", PROBER, VIP], { label: "prober" });
    await eventually("vm-C's prober to reach vm-A", 10_000, () =>
      Promise.resolve(probes(prober.log()).some((p) => p.who === "vm-a") ? true : undefined),
    );

    const generation = (await net.shown()).generation;
    const stoppedAt = Date.now();
    const stopped = lab.stopKeepalived("vm-a");
    const after = await net.holderIs("vm-b");
    const apiMs = Date.now() - stoppedAt;
    await eventually("vm-C's prober to reach vm-B", 10_000, () =>
      Promise.resolve(probes(prober.log()).some((p) => p.who === "vm-b") ? true : undefined),
    );
    await stopped;
    await lab.stopProcess("vm-c", "prober");

    const all = probes(prober.log());
    const lastA = all.filter((p) => p.who === "vm-a").at(-1)!;
    const firstB = all.find((p) => p.who === "vm-b")!;
    const outageMs = firstB.at - lastA.at;
    const failed = all.filter((p) => p.who === "-" && p.at > lastA.at && p.at < firstB.at).length;
    t.diagnostic(
      `VRRPv3 advert_int 0.1: client-visible outage ${outageMs} ms (last vm-A reply ${lastA.at - stoppedAt} ms, ` +
        `first vm-B reply ${firstB.at - stoppedAt} ms after SIGTERM; ${failed} failed probes of ${all.length}); ` +
        `API showed vm-B after ${apiMs} ms`,
    );
    process.stdout.write(`# vrrp3-fast: client-visible outage ${outageMs} ms\n`);

    // What is asserted: service resumed on vm-B, at the same address, and the API says so.
    assert.ok(firstB.at > lastA.at, "vm-B answered after vm-A's last answer");
    assert.equal(all.at(-1)?.who, "vm-b", "the last probe was answered by vm-B");
    assert.equal(after.ipAddress, VIP);
    assert.equal(after.generation, generation + 1);
    assert.equal(after.status, "in-use");

    await run.down();
  },
);
