// EIPs: pools per region, binding rules (one target, one EIP per target, same region, free to bind).
import assert from "node:assert/strict";
import { test } from "node:test";
import { OPERATOR, expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

forEachBackend("EIPs", (backend) => {
  test("EIPs come from the region's pools, lowest free address first", async () => {
    const svc = await backend.open();
    const p1 = await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/30" });
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "198.51.100.7/32" });
    await svc.createEipPool(OPERATOR, { region: "r2", cidr: "192.0.2.0/24" });
    assert.match(p1.id, /^pool-[0-9a-f]{17}$/);
    const { actor } = await seedTenant(svc);
    const ips = [];
    for (let i = 0; i < 3; i++) ips.push((await svc.allocateEip(actor, { region: "r1" })).publicIp);
    assert.deepEqual(ips, ["203.0.113.1", "203.0.113.2", "198.51.100.7"]);
    await expectCode(svc.allocateEip(actor, { region: "r1" }), "InsufficientAddresses.EipPool");
    await expectCode(svc.allocateEip(actor, { region: "nowhere" }), "InsufficientAddresses.EipPool");
    const e = await svc.allocateEip(actor, { region: "r2" });
    assert.match(e.id, /^eip-[0-9a-f]{17}$/);
    assert.deepEqual(
      { region: e.region, publicIp: e.publicIp, status: e.status, target: e.target },
      { region: "r2", publicIp: "192.0.2.1", status: "available", target: null },
    );
    // Releasing returns the address to the pool.
    await svc.releaseEip(actor, e.id);
    await expectCode(svc.getEip(actor, e.id), "NotFound");
    assert.equal((await svc.allocateEip(actor, { region: "r2" })).publicIp, "192.0.2.1");
  });

  test("pools: operator only, no overlap, not deleted while EIPs use them", async () => {
    const svc = await backend.open();
    const { actor } = await seedTenant(svc);
    const pool = await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/24" });
    await expectCode(svc.createEipPool(OPERATOR, { region: "r2", cidr: "203.0.113.128/25" }), "InvalidCidr.Overlap");
    await expectCode(svc.createEipPool(OPERATOR, { region: "r2", cidr: "2001:db8::/64" }), "InvalidCidr.NotIPv4");
    await expectCode(svc.createEipPool(OPERATOR, { region: "r2", cidr: "203.0.114.1/24" }), "InvalidCidr.HostBits");
    await expectCode(svc.createEipPool(actor, { region: "r2", cidr: "192.0.2.0/24" }), "Forbidden");
    await expectCode(svc.listEipPools(actor, {}), "Forbidden");
    await expectCode(svc.deleteEipPool(actor, pool.id), "Forbidden");
    assert.deepEqual((await svc.listEipPools(OPERATOR, {})).items, [pool]);
    const eip = await svc.allocateEip(actor, { region: "r1" });
    await expectCode(svc.deleteEipPool(OPERATOR, pool.id), "DependencyViolation.PoolHasEips");
    await svc.releaseEip(actor, eip.id);
    await svc.deleteEipPool(OPERATOR, pool.id);
    await expectCode(svc.deleteEipPool(OPERATOR, pool.id), "NotFound");
  });

  test("binding: one target, one EIP per target, same region, free to bind; unbinding", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/24" });
    await svc.createEipPool(OPERATOR, { region: "r2", cidr: "192.0.2.0/24" });
    const { actor, subnet } = await seedTenant(svc);
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id });
    const vm = await svc.createInstance(actor, { name: "vm", subnetId: subnet.id });
    const [e1, e2, e3] = [
      await svc.allocateEip(actor, { region: "r1" }),
      await svc.allocateEip(actor, { region: "r1" }),
      await svc.allocateEip(actor, { region: "r1" }),
    ];
    const far = await svc.allocateEip(actor, { region: "r2" });

    const bound = await svc.associateEip(actor, e1.id, { havipId: havip.id });
    assert.equal(bound.status, "bound");
    assert.deepEqual(bound.target, { type: "havip", havipId: havip.id });
    assert.deepEqual((await svc.getHaVip(actor, havip.id)).eip, { id: e1.id, publicIp: e1.publicIp });
    await expectCode(svc.associateEip(actor, e2.id, { havipId: havip.id }), "QuotaExceeded.EipsPerHaVip");
    await expectCode(svc.associateEip(actor, e1.id, { vnicId: vm.primaryVnicId }), "IncorrectState.EipBound");
    await expectCode(svc.releaseEip(actor, e1.id), "DependencyViolation.EipBound");
    await expectCode(svc.associateEip(actor, far.id, { vnicId: vm.primaryVnicId }), "InvalidEip.RegionMismatch");
    await expectCode(svc.associateEip(actor, far.id, { havipId: havip.id }), "InvalidEip.RegionMismatch");

    const toVnic = await svc.associateEip(actor, e2.id, { vnicId: vm.primaryVnicId });
    assert.deepEqual(toVnic.target, { type: "vnic", vnicId: vm.primaryVnicId });
    await expectCode(svc.associateEip(actor, e3.id, { vnicId: vm.primaryVnicId }), "IncorrectState.TargetHasEip");
    await expectCode(svc.deleteInstance(actor, vm.id), "DependencyViolation.VnicHasEip");

    await expectCode(
      svc.associateEip(actor, e3.id, { havipId: havip.id, vnicId: vm.primaryVnicId }),
      "InvalidParameter",
    );
    await expectCode(svc.associateEip(actor, e3.id, {} as { havipId: string }), "InvalidParameter");
    await expectCode(svc.associateEip(actor, e3.id, { havipId: "havip-00000000000000000" }), "NotFound");

    const free = await svc.disassociateEip(actor, e1.id);
    assert.equal(free.status, "available");
    assert.equal(free.target, null);
    assert.equal((await svc.getHaVip(actor, havip.id)).eip, null);
    await expectCode(svc.disassociateEip(actor, e1.id), "IncorrectState.EipNotBound");
    await svc.associateEip(actor, e3.id, { havipId: havip.id });
    await svc.disassociateEip(actor, e2.id);
    await svc.deleteInstance(actor, vm.id);
  });

  test("eipsPerHaVip 0 forbids binding EIPs to HAVIPs; more than 1 is refused", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/24" });
    const { actor, subnet } = await seedTenant(svc);
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id });
    const eip = await svc.allocateEip(actor, { region: "r1" });
    await expectCode(svc.setQuotas(OPERATOR, { eipsPerHaVip: 2 }), "InvalidParameter");
    await svc.setQuotas(OPERATOR, { eipsPerHaVip: 0 });
    await expectCode(svc.associateEip(actor, eip.id, { havipId: havip.id }), "QuotaExceeded.EipsPerHaVip");
  });

  test("access: another project's EIPs and targets answer NotFound", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/24" });
    const a = await seedTenant(svc, "a");
    const b = await seedTenant(svc, "b");
    const eipA = await svc.allocateEip(a.actor, { region: "r1" });
    const eipB = await svc.allocateEip(b.actor, { region: "r1" });
    const havipA = await svc.createHaVip(a.actor, { subnetId: a.subnet.id });
    await expectCode(svc.getEip(b.actor, eipA.id), "NotFound");
    await expectCode(svc.releaseEip(b.actor, eipA.id), "NotFound");
    await expectCode(svc.associateEip(b.actor, eipB.id, { havipId: havipA.id }), "NotFound");
    assert.deepEqual(
      (await svc.listEips(b.actor, {})).items.map((e) => e.id),
      [eipB.id],
    );
    assert.equal((await svc.listEips(OPERATOR, {})).items.length, 2);
    await expectCode(svc.allocateEip(OPERATOR, { region: "r1" }), "Forbidden");
    await expectCode(svc.associateEip(OPERATOR, eipA.id, { havipId: havipA.id }), "Forbidden");
  });
});
