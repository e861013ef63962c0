// Local vNICs attached by veth: two instances whose eth0 is one end of a veth pair into the fabric namespace
// (the fabric reads raw frames from the other end with a batched packet socket) and one attached by kernel
// VXLAN, in one subnet. All three ping each other, a TCP transfer of a few MB from one veth instance to the
// other arrives intact, a gratuitous ARP for the HAVIP from a veth instance moves the holder in the API, a
// restarted havipd restores the veth attachments, and nothing is left afterwards. Run in both layouts: the
// fabric agent in the fabric namespace driven by havipd in the root namespace, and havipd itself there.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { createLab, labDown, type Lab } from "@havip/lab";
import type { HaVip } from "@havip/control";
import { assertNothingLeft, eventually, namespaceInodes, removeDir, tempStateDir, testPrefix } from "../lab/helpers.ts";
import {
  gratuitousArp,
  LabDaemon,
  rootOnly,
  startAgent,
  tenantNetwork,
  type Layout,
  TCP_SINK,
  TCP_SOURCE,
  UDP_FLOOD,
} from "./helpers.ts";

const HAVIP_IP = "10.0.1.50";
const VMS = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 6101, attach: "veth" },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 6102, attach: "veth" },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", vni: 6103, attach: "vxlan" },
] as const;

interface Attachment {
  vnicId: string;
  kind?: string;
  interface?: string;
  vni?: number;
}

async function pings(lab: Lab, from: string, to: string): Promise<true | undefined> {
  const r = await lab.execResult(from, "ping", ["-c", "1", "-W", "1", to]);
  return r.code === 0 ? true : undefined;
}

async function announce(lab: Lab, from: string): Promise<void> {
  await lab.exec(from, "ip", ["addr", "add", `${HAVIP_IP}/24`, "dev", "eth0"]);
  const [program, ...args] = await gratuitousArp(lab, from, HAVIP_IP, 2);
  await lab.execResult(from, program!, args);
  await lab.exec(from, "ip", ["addr", "del", `${HAVIP_IP}/24`, "dev", "eth0"]);
}

