import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  ApiError,
  openControlService,
  type Actor,
  type ControlService,
  type HaVip,
  type Instance,
} from "@havip/control";
import { Fabric, type InternetSpec } from "@havip/fabric";
import { MemoryPort, checkFrame, gratuitousArp, ip, tcpFrame } from "@havip/testkit";
import { pino } from "pino";
import { startSpecSync, type SpecSync } from "./sync.ts";

const OPERATOR: Actor = { kind: "operator" };
const ROUTER_MAC = "02:00:00:00:00:01";
const INTERNET: InternetSpec = {
  port: "internet",
  mac: "02:00:00:00:ff:01",
  ip: "203.0.113.1",
  cidr: "203.0.113.0/24",
  gateway: null,
};
const HOST = { ip: "203.0.113.100", mac: "02:00:00:00:ee:64" };

interface World {
  svc: ControlService;
  actor: Actor;
  fabric: Fabric;
  sync: SpecSync;
  logs: Record<string, unknown>[];
  ports: Map<string, MemoryPort>;
  port(id: string): MemoryPort;
}

const open: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

async function service(): Promise<ControlService> {
  const svc = await openControlService({ databaseUrl: ":memory:", operatorToken: "op-token-for-tests-000000" });
  open.push(() => svc.close());
  return svc;
}

async function tenant(svc: ControlService): Promise<Actor> {
  const { project } = await svc.createProject(OPERATOR, { name: "t" });
  await svc.createEipPool(OPERATOR, { region: "r1", cidr: "198.51.100.0/24" });
  return { kind: "project", projectId: project.id };
}

async function world(svc: ControlService, actor: Actor): Promise<World> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line) as never) });
  const fabric = new Fabric();
  const sync = await startSpecSync(svc, fabric, { routerMac: ROUTER_MAC, internet: INTERNET }, logger);
  open.push(async () => {
    sync.stop();
    await Promise.resolve();
  });
  const ports = new Map<string, MemoryPort>();
  const port = (id: string) => {
    let p = ports.get(id);
    if (p === undefined) {
      p = new MemoryPort(id);
      ports.set(id, p);
      fabric.attachPort(p);
    }
    return p;
  };
  port(INTERNET.port);
  return { svc, actor, fabric, sync, logs, ports, port };
}

interface Seed {
  a: Instance;
  b: Instance;
  c: Instance;
  havip: HaVip;
  eipId: string;
  publicIp: string;
}

/** Seed 001: HAVIP 10.0.1.50 for vm-A and vm-B, vm-C a client of the subnet, an EIP bound to the HAVIP. */
async function seed(svc: ControlService, actor: Actor, members = false): Promise<Seed> {
  const vpc = await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1" });
  const subnet = await svc.createSubnet(actor, { vpcId: vpc.id, cidr: "10.0.1.0/24", zone: "z1" });
  const a = await svc.createInstance(actor, { name: "vm-A", subnetId: subnet.id, ipAddress: "10.0.1.11" });
  const b = await svc.createInstance(actor, { name: "vm-B", subnetId: subnet.id, ipAddress: "10.0.1.12" });
  const c = await svc.createInstance(actor, { name: "vm-C", subnetId: subnet.id, ipAddress: "10.0.1.13" });
  const havip = await svc.createHaVip(actor, {
    subnetId: subnet.id,
    ipAddress: "10.0.1.50",
    ...(members ? { members: [a.id, b.id] } : {}),
  });
  const eip = await svc.allocateEip(actor, { region: "r1" });
  await svc.associateEip(actor, eip.id, { havipId: havip.id });
  return { a, b, c, havip, eipId: eip.id, publicIp: eip.publicIp };
}

function vnicOf(i: Instance) {
  const v = i.vnics[0]!;
  return { id: v.id, mac: v.macAddress, ip: v.ipAddress };
}

function announce(w: World, i: Instance, havip: HaVip): void {
  const v = vnicOf(i);
  w.port(v.id).inject(gratuitousArp({ mac: v.mac, ip: havip.ipAddress }));
}

/** vm-C → the HAVIP (its virtual MAC, as vm-C's ARP cache has it): which port gets it? */
function clientToHavip(w: World, s: Seed): string[] {
  const c = vnicOf(s.c);
  for (const p of w.ports.values()) p.clear();
  w.port(c.id).inject(
    tcpFrame({
      srcMac: c.mac,
      dstMac: s.havip.virtualMac,
      src: c.ip,
      dst: s.havip.ipAddress,
      srcPort: 40000,
      dstPort: 80,
    }),
  );
  return [...w.ports.values()].filter((p) => p.delivered.length > 0).map((p) => p.id);
}

