import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChangeEvent, HaVip, Instance, Vnic } from "@havip/control";
import { applyEvent, instanceOfVnic, sorted, stateOf } from "./state.ts";

const havip = (over: Partial<HaVip> = {}): HaVip => ({
  id: "havip-00000000000000001",
  projectId: "proj-00000000000000001",
  vpcId: "vpc-00000000000000001",
  subnetId: "subnet-00000000000000001",
  ipAddress: "10.0.1.50",
  name: "db",
  description: "",
  virtualMac: "0e:00:00:00:00:01",
  members: null,
  status: "available",
  holder: null,
  generation: 0,
  contested: null,
  eip: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  ...over,
});

const vnic = (id: string, instanceId: string): Vnic => ({
  id,
  projectId: "proj-00000000000000001",
  instanceId,
  subnetId: "subnet-00000000000000001",
  vpcId: "vpc-00000000000000001",
  macAddress: "02:00:00:00:00:01",
  ipAddress: "10.0.1.11",
  primary: true,
  createdAt: "2026-01-01T00:00:00.000Z",
});

const vmA: Instance = {
  id: "i-0000000000000000a",
  projectId: "proj-00000000000000001",
  vpcId: "vpc-00000000000000001",
  name: "vm-A",
  primaryVnicId: "eni-0000000000000000a",
  vnics: [vnic("eni-0000000000000000a", "i-0000000000000000a")],
  createdAt: "2026-01-01T00:00:00.000Z",
};

const event = (revision: number, over: Partial<ChangeEvent>): ChangeEvent => ({
  revision,
  at: "2026-01-01T00:00:01.000Z",
  projectId: "proj-00000000000000001",
  resource: "havip",
  id: "havip-00000000000000001",
  action: "updated",
  data: null,
  ...over,
});

const base = () => stateOf(10, { vpcs: [], subnets: [], instances: [vmA], havips: [havip()], eips: [] });

test("a holder change replaces the HAVIP with the event's copy", () => {
  const holder = { instanceId: vmA.id, vnicId: vmA.primaryVnicId, since: "2026-01-01T00:00:01.000Z", generation: 1 };
  const next = applyEvent(
    base(),
    event(11, { action: "holder-changed", data: havip({ holder, generation: 1, status: "in-use" }) }),
  );
  assert.equal(next.revision, 11);
  assert.deepEqual(next.havips.get("havip-00000000000000001")?.holder, holder);
});

test("events at or below the known revision change nothing (list read and stream overlap)", () => {
  const state = base();
  assert.equal(applyEvent(state, event(10, { action: "deleted" })), state);
});

test("a delete removes the resource; unknown kinds only advance the revision", () => {
  const gone = applyEvent(base(), event(11, { action: "deleted" }));
  assert.equal(gone.havips.size, 0);
  const quotas = applyEvent(base(), event(12, { resource: "quotas", id: "quotas", projectId: null, data: {} }));
  assert.equal(quotas.revision, 12);
  assert.equal(quotas.havips.size, 1);
});

test("a new vNIC joins its instance, so the holder's instance is found by vNIC", () => {
  const second = vnic("eni-0000000000000000b", vmA.id);
  const next = applyEvent(base(), event(11, { resource: "vnic", id: second.id, action: "created", data: second }));
  assert.equal(instanceOfVnic(next, second.id)?.name, "vm-A");
  const removed = applyEvent(next, event(12, { resource: "vnic", id: second.id, action: "deleted" }));
  assert.equal(instanceOfVnic(removed, second.id), undefined);
  assert.equal(instanceOfVnic(removed, vmA.primaryVnicId)?.name, "vm-A");
});

test("sorted orders by name, then id", () => {
  const map = new Map([
    ["b", { id: "b", name: "web" }],
    ["a", { id: "a", name: "db" }],
    ["c", { id: "c", name: "db" }],
  ]);
  assert.deepEqual(
    sorted(map).map((x) => x.id),
    ["a", "c", "b"],
  );
});

test("contest events set and clear the HAVIP's contested field", () => {
  const claimants = [
    { instanceId: vmA.id, vnicId: vmA.primaryVnicId },
    { instanceId: "i-0000000000000000b", vnicId: "eni-0000000000000000b" },
  ];
  const holder = { instanceId: vmA.id, vnicId: vmA.primaryVnicId, since: "2026-01-01T00:00:01.000Z", generation: 1 };
  const contested = { since: "2026-01-01T00:00:02.000Z", claimants };
  const torn = havip({ status: "in-use", holder, generation: 1, contested });
  const started = applyEvent(base(), event(11, { action: "contest-started", data: torn }));
  assert.deepEqual(started.havips.get(torn.id)?.contested, contested);
  const ended = applyEvent(started, event(12, { action: "contest-ended", data: { ...torn, contested: null } }));
  assert.equal(ended.havips.get(torn.id)?.contested, null);
  assert.deepEqual(ended.havips.get(torn.id)?.holder, holder, "the holder the fabric kept stays");
});
