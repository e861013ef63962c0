// GET /v1/havips/{id}/counters against havipd with its in-process fabric: a real announcement over loopback
// VXLAN is counted, the owner sees it, another project gets NotFound as for every tenant route.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { HaVip, Instance } from "@havip/control";
import { gratuitousArp } from "@havip/testkit";
import { VXLAN_HEADER_LEN, writeVxlanHeader } from "@havip/wire";
import { startDaemon } from "../daemon.ts";
import { resolveDatabase } from "../database-url.ts";
import { createLogging } from "../log.ts";
import type { HaVipCountersView } from "./havip-counters-route.ts";

const OPERATOR_TOKEN = "operator-token-for-counter-tests";
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the answer's shape
type Call = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; json: T }>;

function client(url: string, token: string | null): Call {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- as Call
  return async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, json: (text === "" ? null : JSON.parse(text)) as T };
  };
}

test("a HAVIP's counters: the owner and the operator read them, other projects get NotFound", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "havipd-counters-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const d = await startDaemon(
    {
      listen: { host: "127.0.0.1", port: 0 },
      dataDir,
      database: resolveDatabase(undefined, dataDir),
      logLevel: "silent",
      logFormat: "json",
      operatorTokenFromEnv: OPERATOR_TOKEN,
      fabricListen: { host: "127.0.0.1", port: 0 },
      fabricAgent: null,
    },
    createLogging("silent", "json", { write: () => undefined }),
  );
  cleanups.push(() => d.stop());
  const op = client(d.url, OPERATOR_TOKEN);
  const owner = client(d.url, (await op<{ token: string }>("POST", "/v1/projects", { name: "owner" })).json.token);
  const other = client(d.url, (await op<{ token: string }>("POST", "/v1/projects", { name: "other" })).json.token);

  const vpc = (await owner<{ id: string }>("POST", "/v1/vpcs", { cidr: "10.0.0.0/16", region: "r1" })).json;
  const subnet = (
    await owner<{ id: string }>("POST", "/v1/subnets", { vpcId: vpc.id, cidr: "10.0.1.0/24", zone: "z1" })
  ).json;
  const vm = (await owner<Instance>("POST", "/v1/instances", { name: "vm-A", subnetId: subnet.id })).json;
  const havip = (await owner<HaVip>("POST", "/v1/havips", { subnetId: subnet.id, ipAddress: "10.0.1.50" })).json;
  const path = `/v1/havips/${havip.id}/counters`;

  const before = await owner<HaVipCountersView>("GET", path);
  assert.equal(before.status, 200);
  assert.equal(before.json.havipId, havip.id);
  assert.equal(before.json.claims, 0);
  assert.equal(before.json.holderVnicId, null);

  // vm-A announces the HAVIP from its VXLAN peer (a UDP socket on loopback).
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        socket.close(() => {
          resolve();
        });
      }),
  );
  const attached = await op("PUT", `/v1/fabric/attachments/${vm.primaryVnicId}`, {
    remoteAddress: "127.0.0.1",
    remotePort: socket.address().port,
    vni: 300,
  });
  assert.equal(attached.status, 200);
  const frame = gratuitousArp({ mac: vm.vnics[0]!.macAddress, ip: havip.ipAddress });
  const datagram = new Uint8Array(VXLAN_HEADER_LEN + frame.length);
  writeVxlanHeader(datagram, 0, 300);
  datagram.set(frame, VXLAN_HEADER_LEN);
  socket.send(datagram, d.fabric.vxlan!.port, "127.0.0.1");

  let seen: HaVipCountersView | undefined;
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    const r = await owner<HaVipCountersView>("GET", path);
    if (r.json.claims > 0) {
      seen = r.json;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(seen, "the announcement was counted");
  assert.equal(seen.holderVnicId, vm.primaryVnicId);
  assert.equal(seen.generation, 1);
  assert.equal(seen.holderChanges, 1);
  assert.equal(seen.deniedClaims, 0);
  assert.ok(!Number.isNaN(Date.parse(seen.at)));

  const asOperator = await op<HaVipCountersView>("GET", path);
  assert.equal(asOperator.status, 200);
  assert.equal(asOperator.json.claims, seen.claims);

  const foreign = await other<{ error: { code: string } }>("GET", path);
  assert.equal(foreign.status, 404);
  assert.equal(foreign.json.error.code, "NotFound");
  assert.equal((await client(d.url, null)("GET", path)).status, 401);
  assert.equal((await client(d.url, "not-a-token")("GET", path)).status, 401);
  const badId = await owner<{ error: { code: string } }>("GET", "/v1/havips/eip-00000000000000000/counters");
  assert.equal(badId.status, 400);
  assert.equal(badId.json.error.code, "InvalidId");
  assert.equal((await owner("GET", `${path}?x=1`)).status, 400, "unknown query parameters are refused");
});
