// Seed 001 on the real fabric: havipd runs the fabric inside the lab's fabric namespace; vm-A, vm-B and
// vm-C are Linux namespaces attached over kernel VXLAN (each vNIC's VNI registered with havipd); keepalived
// (VRRPv2 multicast, advert_int 1) in vm-A and vm-B for 10.0.1.50 and an HTTP service in each. vm-C fetches
// http://10.0.1.50/ → vm-A; vm-A's keepalived stops; vm-C gets vm-B; the API shows vm-B, generation +1.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLab, INTERNET_DEFAULTS, labDown } from "@havip/lab";
import type { HaVip, HolderHistoryEntry, Page } from "@havip/control";
import type { KeepalivedConfig, Lab } from "@havip/lab";
import { assertNothingLeft, eventually, namespaceInodes, removeDir, tempStateDir, testPrefix } from "../lab/helpers.ts";
import { LabDaemon, fetchName, rootOnly, startAgent, tenantNetwork, type Layout } from "./helpers.ts";

const VIP = "10.0.1.50";
const VMS = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", priority: 150, vni: 5001 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", priority: 100, vni: 5002 },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", priority: 0, vni: 5003 },
] as const;

function keepalived(priority: number): KeepalivedConfig {
  return {
    instances: [
      {
        name: "VI_1",
        version: 2,
        virtualRouterId: 51,
        priority,
        advertInterval: 1,
        state: "BACKUP",
        nopreempt: true,
        virtualAddresses: [{ address: VIP, prefixLen: 24 }],
        garpMasterDelay: 1,
        authPass: "havip",
      },
    ],
  };
}

function fetchFromC(lab: Lab): Promise<string | undefined> {
  return fetchName(lab, "vm-c", VIP);
}

