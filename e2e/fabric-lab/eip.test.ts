// EIPs on the real fabric: the internet host (203.0.113.10) fetches http://<EIP>/ and gets the holder's
// answer, before and after a failover; the holder's connections sourced from the HAVIP reach the internet's
// echo service as coming from the EIP (vm-A's before, vm-B's after); a vNIC without an EIP (vm-C) gets
// nothing out, and the fabric counts the drop as `no-eip`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually } from "../lab/helpers.ts";
import { CaseLab, echoFrom, fetchName, keepalivedFor, rootOnly, type CaseVm } from "./helpers.ts";

const VIP = "10.0.1.50";
const VMS: readonly CaseVm[] = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5001 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5002 },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", vni: 5003 },
];

test(
  "EIP of a HAVIP: inbound to the holder, outbound as the EIP, no EIP no way out",
  rootOnly("fabric-lab eip"),
  async (t) => {
    const run = await CaseLab.start(t, "hvei");
    const { lab, havipd } = run;
    const net = await run.network("eip", VMS);
    await havipd.ok("POST", "/v1/eip-pools", { region: "lab", cidr: "198.51.100.0/24" });
    const eip = await net.tenant<{ id: string; publicIp: string }>("POST", "/v1/eips", { region: "lab" });
    await net.tenant("POST", `/v1/eips/${eip.id}/associate`, { havipId: net.havip.id });
    await run.internet(5100);
    for (const [name, priority] of [
      ["vm-a", 150],
      ["vm-b", 100],
    ] as const) {
      await lab.startHttpService(name);
      await lab.startKeepalived(name, keepalivedFor(VIP, priority, { nopreempt: true }));
    }
    await net.holderIs("vm-a");
    const fromInternet = () => fetchName(lab, "internet", eip.publicIp);

    await t.test("before the failover: the internet reaches vm-A at the EIP; vm-A leaves as the EIP", async () => {
      assert.equal(await eventually("the internet to reach the EIP", 10_000, fromInternet), "vm-a");
      const seen = await echoFrom(lab, "vm-a", VIP);
      assert.equal(seen?.address, eip.publicIp, `the echo service saw ${JSON.stringify(seen)}`);
    });

    await t.test("after the failover: the same EIP reaches vm-B; vm-B leaves as the EIP", async () => {
      await lab.stopKeepalived("vm-a");
      await net.holderIs("vm-b");
      assert.equal(
        await eventually("the internet to reach vm-B at the EIP", 10_000, async () => {
          const who = await fromInternet();
          return who === "vm-b" ? who : undefined;
        }),
        "vm-b",
      );
      assert.equal((await echoFrom(lab, "vm-b", VIP))?.address, eip.publicIp);
    });

    await t.test("a vNIC without an EIP gets nothing out, counted as no-eip", async () => {
      const was = (await run.counters()).fabric.drops["no-eip"];
      assert.equal(await echoFrom(lab, "vm-c", undefined, 1500), undefined);
      const now = (await run.counters()).fabric.drops["no-eip"];
      assert.ok(now > was, `no-eip drops ${was} → ${now}`);
      t.diagnostic(`no-eip drops ${was} → ${now}`);
    });

    await t.test("down removes everything", () => run.down());
  },
);
