// The agent protocol end to end in one process: an agent on a Unix socket with its VXLAN port set on
// loopback, havipd's client, and UDP sockets standing in for the instances' VXLAN devices.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { SpecError, type NetworkSpec, type Observation } from "@havip/fabric";
import { CountingPort, gratuitousArp, tcpFrame } from "@havip/testkit";
import { VXLAN_HEADER_LEN, readVni, writeVxlanHeader } from "@havip/wire";
import { startFabricAgent, type FabricAgent } from "./fabric-agent.ts";
import { AgentError, RemoteFabric } from "./remote-fabric.ts";

const VNICS = [
  { id: "eni-a", mac: "02:00:00:00:01:0b", ip: "10.0.1.11", vni: 101 },
  { id: "eni-b", mac: "02:00:00:00:01:0c", ip: "10.0.1.12", vni: 102 },
  { id: "eni-c", mac: "02:00:00:00:01:0d", ip: "10.0.1.13", vni: 103 },
] as const;
const HAVIP = { id: "havip-web", ip: "10.0.1.50", virtualMac: "02:00:00:00:aa:01" };

const SPEC: NetworkSpec = {
  routerMac: "02:00:00:00:00:01",
  internet: null,
  vpcs: [{ id: "vpc-a", cidr: "10.0.0.0/16" }],
  subnets: [{ id: "subnet-a", vpcId: "vpc-a", cidr: "10.0.1.0/24", gatewayIp: "10.0.1.1", broadcast: "auto" }],
  vnics: VNICS.map((v) => ({ id: v.id, subnetId: "subnet-a", mac: v.mac, ip: v.ip, port: v.id })),
  havips: [{ ...HAVIP, subnetId: "subnet-a", members: null }],
  eips: [],
};

