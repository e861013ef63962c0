// Isolation on the real fabric: two projects, each with a VPC 10.0.0.0/16, a subnet 10.0.1.0/24 and a HAVIP
// 10.0.1.50 held by its own keepalived pair (same addresses, same virtual router id), at the same time. Each
// VPC's client reaches its own holder, and a failover in one VPC leaves the other untouched.
// (VRRPv3 with advert_int 0.2, to keep the suite quick.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually } from "../lab/helpers.ts";
import { CaseLab, fetchName, keepalivedFor, rootOnly, type CaseNetwork, type CaseVm } from "./helpers.ts";

const VIP = "10.0.1.50";

function vms(suffix: string, vniBase: number): CaseVm[] {
  return ["a", "b", "c"].map((x, i) => ({
    lab: `vm-${x}${suffix}`,
    name: `vm-${x.toUpperCase()}`,
    ip: `10.0.1.1${i + 1}`,
    vni: vniBase + i,
  }));
}

interface Vpc {
  net: CaseNetwork;
  a: string;
  b: string;
  c: string;
}

test(
  "two VPCs with the same CIDR and HAVIP 10.0.1.50 work independently",
  rootOnly("fabric-lab isolation"),
  async (t) => {
    const run = await CaseLab.start(t, "hvis");
    const { lab } = run;
    const vpcs: Vpc[] = [];
    for (const [project, suffix, vniBase] of [
      ["blue", "1", 5001],
      ["green", "2", 6001],
    ] as const) {
      const [a, b, c] = vms(suffix, vniBase).map((v) => v.lab) as [string, string, string];
      vpcs.push({ net: await run.network(project, vms(suffix, vniBase)), a, b, c });
    }
    const [blue, green] = vpcs as [Vpc, Vpc];
    assert.notEqual(blue.net.havip.id, green.net.havip.id);
    assert.deepEqual([blue.net.havip.ipAddress, green.net.havip.ipAddress], [VIP, VIP]);
    for (const vpc of vpcs) {
      for (const [name, priority] of [
        [vpc.a, 150],
        [vpc.b, 100],
      ] as const) {
        await lab.startHttpService(name);
        await lab.startKeepalived(
          name,
          keepalivedFor(VIP, priority, { version: 3, advertInterval: 0.2, nopreempt: true }),
        );
      }
    }
    const servedBy = (vpc: Vpc, who: string) =>
      eventually(`${vpc.c} to be served by ${who}`, 10_000, async () =>
        (await fetchName(lab, vpc.c, VIP)) === who ? who : undefined,
      );
    /** Holder and generation of each VPC's HAVIP, in the API. */
    const holders = async () =>
      Promise.all(vpcs.map(async (v) => ((h) => [h.holder?.vnicId, h.generation])(await v.net.shown())));

    await t.test("each VPC's client reaches its own holder", async () => {
      for (const vpc of vpcs) {
        await vpc.net.holderIs(vpc.a);
        await servedBy(vpc, vpc.a);
        assert.equal(lab.vrrpState(vpc.b), "BACKUP", `${vpc.b} hears its own VPC's master`);
      }
    });

    for (const [failing, other] of [
      [blue, green],
      [green, blue],
    ] as const) {
      await t.test(`a failover in ${failing.a}'s VPC leaves the other VPC as it was`, async () => {
        const otherBefore = await other.net.shown();
        const g = (await failing.net.shown()).generation;
        await lab.stopKeepalived(failing.a);
        assert.equal((await failing.net.holderIs(failing.b)).generation, g + 1);
        await servedBy(failing, failing.b);
        const otherAfter = await other.net.shown();
        assert.deepEqual(
          [otherAfter.holder?.vnicId, otherAfter.generation],
          [otherBefore.holder?.vnicId, otherBefore.generation],
        );
        const otherHolder =
          other.net.instances.get(other.a)!.primaryVnicId === otherAfter.holder?.vnicId ? other.a : other.b;
        for (let i = 0; i < 3; i++) assert.equal(await fetchName(lab, other.c, VIP), otherHolder);
        assert.equal(lab.vrrpState(otherHolder), "MASTER");
      });
    }

    await t.test("the fabric shows both HAVIPs, each with its own holder", async () => {
      const { fabric } = await run.counters();
      const api = await holders();
      assert.deepEqual(
        vpcs.map((v) => [fabric.havips[v.net.havip.id]?.holderVnicId, fabric.havips[v.net.havip.id]?.generation]),
        api,
      );
      assert.deepEqual(
        api.map(([vnic]) => vnic),
        vpcs.map((v) => v.net.vnicOf(v.b)),
      );
    });

    await t.test("down removes everything", () => run.down());
  },
);
