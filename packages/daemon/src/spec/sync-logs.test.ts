// havipd's JSON log lines for holder changes, releases and denied claims name every id involved: the HAVIP,
// its project, subnet and address, the vNIC and its instance, the previous holder, the generation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { openControlService, type Actor } from "@havip/control";
import { Fabric } from "@havip/fabric";
import { MemoryPort, gratuitousArp } from "@havip/testkit";
import { pino } from "pino";
import { until, world } from "../test-support.ts";
import { startSpecSync } from "./sync.ts";

function hasFields(record: Record<string, unknown>, expected: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(expected)) assert.equal(record[k], v, `${k} in ${JSON.stringify(record)}`);
}

test("holder changes, releases and denied claims are logged as JSON with their ids", async () => {
  const lines: string[] = [];
  const w = await world("in-process", lines);
  try {
    const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const logged = (msg: string, n: number) =>
      until(`${n} "${msg}" lines`, () => {
        const found = records().filter((r) => r.msg === msg);
        return Promise.resolve(found.length >= n ? found : undefined);
      });
    const { a, b, c, havip } = w;
    const base = { havipId: havip.id, projectId: havip.projectId, subnetId: havip.subnetId, havipIp: "10.0.1.50" };

    w.garp(a);
    await logged("holder changed", 1);
    w.garp(b);
    const changed = await logged("holder changed", 2);
    hasFields(changed[0]!, { ...base, vnicId: a.primaryVnicId, instanceId: a.id, previousVnicId: null, generation: 1 });
    hasFields(changed[0]!, { previousInstanceId: null, service: "havipd" });
    hasFields(changed[1]!, { ...base, vnicId: b.primaryVnicId, instanceId: b.id, generation: 2 });
    hasFields(changed[1]!, { previousVnicId: a.primaryVnicId, previousInstanceId: a.id });
    assert.equal(changed[0]!.level, 30);
    assert.match(String(changed[0]!.at), /^\d{4}-\d\d-\d\dT/);

    // vm-A and vm-B become the members: vm-C's claim is denied, with its ids.
    assert.equal((await w.api("PATCH", `/v1/havips/${havip.id}`, { members: [a.id, b.id] })).status, 200);
    w.garp(c);
    const [denied] = await logged("claim denied", 1);
    assert.equal(denied!.level, 40);
    hasFields(denied!, { ...base, vnicId: c.primaryVnicId, instanceId: c.id, reason: "claim-not-member" });

    // vm-B leaves the member list: it loses the role.
    assert.equal((await w.api("PATCH", `/v1/havips/${havip.id}`, { members: [a.id] })).status, 200);
    const [released] = await logged("holder released", 1);
    hasFields(released!, { ...base, previousVnicId: b.primaryVnicId, previousInstanceId: b.id, generation: 2 });
  } finally {
    await w.close();
  }
});

test("a flood of denied claims is a few log lines whose counts add up to every denial", async () => {
  const lines: string[] = [];
  const w = await world("in-process", lines);
  try {
    const { a, b, c, havip } = w;
    assert.equal((await w.api("PATCH", `/v1/havips/${havip.id}`, { members: [a.id, b.id] })).status, 200);
    for (let i = 0; i < 2000; i++) w.garp(c);
    const denials = async () => {
      const counters = (await w.op("GET", "/v1/fabric/counters")).json<{
        fabric: { havips: Record<string, { deniedClaims: number }>; drops: Record<string, number> };
      }>().fabric;
      return { denied: counters.havips[havip.id]?.deniedClaims ?? 0, policed: counters.drops["rate-limited"] ?? 0 };
    };
    const total = await until("the flood to arrive", async () => {
      const d = await denials();
      return d.denied + d.policed >= 2000 ? d : undefined;
    });
    assert.ok(total.policed > 0, "the fabric policed the flood");
    const denied = () =>
      lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === "claim denied");
    // The last count arrives when the fabric's window ends (a second), or the log's timer after it.
    const logged = await until(
      "the lines to stand for every denial",
      () => {
        const d = denied();
        const stands = d.reduce((n, r) => n + 1 + ((r.suppressed as number | undefined) ?? 0), 0);
        return Promise.resolve(stands >= total.denied ? d : undefined);
      },
      8000,
    );
    assert.ok(logged.length <= 3, `${logged.length} lines for ${total.denied} denials`);
    assert.equal(
      logged.reduce((n, r) => n + 1 + ((r.suppressed as number | undefined) ?? 0), 0),
      total.denied,
    );
    assert.equal(logged.at(-1)?.vnicId, c.primaryVnicId);
  } finally {
    await w.close();
  }
});

test("ids of resources created before the sync started are looked up in the store", async () => {
  const svc = await openControlService({ databaseUrl: ":memory:", operatorToken: "op-token-for-tests-000000" });
  try {
    const operator: Actor = { kind: "operator" };
    const { project } = await svc.createProject(operator, { name: "t" });
    const actor: Actor = { kind: "project", projectId: project.id };
    const vpc = await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
    const subnet = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.1.0/24", zone: "z1" });
    const a = await svc.createInstance(actor, { name: "vm-A", subnetId: subnet.id, ipAddress: "10.0.1.11" });
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id, ipAddress: "10.0.1.50" });

    const logs: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line) as never) });
    const fabric = new Fabric();
    const sync = await startSpecSync(svc, fabric, { routerMac: "02:00:00:00:00:01", internet: null }, logger);
    try {
      const vnic = a.vnics[0]!;
      const port = new MemoryPort(vnic.id);
      fabric.attachPort(port);
      port.inject(gratuitousArp({ mac: vnic.macAddress, ip: havip.ipAddress }));
      await sync.settled();
      const changed = logs.find((l) => l.msg === "holder changed");
      assert.ok(changed !== undefined);
      hasFields(changed, {
        havipId: havip.id,
        projectId: project.id,
        subnetId: subnet.id,
        havipIp: "10.0.1.50",
        vnicId: vnic.id,
        instanceId: a.id,
        generation: 1,
      });
    } finally {
      sync.stop();
    }
  } finally {
    await svc.close();
  }
});
