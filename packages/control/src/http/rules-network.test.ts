// The network rules of issue 2 through HTTP against the real services: projects and tokens, VPC and
// subnet CIDRs, instances and vNICs with their addresses and MACs, delete rules, cross-project isolation,
// pagination.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Instance, Project, Subnet, Vnic, Vpc } from "../model.ts";
import { assertError, expectStatus, OPERATOR_TOKEN, openRealApi, seedNetwork, type RealApi } from "./test-helpers.ts";

describe("network rules through HTTP (real services)", () => {
  let api: RealApi;
  before(async () => {
    api = await openRealApi();
  });
  after(async () => {
    await api.close();
  });

  describe("projects and tokens", () => {
    it("the operator creates a project: {id, name, token, createdAt}; the token works", async () => {
      const r = expectStatus<Record<string, unknown>>(
        await api.call("POST", "/v1/projects", { token: OPERATOR_TOKEN, body: { name: "acme" } }),
        201,
      );
      assert.deepEqual(Object.keys(r).sort(), ["createdAt", "id", "name", "token"]);
      assert.match(String(r.id), /^proj-[0-9a-f]{17}$/);
      expectStatus(await api.call("GET", "/v1/vpcs", { token: String(r.token) }), 200);
      const list = expectStatus<{ items: Project[] }>(
        await api.call("GET", "/v1/projects", { token: OPERATOR_TOKEN }),
        200,
      );
      assert.ok(list.items.some((p) => p.id === r.id && p.name === "acme"));
      assert.ok(
        list.items.every((p) => !("token" in p)),
        "tokens are never listed",
      );
    });
    it("no token or an unknown one: 401; a project token on operator endpoints: 403", async () => {
      assertError(await api.call("GET", "/v1/vpcs"), "Unauthorized");
      assertError(await api.call("GET", "/v1/vpcs", { token: "not-a-token" }), "Unauthorized");
      assertError(await api.call("GET", "/v1/quotas", { token: "not-a-token" }), "Unauthorized");
      const { token } = await api.newProject();
      assertError(await api.call("GET", "/v1/projects", { token }), "Forbidden");
      assertError(await api.call("POST", "/v1/projects", { token, body: { name: "x" } }), "Forbidden");
      assertError(await api.call("PUT", "/v1/quotas", { token, body: {} }), "Forbidden");
      expectStatus(await api.call("GET", "/v1/health"), 200);
    });
    it("an empty project name is InvalidParameter", async () => {
      assertError(
        await api.call("POST", "/v1/projects", { token: OPERATOR_TOKEN, body: { name: "" } }),
        "InvalidParameter",
      );
    });
  });

  describe("VPC CIDRs", () => {
    let token: string;
    before(async () => {
      token = (await api.newProject()).token;
    });
    const create = (cidr: string, region = "region-1") =>
      api.call("POST", "/v1/vpcs", { token, body: { cidr, region } });

    it("accepts /16 to /28", async () => {
      const vpc = expectStatus<Vpc>(await create("10.0.0.0/16"), 201);
      assert.match(vpc.id, /^vpc-[0-9a-f]{17}$/);
      assert.equal(vpc.cidr, "10.0.0.0/16");
      assert.equal(vpc.region, "region-1");
      expectStatus(await create("192.168.1.0/28"), 201);
    });
    it("refuses other prefix lengths, malformed blocks, host bits and IPv6", async () => {
      assertError(await create("10.0.0.0/15"), "InvalidCidr.PrefixLength");
      assertError(await create("10.0.0.0/29"), "InvalidCidr.PrefixLength");
      for (const bad of ["10.0.0.0", "10.0.0/16", "10.0.0.256/24", "ten/16", "", "10.0.0.0/33"]) {
        const r = await create(bad);
        assert.ok(r.status === 400, `${bad}: ${r.text}`);
        assert.match((r.json as { error: { code: string } }).error.code, /^InvalidCidr\.(Malformed|PrefixLength)$/);
      }
      assertError(await create("10.0.0.1/16"), "InvalidCidr.HostBits");
      assertError(await create("2001:db8::/48"), "InvalidCidr.NotIPv4");
    });
    it("VPCs are isolated and may overlap", async () => {
      expectStatus(await create("172.16.0.0/16"), 201);
      expectStatus(await create("172.16.0.0/16"), 201);
    });
    it("a bad region is InvalidParameter", async () => {
      assertError(await create("10.1.0.0/16", "Region One"), "InvalidParameter", "region");
    });
    it("has an MTU: 1500 by default, 1280–8950 when given, shown by every VPC response", async () => {
      const plain = expectStatus<Vpc>(await create("10.2.0.0/16"), 201);
      assert.equal(plain.mtu, 1500);
      const jumbo = expectStatus<Vpc>(
        await api.call("POST", "/v1/vpcs", { token, body: { cidr: "10.3.0.0/16", region: "r", mtu: 8950 } }),
        201,
      );
      assert.equal(jumbo.mtu, 8950);
      assert.equal(expectStatus<Vpc>(await api.call("GET", `/v1/vpcs/${jumbo.id}`, { token }), 200).mtu, 8950);
      const list = expectStatus<{ items: Vpc[] }>(await api.call("GET", "/v1/vpcs", { token }), 200);
      assert.ok(list.items.every((v) => Number.isInteger(v.mtu)));
      assert.equal(list.items.find((v) => v.id === jumbo.id)?.mtu, 8950);
      for (const mtu of [1279, 8951, 9000, 0, 1500.5, "1500", null]) {
        assertError(
          await api.call("POST", "/v1/vpcs", { token, body: { cidr: "10.4.0.0/16", region: "r", mtu } }),
          "InvalidParameter",
        );
      }
    });
  });

  describe("subnets", () => {
    let token: string;
    let vpc: Vpc;
    before(async () => {
      token = (await api.newProject()).token;
      vpc = expectStatus(
        await api.call("POST", "/v1/vpcs", { token, body: { cidr: "10.0.0.0/16", region: "r" } }),
        201,
      );
    });
    const create = (cidr: string, extra: Record<string, unknown> = {}) =>
      api.call("POST", "/v1/subnets", { token, body: { vpcId: vpc.id, cidr, zone: "zone-a", ...extra } });

    it("a subnet inside the VPC; gateway = first usable address; broadcast defaults to auto", async () => {
      const s = expectStatus<Subnet>(await create("10.0.1.0/24", { name: "web" }), 201);
      assert.equal(s.gatewayIp, "10.0.1.1");
      assert.equal(s.broadcast, "auto");
      assert.equal(s.vpcId, vpc.id);
      assert.equal(s.zone, "zone-a");
      const u = expectStatus<Subnet>(await create("10.0.2.0/24", { broadcast: "unicast-only" }), 201);
      assert.equal(u.broadcast, "unicast-only");
    });
    it("outside the VPC: InvalidCidr.NotInVpc; overlapping a sibling: InvalidCidr.Overlap (409)", async () => {
      assertError(await create("10.1.0.0/24"), "InvalidCidr.NotInVpc");
      assertError(await create("10.0.1.128/25"), "InvalidCidr.Overlap");
      assertError(await create("10.0.0.0/16"), "InvalidCidr.Overlap");
    });
    it("IPv6, malformed CIDR, unknown broadcast mode", async () => {
      assertError(await create("fd00::/64"), "InvalidCidr.NotIPv4");
      assertError(await create("10.0.3.0/24x"), "InvalidCidr.Malformed");
      assertError(await create("10.0.3.0/24", { broadcast: "multicast" }), "InvalidParameter", "broadcast");
    });
    it("a VPC that does not exist: 404 NotFound", async () => {
      const r = await api.call("POST", "/v1/subnets", {
        token,
        body: { vpcId: "vpc-0123456789abcdef0", cidr: "10.0.9.0/24", zone: "z" },
      });
      assertError(r, "NotFound");
    });
    it("filters by vpcId", async () => {
      const list = expectStatus<{ items: Subnet[] }>(
        await api.call("GET", `/v1/subnets?vpcId=${vpc.id}`, { token }),
        200,
      );
      assert.deepEqual(list.items.map((s) => s.cidr).sort(), ["10.0.1.0/24", "10.0.2.0/24"]);
      const other = expectStatus<{ items: Subnet[] }>(
        await api.call("GET", "/v1/subnets?vpcId=vpc-0123456789abcdef0", { token }),
        200,
      );
      assert.deepEqual(other.items, []);
    });
  });

  describe("instances and vNICs", () => {
    let token: string;
    let vpc: Vpc;
    let subnet: Subnet;
    before(async () => {
      ({ token, vpc, subnet } = await seedNetwork(api));
    });
    const create = (body: Record<string, unknown>) => api.call("POST", "/v1/instances", { token, body });

    it("a primary vNIC with a chosen address and a locally administered, unique MAC", async () => {
      const i = expectStatus<Instance>(
        await create({ name: "vm-a", subnetId: subnet.id, ipAddress: "10.0.1.10" }),
        201,
      );
      assert.equal(i.vnics.length, 1);
      const [vnic] = i.vnics as [Vnic];
      assert.equal(i.primaryVnicId, vnic.id);
      assert.equal(vnic.primary, true);
      assert.equal(vnic.ipAddress, "10.0.1.10");
      assert.equal(vnic.subnetId, subnet.id);
      assert.equal(vnic.vpcId, vpc.id);
      const firstOctet = parseInt(vnic.macAddress.slice(0, 2), 16);
      assert.match(vnic.macAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.equal(firstOctet & 0b11, 0b10, "locally administered unicast");
      const j = expectStatus<Instance>(await create({ name: "vm-b", subnetId: subnet.id }), 201);
      assert.notEqual(j.vnics[0]?.macAddress, vnic.macAddress);
      assert.notEqual(j.vnics[0]?.ipAddress, vnic.ipAddress);
      const read = expectStatus<Vnic>(await api.call("GET", `/v1/vnics/${vnic.id}`, { token }), 200);
      assert.deepEqual(read, vnic);
    });
    it("addresses: reserved, outside the subnet, in use, IPv6, malformed", async () => {
      for (const reserved of ["10.0.1.0", "10.0.1.1", "10.0.1.255"]) {
        assertError(await create({ name: "x", subnetId: subnet.id, ipAddress: reserved }), "InvalidIpAddress.Reserved");
      }
      assertError(
        await create({ name: "x", subnetId: subnet.id, ipAddress: "10.0.2.10" }),
        "InvalidIpAddress.NotInSubnet",
      );
      assertError(await create({ name: "x", subnetId: subnet.id, ipAddress: "10.0.1.10" }), "InvalidIpAddress.InUse");
      assertError(
        await create({ name: "x", subnetId: subnet.id, ipAddress: "2001:db8::1" }),
        "InvalidIpAddress.NotIPv4",
      );
      assertError(await create({ name: "x", subnetId: subnet.id, ipAddress: "10.0.1" }), "InvalidIpAddress.Malformed");
    });
    it("an extra vNIC in the same VPC; a subnet of another VPC is refused", async () => {
      const i = expectStatus<Instance>(await create({ name: "multi", subnetId: subnet.id }), 201);
      const second = expectStatus<Subnet>(
        await api.call("POST", "/v1/subnets", { token, body: { vpcId: vpc.id, cidr: "10.0.2.0/24", zone: "zone-a" } }),
        201,
      );
      const vnic = expectStatus<Vnic>(
        await api.call("POST", "/v1/vnics", {
          token,
          body: { instanceId: i.id, subnetId: second.id, ipAddress: "10.0.2.20" },
        }),
        201,
      );
      assert.equal(vnic.primary, false);
      assert.equal(vnic.ipAddress, "10.0.2.20");
      const again = expectStatus<Instance>(await api.call("GET", `/v1/instances/${i.id}`, { token }), 200);
      assert.equal(again.vnics.length, 2);
      const otherVpc = expectStatus<Vpc>(
        await api.call("POST", "/v1/vpcs", { token, body: { cidr: "10.0.0.0/16", region: "region-1" } }),
        201,
      );
      const foreign = expectStatus<Subnet>(
        await api.call("POST", "/v1/subnets", { token, body: { vpcId: otherVpc.id, cidr: "10.0.1.0/24", zone: "z" } }),
        201,
      );
      assertError(
        await api.call("POST", "/v1/vnics", { token, body: { instanceId: i.id, subnetId: foreign.id } }),
        "InvalidVnic.SubnetNotInVpc",
      );
    });
    it("lists filter by vpcId and subnetId", async () => {
      const bySubnet = expectStatus<{ items: Instance[] }>(
        await api.call("GET", `/v1/instances?subnetId=${subnet.id}`, { token }),
        200,
      );
      assert.ok(bySubnet.items.length >= 3);
      assert.ok(bySubnet.items.every((i) => i.vnics.some((v) => v.subnetId === subnet.id)));
      const byVpc = expectStatus<{ items: Instance[] }>(
        await api.call("GET", `/v1/instances?vpcId=${vpc.id}`, { token }),
        200,
      );
      assert.ok(byVpc.items.every((i) => i.vpcId === vpc.id));
    });
    it("deleting an instance releases its addresses", async () => {
      const i = expectStatus<Instance>(await create({ name: "tmp", subnetId: subnet.id, ipAddress: "10.0.1.77" }), 201);
      assertError(
        await create({ name: "tmp2", subnetId: subnet.id, ipAddress: "10.0.1.77" }),
        "InvalidIpAddress.InUse",
      );
      assert.equal((await api.call("DELETE", `/v1/instances/${i.id}`, { token })).status, 204);
      assertError(await api.call("GET", `/v1/instances/${i.id}`, { token }), "NotFound");
      expectStatus(await create({ name: "tmp2", subnetId: subnet.id, ipAddress: "10.0.1.77" }), 201);
    });
  });

  describe("delete rules", () => {
    it("a VPC with subnets and a subnet with instances are refused with DependencyViolation", async () => {
      const { token, vpc, subnet } = await seedNetwork(api);
      assertError(await api.call("DELETE", `/v1/vpcs/${vpc.id}`, { token }), "DependencyViolation.VpcHasSubnets");
      const i = expectStatus<Instance>(
        await api.call("POST", "/v1/instances", { token, body: { name: "vm", subnetId: subnet.id } }),
        201,
      );
      assertError(
        await api.call("DELETE", `/v1/subnets/${subnet.id}`, { token }),
        "DependencyViolation.SubnetHasInstances",
      );
      assert.equal((await api.call("DELETE", `/v1/instances/${i.id}`, { token })).status, 204);
      const d = await api.call("DELETE", `/v1/subnets/${subnet.id}`, { token });
      assert.equal(d.status, 204);
      assert.equal(d.text, "");
      assert.equal((await api.call("DELETE", `/v1/vpcs/${vpc.id}`, { token })).status, 204);
      assertError(await api.call("GET", `/v1/vpcs/${vpc.id}`, { token }), "NotFound");
      assertError(await api.call("DELETE", `/v1/vpcs/${vpc.id}`, { token }), "NotFound");
    });
  });

  describe("cross-project isolation", () => {
    it("another project's ids answer 404; lists show only one's own; the operator reads all", async () => {
      const a = await seedNetwork(api);
      const b = await api.newProject();
      const i = expectStatus<Instance>(
        await api.call("POST", "/v1/instances", { token: a.token, body: { name: "vm", subnetId: a.subnet.id } }),
        201,
      );
      for (const url of [
        `/v1/vpcs/${a.vpc.id}`,
        `/v1/subnets/${a.subnet.id}`,
        `/v1/instances/${i.id}`,
        `/v1/vnics/${i.primaryVnicId}`,
      ]) {
        assertError(await api.call("GET", url, { token: b.token }), "NotFound");
        expectStatus(await api.call("GET", url, { token: OPERATOR_TOKEN }), 200);
      }
      assertError(await api.call("DELETE", `/v1/vpcs/${a.vpc.id}`, { token: b.token }), "NotFound");
      assertError(await api.call("DELETE", `/v1/instances/${i.id}`, { token: b.token }), "NotFound");
      assertError(
        await api.call("POST", "/v1/subnets", {
          token: b.token,
          body: { vpcId: a.vpc.id, cidr: "10.0.5.0/24", zone: "z" },
        }),
        "NotFound",
      );
      assertError(
        await api.call("POST", "/v1/instances", { token: b.token, body: { name: "intruder", subnetId: a.subnet.id } }),
        "NotFound",
      );
      assertError(
        await api.call("POST", "/v1/vnics", { token: b.token, body: { instanceId: i.id, subnetId: a.subnet.id } }),
        "NotFound",
      );
      const bList = expectStatus<{ items: Vpc[] }>(await api.call("GET", "/v1/vpcs", { token: b.token }), 200);
      assert.deepEqual(bList.items, []);
      const opList = expectStatus<{ items: Vpc[] }>(
        await api.call("GET", "/v1/vpcs?limit=1000", { token: OPERATOR_TOKEN }),
        200,
      );
      assert.ok(opList.items.some((v) => v.id === a.vpc.id));
      // The resource still exists for its owner.
      expectStatus(await api.call("GET", `/v1/vpcs/${a.vpc.id}`, { token: a.token }), 200);
    });
  });

  describe("pagination", () => {
    it("limit and nextCursor walk a list once, in creation order; a foreign cursor is refused", async () => {
      const { token } = await api.newProject();
      const created: string[] = [];
      for (let k = 0; k < 7; k++) {
        const v = expectStatus<Vpc>(
          await api.call("POST", "/v1/vpcs", { token, body: { cidr: `10.${k}.0.0/16`, region: "r" } }),
          201,
        );
        created.push(v.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
        const page: { items: Vpc[]; nextCursor: string | null } = expectStatus(
          await api.call("GET", `/v1/vpcs?limit=3${q}`, { token }),
          200,
        );
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((v) => v.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      // Pages partition the list: each VPC once, in the list's own (creation time, id) order.
      const whole = expectStatus<{ items: Vpc[] }>(await api.call("GET", "/v1/vpcs?limit=1000", { token }), 200);
      assert.deepEqual(
        seen,
        whole.items.map((v) => v.id),
      );
      assert.deepEqual([...seen].sort(), [...created].sort());
      assert.equal(pages, 3);
      assertError(await api.call("GET", "/v1/vpcs?cursor=not-a-cursor!", { token }), "InvalidParameter", "cursor");
    });
  });
});