/** The internet host → the EIP: which port gets it, translated? */
function internetToEip(w: World, s: Seed): string[] {
  for (const p of w.ports.values()) p.clear();
  w.port(INTERNET.port).inject(
    tcpFrame({ srcMac: HOST.mac, dstMac: INTERNET.mac, src: HOST.ip, dst: s.publicIp, srcPort: 50000, dstPort: 80 }),
  );
  const got = [...w.ports.values()].filter((p) => p.delivered.length > 0);
  for (const p of got) assert.equal(checkFrame(p.delivered[0]!).ip?.dst, ip(s.havip.ipAddress), "translated");
  return got.map((p) => p.id);
}

describe("the fabric follows the control plane", () => {
  test("whole spec at start: the seed forwards after vm-A's GARP, and the API shows the holder", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    const s = await seed(svc, actor);
    const w = await world(svc, actor);
    const a = vnicOf(s.a);
    w.port(a.id);
    w.port(vnicOf(s.b).id);
    w.port(vnicOf(s.c).id);

    assert.deepEqual(clientToHavip(w, s), [], "no holder yet");
    assert.equal(w.fabric.lastOutcome().reason, "havip-no-holder");
    announce(w, s.a, s.havip);
    assert.deepEqual(clientToHavip(w, s), [a.id]);
    assert.deepEqual(internetToEip(w, s), [a.id], "the EIP reaches the holder");

    await w.sync.settled();
    const shown = await svc.getHaVip(actor, s.havip.id);
    assert.equal(shown.status, "in-use");
    assert.equal(shown.holder?.vnicId, a.id);
    assert.equal(shown.generation, 1);
    assert.equal(w.fabric.holderOf(s.havip.id)?.generation, 1);
  });

  test("incremental: resources created after start are forwarded; an unbound EIP stops NAT on the next frame", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    const w = await world(svc, actor);
    const s = await seed(svc, actor);
    const a = vnicOf(s.a);
    for (const i of [s.a, s.b, s.c]) w.port(vnicOf(i).id);

    announce(w, s.a, s.havip);
    assert.deepEqual(clientToHavip(w, s), [a.id]);
    assert.deepEqual(internetToEip(w, s), [a.id]);
    await svc.disassociateEip(actor, s.eipId);
    assert.deepEqual(internetToEip(w, s), []);
    assert.equal(w.fabric.lastOutcome().reason, "eip-unbound");
    await svc.releaseEip(actor, s.eipId);
    internetToEip(w, s);
    assert.notEqual(w.fabric.lastOutcome().reason, "eip-unbound", "a released EIP is gone from the fabric");

    // Deleting an instance removes its vNIC: its frames are no longer accepted.
    await w.sync.settled();
    await svc.deleteInstance(actor, s.c.id);
    clientToHavip(w, s);
    assert.equal(w.fabric.lastOutcome().reason, "unknown-port");
  });

  test("a VPC's MTU reaches the fabric, in the whole spec at start and in incremental changes", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    const jumbo = await svc.createVpc(actor, { cidr: "10.0.0.0/16", region: "r1", mtu: 8950 });
    const w = await world(svc, actor);
    const plain = await svc.createVpc(actor, { cidr: "10.1.0.0/16", region: "r1" });
    const small = await svc.createVpc(actor, { cidr: "10.2.0.0/16", region: "r1", mtu: 1280 });
    await w.sync.settled();
    const mtus = new Map(w.fabric.currentSpec().vpcs.map((v) => [v.id, v.mtu]));
    assert.deepEqual([mtus.get(jumbo.id), mtus.get(plain.id), mtus.get(small.id)], [8950, 1500, 1280]);
  });

  test("failover: vm-B's GARP moves forwarding at once; the API shows vm-B, generation +1, history", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    const w = await world(svc, actor);
    const s = await seed(svc, actor);
    const [a, b] = [vnicOf(s.a), vnicOf(s.b)];
    for (const i of [s.a, s.b, s.c]) w.port(vnicOf(i).id);

    announce(w, s.a, s.havip);
    announce(w, s.a, s.havip); // a refresh: no new generation
    // The control plane's confirmation of generation 2 comes back as a HAVIP upsert: applied in place.
    const apply = w.fabric.applyChanges.bind(w.fabric);
    let confirmed!: () => void;
    const confirmation = new Promise<void>((resolve) => (confirmed = resolve));
    w.fabric.applyChanges = (changes) => {
      apply(changes);
      if (changes.some((c) => c.op === "upsert" && c.kind === "havip" && c.value.generation === 2)) confirmed();
    };
    await w.sync.settled();
    const compiles = w.fabric.compiles;
    const started = performance.now();
    announce(w, s.b, s.havip);
    assert.deepEqual(clientToHavip(w, s), [b.id]);
    await w.sync.settled();
    const recordedMs = performance.now() - started;
    await confirmation;
    assert.equal(w.fabric.compiles, compiles, "the confirmation did not recompile the fabric's tables");

    const shown = await svc.getHaVip(actor, s.havip.id);
    assert.equal(shown.holder?.vnicId, b.id);
    assert.equal(shown.generation, 2);
    assert.equal(w.fabric.holderOf(s.havip.id)?.generation, 2, "fabric and control agree");
    const history = await svc.getHaVipHistory(actor, s.havip.id, {});
    assert.deepEqual(
      history.items.map((h) => [h.generation, h.vnicId, h.previousVnicId]),
      [
        [1, a.id, null],
        [2, b.id, a.id],
      ],
    );
    assert.ok(recordedMs < 200, `recorded in ${recordedMs} ms`);
  });

  test("a restarted daemon restores the last known holder from the store until a new announcement", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    const first = await world(svc, actor);
    const s = await seed(svc, actor);
    for (const i of [s.a, s.b, s.c]) first.port(vnicOf(i).id);
    announce(first, s.a, s.havip);
    announce(first, s.b, s.havip);
    await first.sync.settled();
    first.sync.stop();

    const second = await world(svc, actor);
    for (const i of [s.a, s.b, s.c]) second.port(vnicOf(i).id);
    assert.deepEqual(second.fabric.holderOf(s.havip.id) && { ...second.fabric.holderOf(s.havip.id), since: 0 }, {
      vnicId: vnicOf(s.b).id,
      generation: 2,
      since: 0,
    });
    assert.deepEqual(clientToHavip(second, s), [vnicOf(s.b).id], "forwarding without a new announcement");
    announce(second, s.a, s.havip);
    await second.sync.settled();
    assert.equal((await svc.getHaVip(actor, s.havip.id)).generation, 3);
    assert.equal(second.fabric.holderOf(s.havip.id)?.generation, 3);
  });

  test("a released holder (instance deleted) bumps the control plane's generation; the fabric follows it", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    const w = await world(svc, actor);
    const s = await seed(svc, actor);
    for (const i of [s.a, s.b, s.c]) w.port(vnicOf(i).id);
    await svc.disassociateEip(actor, s.eipId);
    announce(w, s.a, s.havip);
    await w.sync.settled();
    await svc.deleteInstance(actor, s.a.id);
    assert.equal(w.fabric.holderOf(s.havip.id), null);
    assert.deepEqual(clientToHavip(w, s), []);
    announce(w, s.b, s.havip);
    await w.sync.settled();
    const shown = await svc.getHaVip(actor, s.havip.id);
    assert.equal(shown.generation, 3, "1: vm-A, 2: released, 3: vm-B");
    assert.equal(w.fabric.holderOf(s.havip.id)?.generation, 3);
  });

  test("a denied claim is dropped, changes nothing and is logged with its ids", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    const w = await world(svc, actor);
    const s = await seed(svc, actor, true);
    for (const i of [s.a, s.b, s.c]) w.port(vnicOf(i).id);
    announce(w, s.a, s.havip);
    announce(w, s.c, s.havip);
    await w.sync.settled();
    assert.equal((await svc.getHaVip(actor, s.havip.id)).holder?.vnicId, vnicOf(s.a).id);
    const denied = w.logs.find((l) => l.msg === "claim denied");
    assert.deepEqual(denied && [denied.havipId, denied.vnicId, denied.reason], [
      s.havip.id,
      vnicOf(s.c).id,
      "claim-not-member",
    ]);
  });
});