function seedSuite(layout: Layout, tag: string): void {
  const PREFIX = testPrefix(tag);
  const title =
    layout === "agent"
      ? "seed 001 on the real fabric: havipd drives the fabric agent in the fabric namespace"
      : "seed 001 on the real fabric: havipd runs the fabric in the fabric namespace";
  test(title, rootOnly(`fabric-lab seed suite (${layout})`), async (t) => {
    const stateDir = tempStateDir("fabric-seed");
    const stops: (() => Promise<void>)[] = [];
    t.after(async () => {
      try {
        for (const stop of stops) await stop().catch(() => undefined);
        await labDown({ stateDir, prefix: PREFIX });
      } finally {
        removeDir(stateDir);
      }
    });
    const lab = await createLab({ stateDir, prefix: PREFIX });
    const agentSocket = layout === "agent" ? `${stateDir}/fabric-agent.sock` : undefined;
    if (agentSocket !== undefined) await startAgent(lab, agentSocket);
    const havipd = await LabDaemon.start(lab, `${stateDir}/havipd`, agentSocket);
    stops.push(() => havipd.stop());

    // The seed example through the API.
    const { token, tenant, subnet, instances } = await tenantNetwork(havipd, "seed", VMS);
    const havip = await tenant<HaVip>("POST", "/v1/havips", { subnetId: subnet.id, ipAddress: VIP });
    await havipd.ok("POST", "/v1/eip-pools", { region: "lab", cidr: "198.51.100.0/24" });
    const eip = await tenant<{ id: string; publicIp: string }>("POST", "/v1/eips", { region: "lab" });
    await tenant("POST", `/v1/eips/${eip.id}/associate`, { havipId: havip.id });

    // Each instance: a namespace on its own VNI, registered with havipd as its vNIC's attachment.
    for (const vm of VMS) {
      const vnic = instances.get(vm.lab)!.vnics[0]!;
      const attached = await lab.attachInstance({
        name: vm.lab,
        vni: vm.vni,
        mac: vnic.macAddress,
        ip: vm.ip,
        prefixLen: 24,
        gateway: subnet.gatewayIp,
      });
      await havipd.ok("PUT", `/v1/fabric/attachments/${vnic.id}`, {
        remoteAddress: attached.endpoint.address,
        remotePort: attached.endpoint.port,
        vni: attached.endpoint.vni,
      });
    }
    // The internet host (203.0.113.10) behind the fabric's edge (203.0.113.1), registered as the internet port.
    const internet = await lab.attachInternet({ vni: 5100 });
    await havipd.ok("PUT", "/v1/fabric/internet", {
      ip: INTERNET_DEFAULTS.gateway,
      cidr: "203.0.113.0/24",
      gateway: null,
      remoteAddress: internet.endpoint.address,
      remotePort: internet.endpoint.port,
      vni: internet.endpoint.vni,
    });
    for (const vm of VMS.slice(0, 2)) {
      await lab.startHttpService(vm.lab);
      await lab.startKeepalived(vm.lab, keepalived(vm.priority));
    }

    const vnicOf = (name: string) => instances.get(name)!.primaryVnicId;
    const shown = () => tenant<HaVip>("GET", `/v1/havips/${havip.id}`);

    await t.test("before: vm-A holds 10.0.1.50 and serves vm-C", async () => {
      const before = await eventually("vm-A to hold the HAVIP in the API", 15_000, async () => {
        const h = await shown();
        return h.holder?.vnicId === vnicOf("vm-a") ? h : undefined;
      });
      assert.equal(before.status, "in-use");
      assert.equal(await eventually("vm-C to reach the HAVIP", 10_000, () => fetchFromC(lab)), "vm-a");
    });

    await t.test(
      "vm-A's keepalived stops: vm-B serves at the same address; the API shows vm-B, generation +1",
      async (t) => {
        const generation = (await shown()).generation;
        const started = Date.now();
        const stopped = lab.stopKeepalived("vm-a");
        const after = await eventually("vm-B to hold the HAVIP in the API", 15_000, async () => {
          const h = await shown();
          return h.holder?.vnicId === vnicOf("vm-b") ? h : undefined;
        });
        const apiMs = Date.now() - started;
        assert.equal(
          await eventually("vm-C to be served by vm-B", 10_000, async () => {
            const who = await fetchFromC(lab);
            return who === "vm-b" ? who : undefined;
          }),
          "vm-b",
        );
        const servedMs = Date.now() - started;
        await stopped;
        assert.equal(after.generation, generation + 1);
        assert.equal(after.status, "in-use");
        const history = await tenant<Page<HolderHistoryEntry>>("GET", `/v1/havips/${havip.id}/history`);
        assert.deepEqual(
          history.items.slice(-2).map((h) => [h.vnicId, h.previousVnicId, h.reason]),
          [
            [vnicOf("vm-a"), null, "announcement"],
            [vnicOf("vm-b"), vnicOf("vm-a"), "announcement"],
          ],
        );
        const counters = await havipd.ok<{
          fabric: { havips: Record<string, { holderVnicId: string; generation: number }> };
        }>("GET", "/v1/fabric/counters");
        assert.deepEqual(
          counters.fabric.havips[havip.id] && [
            counters.fabric.havips[havip.id]?.holderVnicId,
            counters.fabric.havips[havip.id]?.generation,
          ],
          [vnicOf("vm-b"), after.generation],
        );
        t.diagnostic(
          `VRRPv2 advert_int 1: API showed vm-B ${apiMs} ms, vm-C served by vm-B ${servedMs} ms after SIGTERM`,
        );
      },
    );

    await t.test("a restarted havipd restores attachments, the edge and vm-B as holder from its data", async () => {
      const before = await shown();
      await havipd.stop();
      if (layout === "agent") {
        assert.equal(await fetchFromC(lab), "vm-b", "the agent forwards while havipd is away");
      } else {
        assert.equal(await fetchFromC(lab), undefined, "no fabric, no forwarding");
      }
      const again = await LabDaemon.start(lab, `${stateDir}/havipd`, agentSocket);
      stops.push(() => again.stop());
      const attachments = await again.ok<{ items: unknown[] }>("GET", "/v1/fabric/attachments");
      assert.equal(attachments.items.length, VMS.length);
      // keepalived on vm-B only sends adverts now (no GARP): forwarding comes from the store's last holder.
      assert.equal(await fetchFromC(lab), "vm-b");
      assert.equal(await fetchName(lab, "internet", eip.publicIp), "vm-b");
      const after = await again.ok<HaVip>("GET", `/v1/havips/${havip.id}`, undefined, token);
      assert.deepEqual([after.holder?.vnicId, after.generation], [before.holder?.vnicId, before.generation]);
    });

    await t.test("down removes everything, havipd included", async () => {
      const inodes = namespaceInodes(lab.state.namespaces.map((n) => n.name));
      const pids = lab.processes().flatMap((p) => (p.pid === null ? [] : [p.pid]));
      assert.ok(lab.processes().some((p) => p.label === (layout === "agent" ? "fabric-agent" : "havipd")));
      for (const stop of stops) await stop();
      await lab.down();
      assertNothingLeft(PREFIX, inodes, pids);
    });
  });
}

seedSuite("in-fabric-ns", "hvf1");
seedSuite("agent", "hvf2");