async function scenario(t: TestContext, layout: Layout): Promise<void> {
  const prefix = testPrefix(layout === "agent" ? "hvva" : "hvvi");
  const stateDir = tempStateDir(`fabric-veth-${layout}`);
  let havipd: LabDaemon | undefined;
  t.after(async () => {
    try {
      await havipd?.stop().catch(() => undefined);
      await labDown({ stateDir, prefix });
    } finally {
      removeDir(stateDir);
    }
  });
  const lab = await createLab({ stateDir, prefix });
  const agentSocket = layout === "agent" ? join(stateDir, "fabric-agent.sock") : undefined;
  if (agentSocket !== undefined) await startAgent(lab, agentSocket);
  const dataDir = join(stateDir, "havipd");
  havipd = await LabDaemon.start(lab, dataDir, agentSocket);
  const d = havipd;
  const { tenant, subnet, instances } = await tenantNetwork(d, "veth", VMS);
  const havip = await tenant<HaVip>("POST", "/v1/havips", { subnetId: subnet.id, ipAddress: HAVIP_IP });
  const vnicOf = (name: string) => instances.get(name)!.primaryVnicId;
  for (const vm of VMS) {
    const vnic = instances.get(vm.lab)!.vnics[0]!;
    const spec = { name: vm.lab, vni: vm.vni, mac: vnic.macAddress, ip: vm.ip, prefixLen: 24 };
    if (vm.attach === "veth") {
      const attached = await lab.attachInstance({ ...spec, gateway: subnet.gatewayIp, attach: "veth" });
      assert.deepEqual(attached.endpoint, { kind: "veth", interface: `vt${vm.vni}` });
      await d.ok("PUT", `/v1/fabric/attachments/${vnic.id}`, { interface: attached.endpoint.interface });
    } else {
      const attached = await lab.attachInstance({ ...spec, gateway: subnet.gatewayIp });
      const { address, port, vni } = attached.endpoint;
      await d.ok("PUT", `/v1/fabric/attachments/${vnic.id}`, { remoteAddress: address, remotePort: port, vni });
    }
  }

  await t.test("the API lists the veth attachments by interface, the VXLAN one by VNI", async () => {
    const listed = await d.ok<{ items: Attachment[] }>("GET", "/v1/fabric/attachments");
    const byVnic = new Map(listed.items.map((a) => [a.vnicId, a]));
    assert.deepEqual(byVnic.get(vnicOf("vm-a")), { vnicId: vnicOf("vm-a"), kind: "veth", interface: "vt6101" });
    assert.deepEqual(byVnic.get(vnicOf("vm-b")), { vnicId: vnicOf("vm-b"), kind: "veth", interface: "vt6102" });
    assert.equal(byVnic.get(vnicOf("vm-c"))?.vni, 6103);
  });

  await t.test("all three ping each other, veth to veth and veth to VXLAN both ways", async () => {
    for (const from of VMS) {
      for (const to of VMS.filter((x) => x !== from)) {
        await eventually(`${from.lab} → ${to.lab}`, 10_000, () => pings(lab, from.lab, to.ip));
      }
    }
    const counters = await d.ok<{ packet: { rxFrames: number; truncated: number } | null }>(
      "GET",
      "/v1/fabric/counters",
    );
    assert.ok(counters.packet !== null && counters.packet.rxFrames > 0, JSON.stringify(counters.packet));
  });

  await t.test("a TCP transfer of 4 MB from vm-A to vm-B (veth to veth) arrives intact", async () => {
    const sink = lab.spawn("vm-b", process.execPath, ["-e", TCP_SINK, "10.0.1.12"], { label: "tcp-sink" });
    await sink.waitForLog(/"listening"/, 10_000);
    const r = await lab.execResult("vm-a", process.execPath, ["-e", TCP_SOURCE, "10.0.1.12", String(4 << 20)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as { sent: string; got: { bytes: number; sha256: string } };
    assert.deepEqual(result.got, { bytes: 4 << 20, sha256: result.sent });
    await lab.stopProcess("vm-b", "tcp-sink");
    const counters = await d.ok<{ packet: { truncated: number; runts: number } }>("GET", "/v1/fabric/counters");
    assert.equal(counters.packet.truncated, 0, "no frame larger than the MTU reached the packet socket");
  });

  await t.test(
    "a UDP flood from vm-A to vm-B passes; the agent reads it in holds, havipd's own fabric at once",
    async () => {
      type Packet = { rxFrames: number; rxHolds: number };
      const before = (await d.ok<{ packet: Packet }>("GET", "/v1/fabric/counters")).packet;
      const r = await lab.execResult("vm-a", process.execPath, ["-e", UDP_FLOOD, "10.0.1.12", "3000"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const flooded = await eventually("the flood at the fabric", 5000, async () => {
        const now = (await d.ok<{ packet: Packet }>("GET", "/v1/fabric/counters")).packet;
        return now.rxFrames - before.rxFrames >= 3000 ? now : undefined;
      });
      // The agent moderates its receive sockets by default (bursts of 8 frames or more are read 100 µs later, as
      // one batch); havipd's in-process fabric does not.
      if (layout === "agent") assert.ok(flooded.rxHolds > before.rxHolds, JSON.stringify(flooded));
      else assert.equal(flooded.rxHolds, 0, JSON.stringify(flooded));
      await eventually("vm-A → vm-B after the flood", 5000, () => pings(lab, "vm-a", "10.0.1.12"));
    },
  );

  await t.test("a gratuitous ARP for the HAVIP from a veth instance moves the holder in the API", async () => {
    const holderIs = (name: string) =>
      eventually(`${name} to hold the HAVIP`, 10_000, async () => {
        const h = await tenant<HaVip>("GET", `/v1/havips/${havip.id}`);
        return h.holder?.vnicId === vnicOf(name) ? h : undefined;
      });
    await announce(lab, "vm-c");
    const onC = await holderIs("vm-c");
    await announce(lab, "vm-a");
    const onA = await holderIs("vm-a");
    assert.equal(onA.generation, onC.generation + 1);
  });

  await t.test("a restarted havipd restores the veth attachments", async () => {
    await d.stop();
    havipd = await LabDaemon.start(lab, dataDir, agentSocket);
    const listed = await havipd.ok<{ items: Attachment[] }>("GET", "/v1/fabric/attachments");
    assert.equal(listed.items.filter((a) => a.kind === "veth").length, 2);
    await eventually("vm-a → vm-b after the restart", 10_000, () => pings(lab, "vm-a", "10.0.1.12"));
    await eventually("vm-b → vm-c after the restart", 10_000, () => pings(lab, "vm-b", "10.0.1.13"));
  });

  await t.test("detaching a veth instance removes the fabric's end of its pair at once", async () => {
    await lab.detachInstance("vm-b");
    const r = await lab.execResult("fabric", "ip", ["link", "show", "vt6102"]);
    assert.notEqual(r.code, 0, "vt6102 is gone from the fabric namespace");
  });

  const inodes = namespaceInodes(lab.state.namespaces.map((n) => n.name));
  const pids = lab.processes().flatMap((p) => (p.pid === null ? [] : [p.pid]));
  await havipd.stop();
  await lab.down();
  assertNothingLeft(prefix, inodes, pids);
}

for (const layout of ["agent", "in-fabric-ns"] as const) {
  test(`veth attachments (${layout})`, rootOnly(`fabric-lab veth (${layout})`), async (t) => {
    await scenario(t, layout);
  });
}