describe("holder observations that the control plane cannot record at once", () => {
  test("a transient failure is retried, in order; a refusal is logged and not retried", async () => {
    const svc = await service();
    const actor = await tenant(svc);
    let failures = 1;
    let calls = 0;
    const flaky: ControlService = Object.create(svc) as ControlService;
    flaky.observeHolder = (obs) => {
      calls++;
      if (failures-- > 0) return Promise.reject(new Error("database is locked"));
      return svc.observeHolder(obs);
    };
    const w = await world(flaky, actor);
    const s = await seed(svc, actor, true);
    for (const i of [s.a, s.b, s.c]) w.port(vnicOf(i).id);
    announce(w, s.a, s.havip);
    announce(w, s.b, s.havip);
    await w.sync.settled();
    assert.equal(calls, 3, "the first observation was tried twice");
    const shown = await svc.getHaVip(actor, s.havip.id);
    assert.equal(shown.holder?.vnicId, vnicOf(s.b).id, "recorded in the order seen");
    assert.equal(shown.generation, 2);

    // The fabric accepts a claim the control plane refuses (here: a member list changed behind its back).
    flaky.observeHolder = () => Promise.reject(new ApiError("IncorrectState.HolderNotAllowed", "refused"));
    calls = 0;
    announce(w, s.a, s.havip);
    await w.sync.settled();
    assert.ok(w.logs.some((l) => l.msg === "holder observation not recorded" && l.attempt === 1));
  });
});

