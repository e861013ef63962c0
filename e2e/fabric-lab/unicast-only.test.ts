// A unicast-only subnet on the real fabric (seed 004's edge cloud): no broadcast, no multicast. keepalived
// with unicast_src_ip + unicast_peer fails over as usual. A multicast VRRP configuration there never reaches
// the peer: both instances become MASTER (as their keepalived logs say), the fabric drops the adverts
// (`broadcast-not-carried`) and keeps a single holder — the instance that announced last — and vm-C's traffic
// goes there. Its probes find both with the address: the HAVIP is reported contested, and a claim by the other
// one is damped rather than followed; when one of them lets go, verification moves the holder to the one that
// keeps the address and the contest ends. (VRRPv3 with advert_int 0.2 throughout, to keep the suite quick.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually } from "../lab/helpers.ts";
import { CaseLab, fetchName, gratuitousArp, keepalivedFor, rootOnly, type CaseVm } from "./helpers.ts";

const VIP = "10.0.1.50";
const VMS: readonly CaseVm[] = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5001 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5002 },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", vni: 5003 },
];
const PEERS = { "vm-a": ["10.0.1.11", "10.0.1.12", 150], "vm-b": ["10.0.1.12", "10.0.1.11", 100] } as const;
// keepalived sends its second round of gratuitous ARPs garp_master_delay (1 s) after becoming MASTER.
const GARPS_SETTLE_MS = 1500;

function config(name: keyof typeof PEERS, unicast: boolean) {
  const [sourceIp, peer, priority] = PEERS[name];
  return keepalivedFor(VIP, priority, {
    version: 3,
    advertInterval: 0.2,
    ...(unicast ? { unicast: { sourceIp, peers: [peer] } } : {}),
  });
}

test(
  "unicast-only subnet: unicast VRRP fails over; multicast VRRP splits, reported contested, the holder kept",
  rootOnly("fabric-lab unicast-only"),
  async (t) => {
    const run = await CaseLab.start(t, "hvuo");
    const { lab } = run;
    const net = await run.network("edge", VMS, { broadcast: "unicast-only" });
    const servedBy = (who: string) =>
      eventually(`vm-C to be served by ${who}`, 10_000, async () =>
        (await fetchName(lab, "vm-c", VIP)) === who ? who : undefined,
      );
    const vrrpIs = (name: string, state: "MASTER" | "BACKUP") =>
      eventually(`${name}'s keepalived to enter ${state}`, 10_000, () =>
        Promise.resolve(lab.vrrpState(name) === state ? state : undefined),
      );
    for (const name of ["vm-a", "vm-b"] as const) await lab.startHttpService(name);

    await t.test("keepalived with unicast_peer: vm-A holds, vm-B backs up, and takes over", async () => {
      for (const name of ["vm-a", "vm-b"] as const) await lab.startKeepalived(name, config(name, true));
      await net.holderIs("vm-a");
      await vrrpIs("vm-a", "MASTER");
      await vrrpIs("vm-b", "BACKUP");
      await servedBy("vm-a");
      const g = (await net.shown()).generation;
      await lab.stopKeepalived("vm-a");
      assert.equal((await net.holderIs("vm-b")).generation, g + 1);
      await servedBy("vm-b");
    });

    await t.test(
      "multicast VRRP: both become MASTER; contested, the last announcer kept until one lets go",
      async () => {
        await lab.stopKeepalived("vm-b");
        const notCarried = async () => (await run.counters()).fabric.drops["broadcast-not-carried"];
        const was = await notCarried();
        await lab.startKeepalived("vm-a", config("vm-a", false));
        await vrrpIs("vm-a", "MASTER");
        await net.holderIs("vm-a");
        await sleep(GARPS_SETTLE_MS);
        // vm-B hears none of vm-A's adverts: it becomes MASTER too, and its announcements come last.
        await lab.startKeepalived("vm-b", config("vm-b", false));
        await vrrpIs("vm-b", "MASTER");
        const onB = await net.holderIs("vm-b");
        await sleep(GARPS_SETTLE_MS);
        assert.equal(lab.vrrpState("vm-a"), "MASTER", "vm-A never heard vm-B: still MASTER");
        assert.equal(lab.vrrpState("vm-b"), "MASTER");
        assert.ok(
          (await lab.addresses("vm-a")).some((a) => a.address === VIP),
          "vm-A still has 10.0.1.50",
        );
        assert.ok(
          (await lab.addresses("vm-b")).some((a) => a.address === VIP),
          "vm-B has 10.0.1.50 too",
        );
        const now = await notCarried();
        assert.ok(now > was, `the adverts were dropped as broadcast-not-carried (${was} → ${now})`);
        const still = await net.shown();
        assert.deepEqual([still.holder?.vnicId, still.generation], [net.vnicOf("vm-b"), onB.generation]);
        await servedBy("vm-b");
        for (let i = 0; i < 3; i++) assert.equal(await fetchName(lab, "vm-c", VIP), "vm-b", "only vm-B is served");

        // Both answer the fabric's probes: split brain, shown as such, the holder kept.
        const contested = await eventually("the HAVIP reported contested", 5000, async () => {
          const h = await net.shown();
          return h.contested === null ? undefined : h;
        });
        assert.deepEqual(
          contested.contested?.claimants.map((c) => c.vnicId).sort(),
          [net.vnicOf("vm-a"), net.vnicOf("vm-b")].sort(),
        );
        assert.equal(contested.holder?.vnicId, net.vnicOf("vm-b"));

        // vm-A announces again (a gratuitous ARP, as keepalived's garp_master_refresh would): damped, no flapping.
        const [program, ...args] = await gratuitousArp(lab, "vm-a", VIP, 1);
        await lab.execResult("vm-a", program!, args);
        await sleep(500);
        const damped = await net.shown();
        assert.deepEqual([damped.holder?.vnicId, damped.generation], [net.vnicOf("vm-b"), onB.generation]);
        assert.ok((await run.counters()).fabric.drops["claim-contested"] >= 1, "vm-A's claim counted as damped");
        await servedBy("vm-b");

        // vm-B lets go (its keepalived stops and removes the address): verification finds vm-A alone with it.
        await lab.stopKeepalived("vm-b");
        const onA = await net.holderIs("vm-a", 5000);
        assert.ok(onA.generation > onB.generation);
        await eventually("the contest ended", 5000, async () =>
          (await net.shown()).contested === null ? true : undefined,
        );
        await servedBy("vm-a");
        t.diagnostic(`broadcast-not-carried drops ${was} → ${now}`);
      },
    );

    await t.test("down removes everything", () => run.down());
  },
);
