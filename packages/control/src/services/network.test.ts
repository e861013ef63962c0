// VPC and subnet rules.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Actor } from "../service.ts";
import { OPERATOR, expectCode, forEachBackend, seedTenant } from "../store/test-backends.ts";

forEachBackend("VPCs and subnets", (backend) => {
  test("a VPC takes an IPv4 CIDR from /16 to /28", async () => {
    const svc = await backend.open();
    const { actor } = await seedTenant(svc);
    const vpc = await svc.createVpc(actor, { cidr: "172.16.0.0/16", region: "r1" });
    assert.match(vpc.id, /^vpc-[0-9a-f]{17}$/);
    assert.equal(vpc.name, "");
    assert.equal((await svc.createVpc(actor, { cidr: "192.168.0.16/28", region: "r1" })).cidr, "192.168.0.16/28");
    await expectCode(svc.createVpc(actor, { cidr: "10.0.0.0/15", region: "r1" }), "InvalidCidr.PrefixLength");
    await expectCode(svc.createVpc(actor, { cidr: "10.0.0.0/29", region: "r1" }), "InvalidCidr.PrefixLength");
    await expectCode(svc.createVpc(actor, { cidr: "10.0.0.1/16", region: "r1" }), "InvalidCidr.HostBits");
    await expectCode(svc.createVpc(actor, { cidr: "10.0.0/16", region: "r1" }), "InvalidCidr.Malformed");
    await expectCode(svc.createVpc(actor, { cidr: "fd00::/48", region: "r1" }), "InvalidCidr.NotIPv4");
    await expectCode(svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "" }), "InvalidParameter");
    await expectCode(
      svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1", name: "x".repeat(256) }),
      "InvalidParameter",
    );
    // VPCs are isolated from each other and may overlap.
    assert.equal((await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" })).cidr, "10.0.0.0/16");
  });

  test("a VPC has an MTU from 1280 to 8950, 1500 by default, kept and listed", async () => {
    const svc = await backend.open();
    const { actor } = await seedTenant(svc);
    const plain = await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
    assert.equal(plain.mtu, 1500);
    const jumbo = await svc.createVpc(actor, { cidr: "10.1.0.0/16", region: "r1", mtu: 8950 });
    assert.equal(jumbo.mtu, 8950);
    assert.equal((await svc.createVpc(actor, { cidr: "10.2.0.0/16", region: "r1", mtu: 1280 })).mtu, 1280);
    assert.equal((await svc.getVpc(actor, jumbo.id)).mtu, 8950);
    const listed = await svc.listVpcs(actor, {});
    const mtuOf = new Map(listed.items.map((v) => [v.id, v.mtu]));
    assert.equal(mtuOf.get(plain.id), 1500);
    assert.equal(mtuOf.get(jumbo.id), 8950);
    for (const bad of [1279, 8951, 0, -1500, 1500.5, Number.NaN, "1500", null]) {
      await expectCode(
        svc.createVpc(actor, { cidr: "10.3.0.0/16", region: "r1", mtu: bad as number }),
        "InvalidParameter",
      );
    }
    const events = await svc.eventsSince(actor, 0, 1000);
    const event = events.find((e) => e.resource === "vpc" && e.id === jumbo.id);
    assert.equal((event?.data as { mtu?: unknown } | null)?.mtu, 8950, "the change log carries the MTU");
  });

  test("a subnet lies inside its VPC, overlaps no sibling, and its gateway is the first usable address", async () => {
    const svc = await backend.open();
    const { actor, vpc, subnet } = await seedTenant(svc);
    assert.equal(subnet.gatewayIp, "10.0.1.1");
    assert.equal(subnet.broadcast, "auto");
    assert.equal(subnet.vpcId, vpc.id);
    const s2 = await svc.createSubnet(actor, {
      vpcId: vpc.id,
      cidr: "10.0.2.0/28",
      zone: "z2",
      broadcast: "unicast-only",
    });
    assert.equal(s2.gatewayIp, "10.0.2.1");
    assert.equal(s2.broadcast, "unicast-only");
    await expectCode(
      svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.1.0.0/24", zone: "z1" }),
      "InvalidCidr.NotInVpc",
    );
    await expectCode(
      svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.1.128/25", zone: "z1" }),
      "InvalidCidr.Overlap",
    );
    await expectCode(
      svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.0.0/16", zone: "z1" }),
      "InvalidCidr.Overlap",
    );
    await expectCode(
      svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.3.0/30", zone: "z1" }),
      "InvalidCidr.PrefixLength",
    );
    await expectCode(
      svc.createSubnet(actor, { vpcId: vpc.id, cidr: "2001:db8::/64", zone: "z1" }),
      "InvalidCidr.NotIPv4",
    );
    await expectCode(
      svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.4.0/24", zone: "z1", broadcast: "multicast" as "auto" }),
      "InvalidParameter",
    );
    await expectCode(
      svc.createSubnet(actor, { vpcId: "vpc-00000000000000000", cidr: "10.0.4.0/24", zone: "z1" }),
      "NotFound",
    );
    await expectCode(svc.createSubnet(actor, { vpcId: "subnet-1", cidr: "10.0.4.0/24", zone: "z1" }), "InvalidId");
    // A sibling subnet in another VPC may reuse the same block.
    const other = await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
    assert.equal(
      (await svc.createSubnet(actor, { vpcId: other.id, cidr: "10.0.1.0/24", zone: "z1" })).cidr,
      "10.0.1.0/24",
    );
    assert.deepEqual(
      (await svc.listSubnets(actor, { vpcId: vpc.id })).items.map((s) => s.id),
      [subnet.id, s2.id],
    );
  });

  test("delete rules: a VPC with subnets, a subnet with instances or HAVIPs", async () => {
    const svc = await backend.open();
    const { actor, vpc, subnet } = await seedTenant(svc);
    await expectCode(svc.deleteVpc(actor, vpc.id), "DependencyViolation.VpcHasSubnets");
    const vm = await svc.createInstance(actor, { name: "vm", subnetId: subnet.id });
    await expectCode(svc.deleteSubnet(actor, subnet.id), "DependencyViolation.SubnetHasInstances");
    await svc.deleteInstance(actor, vm.id);
    const havip = await svc.createHaVip(actor, { subnetId: subnet.id });
    await expectCode(svc.deleteSubnet(actor, subnet.id), "DependencyViolation.SubnetHasHaVips");
    await svc.deleteHaVip(actor, havip.id);
    await svc.deleteSubnet(actor, subnet.id);
    await expectCode(svc.getSubnet(actor, subnet.id), "NotFound");
    await svc.deleteVpc(actor, vpc.id);
    await expectCode(svc.getVpc(actor, vpc.id), "NotFound");
    await expectCode(svc.deleteVpc(actor, vpc.id), "NotFound");
  });

  test("another project's VPCs and subnets answer NotFound; the operator reads but does not write", async () => {
    const svc = await backend.open();
    const a = await seedTenant(svc, "a");
    const b = await seedTenant(svc, "b");
    await expectCode(svc.getVpc(b.actor, a.vpc.id), "NotFound");
    await expectCode(svc.getSubnet(b.actor, a.subnet.id), "NotFound");
    await expectCode(svc.deleteVpc(b.actor, a.vpc.id), "NotFound");
    await expectCode(svc.createSubnet(b.actor, { vpcId: a.vpc.id, cidr: "10.0.9.0/24", zone: "z1" }), "NotFound");
    assert.deepEqual(
      (await svc.listVpcs(b.actor, {})).items.map((v) => v.id),
      [b.vpc.id],
    );
    assert.equal((await svc.getVpc(OPERATOR, a.vpc.id)).id, a.vpc.id);
    assert.equal((await svc.listVpcs(OPERATOR, {})).items.length, 2);
    await expectCode(svc.createVpc(OPERATOR, { cidr: "10.0.0.0/16", region: "r1" }), "Forbidden");
    await expectCode(svc.deleteSubnet(OPERATOR, a.subnet.id), "Forbidden");
  });

  test("lists page with an opaque cursor in a stable order", async () => {
    const svc = await backend.open();
    const { actor } = await seedTenant(svc);
    for (let i = 0; i < 6; i++) await svc.createVpc(actor, { name: `v${i}`, cidr: "10.0.0.0/16", region: "r1" });
    const all = (await svc.listVpcs(actor, {})).items.map((v) => v.id);
    assert.equal(all.length, 7);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await svc.listVpcs(actor, {
        limit: 3,
        cursor,
      });
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((v) => v.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(seen, all);
    await expectCode(svc.listVpcs(actor, { limit: 0 }), "InvalidParameter");
    await expectCode(svc.listVpcs(actor, { limit: 1001 }), "InvalidParameter");
    await expectCode(svc.listVpcs(actor, { cursor: "not a cursor" }), "InvalidParameter");
    await expectCode(svc.listVpcs(actor, { cursor: Buffer.from("[1]").toString("base64url") }), "InvalidParameter");
    const unknown: Actor = { kind: "project", projectId: "proj-00000000000000000" };
    assert.deepEqual((await svc.listVpcs(unknown, {})).items, []);
  });
});
