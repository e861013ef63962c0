// Members on the real fabric: a HAVIP whose member list is vm-A and vm-B; vm-D (same subnet, not a member)
// puts 10.0.1.50 on its eth0 and sends gratuitous ARPs for it with arping. Nothing changes — holder,
// generation, where vm-C's traffic goes — and the denied claims show in the fabric's counters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CaseLab, fetchName, gratuitousArp, keepalivedFor, rootOnly, type CaseVm } from "./helpers.ts";
import { eventually } from "../lab/helpers.ts";

const VIP = "10.0.1.50";
const VMS: readonly CaseVm[] = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5001 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5002 },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", vni: 5003 },
  { lab: "vm-d", name: "vm-D", ip: "10.0.1.14", vni: 5004 },
];

test(
  "members: a non-member's gratuitous ARP for the HAVIP changes nothing",
  rootOnly("fabric-lab members"),
  async (t) => {
    const run = await CaseLab.start(t, "hvmb");
    const { lab } = run;
    const net = await run.network("members", VMS, { members: ["vm-a", "vm-b"] });
    assert.deepEqual(net.havip.members?.map((m) => m.vnicId).sort(), [net.vnicOf("vm-a"), net.vnicOf("vm-b")].sort());
    for (const [name, priority] of [
      ["vm-a", 150],
      ["vm-b", 100],
    ] as const) {
      await lab.startHttpService(name);
      await lab.startKeepalived(name, keepalivedFor(VIP, priority, { nopreempt: true }));
    }
    await lab.startHttpService("vm-d");
    const before = await net.holderIs("vm-a");
    assert.equal(await eventually("vm-C to reach vm-A", 10_000, () => fetchName(lab, "vm-c", VIP)), "vm-a");
    const counted = async () => {
      const { fabric } = await run.counters();
      return { denied: fabric.havips[net.havip.id]?.deniedClaims ?? 0, notMember: fabric.drops["claim-not-member"] };
    };
    const was = await counted();

    await lab.exec("vm-d", "ip", ["addr", "add", `${VIP}/32`, "dev", "eth0", "nodad"]);
    const [program, ...args] = await gratuitousArp(lab, "vm-d", VIP, 3);
    const sent = await lab.execResult("vm-d", program!, args);
    t.diagnostic(`vm-D: ${program} ${args.join(" ")} → exit ${sent.code}`);

    const now = await eventually("the denied claims in the counters", 5000, async () => {
      const c = await counted();
      return c.denied >= was.denied + 3 ? c : undefined;
    });
    assert.ok(now.notMember >= was.notMember + 3, `claim-not-member drops ${was.notMember} → ${now.notMember}`);
    const after = await net.shown();
    assert.deepEqual([after.holder?.vnicId, after.generation], [before.holder?.vnicId, before.generation]);
    const { fabric } = await run.counters();
    assert.deepEqual(
      [fabric.havips[net.havip.id]?.holderVnicId, fabric.havips[net.havip.id]?.generation],
      [net.vnicOf("vm-a"), before.generation],
    );
    for (let i = 0; i < 3; i++)
      assert.equal(await fetchName(lab, "vm-c", VIP), "vm-a", "vm-C's traffic still goes to vm-A");
    t.diagnostic(
      `denied claims ${was.denied} → ${now.denied}; claim-not-member drops ${was.notMember} → ${now.notMember}`,
    );

    await run.down();
  },
);
