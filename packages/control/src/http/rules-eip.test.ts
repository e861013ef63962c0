// EIP rules of issue 2 through HTTP against the real services: pools, allocation, bind rules (one
// target, one EIP per HAVIP, same region, must be free), delete rules, cross-project isolation.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Eip, EipPool, HaVip, Instance } from "../model.ts";
import { assertError, expectStatus, OPERATOR_TOKEN, openRealApi, seedNetwork, type RealApi } from "./test-helpers.ts";

describe("EIP rules through HTTP (real services)", () => {
  let api: RealApi;
  let pool: EipPool;
  before(async () => {
    api = await openRealApi();
    pool = expectStatus<EipPool>(
      await api.call("POST", "/v1/eip-pools", {
        token: OPERATOR_TOKEN,
        body: { region: "region-1", cidr: "198.51.100.0/24" },
      }),
      201,
    );
    expectStatus(
      await api.call("POST", "/v1/eip-pools", {
        token: OPERATOR_TOKEN,
        body: { region: "region-2", cidr: "203.0.113.0/24" },
      }),
      201,
    );
  });
  after(async () => {
    await api.close();
  });

  async function setup() {
    const net = await seedNetwork(api, "region-1");
    const { token, subnet } = net;
    const vm = expectStatus<Instance>(
      await api.call("POST", "/v1/instances", { token, body: { name: "vm", subnetId: subnet.id } }),
      201,
    );
    const havip = expectStatus<HaVip>(
      await api.call("POST", "/v1/havips", { token, body: { subnetId: subnet.id } }),
      201,
    );
    const allocate = async (region = "region-1") =>
      expectStatus<Eip>(await api.call("POST", "/v1/eips", { token, body: { region } }), 201);
    const associate = (eip: Eip, body: Record<string, unknown>) =>
      api.call("POST", `/v1/eips/${eip.id}/associate`, { token, body });
    return { ...net, vm, havip, allocate, associate };
  }

  describe("pools (operator)", () => {
    it("pools are listed, overlapping pools refused, IPv6 refused, tenants forbidden", async () => {
      const list = expectStatus<{ items: EipPool[] }>(
        await api.call("GET", "/v1/eip-pools", { token: OPERATOR_TOKEN }),
        200,
      );
      assert.ok(list.items.some((p) => p.id === pool.id && p.cidr === "198.51.100.0/24" && p.region === "region-1"));
      assertError(
        await api.call("POST", "/v1/eip-pools", {
          token: OPERATOR_TOKEN,
          body: { region: "region-3", cidr: "198.51.100.128/25" },
        }),
        "InvalidCidr.Overlap",
      );
      assertError(
        await api.call("POST", "/v1/eip-pools", {
          token: OPERATOR_TOKEN,
          body: { region: "region-3", cidr: "2001:db8::/64" },
        }),
        "InvalidCidr.NotIPv4",
      );
      const { token } = await api.newProject();
      assertError(await api.call("GET", "/v1/eip-pools", { token }), "Forbidden");
    });
    it("a pool with allocated EIPs cannot be deleted; an empty one can", async () => {
      const { allocate } = await setup();
      await allocate();
      assertError(
        await api.call("DELETE", `/v1/eip-pools/${pool.id}`, { token: OPERATOR_TOKEN }),
        "DependencyViolation.PoolHasEips",
      );
      const spare = expectStatus<EipPool>(
        await api.call("POST", "/v1/eip-pools", {
          token: OPERATOR_TOKEN,
          body: { region: "region-9", cidr: "192.0.2.0/28" },
        }),
        201,
      );
      assert.equal((await api.call("DELETE", `/v1/eip-pools/${spare.id}`, { token: OPERATOR_TOKEN })).status, 204);
      assertError(
        await api.call("DELETE", "/v1/eip-pools/vpc-0123456789abcdef0", { token: OPERATOR_TOKEN }),
        "InvalidId",
      );
    });
  });

  describe("allocation and binding", () => {
    it("allocates from the region's pool; a region without a pool has no addresses", async () => {
      const { allocate, token } = await setup();
      const eip = await allocate();
      assert.match(eip.id, /^eip-[0-9a-f]{17}$/);
      assert.match(eip.publicIp, /^198\.51\.100\.\d+$/);
      assert.equal(eip.status, "available");
      assert.equal(eip.target, null);
      assertError(
        await api.call("POST", "/v1/eips", { token, body: { region: "nowhere" } }),
        "InsufficientAddresses.EipPool",
      );
    });
    it("an EIP bound to a HAVIP shows on both; one EIP per HAVIP; a bound EIP is not free", async () => {
      const { allocate, associate, havip, vm, token } = await setup();
      const first = await allocate();
      const bound = expectStatus<Eip>(await associate(first, { havipId: havip.id }), 200);
      assert.equal(bound.status, "bound");
      assert.deepEqual(bound.target, { type: "havip", havipId: havip.id });
      const h = expectStatus<HaVip>(await api.call("GET", `/v1/havips/${havip.id}`, { token }), 200);
      assert.deepEqual(h.eip, { id: first.id, publicIp: first.publicIp });
      const second = await allocate();
      assertError(await associate(second, { havipId: havip.id }), "QuotaExceeded.EipsPerHaVip");
      assertError(await associate(first, { vnicId: vm.primaryVnicId }), "IncorrectState.EipBound");
    });
    it("an EIP bound to a vNIC; a vNIC with an EIP takes no second one", async () => {
      const { allocate, associate, vm } = await setup();
      const a = await allocate();
      const bound = expectStatus<Eip>(await associate(a, { vnicId: vm.primaryVnicId }), 200);
      assert.deepEqual(bound.target, { type: "vnic", vnicId: vm.primaryVnicId });
      assertError(await associate(await allocate(), { vnicId: vm.primaryVnicId }), "IncorrectState.TargetHasEip");
    });
    it("the EIP and its target must be in the same region", async () => {
      const { allocate, associate, havip } = await setup();
      const far = await allocate("region-2");
      assertError(await associate(far, { havipId: havip.id }), "InvalidEip.RegionMismatch");
    });
    it("disassociate unbinds; disassociating a free EIP is IncorrectState.EipNotBound", async () => {
      const { allocate, associate, havip, token } = await setup();
      const eip = await allocate();
      expectStatus(await associate(eip, { havipId: havip.id }), 200);
      const free = expectStatus<Eip>(await api.call("POST", `/v1/eips/${eip.id}/disassociate`, { token }), 200);
      assert.equal(free.status, "available");
      assert.equal(free.target, null);
      const h = expectStatus<HaVip>(await api.call("GET", `/v1/havips/${havip.id}`, { token }), 200);
      assert.equal(h.eip, null);
      assertError(
        await api.call("POST", `/v1/eips/${eip.id}/disassociate`, { token, body: {} }),
        "IncorrectState.EipNotBound",
      );
    });
  });

  describe("delete rules", () => {
    it("a HAVIP with an EIP, a bound EIP and an instance whose vNIC has an EIP are refused", async () => {
      const { allocate, associate, havip, vm, token } = await setup();
      const forHavip = await allocate();
      const forVnic = await allocate();
      expectStatus(await associate(forHavip, { havipId: havip.id }), 200);
      expectStatus(await associate(forVnic, { vnicId: vm.primaryVnicId }), 200);
      assertError(await api.call("DELETE", `/v1/havips/${havip.id}`, { token }), "DependencyViolation.HaVipHasEip");
      assertError(await api.call("DELETE", `/v1/eips/${forHavip.id}`, { token }), "DependencyViolation.EipBound");
      assertError(await api.call("DELETE", `/v1/instances/${vm.id}`, { token }), "DependencyViolation.VnicHasEip");
      expectStatus(await api.call("POST", `/v1/eips/${forHavip.id}/disassociate`, { token }), 200);
      assert.equal((await api.call("DELETE", `/v1/havips/${havip.id}`, { token })).status, 204);
      assert.equal((await api.call("DELETE", `/v1/eips/${forHavip.id}`, { token })).status, 204);
      assertError(await api.call("GET", `/v1/eips/${forHavip.id}`, { token }), "NotFound");
    });
  });

  describe("cross-project isolation", () => {
    it("another project's EIP or HAVIP answers 404; lists show only one's own", async () => {
      const a = await setup();
      const b = await setup();
      const eipA = await a.allocate();
      const eipB = await b.allocate();
      assertError(await api.call("GET", `/v1/eips/${eipA.id}`, { token: b.token }), "NotFound");
      assertError(await api.call("DELETE", `/v1/eips/${eipA.id}`, { token: b.token }), "NotFound");
      assertError(await b.associate(eipA, { havipId: b.havip.id }), "NotFound");
      assertError(await b.associate(eipB, { havipId: a.havip.id }), "NotFound");
      assertError(await b.associate(eipB, { vnicId: a.vm.primaryVnicId }), "NotFound");
      const list = expectStatus<{ items: Eip[] }>(await api.call("GET", "/v1/eips", { token: b.token }), 200);
      assert.deepEqual(
        list.items.map((e) => e.id),
        [eipB.id],
      );
      expectStatus(await api.call("GET", `/v1/eips/${eipA.id}`, { token: OPERATOR_TOKEN }), 200);
      assertError(
        await api.call("POST", "/v1/eips", { token: OPERATOR_TOKEN, body: { region: "region-1" } }),
        "Forbidden",
      );
    });
  });
});
