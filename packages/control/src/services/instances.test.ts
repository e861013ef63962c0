// Instances and vNICs: addresses chosen or allocated, platform MACs, extra vNICs, delete releasing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLocallyAdministeredUnicast } from "../domain/index.ts";
import { OPERATOR, expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

forEachBackend("instances and vNICs", (backend) => {
  test("an instance gets a primary vNIC with a platform MAC and a chosen or allocated address", async () => {
    const svc = await backend.open();
    const { actor, vpc, subnet } = await seedTenant(svc);
    const a = await svc.createInstance(actor, { name: "vm-A", subnetId: subnet.id });
    assert.match(a.id, /^i-[0-9a-f]{17}$/);
    assert.equal(a.vpcId, vpc.id);
    assert.equal(a.vnics.length, 1);
    const vnic = a.vnics[0]!;
    assert.match(vnic.id, /^eni-[0-9a-f]{17}$/);
    assert.equal(a.primaryVnicId, vnic.id);
    assert.equal(vnic.primary, true);
    assert.equal(vnic.ipAddress, "10.0.1.2", "the lowest address after network and gateway");
    assert.match(vnic.macAddress, /^02(:[0-9a-f]{2}){5}$/);
    assert.ok(isLocallyAdministeredUnicast(vnic.macAddress));
    const b = await svc.createInstance(actor, { name: "vm-B", subnetId: subnet.id, ipAddress: "10.0.1.200" });
    assert.equal(b.vnics[0]!.ipAddress, "10.0.1.200");
    assert.notEqual(b.vnics[0]!.macAddress, vnic.macAddress);
    assert.deepEqual(await svc.getVnic(actor, vnic.id), vnic);
    assert.deepEqual(await svc.getInstance(actor, a.id), a);
  });

  test("address rules: inside the subnet, never network/gateway/broadcast, never in use, IPv4 only", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const make = (ipAddress: string) => svc.createInstance(actor, { name: "vm", subnetId: subnet.id, ipAddress });
    await expectCode(make("10.0.2.5"), "InvalidIpAddress.NotInSubnet");
    await expectCode(make("10.0.1.0"), "InvalidIpAddress.Reserved");
    await expectCode(make("10.0.1.1"), "InvalidIpAddress.Reserved");
    await expectCode(make("10.0.1.255"), "InvalidIpAddress.Reserved");
    await expectCode(make("10.0.1.256"), "InvalidIpAddress.Malformed");
    await expectCode(make("010.0.1.5"), "InvalidIpAddress.Malformed");
    await expectCode(make("fd00::5"), "InvalidIpAddress.NotIPv4");
    await make("10.0.1.5");
    await expectCode(make("10.0.1.5"), "InvalidIpAddress.InUse");
    await svc.createHaVip(actor, { subnetId: subnet.id, ipAddress: "10.0.1.6" });
    await expectCode(make("10.0.1.6"), "InvalidIpAddress.InUse");
    // Failed creates left nothing behind.
    assert.equal((await svc.listInstances(actor, {})).items.length, 1);
  });

  test("a full subnet answers InsufficientAddresses.Subnet", async () => {
    const svc = await backend.open();
    const { actor, vpc } = await seedTenant(svc);
    const small = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.9.0/29", zone: "z1" });
    const got = [];
    for (let i = 0; i < 5; i++)
      got.push((await svc.createInstance(actor, { name: `vm${i}`, subnetId: small.id })).vnics[0]!.ipAddress);
    assert.deepEqual(got, ["10.0.9.2", "10.0.9.3", "10.0.9.4", "10.0.9.5", "10.0.9.6"]);
    await expectCode(svc.createInstance(actor, { name: "x", subnetId: small.id }), "InsufficientAddresses.Subnet");
    await expectCode(svc.createHaVip(actor, { subnetId: small.id }), "InsufficientAddresses.Subnet");
  });

  test("extra vNICs: in the instance's VPC only", async () => {
    const svc = await backend.open();
    const { actor, vpc, subnet } = await seedTenant(svc);
    const s2 = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.2.0/24", zone: "z1" });
    const vm = await svc.createInstance(actor, { name: "vm", subnetId: subnet.id });
    const extra = await svc.createVnic(actor, { instanceId: vm.id, subnetId: s2.id, ipAddress: "10.0.2.9" });
    assert.equal(extra.primary, false);
    assert.equal(extra.subnetId, s2.id);
    assert.equal(extra.instanceId, vm.id);
    const again = await svc.getInstance(actor, vm.id);
    assert.deepEqual(
      again.vnics.map((v) => v.id),
      [vm.primaryVnicId, extra.id],
    );
    assert.deepEqual(
      (await svc.listInstances(actor, { subnetId: s2.id })).items.map((i) => i.id),
      [vm.id],
    );
    const otherVpc = await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
    const foreign = await svc.createSubnet(actor, { vpcId: otherVpc.id, cidr: "10.0.1.0/24", zone: "z1" });
    await expectCode(svc.createVnic(actor, { instanceId: vm.id, subnetId: foreign.id }), "InvalidVnic.SubnetNotInVpc");
    await expectCode(svc.createVnic(actor, { instanceId: "i-00000000000000000", subnetId: s2.id }), "NotFound");
    await expectCode(
      svc.createVnic(actor, { instanceId: vm.id, subnetId: s2.id, ipAddress: "10.0.2.9" }),
      "InvalidIpAddress.InUse",
    );
  });

  test("deleting an instance releases its vNICs' addresses", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const vm = await svc.createInstance(actor, { name: "vm", subnetId: subnet.id, ipAddress: "10.0.1.7" });
    await svc.deleteInstance(actor, vm.id);
    await expectCode(svc.getInstance(actor, vm.id), "NotFound");
    await expectCode(svc.getVnic(actor, vm.primaryVnicId), "NotFound");
    const again = await svc.createInstance(actor, { name: "vm2", subnetId: subnet.id, ipAddress: "10.0.1.7" });
    assert.equal(again.vnics[0]!.ipAddress, "10.0.1.7");
  });

  test("access: other projects get NotFound, the operator reads only", async () => {
    const svc = await backend.open();
    const a = await seedTenant(svc, "a");
    const b = await seedTenant(svc, "b");
    const vm = await svc.createInstance(a.actor, { name: "vm", subnetId: a.subnet.id });
    await expectCode(svc.getInstance(b.actor, vm.id), "NotFound");
    await expectCode(svc.getVnic(b.actor, vm.primaryVnicId), "NotFound");
    await expectCode(svc.deleteInstance(b.actor, vm.id), "NotFound");
    await expectCode(svc.createInstance(b.actor, { name: "x", subnetId: a.subnet.id }), "NotFound");
    assert.equal((await svc.listInstances(b.actor, {})).items.length, 0);
    assert.equal((await svc.getInstance(OPERATOR, vm.id)).id, vm.id);
    await expectCode(svc.createInstance(OPERATOR, { name: "x", subnetId: a.subnet.id }), "Forbidden");
    await expectCode(svc.deleteInstance(OPERATOR, vm.id), "Forbidden");
    await expectCode(svc.getInstance(a.actor, "eni-00000000000000000"), "InvalidId");
  });
});
