import assert from "node:assert/strict";
import { test } from "node:test";
import type { HaVip, Instance } from "@havip/control";
import { claimants, contestedHavips, contestHeadline } from "./contest.ts";
import { stateOf } from "./state.ts";

const at = "2026-01-01T00:00:00.000Z";

function vm(letter: string): Instance {
  const id = `i-000000000000000${letter}0`;
  const vnicId = `eni-000000000000000${letter}0`;
  return {
    id,
    projectId: "proj-00000000000000001",
    vpcId: "vpc-00000000000000001",
    name: `vm-${letter.toUpperCase()}`,
    primaryVnicId: vnicId,
    vnics: [
      {
        id: vnicId,
        projectId: "proj-00000000000000001",
        instanceId: id,
        subnetId: "subnet-00000000000000001",
        vpcId: "vpc-00000000000000001",
        macAddress: "02:00:00:00:00:01",
        ipAddress: "10.0.1.11",
        primary: true,
        createdAt: at,
      },
    ],
    createdAt: at,
  };
}

const [a, b, c] = [vm("a"), vm("b"), vm("c")];
const member = (i: Instance) => ({ instanceId: i.id, vnicId: i.primaryVnicId });

function havip(contestants: Instance[] | null): HaVip {
  return {
    id: "havip-00000000000000001",
    projectId: "proj-00000000000000001",
    vpcId: "vpc-00000000000000001",
    subnetId: "subnet-00000000000000001",
    ipAddress: "10.0.1.50",
    name: "db",
    description: "",
    virtualMac: "0e:00:00:00:00:01",
    members: null,
    status: "in-use",
    holder: { instanceId: b.id, vnicId: b.primaryVnicId, since: at, generation: 4 },
    generation: 4,
    contested: contestants === null ? null : { since: at, claimants: contestants.map(member) },
    eip: null,
    createdAt: at,
    updatedAt: at,
  };
}

const state = (havips: HaVip[], instances = [a, b, c]) =>
  stateOf(1, { vpcs: [], subnets: [], instances, havips, eips: [] });

test("claimants are named, and the one the fabric keeps is marked", () => {
  const h = havip([a, b]);
  assert.deepEqual(
    claimants(h, state([h])).map((x) => [x.name, x.vnicId, x.holder]),
    [
      ["vm-A", a.primaryVnicId, false],
      ["vm-B", b.primaryVnicId, true],
    ],
  );
  // An instance the console does not know (another project's view, or not loaded yet): its id.
  assert.equal(claimants(h, state([h], [b]))[0]?.name, a.id);
});

test("the headline names two or more claimants in a sentence", () => {
  const two = havip([a, b]);
  assert.equal(contestHeadline(two, state([two])), "vm-A and vm-B both hold 10.0.1.50");
  const three = havip([a, b, c]);
  assert.equal(contestHeadline(three, state([three])), "vm-A, vm-B and vm-C all hold 10.0.1.50");
  const odd = havip([a]);
  assert.equal(contestHeadline(odd, state([odd])), "Several instances hold 10.0.1.50 at once");
});

test("contestedHavips lists only the contested ones", () => {
  const calm = { ...havip(null), id: "havip-00000000000000002" };
  const torn = havip([a, b]);
  assert.deepEqual(
    contestedHavips(state([calm, torn])).map((h) => h.id),
    [torn.id],
  );
});
