// The fabric as a whole: spec changes while traffic flows, observations, counters, determinism, ports.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, MemoryPort, checkFrame, gratuitousArp, ip, udpFrame } from "@havip/testkit";
import { DROP_REASONS } from "./reasons.ts";
import { Fabric, SpecError } from "./fabric.ts";
import type { Port } from "./ports/port.ts";
import {
  EDGE_MAC,
  EIP_CLIENT,
  HAVIP,
  NET,
  ROUTER_MAC,
  VM,
  harness,
  resolveGateway,
  seedSpec,
  type Harness,
} from "./test-support.ts";

type Vm = { mac: string; ip: string; port: string };

function toRouter(from: Vm, dst: string, srcPort = 1000): Uint8Array {
  return udpFrame({ srcMac: from.mac, dstMac: ROUTER_MAC, src: from.ip, dst, srcPort, dstPort: 2000 });
}

function fromInternet(dst: string): Uint8Array {
  return udpFrame({ srcMac: NET.gatewayMac, dstMac: EDGE_MAC, src: NET.remoteIp, dst, srcPort: 3000, dstPort: 4000 });
}

/** Background flows that no change below touches; each must keep arriving where it did. */
function unrelatedTrafficStillFlows(h: Harness): void {
  const flows: [string, Uint8Array, string][] = [
    [VM.CLIENT.port, toRouter(VM.CLIENT, HAVIP.ip), VM.A.port],
    [VM.A.port, toRouter(VM.A, VM.CLIENT.ip), VM.CLIENT.port],
    [VM.B.port, toRouter(VM.B, VM.A.ip), VM.A.port],
  ];
  for (const [from, frame, to] of flows) {
    h.port(from).inject(frame);
    const out = h.drain();
    assert.deepEqual(Object.keys(out), [to], `${from} → ${to}`);
    checkFrame(out[to]![0]!);
  }
}

function started(): Harness {
  const h = harness();
  resolveGateway(h);
  h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
  h.drain();
  return h;
}

