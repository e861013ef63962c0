// Automatic allocation always takes the subnet's lowest free address, also with the allocation floor that keeps
// it from reading every address: released addresses are found again, chosen ones are skipped, a full subnet says
// so, and a failed create committed in a group with others leaves no gap.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Backend, expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

forEachBackend("address allocation", (backend: Backend) => {
  test("lowest free first: after releases, around chosen addresses, until the subnet is full", async () => {
    const svc = await backend.open();
    const { actor, vpc } = await seedTenant(svc);
    // A /28: 16 addresses, of which .1 (gateway), .0 and .15 are reserved: .2 to .14 can be taken.
    const subnet = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.9.0/28", zone: "zone-a" });
    const auto = async () => (await svc.createInstance(actor, { name: "vm", subnetId: subnet.id })).vnics[0]!;
    const a = await auto();
    const b = await auto();
    const c = await auto();
    assert.deepEqual([a.ipAddress, b.ipAddress, c.ipAddress], ["10.0.9.2", "10.0.9.3", "10.0.9.4"]);
    await svc.deleteInstance(actor, b.instanceId);
    assert.equal((await auto()).ipAddress, "10.0.9.3", "a released address below the floor is found again");
    await svc.createInstance(actor, { name: "chosen", subnetId: subnet.id, ipAddress: "10.0.9.5" });
    assert.equal((await auto()).ipAddress, "10.0.9.6", "a chosen address is skipped");
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id });
    assert.equal(havip.ipAddress, "10.0.9.7", "HAVIPs and vNICs share the subnet's addresses");
    await svc.deleteHaVip(actor, havip.id);
    assert.equal((await auto()).ipAddress, "10.0.9.7");
    for (let ip = 8; ip <= 14; ip++) assert.equal((await auto()).ipAddress, `10.0.9.${ip}`);
    await expectCode(auto(), "InsufficientAddresses.Subnet");
    await svc.deleteInstance(actor, a.instanceId);
    assert.equal((await auto()).ipAddress, "10.0.9.2");
  });

  test("a failed create inside a group commit leaves no gap and moves no one's address", async () => {
    const svc = await backend.open();
    const { actor, vpc } = await seedTenant(svc);
    const subnet = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.9.0/28", zone: "zone-a" });
    const a = await svc.createInstance(actor, { name: "vm", subnetId: subnet.id });
    // A member that is not in the subnet fails the create (rolled back to its savepoint).
    await expectCode(
      svc.createHaVip(actor, { subnetId: subnet.id, members: ["i-00000000000000000"] }),
      "InvalidMember.NotInSubnet",
    );
    // Parallel creates share one commit; the failing one in the middle must not move the others' addresses.
    const results = await Promise.allSettled([
      svc.createHaVip(actor, { subnetId: subnet.id }),
      svc.createHaVip(actor, { subnetId: subnet.id, members: ["i-00000000000000000"] }),
      svc.createHaVip(actor, { subnetId: subnet.id }),
    ]);
    assert.equal(results[1].status, "rejected");
    const taken = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.ipAddress] : [])).sort();
    assert.deepEqual(taken, ["10.0.9.3", "10.0.9.4"]);
    assert.equal(a.vnics[0]!.ipAddress, "10.0.9.2");
  });
});
