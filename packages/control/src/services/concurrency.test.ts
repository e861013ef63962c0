// Two concurrent requests can never both win: checked with many parallel calls on both dialects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isApiError } from "../errors.ts";
import { OPERATOR, forEachBackend, seedTenant } from "../store/test-backends.ts";

function codes(results: PromiseSettledResult<unknown>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of results) {
    const key =
      r.status === "fulfilled" ? "ok" : isApiError(r.reason) ? r.reason.code : `unexpected: ${String(r.reason)}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

forEachBackend("concurrency", (backend) => {
  test("50 parallel creates for the same address: exactly one wins, the rest InvalidIpAddress.InUse", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    // HAVIPs and instances race for the same address: one table of used addresses serves both.
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? svc.createHaVip(actor, { subnetId: subnet.id, ipAddress: "10.0.1.50" })
          : svc.createInstance(actor, { name: `vm-${i}`, subnetId: subnet.id, ipAddress: "10.0.1.50" }),
      ),
    );
    assert.deepEqual(
      codes(results),
      new Map([
        ["ok", 1],
        ["InvalidIpAddress.InUse", 49],
      ]),
    );
    const havips = (await svc.listHaVips(actor, {})).items;
    const instances = (await svc.listInstances(actor, {})).items;
    assert.equal(havips.length + instances.length, 1);
  });

  test("parallel auto-allocations never hand out one address twice", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => svc.createInstance(actor, { name: `vm-${i}`, subnetId: subnet.id })),
    );
    const addresses = results.map((r) => r.vnics[0]!.ipAddress);
    assert.equal(new Set(addresses).size, 30);
    assert.deepEqual(
      [...addresses].sort((a, b) => Number(a.split(".")[3]) - Number(b.split(".")[3])),
      Array.from({ length: 30 }, (_, i) => `10.0.1.${i + 2}`),
    );
  });

  test("20 parallel associates of different EIPs to one HAVIP: exactly one wins", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "198.51.100.0/24" });
    const { actor, subnet } = await seedTenant(svc);
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id });
    const eips = await Promise.all(Array.from({ length: 20 }, () => svc.allocateEip(actor, { region: "r1" })));
    assert.equal(new Set(eips.map((e) => e.publicIp)).size, 20);
    const results = await Promise.allSettled(eips.map((e) => svc.associateEip(actor, e.id, { havipId: havip.id })));
    assert.deepEqual(
      codes(results),
      new Map([
        ["ok", 1],
        ["QuotaExceeded.EipsPerHaVip", 19],
      ]),
    );
    const bound = (await svc.listEips(actor, {})).items.filter((e) => e.status === "bound");
    assert.equal(bound.length, 1);
    assert.deepEqual((await svc.getHaVip(actor, havip.id)).eip, { id: bound[0]!.id, publicIp: bound[0]!.publicIp });
  });

  test("one EIP raced onto 10 different vNICs binds to exactly one", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "198.51.100.0/24" });
    const { actor, subnet } = await seedTenant(svc);
    const eip = await svc.allocateEip(actor, { region: "r1" });
    const vms = await Promise.all(
      Array.from({ length: 10 }, (_, i) => svc.createInstance(actor, { name: `vm-${i}`, subnetId: subnet.id })),
    );
    const results = await Promise.allSettled(
      vms.map((vm) => svc.associateEip(actor, eip.id, { vnicId: vm.primaryVnicId })),
    );
    assert.deepEqual(
      codes(results),
      new Map([
        ["ok", 1],
        ["IncorrectState.EipBound", 9],
      ]),
    );
  });
});
