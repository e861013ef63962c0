// Attaching an API instance to the lab: eth0 gets the vNIC's addresses and its VPC's MTU (against a fake API
// and a fake lab: no namespaces needed).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { InstanceSpec, Lab } from "@havip/lab";
import { ApiClient } from "../client.ts";
import { subnet, vmA, vpc } from "../fixtures.ts";
import { fakeFetch, type RecordedRequest, type Route } from "../testing.ts";
import { attachApiInstance, attachmentBody } from "./lab-instance.ts";

function fakeLab(): { lab: Lab; attached: InstanceSpec[] } {
  const attached: InstanceSpec[] = [];
  const lab = {
    state: { instances: [] },
    attachInstance(spec: InstanceSpec) {
      attached.push(spec);
      return Promise.resolve({
        ...spec,
        mtu: spec.mtu ?? 1500,
        endpoint:
          spec.attach === "veth"
            ? { kind: "veth", interface: `vt${spec.vni}` }
            : { address: "192.0.2.1", port: 4789, vni: spec.vni },
      });
    },
  } as unknown as Lab;
  return { lab, attached };
}

interface Recorded {
  attachments?: Record<string, unknown>[];
  internet?: Record<string, unknown> | null;
}

function api(vpcMtu: number, recorded: Recorded = {}): { client: ApiClient; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const route: Route = (r) => {
    if (r.path === `/v1/instances/${vmA.id}`) return { status: 200, body: vmA };
    if (r.path === `/v1/subnets/${subnet.id}`) return { status: 200, body: subnet };
    if (r.path === `/v1/vpcs/${vpc.id}`) return { status: 200, body: { ...vpc, mtu: vpcMtu } };
    if (r.path === "/v1/fabric/attachments" && r.method === "GET") {
      return { status: 200, body: { items: recorded.attachments ?? [] } };
    }
    if (r.path === "/v1/fabric/internet" && r.method === "GET") {
      return { status: 200, body: { internet: recorded.internet ?? null } };
    }
    if (r.path.startsWith("/v1/fabric/attachments/") && r.method === "PUT") return { status: 200, body: {} };
    return undefined;
  };
  return { client: new ApiClient("http://127.0.0.1:1", "op", fakeFetch(route, requests)), requests };
}

test("an attached instance's eth0 takes its VPC's MTU", async () => {
  for (const mtu of [8950, 1500, 1280]) {
    const { lab, attached } = fakeLab();
    const { client, requests } = api(mtu);
    const result = await attachApiInstance(lab, client, vmA.id);
    const [spec] = attached;
    assert.ok(spec !== undefined && attached.length === 1);
    assert.equal(spec.mtu, mtu);
    assert.equal(spec.ip, "10.0.1.2");
    assert.equal(result.attached.mtu, mtu);
    assert.ok(requests.some((r) => r.method === "PUT" && r.path === `/v1/fabric/attachments/${vmA.primaryVnicId}`));
  }
});

test("attached by veth: the lab makes a veth pair and havipd is told the fabric end's interface", async () => {
  const { lab, attached } = fakeLab();
  const { client, requests } = api(1500);
  const result = await attachApiInstance(lab, client, vmA.id, "veth");
  assert.equal(attached[0]?.attach, "veth");
  assert.deepEqual(result.attached.endpoint, { kind: "veth", interface: "vt5001" });
  const put = requests.find((r) => r.method === "PUT");
  assert.deepEqual(put?.body, { interface: "vt5001" });
});

test("the attachment body: VXLAN fields for a VXLAN endpoint, the interface for a veth one", () => {
  assert.deepEqual(attachmentBody({ address: "169.254.77.2", port: 4789, vni: 7 }), {
    remoteAddress: "169.254.77.2",
    remotePort: 4789,
    vni: 7,
  });
  assert.deepEqual(attachmentBody({ kind: "veth", interface: "vt7" }), { interface: "vt7" });
});

const underlay = { remoteAddress: "169.254.77.2", remotePort: 4789 };

test("a vNIC havipd has an attachment for keeps its VNI (a lab record lost, havipd's kept)", async () => {
  const { lab, attached } = fakeLab();
  const { client } = api(1500, {
    attachments: [
      { vnicId: "vnic-other", ...underlay, vni: 5001 },
      { vnicId: vmA.primaryVnicId, ...underlay, vni: 5003 },
    ],
    internet: { ...underlay, vni: 5002 },
  });
  await attachApiInstance(lab, client, vmA.id);
  assert.equal(attached[0]?.vni, 5003);
});

test("a new vNIC gets the lowest VNI that no attachment and not the internet edge uses", async () => {
  const { lab, attached } = fakeLab();
  const { client } = api(1500, {
    attachments: [{ vnicId: "vnic-other", ...underlay, vni: 5001 }],
    internet: { ...underlay, vni: 5002 },
  });
  await attachApiInstance(lab, client, vmA.id);
  assert.equal(attached[0]?.vni, 5003, "5002 is the internet edge's: attaching it there would clash");
});

test("a recorded VNI from elsewhere than the lab's underlay is not reused", async () => {
  const { lab, attached } = fakeLab();
  const { client } = api(1500, {
    attachments: [{ vnicId: vmA.primaryVnicId, remoteAddress: "192.0.2.9", remotePort: 4789, vni: 7000 }],
  });
  await attachApiInstance(lab, client, vmA.id);
  assert.equal(attached[0]?.vni, 5001);
});