test("observations of different HAVIPs are recorded together; those of one HAVIP one after another", async () => {
  const svc = await service();
  const actor = await tenant(svc);
  const opened: { release?: () => void } = {};
  const gate = new Promise<void>((resolve) => (opened.release = resolve));
  const started: string[] = [];
  const gated: ControlService = Object.create(svc) as ControlService;
  const w = await world(gated, actor);
  const s = await seed(svc, actor);
  const other = await svc.createHaVip(actor, { subnetId: s.havip.subnetId, ipAddress: "10.0.1.51" });
  for (const i of [s.a, s.b]) w.port(vnicOf(i).id);
  const name = (havipId: string, vnicId: string | null) =>
    `${havipId === s.havip.id ? "first" : "other"} by ${vnicId === vnicOf(s.a).id ? "vm-A" : "vm-B"}`;
  gated.observeHolder = async (obs) => {
    started.push(name(obs.havipId, obs.vnicId));
    if (started.length === 1) await gate; // the first HAVIP's first recording is slow (a busy store)
    return svc.observeHolder(obs);
  };
  announce(w, s.a, s.havip);
  announce(w, s.b, s.havip);
  announce(w, s.a, other);
  for (let i = 0; (await svc.getHaVip(actor, other.id)).holder === null; i++) {
    assert.ok(i < 400, "the other HAVIP's holder is recorded while the first one's recording waits");
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual(started, ["first by vm-A", "other by vm-A"], "vm-B's claim of the first waits for vm-A's");
  opened.release?.();
  await w.sync.settled();
  assert.deepEqual(started, ["first by vm-A", "other by vm-A", "first by vm-B"]);
  const first = await svc.getHaVip(actor, s.havip.id);
  assert.deepEqual([first.holder?.vnicId, first.generation], [vnicOf(s.b).id, 2], "recorded in the order seen");
});

test("a change the fabric refuses makes the daemon rebuild the spec from the store", async () => {
  const svc = await service();
  const actor = await tenant(svc);
  const w = await world(svc, actor);
  const s = await seed(svc, actor);
  const applyChanges = w.fabric.applyChanges.bind(w.fabric);
  let refuse = true;
  w.fabric.applyChanges = (changes) => {
    if (refuse && changes.some((c) => c.op === "upsert" && c.kind === "vnic")) {
      refuse = false;
      throw new Error("refused once");
    }
    applyChanges(changes);
  };
  const d = await svc.createInstance(actor, { name: "vm-D", subnetId: s.c.vnics[0]!.subnetId, ipAddress: "10.0.1.14" });
  for (let i = 0; i < 100 && !w.fabric.currentSpec().vnics.some((v) => v.id === d.primaryVnicId); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(
    w.fabric.currentSpec().vnics.some((v) => v.id === d.primaryVnicId),
    "vm-D's vNIC is in the fabric",
  );
  assert.ok(w.logs.some((l) => l.msg === "spec change failed"));
  assert.ok(w.logs.some((l) => l.msg === "fabric spec rebuilt from the store"));
});
