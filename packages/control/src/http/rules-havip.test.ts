// HAVIP rules of issue 2 through HTTP against the real services: addresses, members and quotas, PATCH,
// holder observations (the seed example), history, delete rules, filters, cross-project isolation.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HaVip, HolderHistoryEntry, Instance, Quotas, Subnet } from "../model.ts";
import {
  assertError,
  expectStatus,
  OPERATOR_TOKEN,
  openRealApi,
  seedNetwork,
  type CallResult,
  type RealApi,
} from "./test-helpers.ts";

interface Tenant {
  token: string;
  subnet: Subnet;
  vpcId: string;
}

describe("HAVIP rules through HTTP (real services)", () => {
  let api: RealApi;
  before(async () => {
    api = await openRealApi();
  });
  after(async () => {
    await api.close();
  });

  async function tenant(): Promise<Tenant> {
    const { token, subnet, vpc } = await seedNetwork(api);
    return { token, subnet, vpcId: vpc.id };
  }
  const instance = async (t: Tenant, name: string, ipAddress?: string, subnetId = t.subnet.id) =>
    expectStatus<Instance>(
      await api.call("POST", "/v1/instances", {
        token: t.token,
        body: { name, subnetId, ...(ipAddress ? { ipAddress } : {}) },
      }),
      201,
    );
  const createHaVip = (t: Tenant, body: Record<string, unknown>): Promise<CallResult> =>
    api.call("POST", "/v1/havips", { token: t.token, body: { subnetId: t.subnet.id, ...body } });
  const observe = (body: Record<string, unknown>, token = OPERATOR_TOKEN) =>
    api.call("POST", "/v1/observations", { token, body });

  describe("addresses", () => {
    let t: Tenant;
    before(async () => {
      t = await tenant();
      await instance(t, "vm-a", "10.0.1.10");
    });

    it("a chosen address: available, no holder, no EIP, a stable virtual MAC", async () => {
      const h = expectStatus<HaVip>(
        await createHaVip(t, { ipAddress: "10.0.1.50", name: "db", description: "primary" }),
        201,
      );
      assert.match(h.id, /^havip-[0-9a-f]{17}$/);
      assert.equal(h.ipAddress, "10.0.1.50");
      assert.equal(h.subnetId, t.subnet.id);
      assert.equal(h.vpcId, t.vpcId);
      assert.equal(h.status, "available");
      assert.equal(h.holder, null);
      assert.equal(h.eip, null);
      assert.equal(h.generation, 0);
      assert.equal(h.members, null);
      assert.equal(h.name, "db");
      assert.equal(h.description, "primary");
      assert.match(h.virtualMac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.equal(parseInt(h.virtualMac.slice(0, 2), 16) & 0b11, 0b10);
      const again = expectStatus<HaVip>(await api.call("GET", `/v1/havips/${h.id}`, { token: t.token }), 200);
      assert.equal(again.virtualMac, h.virtualMac);
    });
    it("auto-allocated from the free addresses", async () => {
      const h = expectStatus<HaVip>(await createHaVip(t, {}), 201);
      assert.ok(!["10.0.1.0", "10.0.1.1", "10.0.1.255", "10.0.1.10", "10.0.1.50"].includes(h.ipAddress));
      assert.match(h.ipAddress, /^10\.0\.1\.\d+$/);
    });
    it("never the network, gateway or broadcast; never in use; inside the subnet; IPv4 only", async () => {
      for (const reserved of ["10.0.1.0", "10.0.1.1", "10.0.1.255"]) {
        assertError(await createHaVip(t, { ipAddress: reserved }), "InvalidIpAddress.Reserved");
      }
      assertError(await createHaVip(t, { ipAddress: "10.0.1.10" }), "InvalidIpAddress.InUse"); // a vNIC's
      assertError(await createHaVip(t, { ipAddress: "10.0.1.50" }), "InvalidIpAddress.InUse"); // a HAVIP's
      assertError(await createHaVip(t, { ipAddress: "10.0.2.50" }), "InvalidIpAddress.NotInSubnet");
      assertError(await createHaVip(t, { ipAddress: "fe80::1" }), "InvalidIpAddress.NotIPv4");
      assertError(await createHaVip(t, { ipAddress: "10.0.1.500" }), "InvalidIpAddress.Malformed");
      // An instance cannot take a HAVIP's address either.
      assertError(
        await api.call("POST", "/v1/instances", {
          token: t.token,
          body: { name: "x", subnetId: t.subnet.id, ipAddress: "10.0.1.50" },
        }),
        "InvalidIpAddress.InUse",
      );
    });
    it("a full subnet: InsufficientAddresses.Subnet", async () => {
      const small = expectStatus<Subnet>(
        await api.call("POST", "/v1/subnets", {
          token: t.token,
          body: { vpcId: t.vpcId, cidr: "10.0.9.0/29", zone: "z" },
        }),
        201,
      );
      // /29: 8 addresses, minus network, gateway and broadcast = 5 usable.
      for (let k = 0; k < 5; k++) {
        expectStatus(await api.call("POST", "/v1/havips", { token: t.token, body: { subnetId: small.id } }), 201);
      }
      assertError(
        await api.call("POST", "/v1/havips", { token: t.token, body: { subnetId: small.id } }),
        "InsufficientAddresses.Subnet",
      );
    });
    it("subnet and address are immutable: PATCH refuses them", async () => {
      const h = expectStatus<HaVip>(await createHaVip(t, {}), 201);
      const url = `/v1/havips/${h.id}`;
      assertError(
        await api.call("PATCH", url, { token: t.token, body: { ipAddress: "10.0.1.99" } }),
        "InvalidParameter",
        "'ipAddress'",
      );
      assertError(
        await api.call("PATCH", url, { token: t.token, body: { subnetId: t.subnet.id } }),
        "InvalidParameter",
        "'subnetId'",
      );
    });
  });

  describe("members and quotas", () => {
    let t: Tenant;
    let vms: Instance[];
    before(async () => {
      t = await tenant();
      vms = [];
      for (let k = 0; k < 12; k++) vms.push(await instance(t, `vm-${k}`));
    });

    it("members by instance id or vNIC id resolve to {instanceId, vnicId}", async () => {
      const [a, b] = vms as [Instance, Instance];
      const h = expectStatus<HaVip>(await createHaVip(t, { members: [a.id, b.primaryVnicId] }), 201);
      assert.deepEqual(
        h.members?.map((m) => [m.instanceId, m.vnicId]).sort(),
        [
          [a.id, a.primaryVnicId],
          [b.id, b.primaryVnicId],
        ].sort(),
      );
    });
    it("a member outside the subnet, a duplicate, an unknown vNIC", async () => {
      const [a] = vms as [Instance];
      const other = expectStatus<Subnet>(
        await api.call("POST", "/v1/subnets", {
          token: t.token,
          body: { vpcId: t.vpcId, cidr: "10.0.2.0/24", zone: "z" },
        }),
        201,
      );
      const outsider = await instance(t, "outsider", undefined, other.id);
      assertError(await createHaVip(t, { members: [outsider.id] }), "InvalidMember.NotInSubnet");
      assertError(await createHaVip(t, { members: [a.id, a.primaryVnicId] }), "InvalidMember.Duplicate");
      const r = await createHaVip(t, { members: ["eni-0123456789abcdef0"] });
      assert.ok([400, 404].includes(r.status), r.text);
    });
    it("at most 10 members: QuotaExceeded.MembersPerHaVip", async () => {
      expectStatus(await createHaVip(t, { members: vms.slice(0, 10).map((v) => v.id) }), 201);
      assertError(
        await createHaVip(t, { members: vms.slice(0, 11).map((v) => v.id) }),
        "QuotaExceeded.MembersPerHaVip",
      );
    });
    it("a vNIC in at most 5 member lists: QuotaExceeded.HaVipsPerVnic", async () => {
      const v = vms[11]!;
      for (let k = 0; k < 5; k++) expectStatus(await createHaVip(t, { members: [v.id] }), 201);
      assertError(await createHaVip(t, { members: [v.id] }), "QuotaExceeded.HaVipsPerVnic");
    });
    it("PATCH changes name, description and members; null clears the list", async () => {
      const [a, b] = vms as [Instance, Instance];
      const h = expectStatus<HaVip>(await createHaVip(t, { members: [a.id] }), 201);
      const url = `/v1/havips/${h.id}`;
      const renamed = expectStatus<HaVip>(
        await api.call("PATCH", url, { token: t.token, body: { name: "new", description: "d", members: [b.id] } }),
        200,
      );
      assert.equal(renamed.name, "new");
      assert.equal(renamed.description, "d");
      assert.deepEqual(renamed.members, [{ instanceId: b.id, vnicId: b.primaryVnicId }]);
      assert.equal(renamed.ipAddress, h.ipAddress);
      const cleared = expectStatus<HaVip>(
        await api.call("PATCH", url, { token: t.token, body: { members: null } }),
        200,
      );
      assert.equal(cleared.members, null);
      assertError(
        await api.call("PATCH", url, { token: t.token, body: { members: vms.slice(0, 11).map((v) => v.id) } }),
        "QuotaExceeded.MembersPerHaVip",
      );
    });
    it("the operator sets quotas (partial); a project may read but not set them", async () => {
      const before = expectStatus<Quotas>(await api.call("GET", "/v1/quotas", { token: t.token }), 200);
      assert.deepEqual(before, { membersPerHaVip: 10, haVipsPerVnic: 5, eipsPerHaVip: 1, haVipsPerProject: 50 });
      assertError(await api.call("PUT", "/v1/quotas", { token: t.token, body: { membersPerHaVip: 2 } }), "Forbidden");
      const changed = expectStatus<Quotas>(
        await api.call("PUT", "/v1/quotas", { token: OPERATOR_TOKEN, body: { membersPerHaVip: 2 } }),
        200,
      );
      assert.deepEqual(changed, { ...before, membersPerHaVip: 2 });
      try {
        assertError(
          await createHaVip(t, { members: vms.slice(0, 3).map((v) => v.id) }),
          "QuotaExceeded.MembersPerHaVip",
        );
      } finally {
        expectStatus(
          await api.call("PUT", "/v1/quotas", { token: OPERATOR_TOKEN, body: { membersPerHaVip: 10 } }),
          200,
        );
      }
      assertError(
        await api.call("PUT", "/v1/quotas", { token: OPERATOR_TOKEN, body: { membersPerHaVip: -1 } }),
        "InvalidParameter",
        "membersPerHaVip",
      );
    });
    it("per-project HAVIP limit: QuotaExceeded.HaVipsPerProject", async () => {
      const fresh = await tenant();
      expectStatus(await api.call("PUT", "/v1/quotas", { token: OPERATOR_TOKEN, body: { haVipsPerProject: 2 } }), 200);
      try {
        expectStatus(await createHaVip(fresh, {}), 201);
        expectStatus(await createHaVip(fresh, {}), 201);
        assertError(await createHaVip(fresh, {}), "QuotaExceeded.HaVipsPerProject");
      } finally {
        expectStatus(
          await api.call("PUT", "/v1/quotas", { token: OPERATOR_TOKEN, body: { haVipsPerProject: 50 } }),
          200,
        );
      }
    });
  });

  describe("holder observations (the seed example)", () => {
    it("vm-A announces: in-use, holder vm-A, generation 1; vm-B: generation 2; history of two", async () => {
      const t = await tenant();
      const vmA = await instance(t, "vm-A");
      const vmB = await instance(t, "vm-B");
      const h = expectStatus<HaVip>(await createHaVip(t, { ipAddress: "10.0.1.50", members: [vmA.id, vmB.id] }), 201);

      const first = expectStatus<{ changed: boolean; havip: HaVip }>(
        await observe({ havipId: h.id, vnicId: vmA.primaryVnicId, at: "2026-01-01T00:00:00.000Z" }),
        200,
      );
      assert.equal(first.changed, true);
      assert.equal(first.havip.status, "in-use");
      assert.deepEqual(first.havip.holder, {
        instanceId: vmA.id,
        vnicId: vmA.primaryVnicId,
        since: "2026-01-01T00:00:00.000Z",
        generation: 1,
      });

      const refresh = expectStatus<{ changed: boolean; havip: HaVip }>(
        await observe({ havipId: h.id, vnicId: vmA.primaryVnicId }),
        200,
      );
      assert.equal(refresh.changed, false, "a re-announcement by the holder does not make a new generation");
      assert.equal(refresh.havip.generation, 1);

      const moved = expectStatus<{ changed: boolean; havip: HaVip }>(
        await observe({ havipId: h.id, instanceId: vmB.id }), // an instance stands for its vNIC in the subnet
        200,
      );
      assert.equal(moved.changed, true);
      assert.equal(moved.havip.holder?.instanceId, vmB.id);
      assert.equal(moved.havip.holder.generation, 2);
      assert.equal(moved.havip.generation, 2);

      const read = expectStatus<HaVip>(await api.call("GET", `/v1/havips/${h.id}`, { token: t.token }), 200);
      assert.equal(read.status, "in-use");
      assert.equal(read.holder?.vnicId, vmB.primaryVnicId);

      const history = expectStatus<{ items: HolderHistoryEntry[]; nextCursor: string | null }>(
        await api.call("GET", `/v1/havips/${h.id}/history`, { token: t.token }),
        200,
      );
      assert.deepEqual(
        history.items.map((e) => [e.generation, e.instanceId, e.previousVnicId, e.reason]),
        [
          [1, vmA.id, null, "manual"],
          [2, vmB.id, vmA.primaryVnicId, "manual"],
        ],
      );
      const firstPage = expectStatus<{ items: HolderHistoryEntry[]; nextCursor: string | null }>(
        await api.call("GET", `/v1/havips/${h.id}/history?limit=1`, { token: t.token }),
        200,
      );
      assert.equal(firstPage.items.length, 1);
      assert.ok(firstPage.nextCursor);
    });
    it("a vNIC that may not claim the HAVIP: 409 IncorrectState.HolderNotAllowed", async () => {
      const t = await tenant();
      const member = await instance(t, "member");
      const stranger = await instance(t, "stranger");
      const h = expectStatus<HaVip>(await createHaVip(t, { members: [member.id] }), 201);
      assertError(await observe({ havipId: h.id, vnicId: stranger.primaryVnicId }), "IncorrectState.HolderNotAllowed");
      assertError(await observe({ havipId: h.id, instanceId: stranger.id }), "IncorrectState.HolderNotAllowed");
      assertError(await observe({ havipId: h.id, vnicId: "eni-0123456789abcdef0" }), "IncorrectState.HolderNotAllowed");
      const other = expectStatus<Subnet>(
        await api.call("POST", "/v1/subnets", {
          token: t.token,
          body: { vpcId: t.vpcId, cidr: "10.0.2.0/24", zone: "z" },
        }),
        201,
      );
      const elsewhere = await instance(t, "elsewhere", undefined, other.id);
      const open = expectStatus<HaVip>(await createHaVip(t, {}), 201); // no member list: anyone in the subnet
      assertError(
        await observe({ havipId: open.id, vnicId: elsewhere.primaryVnicId }),
        "IncorrectState.HolderNotAllowed",
      );
      expectStatus(await observe({ havipId: open.id, vnicId: stranger.primaryVnicId }), 200);
      const unchanged = expectStatus<HaVip>(await api.call("GET", `/v1/havips/${h.id}`, { token: t.token }), 200);
      assert.equal(unchanged.holder, null);
      assertError(
        await observe({ havipId: h.id, vnicId: member.primaryVnicId, at: "yesterday" }),
        "InvalidParameter",
        "at",
      );
      assertError(await observe({ havipId: "havip-0123456789abcdef0", vnicId: member.primaryVnicId }), "NotFound");
    });
    it("observations are operator-only", async () => {
      const t = await tenant();
      const vm = await instance(t, "vm");
      const h = expectStatus<HaVip>(await createHaVip(t, {}), 201);
      assertError(await observe({ havipId: h.id, vnicId: vm.primaryVnicId }, t.token), "Forbidden");
    });
    it("deleting the holder's instance releases the holder role (new generation, history entry)", async () => {
      const t = await tenant();
      const vm = await instance(t, "vm");
      const h = expectStatus<HaVip>(await createHaVip(t, { members: [vm.id] }), 201);
      expectStatus(await observe({ havipId: h.id, vnicId: vm.primaryVnicId }), 200);
      assert.equal((await api.call("DELETE", `/v1/instances/${vm.id}`, { token: t.token })).status, 204);
      const after = expectStatus<HaVip>(await api.call("GET", `/v1/havips/${h.id}`, { token: t.token }), 200);
      assert.equal(after.status, "available");
      assert.equal(after.holder, null);
      assert.equal(after.generation, 2);
      assert.deepEqual(after.members, []);
      const history = expectStatus<{ items: HolderHistoryEntry[] }>(
        await api.call("GET", `/v1/havips/${h.id}/history`, { token: t.token }),
        200,
      );
      assert.deepEqual(
        history.items.map((e) => [e.generation, e.reason, e.vnicId]),
        [
          [1, "manual", vm.primaryVnicId],
          [2, "released", null],
        ],
      );
    });
  });

  describe("delete rules, filters and isolation", () => {
    it("a subnet with HAVIPs cannot be deleted; a HAVIP can", async () => {
      const t = await tenant();
      const h = expectStatus<HaVip>(await createHaVip(t, { ipAddress: "10.0.1.60" }), 201);
      assertError(
        await api.call("DELETE", `/v1/subnets/${t.subnet.id}`, { token: t.token }),
        "DependencyViolation.SubnetHasHaVips",
      );
      assert.equal((await api.call("DELETE", `/v1/havips/${h.id}`, { token: t.token })).status, 204);
      assertError(await api.call("GET", `/v1/havips/${h.id}`, { token: t.token }), "NotFound");
      expectStatus(await createHaVip(t, { ipAddress: "10.0.1.60" }), 201); // the address was released
    });
    it("list filters vpcId and subnetId", async () => {
      const t = await tenant();
      const second = expectStatus<Subnet>(
        await api.call("POST", "/v1/subnets", {
          token: t.token,
          body: { vpcId: t.vpcId, cidr: "10.0.2.0/24", zone: "z" },
        }),
        201,
      );
      const h1 = expectStatus<HaVip>(await createHaVip(t, {}), 201);
      const h2 = expectStatus<HaVip>(
        await api.call("POST", "/v1/havips", { token: t.token, body: { subnetId: second.id } }),
        201,
      );
      const bySubnet = expectStatus<{ items: HaVip[] }>(
        await api.call("GET", `/v1/havips?subnetId=${second.id}`, { token: t.token }),
        200,
      );
      assert.deepEqual(
        bySubnet.items.map((h) => h.id),
        [h2.id],
      );
      const byVpc = expectStatus<{ items: HaVip[] }>(
        await api.call("GET", `/v1/havips?vpcId=${t.vpcId}`, { token: t.token }),
        200,
      );
      assert.deepEqual(byVpc.items.map((h) => h.id).sort(), [h1.id, h2.id].sort());
    });
    it("another project's HAVIP answers 404 to reads, changes and deletes", async () => {
      const a = await tenant();
      const b = await tenant();
      const h = expectStatus<HaVip>(await createHaVip(a, {}), 201);
      for (const [method, url, body] of [
        ["GET", `/v1/havips/${h.id}`, undefined],
        ["GET", `/v1/havips/${h.id}/history`, undefined],
        ["PATCH", `/v1/havips/${h.id}`, { name: "mine now" }],
        ["DELETE", `/v1/havips/${h.id}`, undefined],
      ] as const) {
        assertError(await api.call(method, url, { token: b.token, body }), "NotFound");
      }
      assertError(await createHaVip({ ...b, subnet: a.subnet }, {}), "NotFound");
      const bList = expectStatus<{ items: HaVip[] }>(await api.call("GET", "/v1/havips", { token: b.token }), 200);
      assert.deepEqual(bList.items, []);
      expectStatus(await api.call("GET", `/v1/havips/${h.id}`, { token: OPERATOR_TOKEN }), 200);
      assertError(
        await api.call("PATCH", `/v1/havips/${h.id}`, { token: OPERATOR_TOKEN, body: { name: "op" } }),
        "Forbidden",
      );
    });
  });
});
