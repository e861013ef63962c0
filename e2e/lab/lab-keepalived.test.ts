// keepalived in lab instances: VRRPv2 multicast between two instances through the test relay elects one
// master, the VIP appears on its eth0, and stopping the master's keepalived moves the VIP to the other.
// Then the same with VRRPv3, unicast peers and a 0.1 s advertisement interval.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLab, labDown } from "@havip/lab";
import type { KeepalivedConfig, Lab } from "@havip/lab";
import {
  assertNothingLeft,
  eventually,
  namespaceInodes,
  removeDir,
  rootOnly,
  tempStateDir,
  TestRelay,
  testPrefix,
} from "./helpers.ts";

const PREFIX = testPrefix("hvt2");
const VIP = "10.0.0.100";
const PAIR = [
  { name: "vm-a", ip: "10.0.0.10", peer: "10.0.0.11", priority: 150 },
  { name: "vm-b", ip: "10.0.0.11", peer: "10.0.0.10", priority: 100 },
] as const;
const FETCH =
  "fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>r.text()).then(t=>process.stdout.write(t))";

async function holders(lab: Lab): Promise<string[]> {
  const out: string[] = [];
  for (const vm of PAIR) {
    if ((await lab.addresses(vm.name)).some((a) => a.address === VIP)) out.push(vm.name);
  }
  return out;
}

/** Waits until exactly one instance holds the VIP and returns it. */
function oneHolder(lab: Lab, timeoutMs: number, other?: string): Promise<string> {
  return eventually(
    `exactly one holder of ${VIP}${other === undefined ? "" : ` other than ${other}`}`,
    timeoutMs,
    async () => {
      const h = await holders(lab);
      return h.length === 1 && h[0] !== other ? h[0] : undefined;
    },
  );
}

