// Failback on the real fabric (VRRPv3, advert_int 0.2 to keep it quick): with preemption, vm-A (priority
// 150) takes 10.0.1.50 back from vm-B (100) when its keepalived restarts; with `nopreempt` on both (both
// start BACKUP) a restarted vm-A stays BACKUP and vm-B keeps the address, in keepalived and in the fabric.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually } from "../lab/helpers.ts";
import { CaseLab, fetchName, keepalivedFor, rootOnly, type CaseVm } from "./helpers.ts";

const VIP = "10.0.1.50";
const VMS: readonly CaseVm[] = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5001 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5002 },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", vni: 5003 },
];
const PRIORITY = { "vm-a": 150, "vm-b": 100 } as const;

function config(name: keyof typeof PRIORITY, nopreempt: boolean) {
  return keepalivedFor(VIP, PRIORITY[name], { version: 3, advertInterval: 0.2, nopreempt });
}

test("failback with and without preemption", rootOnly("fabric-lab failback"), async (t) => {
  const run = await CaseLab.start(t, "hvfb");
  const { lab } = run;
  const net = await run.network("failback", VMS);
  const servedBy = (who: string) =>
    eventually(`vm-C to be served by ${who}`, 10_000, async () =>
      (await fetchName(lab, "vm-c", VIP)) === who ? who : undefined,
    );
  for (const name of ["vm-a", "vm-b"] as const) {
    await lab.startHttpService(name);
    await lab.startKeepalived(name, config(name, false));
  }
  await net.holderIs("vm-a");
  await servedBy("vm-a");

  await t.test("with preemption, a restarted vm-A takes the address back", async () => {
    const g0 = (await net.shown()).generation;
    await lab.stopKeepalived("vm-a");
    assert.equal((await net.holderIs("vm-b")).generation, g0 + 1);
    await servedBy("vm-b");
    // keepalived repeats its gratuitous ARPs garp_master_delay (1 s) after becoming MASTER. A vm-A that took over
    // inside that second would lose the address to vm-B's repeat for a moment (the fabric follows the last
    // announcer) and win it back with its own repeat: two more generations. Let vm-B's repeat pass first.
    await sleep(1500);
    await lab.startKeepalived("vm-a", config("vm-a", false));
    const back = await net.holderIs("vm-a");
    const history = await net.tenant<{ items: { generation: number; vnicId: string | null; at: string }[] }>(
      "GET",
      `/v1/havips/${net.havip.id}/history?limit=100`,
    );
    const who = new Map([...["vm-a", "vm-b"]].map((n) => [net.vnicOf(n), n]));
    const story = history.items
      .filter((h) => h.generation > g0)
      .map((h) => `${h.generation} ${who.get(h.vnicId ?? "") ?? h.vnicId} ${h.at}`)
      .join("; ");
    assert.equal(back.generation, g0 + 2, `holder changes after generation ${g0}: ${story}`);
    await servedBy("vm-a");
    await eventually("vm-B to step back to BACKUP", 5000, () =>
      Promise.resolve(lab.vrrpState("vm-b") === "BACKUP" ? true : undefined),
    );
    assert.equal(lab.vrrpState("vm-a"), "MASTER");
  });

  await t.test("with nopreempt (both start BACKUP), a restarted vm-A leaves the address on vm-B", async () => {
    // vm-B restarts with nopreempt while vm-A holds; then vm-A fails over to it and restarts with nopreempt.
    await lab.stopKeepalived("vm-b");
    await lab.startKeepalived("vm-b", config("vm-b", true));
    await lab.stopKeepalived("vm-a");
    const onB = await net.holderIs("vm-b");
    await servedBy("vm-b");
    await lab.startKeepalived("vm-a", config("vm-a", true));
    await eventually("vm-A to enter BACKUP", 5000, () =>
      Promise.resolve(lab.vrrpState("vm-a") === "BACKUP" ? true : undefined),
    );
    await sleep(2000); // ten advert intervals, more than three master-down intervals: time enough to preempt
    assert.equal(lab.vrrpState("vm-a"), "BACKUP");
    assert.equal(lab.vrrpState("vm-b"), "MASTER");
    const still = await net.shown();
    assert.deepEqual([still.holder?.vnicId, still.generation], [net.vnicOf("vm-b"), onB.generation]);
    assert.equal(await fetchName(lab, "vm-c", VIP), "vm-b");
  });

  await t.test("down removes everything", () => run.down());
});