describe("spec changes while traffic flows", () => {
  it("adds and removes a vNIC, taking effect on the next frame", () => {
    const h = started();
    const d = { id: "eni-d", mac: "02:00:00:00:01:0e", ip: "10.0.1.14", port: "p-d", subnetId: "subnet-app" };
    const portD = new MemoryPort(d.port);
    h.fabric.attachPort(portD);
    h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, d.ip));
    assert.equal(h.fabric.lastOutcome().reason, "no-route");
    h.fabric.applyChanges([{ op: "upsert", kind: "vnic", value: d }]);
    h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, d.ip));
    assert.equal(portD.take().length, 1);
    portD.inject(toRouter(d, VM.CLIENT.ip));
    assert.equal(h.drain()[VM.CLIENT.port]?.length, 1);
    unrelatedTrafficStillFlows(h);
    h.fabric.applyChanges([{ op: "delete", kind: "vnic", id: d.id }]);
    h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, d.ip));
    assert.equal(h.fabric.lastOutcome().reason, "no-route");
    portD.inject(toRouter(d, VM.CLIENT.ip));
    assert.equal(h.fabric.lastOutcome().reason, "unknown-port");
    unrelatedTrafficStillFlows(h);
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 1, "the holder survived the changes");
  });

  it("adds and removes a HAVIP", () => {
    const h = started();
    const h2 = { id: "havip-db", subnetId: "subnet-client", ip: "10.0.2.50", virtualMac: "02:00:00:00:aa:02" };
    h.port(VM.CLIENT.port).inject(gratuitousArp({ mac: VM.CLIENT.mac, ip: h2.ip }));
    assert.equal(h.fabric.lastOutcome().reason, "spoofed-source-ip");
    h.fabric.applyChanges([{ op: "upsert", kind: "havip", value: h2 }]);
    h.port(VM.CLIENT.port).inject(gratuitousArp({ mac: VM.CLIENT.mac, ip: h2.ip }));
    assert.equal(h.fabric.holderOf(h2.id)?.vnicId, VM.CLIENT.id);
    h.port(VM.A.port).inject(toRouter(VM.A, h2.ip));
    assert.deepEqual(Object.keys(h.drain()), [VM.CLIENT.port]);
    unrelatedTrafficStillFlows(h);
    h.fabric.applyChanges([{ op: "delete", kind: "havip", id: h2.id }]);
    h.port(VM.A.port).inject(toRouter(VM.A, h2.ip));
    assert.equal(h.fabric.lastOutcome().reason, "no-route");
    h.port(VM.CLIENT.port).inject(toRouter({ ...VM.CLIENT, ip: h2.ip }, VM.A.ip));
    assert.equal(h.fabric.lastOutcome().reason, "spoofed-source-ip");
    assert.equal(h.fabric.holderOf(h2.id), null);
    unrelatedTrafficStillFlows(h);
  });

  it("binds, moves and unbinds an EIP", () => {
    const h = started();
    h.port(NET.port).inject(fromInternet(EIP_CLIENT.publicIp));
    assert.deepEqual(Object.keys(h.drain()), [VM.CLIENT.port]);
    // Move the EIP to vm-C: the next inbound frame goes there, and vm-C's traffic leaves as the EIP.
    h.fabric.applyChanges([
      { op: "upsert", kind: "eip", value: { ...EIP_CLIENT, target: { type: "vnic", vnicId: VM.C.id } } },
    ]);
    h.port(NET.port).inject(fromInternet(EIP_CLIENT.publicIp));
    const out = h.drain();
    assert.deepEqual(Object.keys(out), [VM.C.port]);
    assert.equal(checkFrame(out[VM.C.port]![0]!).ip?.dst, ip(VM.C.ip));
    h.port(VM.C.port).inject(toRouter(VM.C, NET.remoteIp));
    assert.equal(checkFrame(h.drain()[NET.port]![0]!).ip?.src, ip(EIP_CLIENT.publicIp));
    h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, NET.remoteIp));
    assert.equal(h.fabric.lastOutcome().reason, "no-eip");
    unrelatedTrafficStillFlows(h);
    // Unbind it.
    h.fabric.applyChanges([{ op: "upsert", kind: "eip", value: { ...EIP_CLIENT, target: null } }]);
    h.port(NET.port).inject(fromInternet(EIP_CLIENT.publicIp));
    assert.equal(h.fabric.lastOutcome().reason, "eip-unbound");
    h.port(VM.C.port).inject(toRouter(VM.C, NET.remoteIp));
    assert.equal(h.fabric.lastOutcome().reason, "no-eip");
    unrelatedTrafficStillFlows(h);
  });

  it("refuses an invalid batch as a whole and keeps running the previous spec", () => {
    const h = started();
    assert.throws(
      () => {
        h.fabric.applyChanges([
          { op: "delete", kind: "vnic", id: VM.CLIENT.id }, // its EIP would point nowhere
          { op: "upsert", kind: "vnic", value: { ...VM.C, id: "eni-c2", port: "p-c2" } }, // same MAC and IP as vm-C
        ]);
      },
      (err: unknown) => err instanceof SpecError && err.problems.length === 3,
    );
    unrelatedTrafficStillFlows(h);
  });

  it("releases the holder when its vNIC goes or leaves the member list, and reports it", () => {
    const h = started();
    h.fabric.applyChanges([
      { op: "upsert", kind: "havip", value: { ...HAVIP, subnetId: "subnet-app", members: [VM.B.id] } },
    ]);
    assert.equal(h.fabric.holderOf(HAVIP.id), null);
    assert.deepEqual(h.observations.at(-1), {
      kind: "holder-released",
      havipId: HAVIP.id,
      previousVnicId: VM.A.id,
      generation: 1,
      reason: "spec",
      at: h.clock.now(),
    });
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    assert.equal(h.fabric.holderOf(HAVIP.id)?.generation, 2);
    h.fabric.applyChanges([{ op: "delete", kind: "vnic", id: VM.B.id }]);
    assert.equal(h.observations.at(-1)?.kind, "holder-released");
    assert.equal(h.fabric.holderOf(HAVIP.id), null);
  });

  it("reports the holder in currentSpec(), so that a restarted fabric restores it", () => {
    const h = started();
    const saved = h.fabric.currentSpec();
    assert.equal(saved.havips[0]?.holderVnicId, VM.A.id);
    assert.equal(saved.havips[0].generation, 1);
    const restarted = new Fabric(JSON.parse(JSON.stringify(saved)) as typeof saved, { clock: new ManualClock() });
    assert.equal(restarted.holderOf(HAVIP.id)?.vnicId, VM.A.id);
  });
});

