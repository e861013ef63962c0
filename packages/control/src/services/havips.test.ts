// HAVIP rules: address, virtual MAC, members and their quotas, holder observations and history.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLocallyAdministeredUnicast } from "../domain/index.ts";
import { OPERATOR, expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

forEachBackend("HAVIPs", (backend) => {
  test("the seed example: holder vm-A, then vm-B with generation 2 and two history entries", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/24" });
    const { actor, vpc, subnet } = await seedTenant(svc);
    assert.equal(vpc.cidr, "10.0.0.0/16");
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id, ipAddress: "10.0.1.50", name: "web" });
    const a = await svc.createInstance(actor, { name: "vm-A", subnetId: subnet.id });
    const b = await svc.createInstance(actor, { name: "vm-B", subnetId: subnet.id });
    const eip = await svc.allocateEip(actor, { region: "r1" });
    await svc.associateEip(actor, eip.id, { havipId: havip.id });
    assert.equal(havip.status, "available");
    assert.equal(havip.holder, null);
    assert.equal(havip.generation, 0);

    const first = await svc.observeHolder({ havipId: havip.id, vnicId: a.primaryVnicId, at: at(1) });
    assert.equal(first.changed, true);
    assert.equal(first.havip.status, "in-use");
    assert.deepEqual(first.havip.holder, {
      instanceId: a.id,
      vnicId: a.primaryVnicId,
      since: at(1).toISOString(),
      generation: 1,
    });
    assert.deepEqual(first.havip.eip, { id: eip.id, publicIp: eip.publicIp });

    const second = await svc.observeHolder({ havipId: havip.id, vnicId: b.primaryVnicId, at: at(2) });
    assert.equal(second.changed, true);
    assert.deepEqual(second.havip.holder, {
      instanceId: b.id,
      vnicId: b.primaryVnicId,
      since: at(2).toISOString(),
      generation: 2,
    });
    assert.equal(second.havip.generation, 2);
    const history = await svc.getHaVipHistory(actor, havip.id, {});
    assert.deepEqual(history.items, [
      {
        generation: 1,
        instanceId: a.id,
        vnicId: a.primaryVnicId,
        previousVnicId: null,
        at: at(1).toISOString(),
        reason: "manual",
      },
      {
        generation: 2,
        instanceId: b.id,
        vnicId: b.primaryVnicId,
        previousVnicId: a.primaryVnicId,
        at: at(2).toISOString(),
        reason: "manual",
      },
    ]);
    assert.deepEqual(await svc.getHaVip(actor, havip.id), second.havip);
  });

  test("a re-announcement by the holder: no new generation, no history entry, no event", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id });
    const a = await svc.createInstance(actor, { name: "vm-A", subnetId: subnet.id });
    await svc.observeHolder({ havipId: havip.id, vnicId: a.primaryVnicId, at: at(1) });
    const revision = await svc.currentRevision();
    const again = await svc.observeHolder({ havipId: havip.id, vnicId: a.primaryVnicId, at: at(5) });
    assert.equal(again.changed, false);
    assert.equal(again.havip.generation, 1);
    assert.equal(again.havip.holder?.since, at(1).toISOString());
    assert.equal((await svc.getHaVipHistory(actor, havip.id, {})).items.length, 1);
    assert.equal(await svc.currentRevision(), revision);
  });

  test("observations from vNICs that may not claim are rejected", async () => {
    const svc = await backend.open();
    const { actor, vpc, subnet } = await seedTenant(svc);
    const other = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.2.0/24", zone: "z1" });
    const a = await svc.createInstance(actor, { name: "a", subnetId: subnet.id });
    const b = await svc.createInstance(actor, { name: "b", subnetId: subnet.id });
    const c = await svc.createInstance(actor, { name: "c", subnetId: other.id });
    const open = await svc.createHaVip(actor, { subnetId: subnet.id });
    const listed = await svc.createHaVip(actor, { subnetId: subnet.id, members: [a.id] });
    await expectCode(
      svc.observeHolder({ havipId: open.id, vnicId: c.primaryVnicId, at: at(1) }),
      "IncorrectState.HolderNotAllowed",
    );
    await expectCode(
      svc.observeHolder({ havipId: listed.id, vnicId: b.primaryVnicId, at: at(1) }),
      "IncorrectState.HolderNotAllowed",
    );
    await expectCode(
      svc.observeHolder({ havipId: open.id, vnicId: "eni-00000000000000000", at: at(1) }),
      "IncorrectState.HolderNotAllowed",
    );
    await expectCode(
      svc.observeHolder({ havipId: "havip-00000000000000000", vnicId: a.primaryVnicId, at: at(1) }),
      "NotFound",
    );
    await expectCode(svc.observeHolder({ havipId: open.id, vnicId: a.id, at: at(1) }), "InvalidId");
    await expectCode(
      svc.observeHolder({ havipId: open.id, vnicId: a.primaryVnicId, at: new Date(NaN) }),
      "InvalidParameter",
    );
    // A vNIC of the subnet may claim a HAVIP without a member list; a member may claim a listed one.
    assert.equal((await svc.observeHolder({ havipId: open.id, vnicId: b.primaryVnicId, at: at(1) })).changed, true);
    assert.equal((await svc.observeHolder({ havipId: listed.id, vnicId: a.primaryVnicId, at: at(1) })).changed, true);
    assert.equal((await svc.getHaVip(actor, open.id)).generation, 1);
  });

  test("address: chosen or allocated, never reserved or in use; a stable locally administered virtual MAC", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const auto = await svc.createHaVip(actor, { subnetId: subnet.id });
    assert.match(auto.id, /^havip-[0-9a-f]{17}$/);
    assert.equal(auto.ipAddress, "10.0.1.2");
    assert.match(auto.virtualMac, /^0e(:[0-9a-f]{2}){5}$/);
    assert.ok(isLocallyAdministeredUnicast(auto.virtualMac));
    assert.deepEqual(
      {
        vpc: auto.vpcId,
        subnet: auto.subnetId,
        members: auto.members,
        eip: auto.eip,
        name: auto.name,
        d: auto.description,
      },
      { vpc: subnet.vpcId, subnet: subnet.id, members: null, eip: null, name: "", d: "" },
    );
    const make = (ipAddress: string) => svc.createHaVip(actor, { subnetId: subnet.id, ipAddress });
    await expectCode(make("10.0.1.1"), "InvalidIpAddress.Reserved");
    await expectCode(make("10.0.1.0"), "InvalidIpAddress.Reserved");
    await expectCode(make("10.0.1.255"), "InvalidIpAddress.Reserved");
    await expectCode(make("10.0.1.2"), "InvalidIpAddress.InUse");
    await expectCode(make("10.0.3.2"), "InvalidIpAddress.NotInSubnet");
    await expectCode(make("::1"), "InvalidIpAddress.NotIPv4");
    await expectCode(make("ten"), "InvalidIpAddress.Malformed");
    const other = await make("10.0.1.3");
    assert.notEqual(other.virtualMac, auto.virtualMac);
    // PATCH changes name, description and members only; the MAC and address stay.
    const updated = await svc.updateHaVip(actor, auto.id, { name: "n", description: "d" });
    assert.equal(updated.name, "n");
    assert.equal(updated.description, "d");
    assert.equal(updated.virtualMac, auto.virtualMac);
    assert.equal(updated.ipAddress, auto.ipAddress);
    // Deleting a HAVIP frees its address.
    await svc.deleteHaVip(actor, other.id);
    assert.equal((await make("10.0.1.3")).ipAddress, "10.0.1.3");
  });

  test("members: vNIC or instance ids in the HAVIP's subnet, no duplicates, at most membersPerHaVip", async () => {
    const svc = await backend.open({ quotas: { membersPerHaVip: 3 } });
    const { actor, vpc, subnet } = await seedTenant(svc);
    const other = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.2.0/24", zone: "z1" });
    const vms = [];
    for (let i = 0; i < 4; i++) vms.push(await svc.createInstance(actor, { name: `vm${i}`, subnetId: subnet.id }));
    const outside = await svc.createInstance(actor, { name: "out", subnetId: other.id });
    // An instance id means that instance's vNIC in the HAVIP's subnet (here its extra vNIC).
    const extra = await svc.createVnic(actor, { instanceId: outside.id, subnetId: subnet.id });
    const havip = await svc.createHaVip(actor, {
      subnetId: subnet.id,
      members: [vms[0]!.id, vms[1]!.primaryVnicId, outside.id],
    });
    assert.deepEqual(havip.members, [
      { instanceId: vms[0]!.id, vnicId: vms[0]!.primaryVnicId },
      { instanceId: vms[1]!.id, vnicId: vms[1]!.primaryVnicId },
      { instanceId: outside.id, vnicId: extra.id },
    ]);
    await expectCode(
      svc.createHaVip(actor, { subnetId: subnet.id, members: vms.map((v) => v.id) }),
      "QuotaExceeded.MembersPerHaVip",
    );
    await expectCode(
      svc.createHaVip(actor, { subnetId: subnet.id, members: [vms[0]!.id, vms[0]!.primaryVnicId] }),
      "InvalidMember.Duplicate",
    );
    await expectCode(
      svc.createHaVip(actor, { subnetId: subnet.id, members: [outside.primaryVnicId] }),
      "InvalidMember.NotInSubnet",
    );
    await expectCode(
      svc.createHaVip(actor, { subnetId: subnet.id, members: ["i-00000000000000000"] }),
      "InvalidMember.NotInSubnet",
    );
    await expectCode(svc.createHaVip(actor, { subnetId: subnet.id, members: [subnet.id] }), "InvalidId");
    // PATCH replaces the list; null clears it (any vNIC of the subnet may claim again).
    const replaced = await svc.updateHaVip(actor, havip.id, { members: [vms[3]!.id] });
    assert.deepEqual(replaced.members, [{ instanceId: vms[3]!.id, vnicId: vms[3]!.primaryVnicId }]);
    assert.equal((await svc.updateHaVip(actor, havip.id, { members: null })).members, null);
    assert.deepEqual((await svc.updateHaVip(actor, havip.id, { members: [] })).members, []);
    await expectCode(
      svc.updateHaVip(actor, havip.id, { members: vms.map((v) => v.id) }),
      "QuotaExceeded.MembersPerHaVip",
    );
  });

  test("a vNIC is in at most haVipsPerVnic member lists", async () => {
    const svc = await backend.open({ quotas: { haVipsPerVnic: 2 } });
    const { actor, subnet } = await seedTenant(svc);
    const vm = await svc.createInstance(actor, { name: "vm", subnetId: subnet.id });
    const h1 = await svc.createHaVip(actor, { subnetId: subnet.id, members: [vm.id] });
    await svc.createHaVip(actor, { subnetId: subnet.id, members: [vm.id] });
    await expectCode(svc.createHaVip(actor, { subnetId: subnet.id, members: [vm.id] }), "QuotaExceeded.HaVipsPerVnic");
    // Re-setting a list the vNIC is already in does not count it twice.
    assert.equal((await svc.updateHaVip(actor, h1.id, { members: [vm.primaryVnicId] })).members?.length, 1);
    const h3 = await svc.createHaVip(actor, { subnetId: subnet.id });
    await expectCode(svc.updateHaVip(actor, h3.id, { members: [vm.id] }), "QuotaExceeded.HaVipsPerVnic");
  });

  test("the per-project HAVIP limit, and quota changes by the operator apply at once", async () => {
    const svc = await backend.open({ quotas: { haVipsPerProject: 2 } });
    const { actor, subnet } = await seedTenant(svc);
    const other = await seedTenant(svc, "other");
    await svc.createHaVip(actor, { subnetId: subnet.id });
    await svc.createHaVip(actor, { subnetId: subnet.id });
    await expectCode(svc.createHaVip(actor, { subnetId: subnet.id }), "QuotaExceeded.HaVipsPerProject");
    await svc.createHaVip(other.actor, { subnetId: other.subnet.id }); // per project
    assert.equal((await svc.setQuotas(OPERATOR, { haVipsPerProject: 3 })).haVipsPerProject, 3);
    await svc.createHaVip(actor, { subnetId: subnet.id });
    await expectCode(svc.createHaVip(actor, { subnetId: subnet.id }), "QuotaExceeded.HaVipsPerProject");
  });

  test("deleting the holder's instance releases the holder role and its memberships", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const a = await svc.createInstance(actor, { name: "a", subnetId: subnet.id });
    const b = await svc.createInstance(actor, { name: "b", subnetId: subnet.id });
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id, members: [a.id, b.id] });
    await svc.observeHolder({ havipId: havip.id, vnicId: a.primaryVnicId, at: at(1) });
    const events: string[] = [];
    const stop = svc.onChange((e) => events.push(`${e.resource}:${e.action}`));
    await svc.deleteInstance(actor, a.id);
    stop();
    const after = await svc.getHaVip(actor, havip.id);
    assert.equal(after.status, "available");
    assert.equal(after.holder, null);
    assert.equal(after.generation, 2);
    assert.deepEqual(after.members, [{ instanceId: b.id, vnicId: b.primaryVnicId }]);
    const history = (await svc.getHaVipHistory(actor, havip.id, {})).items;
    assert.deepEqual(history[1], {
      generation: 2,
      instanceId: null,
      vnicId: null,
      previousVnicId: a.primaryVnicId,
      at: history[1]!.at,
      reason: "released",
    });
    assert.deepEqual(events, ["havip:holder-changed", "havip:updated", "instance:deleted"]);
    // The next holder gets generation 3.
    const next = await svc.observeHolder({ havipId: havip.id, vnicId: b.primaryVnicId, at: at(3) });
    assert.equal(next.havip.holder?.generation, 3);
  });

  test("taking the holder off the member list releases it", async () => {
    const svc = await backend.open();
    const { actor, subnet } = await seedTenant(svc);
    const a = await svc.createInstance(actor, { name: "a", subnetId: subnet.id });
    const b = await svc.createInstance(actor, { name: "b", subnetId: subnet.id });
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id, members: [a.id, b.id] });
    await svc.observeHolder({ havipId: havip.id, vnicId: a.primaryVnicId, at: at(1) });
    const kept = await svc.updateHaVip(actor, havip.id, { members: [a.id] });
    assert.equal(kept.holder?.vnicId, a.primaryVnicId);
    const dropped = await svc.updateHaVip(actor, havip.id, { members: [b.id] });
    assert.equal(dropped.holder, null);
    assert.equal(dropped.generation, 2);
    assert.equal((await svc.getHaVipHistory(actor, havip.id, {})).items[1]?.reason, "released");
  });

  test("delete rules, listing filters, history paging and access", async () => {
    const svc = await backend.open();
    await svc.createEipPool(OPERATOR, { region: "r1", cidr: "203.0.113.0/24" });
    const { actor, vpc, subnet } = await seedTenant(svc);
    const s2 = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.2.0/24", zone: "z1" });
    const h1 = await svc.createHaVip(actor, { subnetId: subnet.id });
    const h2 = await svc.createHaVip(actor, { subnetId: s2.id });
    const eip = await svc.allocateEip(actor, { region: "r1" });
    await svc.associateEip(actor, eip.id, { havipId: h1.id });
    await expectCode(svc.deleteHaVip(actor, h1.id), "DependencyViolation.HaVipHasEip");
    await svc.disassociateEip(actor, eip.id);
    assert.deepEqual(
      (await svc.listHaVips(actor, { subnetId: s2.id })).items.map((h) => h.id),
      [h2.id],
    );
    assert.equal((await svc.listHaVips(actor, { vpcId: vpc.id })).items.length, 2);
    const vms = [];
    for (let i = 0; i < 5; i++) vms.push(await svc.createInstance(actor, { name: `vm${i}`, subnetId: subnet.id }));
    for (const [i, vm] of vms.entries())
      await svc.observeHolder({ havipId: h1.id, vnicId: vm.primaryVnicId, at: at(i) });
    const p1 = await svc.getHaVipHistory(actor, h1.id, { limit: 2 });
    assert.deepEqual(
      p1.items.map((e) => e.generation),
      [1, 2],
    );
    const p2 = await svc.getHaVipHistory(actor, h1.id, { limit: 2, cursor: p1.nextCursor });
    const p3 = await svc.getHaVipHistory(actor, h1.id, { limit: 2, cursor: p2.nextCursor });
    assert.deepEqual(
      [...p2.items, ...p3.items].map((e) => e.generation),
      [3, 4, 5],
    );
    assert.equal(p3.nextCursor, null);
    await expectCode(svc.getHaVipHistory(actor, h1.id, { cursor: "%%%" }), "InvalidParameter");
    const other = await seedTenant(svc, "other");
    await expectCode(svc.getHaVip(other.actor, h1.id), "NotFound");
    await expectCode(svc.getHaVipHistory(other.actor, h1.id, {}), "NotFound");
    await expectCode(svc.updateHaVip(other.actor, h1.id, { name: "x" }), "NotFound");
    await expectCode(svc.deleteHaVip(other.actor, h1.id), "NotFound");
    await expectCode(svc.createHaVip(other.actor, { subnetId: subnet.id }), "NotFound");
    await expectCode(
      svc.createHaVip(other.actor, { subnetId: other.subnet.id, members: [vms[0]!.id] }),
      "InvalidMember.NotInSubnet",
    );
    await expectCode(svc.createHaVip(OPERATOR, { subnetId: subnet.id }), "Forbidden");
    await expectCode(svc.updateHaVip(OPERATOR, h1.id, { name: "x" }), "Forbidden");
    assert.equal((await svc.getHaVip(OPERATOR, h1.id)).id, h1.id);
    await svc.deleteHaVip(actor, h1.id);
    await expectCode(svc.getHaVip(actor, h1.id), "NotFound");
  });
});
