// One capture on a fabric: it ends at `count` frames, at the timeout, at the byte budget (truncated), or when
// cancelled, and removes its tap when it ends.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Fabric, UnknownCaptureTarget, type NetworkSpec } from "@havip/fabric";
import { MemoryPort, gratuitousArp } from "@havip/testkit";
import { readPcap } from "@havip/wire";
import { runCapture } from "./capture-session.ts";

const A = { id: "eni-a", mac: "02:00:00:00:01:0b", ip: "10.0.1.11", port: "p-a", subnetId: "s" };
const B = { id: "eni-b", mac: "02:00:00:00:01:0c", ip: "10.0.1.12", port: "p-b", subnetId: "s" };
const SPEC: NetworkSpec = {
  routerMac: "02:00:00:00:00:01",
  vpcs: [{ id: "vpc", cidr: "10.0.0.0/16" }],
  subnets: [{ id: "s", vpcId: "vpc", cidr: "10.0.1.0/24", gatewayIp: "10.0.1.1", broadcast: "auto" }],
  vnics: [A, B],
  havips: [{ id: "havip-web", subnetId: "s", ip: "10.0.1.50", virtualMac: "02:00:00:00:aa:01" }],
  eips: [],
};

function fabric() {
  const f = new Fabric(SPEC);
  const a = new MemoryPort(A.port);
  const b = new MemoryPort(B.port);
  f.attachPort(a);
  f.attachPort(b);
  const announce = () => {
    a.inject(gratuitousArp({ mac: A.mac, ip: "10.0.1.50" }));
  };
  return { f, a, b, announce };
}

test("ends after count frames and stops recording", async () => {
  const { f, announce } = fabric();
  const ended = runCapture(f, { target: { kind: "port", portId: A.port }, count: 2, timeoutMs: 10_000 });
  for (let i = 0; i < 5; i++) announce();
  const r = await ended;
  assert.equal(r.frames, 2);
  assert.equal(r.truncated, false);
  assert.equal(readPcap(r.pcap).records.length, 2);
});

test("ends at the timeout with what it has", async () => {
  const { f, announce } = fabric();
  const ended = runCapture(f, { target: { kind: "havip", havipId: "havip-web" }, count: 100, timeoutMs: 30 });
  announce(); // rx on A, flooded to B: two frames carrying the HAVIP's address
  const r = await ended;
  assert.equal(r.frames, 2);
  announce();
  assert.equal((await ended).frames, 2, "nothing recorded after the end");
});

test("ends when its signal aborts, with what it recorded; an aborted signal ends it at once", async () => {
  const { f, announce } = fabric();
  const cancel = new AbortController();
  const target = { kind: "port", portId: A.port } as const;
  const ended = runCapture(f, { target, count: 100, timeoutMs: 60_000, signal: cancel.signal });
  announce();
  const started = performance.now();
  cancel.abort();
  const r = await ended;
  assert.ok(performance.now() - started < 1000, "not at the timeout");
  assert.equal(r.frames, 1);
  announce();
  assert.equal((await ended).frames, 1, "nothing recorded after the end");
  const before = runCapture(f, { target, count: 100, timeoutMs: 60_000, signal: AbortSignal.abort() });
  announce();
  assert.equal((await before).frames, 0);
});

test("ends, truncated, when the next frame would pass the byte budget", async () => {
  const { f, announce } = fabric();
  // The file header (24) and one record (16 + 42) fit in 100 bytes; a second record does not.
  const ended = runCapture(f, { target: { kind: "port", portId: A.port }, count: 10, timeoutMs: 10_000 }, 100);
  announce();
  announce();
  const r = await ended;
  assert.deepEqual([r.frames, r.truncated, r.pcap.length], [1, true, 24 + 16 + 42]);
});

test("a HAVIP the fabric does not know is refused at once", () => {
  const { f } = fabric();
  assert.throws(
    () => runCapture(f, { target: { kind: "havip", havipId: "havip-nope" }, count: 1, timeoutMs: 10 }),
    UnknownCaptureTarget,
  );
});