test("lab keepalived: election and failover between two instances", rootOnly("lab keepalived suite"), async (t) => {
  const stateDir = tempStateDir("keepalived");
  t.after(async () => {
    try {
      await labDown({ stateDir, prefix: PREFIX });
    } finally {
      removeDir(stateDir);
    }
  });
  const lab = await createLab({ stateDir, prefix: PREFIX });
  const relay = await TestRelay.start(lab);
  for (const [i, vm] of [...PAIR, { name: "vm-c", ip: "10.0.0.12" }].entries()) {
    const attached = await lab.attachInstance({
      name: vm.name,
      vni: 2001 + i,
      mac: `02:00:0a:00:00:${(0x10 + i).toString(16)}`,
      ip: vm.ip,
      prefixLen: 24,
      gateway: "10.0.0.1",
    });
    await relay.attach(attached.endpoint);
  }
  for (const vm of PAIR) await lab.startHttpService(vm.name);

  const v2 = (vm: (typeof PAIR)[number]): KeepalivedConfig => ({
    instances: [
      {
        name: "VI_1",
        version: 2,
        virtualRouterId: 51,
        priority: vm.priority,
        advertInterval: 1,
        state: "BACKUP",
        nopreempt: true,
        virtualAddresses: [{ address: VIP, prefixLen: 24 }],
        garpMasterDelay: 1,
        authPass: "havip",
      },
    ],
  });

  await t.test("VRRPv2 multicast elects one master and the VIP appears on its eth0 only", async () => {
    for (const vm of PAIR) await lab.startKeepalived(vm.name, v2(vm));
    const holder = await oneHolder(lab, 10_000);
    assert.equal(holder, "vm-a", "the higher priority wins when both start as BACKUP");
    await eventually("vm-b to be BACKUP", 3000, () => Promise.resolve(lab.vrrpState("vm-b") === "BACKUP" || undefined));
    assert.equal(lab.vrrpState("vm-a"), "MASTER");
    // A client in the subnet reaches the VIP's holder (ARP answered by the holder, frames through the relay).
    const answer = await lab.exec("vm-c", process.execPath, ["-e", FETCH, `http://${VIP}/`]);
    assert.equal(answer.stdout, `vm-a ${VIP}\n`);
  });

  await t.test("stopping the master's keepalived moves the VIP to the other instance", async (t) => {
    const started = Date.now();
    const stopped = lab.stopKeepalived("vm-a");
    const holder = await oneHolder(lab, 10_000, "vm-a");
    const movedMs = Date.now() - started;
    assert.equal(holder, "vm-b");
    assert.deepEqual(await stopped, { how: "term" }, "keepalived stops on SIGTERM");
    assert.deepEqual(await holders(lab), ["vm-b"], "the old master withdrew the VIP");
    assert.equal(lab.vrrpState("vm-b"), "MASTER");
    const events = lab.keepalivedEvents("vm-a").map((e) => (e.kind === "state" ? e.state : e.kind));
    assert.deepEqual(events, ["starting", "BACKUP", "MASTER", "stopping", "stopped"]);
    const answer = await eventually("the VIP to answer from vm-b", 5000, async () => {
      const r = await lab.execResult("vm-c", process.execPath, ["-e", FETCH, `http://${VIP}/`]);
      return r.code === 0 && r.stdout.startsWith("vm-b") ? r.stdout : undefined;
    });
    assert.equal(answer, `vm-b ${VIP}\n`);
    t.diagnostic(`VRRPv2 advert_int 1: VIP on vm-b ${movedMs} ms after SIGTERM to vm-a's keepalived`);
  });

  await t.test("VRRPv3 with unicast peers and advert_int 0.1 fails over in well under a second", async (t) => {
    await lab.stopKeepalived("vm-b");
    assert.deepEqual(await holders(lab), [], "no holder once both are stopped");
    for (const vm of PAIR) {
      await lab.startKeepalived(vm.name, {
        instances: [
          {
            name: "VI_1",
            version: 3,
            virtualRouterId: 52,
            priority: vm.priority,
            advertInterval: 0.1,
            state: "BACKUP",
            unicast: { sourceIp: vm.ip, peers: [vm.peer] },
            virtualAddresses: [{ address: VIP, prefixLen: 24 }],
          },
        ],
      });
    }
    // Without nopreempt the higher priority ends up master whatever the start order.
    await eventually("vm-a to hold the VIP", 5000, async () =>
      (await holders(lab)).join() === "vm-a" ? true : undefined,
    );
    const started = Date.now();
    const stopped = lab.stopKeepalived("vm-a");
    await oneHolder(lab, 5000, "vm-a");
    const movedMs = Date.now() - started;
    await stopped;
    assert.ok(movedMs < 2000, `failover took ${movedMs} ms`);
    t.diagnostic(`VRRPv3 unicast advert_int 0.1: VIP on vm-b ${movedMs} ms after SIGTERM to vm-a's keepalived`);
  });

  await t.test(
    "cutting the master's link (eth0 down) moves the VIP; restoring it brings the master back",
    async (t) => {
      // vm-a's keepalived was stopped; start it again with the VRRPv3 set-up: it preempts vm-b.
      await lab.startKeepalived("vm-a", {
        instances: [
          {
            name: "VI_1",
            version: 3,
            virtualRouterId: 52,
            priority: 150,
            advertInterval: 0.1,
            unicast: { sourceIp: "10.0.0.10", peers: ["10.0.0.11"] },
            virtualAddresses: [{ address: VIP, prefixLen: 24 }],
          },
        ],
      });
      await eventually("vm-a to take the VIP back", 5000, async () =>
        (await holders(lab)).join() === "vm-a" ? true : undefined,
      );
      const started = Date.now();
      await lab.setLink("vm-a", "down");
      await eventually("vm-b to hold the VIP", 5000, async () =>
        (await holders(lab)).includes("vm-b") ? true : undefined,
      );
      t.diagnostic(`link cut: VIP on vm-b ${Date.now() - started} ms after vm-a's eth0 went down`);
      await eventually("vm-a's keepalived to see the fault", 3000, () =>
        Promise.resolve(lab.vrrpState("vm-a") === "FAULT" || undefined),
      );
      assert.equal((await lab.linkInfo("vm-a")).up, false);
      await lab.setLink("vm-a", "up");
      await eventually("vm-a to hold the VIP again", 5000, async () =>
        (await holders(lab)).join() === "vm-a" ? true : undefined,
      );
    },
  );

  await t.test("down removes the lab with keepalived still running", async () => {
    const inodes = namespaceInodes(lab.state.namespaces.map((n) => n.name));
    const pids = lab.processes().flatMap((p) => (p.pid === null ? [] : [p.pid]));
    assert.ok(lab.processes().some((p) => p.label === "keepalived"));
    await lab.down();
    assertNothingLeft(PREFIX, inodes, pids);
  });
});