describe("the fabric", () => {
  it("exposes counters as a JSON-serialisable snapshot with every drop reason", () => {
    const h = started();
    h.port(VM.A.port).inject(new Uint8Array(3));
    const c = h.fabric.counters();
    assert.deepEqual(Object.keys(c.drops), [...DROP_REASONS]);
    assert.equal(c.drops.malformed, 1);
    assert.equal(c.ports[VM.A.port]?.drops, 1);
    assert.equal(c.ports[VM.A.port]?.rxFrames, 2);
    assert.equal(c.ports[VM.B.port]?.txFrames, 1, "the flooded announcement");
    assert.equal(
      c.frames.in,
      c.frames.forwarded + c.frames.flooded + c.frames.arpReplies + c.frames.consumed + c.frames.dropped,
    );
    assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
  });

  it("is deterministic under a manual clock", () => {
    const run = () => {
      const h = started();
      for (let i = 0; i < 30; i++) {
        const vm = i % 3 === 0 ? VM.B : VM.A;
        h.port(vm.port).inject(gratuitousArp({ mac: vm.mac, ip: HAVIP.ip }));
        h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, HAVIP.ip, i));
        h.clock.advance(7);
      }
      return JSON.stringify([h.observations, h.fabric.counters(), h.drain()]);
    };
    assert.equal(run(), run());
  });

  it("finishes a frame before processing one a port sends back from within send()", () => {
    const h = started();
    // A port that answers every frame it is given by sending one back into the fabric at once.
    let echo: ((f: Uint8Array, l: number) => void) | null = null;
    const got: Uint8Array[] = [];
    const bouncer: Port = {
      id: "p-bounce",
      send(frame, len) {
        got.push(frame.slice(0, len));
        if (got.length === 1) {
          const back = toRouter(bounceVm, VM.CLIENT.ip);
          echo?.(back, back.length);
        }
      },
      setReceiver(r) {
        echo = r;
      },
    };
    const bounceVm = {
      id: "eni-bounce",
      mac: "02:00:00:00:01:0f",
      ip: "10.0.1.15",
      port: "p-bounce",
      subnetId: "subnet-app",
    };
    h.fabric.applyChanges([{ op: "upsert", kind: "vnic", value: bounceVm }]);
    h.fabric.attachPort(bouncer);
    h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, bounceVm.ip));
    assert.equal(got.length, 1);
    assert.equal(checkFrame(got[0]!).ip?.dst, ip(bounceVm.ip));
    assert.equal(h.drain()[VM.CLIENT.port]?.length, 1, "the echoed frame was processed after");
  });

  it("keeps forwarding when an observer throws", () => {
    const errors: unknown[] = [];
    const clock = new ManualClock();
    const fabric = new Fabric(seedSpec(), { clock, onObserverError: (e) => errors.push(e) });
    const a = new MemoryPort(VM.A.port);
    const b = new MemoryPort(VM.B.port);
    fabric.attachPort(a);
    fabric.attachPort(b);
    fabric.onObservation(() => {
      throw new Error("observer bug");
    });
    a.inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    assert.equal(errors.length, 1);
    assert.equal(fabric.holderOf(HAVIP.id)?.vnicId, VM.A.id);
    assert.equal(b.take().length, 1);
  });

  it("refuses a second port with the same id, and a spec that does not compile", () => {
    const h = started();
    assert.throws(() => {
      h.fabric.attachPort(new MemoryPort(VM.A.port));
    }, /already attached/);
    assert.throws(() => new Fabric({ ...seedSpec(), routerMac: "nope" }), SpecError);
  });
});

describe("the wake listener", () => {
  it("runs once after a run of frames that arrived together, after them, and not once removed", async () => {
    const h = started();
    const seen: number[] = [];
    h.fabric.setWakeListener(() => seen.push(h.fabric.counters().frames.in));
    const before = h.fabric.counters().frames.in;
    for (let i = 0; i < 5; i++) h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, HAVIP.ip, i));
    assert.deepEqual(seen, [], "not while the frames are processed");
    await Promise.resolve();
    assert.deepEqual(seen, [before + 5], "once, after the last of the five");
    h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, HAVIP.ip, 9));
    await Promise.resolve();
    assert.equal(seen.length, 2, "again for the next run");
    h.fabric.setWakeListener(null);
    h.port(VM.CLIENT.port).inject(toRouter(VM.CLIENT, HAVIP.ip, 10));
    await Promise.resolve();
    assert.equal(seen.length, 2, "removed");
  });

  it("sends what the listener throws where an observer's errors go, and goes on", async () => {
    const errors: unknown[] = [];
    const h = harness(seedSpec(), { onObserverError: (e) => errors.push(e) });
    let calls = 0;
    h.fabric.setWakeListener(() => {
      calls++;
      throw new Error("listener failed");
    });
    h.port(VM.A.port).inject(gratuitousArp({ mac: VM.A.mac, ip: HAVIP.ip }));
    await Promise.resolve();
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    await Promise.resolve();
    assert.equal(calls, 2);
    assert.equal(errors.length, 2);
    assert.match(String(errors[0]), /listener failed/);
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.holderChanges, 2, "the frames were processed all the same");
  });
});