const until = async <T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> => {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe("the fabric agent over a Unix socket", () => {
  let dir: string;
  let agent: FabricAgent;
  let remote: RemoteFabric;
  const vteps = new Map<string, { socket: dgram.Socket; port: number; got: { vni: number; frame: Uint8Array }[] }>();
  const observations: Observation[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "havip-agent-"));
    agent = await startFabricAgent({ socketPath: join(dir, "fabric.sock"), vxlan: { host: "127.0.0.1", port: 0 } });
    remote = await RemoteFabric.connect(join(dir, "fabric.sock"));
    remote.onObservation((o) => observations.push(o));
    for (const v of VNICS) {
      const socket = dgram.createSocket("udp4");
      const got: { vni: number; frame: Uint8Array }[] = [];
      socket.on("message", (msg) => got.push({ vni: readVni(msg, 0), frame: new Uint8Array(msg.subarray(8)) }));
      await new Promise<void>((resolve) => {
        socket.bind(0, "127.0.0.1", resolve);
      });
      vteps.set(v.id, { socket, port: socket.address().port, got });
    }
  });
  after(async () => {
    remote.close();
    await agent.close();
    for (const v of vteps.values()) v.socket.close();
    await rm(dir, { recursive: true, force: true });
  });

  const send = (vnic: (typeof VNICS)[number], frame: Uint8Array) => {
    const buf = new Uint8Array(VXLAN_HEADER_LEN + frame.length);
    writeVxlanHeader(buf, 0, vnic.vni);
    buf.set(frame, VXLAN_HEADER_LEN);
    vteps.get(vnic.id)!.socket.send(buf, remote.hello.vxlan!.port, "127.0.0.1");
  };
  const [A, B, C] = VNICS;

  test("hello names the protocol version and the VXLAN address", () => {
    assert.equal(remote.hello.version, 5); // 5: ping, holders, verify
    assert.equal(typeof remote.hello.veth, "boolean");
    assert.equal(remote.hello.vxlan?.address, "127.0.0.1");
    assert.equal(remote.hello.vxlan.port, agent.vxlan?.port);
  });

  test("spec and attachments through the socket; announcements come back as observations", async () => {
    await remote.applySpec(SPEC);
    for (const v of VNICS) {
      await remote.attach(v.id, { remoteAddress: "127.0.0.1", remotePort: vteps.get(v.id)!.port, vni: v.vni });
    }
    send(A, gratuitousArp({ mac: A.mac, ip: HAVIP.ip }));
    const changed = await until("holder-changed", () => observations.find((o) => o.kind === "holder-changed"));
    assert.deepEqual(
      [changed.kind, changed.havipId, "vnicId" in changed && changed.vnicId],
      ["holder-changed", HAVIP.id, A.id],
    );

    for (const v of vteps.values()) v.got.length = 0; // the announcement was flooded to the subnet
    send(
      C,
      tcpFrame({ srcMac: C.mac, dstMac: HAVIP.virtualMac, src: C.ip, dst: HAVIP.ip, srcPort: 40000, dstPort: 80 }),
    );
    const delivered = await until("delivery to vm-A", () => vteps.get(A.id)!.got[0]);
    assert.equal(delivered.vni, A.vni);
    // vm-B gets nothing of it (the fabric's verification probes, ARP, may reach it: it is a member).
    assert.deepEqual(
      vteps.get(B.id)!.got.filter((g) => !(g.frame[12] === 0x08 && g.frame[13] === 0x06)),
      [],
    );
    const counters = await remote.counters();
    assert.equal(counters.fabric.havips[HAVIP.id]?.holderVnicId, A.id);
    assert.ok((counters.vxlan?.rxDatagrams ?? 0) >= 2);
  });

  test("an observation that a request causes reaches the client before that request's answer", async () => {
    // Observations are written after the current batch of frames (a microtask), but never after an answer
    // that follows them: havipd relies on seeing them in the order they happened.
    // The order on the wire, read by a raw client (a parsing client could not tell the two apart in one read).
    const raw = connect(join(dir, "fabric.sock"));
    raw.setEncoding("utf8");
    let lines = "";
    raw.on("data", (c: string) => (lines += c));
    const answerTo = (id: number) =>
      until(`the answer to ${id}`, () => (lines.includes(`"id":${id},`) ? true : undefined));
    raw.write(`${JSON.stringify({ id: 1, op: "hello", version: 5 })}\n`);
    await answerTo(1);
    const change = { op: "upsert", kind: "havip", value: { ...SPEC.havips[0]!, members: [B.id, C.id] } };
    raw.write(`${JSON.stringify({ id: 2, op: "apply-changes", changes: [change] })}\n`);
    await answerTo(2);
    raw.destroy();
    const seen = lines
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id?: number; event?: string; observation?: Observation });
    const released = seen.findIndex((m) => m.observation?.kind === "holder-released");
    const answer = seen.findIndex((m) => m.id === 2);
    assert.ok(released >= 0, "holder-released was sent");
    assert.ok(released < answer, `holder-released (line ${released}) before the answer (line ${answer})`);
    // As before: everyone may claim it, and vm-A holds it again.
    await remote.applyChanges([{ op: "upsert", kind: "havip", value: SPEC.havips[0]! }]);
    send(A, gratuitousArp({ mac: A.mac, ip: HAVIP.ip }));
    await until("vm-A holds it again", () => (agent.fabric.holderOf(HAVIP.id)?.vnicId === A.id ? true : undefined));
  });

  test("a refused change answers SpecError with the problems, and changes nothing", async () => {
    await assert.rejects(
      remote.applyChanges([
        { op: "upsert", kind: "vnic", value: { ...SPEC.vnics[0]!, id: "eni-x", port: "p-x", subnetId: "nope" } },
      ]),
      (e: unknown) => e instanceof SpecError && e.problems.length > 0,
    );
    assert.equal(agent.fabric.holderOf(HAVIP.id)?.vnicId, A.id);
    await remote.applyChanges([{ op: "delete", kind: "havip", id: HAVIP.id }]);
    assert.equal(agent.fabric.holderOf(HAVIP.id), null);
    await remote.detach(C.id);
    await assert.rejects(
      remote.attach(C.id, { remoteAddress: "127.0.0.1", remotePort: vteps.get(A.id)!.port, vni: A.vni }),
      (e: unknown) => e instanceof AgentError && /already attached/.test(e.message),
    );
  });

  test("a veth attachment to an interface that is not there is refused, and leaves the port detached", async () => {
    await assert.rejects(
      remote.attach(C.id, { kind: "veth", interface: "hvnone0" }),
      (e: unknown) => e instanceof AgentError && /cannot attach interface hvnone0/.test(e.message),
    );
    assert.equal((await remote.counters()).packet, null);
  });

  test("ping is answered at once with {}", async () => {
    await remote.ping();
    const raw = connect(join(dir, "fabric.sock"));
    raw.setEncoding("utf8");
    let lines = "";
    raw.on("data", (c: string) => (lines += c));
    raw.write(`${JSON.stringify({ id: 1, op: "hello", version: 5 })}\n${JSON.stringify({ id: 2, op: "ping" })}\n`);
    await until("the pong", () => (lines.includes(`"id":2,`) ? true : undefined));
    raw.destroy();
    assert.deepEqual(JSON.parse(lines.trim().split("\n")[1]!), { id: 2, ok: true, result: {} });
  });

  test("another protocol version is refused; a line that is not JSON makes the agent hang up", async () => {
    const socketPath = join(dir, "fabric.sock");
    const raw = connect(socketPath);
    raw.setEncoding("utf8");
    let answer = "";
    raw.on("data", (c: string) => (answer += c));
    raw.write(`${JSON.stringify({ id: 1, op: "hello", version: 99 })}\n`);
    await until("an answer", () => (answer.includes("\n") ? answer : undefined));
    assert.match(answer, /"ok":false.*protocol version 99/);
    raw.write("not json\n");
    await until("the hang-up", () => (raw.destroyed || raw.readableEnded ? true : undefined));
    raw.destroy();
    await assert.rejects(RemoteFabric.connect(join(dir, "missing.sock")));
  });
});

