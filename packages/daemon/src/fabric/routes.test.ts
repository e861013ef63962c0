// havipd with its in-process fabric, end to end over loopback: vNICs attached through the operator endpoints
// as VXLAN peers (UDP sockets here), announcements through the fabric, and the API following within ms.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { HaVip, HolderHistoryEntry, Instance, Page } from "@havip/control";
import { Vtep, checkFrame, gratuitousArp, ip, tcpFrame } from "@havip/testkit";
import { startDaemon, type RunningDaemon } from "../daemon.ts";
import { createLogging } from "../log.ts";
import { startFabricAgent } from "../agent/fabric-agent.ts";
import type { FabricLocalState } from "./local-state.ts";
import { daemonOptions, until, type Mode } from "../test-support.ts";

const OPERATOR_TOKEN = "operator-token-for-fabric-tests";
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A loopback VTEP (test-support's), closed after the suite. */
async function openVtep(): Promise<Vtep> {
  const v = await new Vtep().open();
  cleanups.push(() => v.close());
  return v;
}

async function daemon(dataDir: string, mode: Mode = "in-process"): Promise<RunningDaemon> {
  const options = daemonOptions(dataDir, mode, "silent", OPERATOR_TOKEN);
  const d = await startDaemon(options, createLogging("silent", "json", { write: () => undefined }));
  cleanups.push(() => d.stop());
  return d;
}

interface Reply<T> {
  status: number;
  json: T;
}
type Call = <T = { error: { code: string } }>(method: string, path: string, body?: unknown) => Promise<Reply<T>>;
interface Counters {
  fabric: { havips: Record<string, { holderVnicId: string | null; holderChanges: number; generation: number }> };
  vxlan: { rxDatagrams: number };
}
interface Listing {
  items: unknown[];
}

function client(d: RunningDaemon, token: string | null): Call {
  return async <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(`${d.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, json: (text === "" ? null : JSON.parse(text)) as T };
  };
}

async function scenario(mode: Mode): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "havipd-fabric-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  if (mode === "agent") {
    // The agent outlives havipd's restarts, as in the lab's fabric namespace.
    const agent = await startFabricAgent({
      socketPath: join(dataDir, "agent.sock"),
      vxlan: { host: "127.0.0.1", port: 0 },
    });
    cleanups.push(() => agent.close());
  }
  const d1 = await daemon(dataDir, mode);
  assert.ok(d1.fabric.vxlan !== null && d1.fabric.vxlan.port > 0);
  const op = client(d1, OPERATOR_TOKEN);

  const project = await op<{ token: string }>("POST", "/v1/projects", { name: "seed" });
  assert.equal(project.status, 201);
  const api = client(d1, project.json.token);
  const vpc = (await api<{ id: string }>("POST", "/v1/vpcs", { cidr: "10.0.0.0/16", region: "r1" })).json;
  const subnet = (await api<{ id: string }>("POST", "/v1/subnets", { vpcId: vpc.id, cidr: "10.0.1.0/24", zone: "z1" }))
    .json;
  const vm = async (name: string, ipAddress: string) =>
    (await api<Instance>("POST", "/v1/instances", { name, subnetId: subnet.id, ipAddress })).json;
  const [a, b, c] = [await vm("vm-A", "10.0.1.11"), await vm("vm-B", "10.0.1.12"), await vm("vm-C", "10.0.1.13")];
  const havip = (await api<HaVip>("POST", "/v1/havips", { subnetId: subnet.id, ipAddress: "10.0.1.50" })).json;

  // Auth and errors follow the API's conventions.
  assert.equal((await client(d1, null)("GET", "/v1/fabric/attachments")).status, 401);
  const forbidden = await api("GET", "/v1/fabric/counters");
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.json.error.code, "Forbidden");
  const vtepOf = new Map<string, Vtep>();
  const vni = new Map([
    [a.primaryVnicId, 100],
    [b.primaryVnicId, 101],
    [c.primaryVnicId, 102],
  ]);
  for (const i of [a, b, c]) vtepOf.set(i.primaryVnicId, await openVtep());
  const bad = await op("PUT", `/v1/fabric/attachments/${a.primaryVnicId}`, { remoteAddress: "x", vni: 1 });
  assert.equal(bad.json.error.code, "InvalidParameter");
  const unknown = await op("PUT", "/v1/fabric/attachments/eni-00000000000000000", {
    remoteAddress: "127.0.0.1",
    vni: 7,
  });
  assert.equal(unknown.status, 404);
  assert.equal((await op("PUT", "/v1/fabric/attachments/i-1", { remoteAddress: "127.0.0.1", vni: 7 })).status, 400);
  assert.equal((await op("DELETE", "/v1/fabric/attachments/eni-00000000000000000")).status, 404);

  for (const i of [a, b, c]) {
    const r = await op("PUT", `/v1/fabric/attachments/${i.primaryVnicId}`, {
      remoteAddress: "127.0.0.1",
      remotePort: vtepOf.get(i.primaryVnicId)!.port,
      vni: vni.get(i.primaryVnicId),
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  const taken = await op<{ error: { code: string; message: string } }>(
    "PUT",
    `/v1/fabric/attachments/${c.primaryVnicId}`,
    {
      remoteAddress: "127.0.0.1",
      remotePort: vtepOf.get(a.primaryVnicId)!.port,
      vni: 100,
    },
  );
  assert.equal(taken.json.error.code, "InvalidParameter", "one VNI and peer per vNIC");
  assert.match(taken.json.error.message, new RegExp(`already the attachment of vNIC ${a.primaryVnicId}`));
  // The veth form: validated; an interface the fabric cannot open is refused and the VXLAN one stays.
  const aPath = `/v1/fabric/attachments/${a.primaryVnicId}`;
  for (const body of [
    { interface: "no/slash" },
    { interface: "sixteen-chars-xx" },
    { kind: "veth", interface: "vt1", vni: 1 },
    { kind: "tap", interface: "vt1" },
    { kind: "vxlan", interface: "vt1" },
  ]) {
    const r = await op("PUT", aPath, body);
    assert.equal(r.json.error.code, "InvalidParameter", JSON.stringify(body));
  }
  const missing = await op<{ error: { code: string; message: string } }>("PUT", aPath, { interface: "hvnone0" });
  assert.equal(missing.json.error.code, "InvalidParameter");
  assert.match(missing.json.error.message, /cannot attach interface hvnone0/);
  const listed = (
    await op<{ items: { vnicId: string; vni?: number; kind?: string }[] }>("GET", "/v1/fabric/attachments")
  ).json.items;
  assert.equal(listed.length, 3);
  assert.deepEqual(
    listed.filter((x) => x.vnicId === a.primaryVnicId).map((x) => [x.kind, x.vni]),
    [[undefined, 100]],
  );

  const send = (d: RunningDaemon, i: Instance, frame: Uint8Array) => {
    vtepOf.get(i.primaryVnicId)!.send(d.fabric.vxlan!.port, vni.get(i.primaryVnicId)!, frame);
  };
  const garp = (d: RunningDaemon, i: Instance) => {
    send(d, i, gratuitousArp({ mac: i.vnics[0]!.macAddress, ip: havip.ipAddress }));
  };
  const holderShown = (call: Call, vnicId: string) =>
    until(`holder ${vnicId}`, async () => {
      const h = (await call<HaVip>("GET", `/v1/havips/${havip.id}`)).json;
      return h.holder?.vnicId === vnicId ? h : undefined;
    });
  /** vm-C → 10.0.1.50; resolves with the instance whose VTEP received it. */
  const clientRequest = async (d: RunningDaemon): Promise<string> => {
    for (const v of vtepOf.values()) v.received.length = 0;
    const cv = c.vnics[0]!;
    send(
      d,
      c,
      tcpFrame({
        srcMac: cv.macAddress,
        dstMac: havip.virtualMac,
        src: cv.ipAddress,
        dst: havip.ipAddress,
        srcPort: 40000,
        dstPort: 80,
      }),
    );
    return until("delivery", () => {
      for (const [vnicId, v] of vtepOf) {
        const got = v.received[0];
        if (got === undefined) continue;
        assert.equal(got.vni, vni.get(vnicId));
        assert.equal(checkFrame(got.frame).ip?.dst, ip(havip.ipAddress));
        return Promise.resolve(vnicId);
      }
      return Promise.resolve(undefined);
    });
  };

  let t0 = performance.now();
  garp(d1, a);
  assert.equal((await holderShown(api, a.primaryVnicId)).generation, 1);
  const firstMs = performance.now() - t0;
  assert.equal(await clientRequest(d1), a.primaryVnicId);

  t0 = performance.now();
  garp(d1, b);
  const afterFailover = await holderShown(api, b.primaryVnicId);
  const failoverMs = performance.now() - t0;
  assert.equal(afterFailover.generation, 2);
  assert.equal(afterFailover.status, "in-use");
  assert.equal(await clientRequest(d1), b.primaryVnicId);
  const history = (await api<Page<HolderHistoryEntry>>("GET", `/v1/havips/${havip.id}/history`)).json;
  assert.deepEqual(
    history.items.map((h) => [h.generation, h.vnicId]),
    [
      [1, a.primaryVnicId],
      [2, b.primaryVnicId],
    ],
  );
  assert.ok(failoverMs < 500, `API showed the new holder after ${failoverMs} ms`);
  const counters = (await op<Counters>("GET", "/v1/fabric/counters")).json;
  assert.equal(counters.fabric.havips[havip.id]?.holderChanges, 2);
  assert.equal(counters.fabric.havips[havip.id]?.generation, 2);
  assert.ok(counters.vxlan.rxDatagrams >= 4);
  console.log(
    `ℹ ${mode}: API showed the holder ${firstMs.toFixed(1)} ms after the GARP, the new one ${failoverMs.toFixed(1)} ms`,
  );

  // The internet edge: validated, applied, kept.
  const edge = { ip: "203.0.113.1", cidr: "203.0.113.0/24", gateway: "203.0.113.254", remoteAddress: "127.0.0.1" };
  const internetVtep = await openVtep();
  const badEdge = await op("PUT", "/v1/fabric/internet", { ...edge, cidr: "203.0.113.0/33", vni: 200 });
  assert.equal(badEdge.json.error.code, "InvalidParameter");
  const okEdge = await op("PUT", "/v1/fabric/internet", { ...edge, remotePort: internetVtep.port, vni: 200 });
  assert.equal(okEdge.status, 200, JSON.stringify(okEdge.json));
  assert.equal((await op("PUT", "/v1/fabric/internet", { ...edge, vni: 200, extra: 1 })).status, 400);

  // Restart: attachments come back from the data directory, the holder from the store.
  await d1.stop();
  const saved = JSON.parse(await readFile(join(dataDir, "fabric.json"), "utf8")) as FabricLocalState;
  assert.equal(Object.keys(saved.attachments).length, 3);
  const d2 = await daemon(dataDir, mode);
  const op2 = client(d2, OPERATOR_TOKEN);
  assert.equal((await op2<Listing>("GET", "/v1/fabric/attachments")).json.items.length, 3);
  const restored = (await op2<Counters>("GET", "/v1/fabric/counters")).json.fabric.havips[havip.id];
  assert.deepEqual([restored?.holderVnicId, restored?.generation], [b.primaryVnicId, 2]);
  assert.equal(await clientRequest(d2), b.primaryVnicId, "forwarding restored without a new announcement");
  const restoredEdge = await op2<{ internet: { ip: string; vni: number } | null }>("GET", "/v1/fabric/internet");
  assert.deepEqual([restoredEdge.json.internet?.ip, restoredEdge.json.internet?.vni], ["203.0.113.1", 200]);
  assert.equal((await op2("DELETE", `/v1/fabric/attachments/${c.primaryVnicId}`)).status, 204);
  assert.equal((await op2<Listing>("GET", "/v1/fabric/attachments")).json.items.length, 2);
  const savedAfter = JSON.parse(await readFile(join(dataDir, "fabric.json"), "utf8")) as FabricLocalState;
  assert.equal(savedAfter.attachments[c.primaryVnicId], undefined);
}

test("havipd's fabric in-process: attachments, failover in the API within ms, counters, restart restores", () =>
  scenario("in-process"));

test("havipd driving a fabric agent over a Unix socket: the same, and the agent outlives havipd", () =>
  scenario("agent"));