test("havipd hears when the agent goes away; requests then fail at once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "havip-agent-"));
  try {
    const agent = await startFabricAgent({ socketPath: join(dir, "a.sock"), vxlan: null });
    const remote = await RemoteFabric.connect(join(dir, "a.sock"));
    assert.equal(remote.hello.vxlan, null);
    const closed = new Promise<void>((resolve) => {
      remote.onClose(resolve);
    });
    await agent.close();
    await closed;
    await assert.rejects(remote.counters(), AgentError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("with observationDelayMs, havipd hears of a holder change later, but never after an answer", async () => {
  const dir = await mkdtemp(join(tmpdir(), "havip-agent-"));
  const agent = await startFabricAgent({ socketPath: join(dir, "d.sock"), vxlan: null, observationDelayMs: 400 });
  const remote = await RemoteFabric.connect(join(dir, "d.sock"));
  try {
    const seen: Observation[] = [];
    remote.onObservation((o) => seen.push(o));
    await remote.applySpec(SPEC);
    const [A, B] = VNICS;
    for (const v of [A, B]) agent.fabric.attachPort(new CountingPort(v.id));
    const holderIs = (o: Observation | undefined, vnicId: string) =>
      o?.kind === "holder-changed" && o.vnicId === vnicId;

    agent.fabric.receive(A.id, gratuitousArp({ mac: A.mac, ip: HAVIP.ip }));
    assert.equal(agent.fabric.holderOf(HAVIP.id)?.vnicId, A.id, "the fabric re-points at once");
    await sleep(150);
    assert.equal(seen.length, 0, "havipd is told only after the delay");
    await until("the delayed observation", () => (holderIs(seen[0], A.id) ? true : undefined));

    // An answer written meanwhile takes what waits with it, first.
    agent.fabric.receive(B.id, gratuitousArp({ mac: B.mac, ip: HAVIP.ip }));
    await remote.counters();
    assert.ok(holderIs(seen.at(-1), B.id), "the holder change arrived before the answer");
    assert.equal(seen.length, 2);
  } finally {
    remote.close();
    await agent.close(); // clears a timer still pending
    await rm(dir, { recursive: true, force: true });
  }
});

test("with receiveModeration, a burst at the VXLAN socket is read a hold later; without, at once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "havip-agent-"));
  const sender = dgram.createSocket("udp4");
  const agents: { agent: FabricAgent; remote: RemoteFabric }[] = [];
  try {
    for (const moderation of [{ holdUs: 50_000, minFrames: 4 }, undefined]) {
      const socketPath = join(dir, `m${agents.length}.sock`);
      const agent = await startFabricAgent({
        socketPath,
        vxlan: { host: "127.0.0.1", port: 0 },
        ...(moderation === undefined ? {} : { receiveModeration: moderation }),
      });
      const remote = await RemoteFabric.connect(socketPath);
      agents.push({ agent, remote });
      if (agent.io !== "batch") return; // moderation is the addon's: batch-socket.test.ts says loudly it is missing
      const datagram = new Uint8Array(VXLAN_HEADER_LEN + 60);
      writeVxlanHeader(datagram, 0, 4242); // no such VNI: counted and dropped, enough to be read
      for (let i = 0; i < 8; i++) sender.send(datagram, agent.vxlan!.port, "127.0.0.1");
      const counters = await until("the burst read", async () => {
        const c = (await remote.counters()).vxlan!;
        return c.rxDatagrams >= 8 ? c : undefined;
      });
      if (moderation === undefined) assert.equal(counters.rxHolds, 0);
      else assert.ok(counters.rxHolds >= 1, JSON.stringify(counters));
    }
  } finally {
    sender.close();
    for (const { agent, remote } of agents) {
      remote.close();
      await agent.close();
    }
    await rm(dir, { recursive: true, force: true });
  }
});
