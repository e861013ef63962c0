// ARP: the fabric answers for the gateway, the vNICs of the subnet and a HAVIP with a holder; never floods a
// request; on the internet port it answers for its address and every EIP and learns its neighbours.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ManualClock,
  MemoryPort,
  arpProbe,
  arpReply,
  arpRequest,
  checkFrame,
  gratuitousArp,
  ip,
  mac,
} from "@havip/testkit";
import { Fabric } from "../fabric.ts";
import {
  EDGE_MAC,
  EIP_CLIENT,
  EIP_HAVIP,
  HAVIP,
  NET,
  ROUTER_MAC,
  VM,
  harness,
  seedSpec,
  type Harness,
} from "../test-support.ts";

/** Sends `frame` from `vm` and returns the checked answer it got back (and asserts nothing else moved). */
function ask(h: Harness, port: string, frame: Uint8Array) {
  h.port(port).inject(frame);
  const out = h.drain();
  assert.deepEqual(Object.keys(out), [port], "answered on the asking port only");
  assert.equal(out[port]?.length, 1);
  return checkFrame(out[port][0]!);
}

function unanswered(h: Harness, port: string, frame: Uint8Array, reason: string): void {
  h.port(port).inject(frame);
  assert.deepEqual(h.drain(), {});
  assert.equal(h.fabric.lastOutcome().reason, reason);
}

describe("ARP from a vNIC", () => {
  it("answers for the subnet's gateway with the router MAC, addressed to the asker", () => {
    const h = harness();
    const a = ask(h, VM.A.port, arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: "10.0.1.1" }));
    assert.equal(a.dst, mac(VM.A.mac));
    assert.equal(a.src, mac(ROUTER_MAC));
    assert.deepEqual(a.arp, {
      op: 2,
      senderMac: mac(ROUTER_MAC),
      senderIp: ip("10.0.1.1"),
      targetMac: mac(VM.A.mac),
      targetIp: ip(VM.A.ip),
    });
    // Another subnet's gateway is not on this link.
    unanswered(h, VM.A.port, arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: "10.0.2.1" }), "arp-unknown-target");
  });

  it("answers for a vNIC of the subnet, also when asked by unicast or by a probe", () => {
    const h = harness();
    assert.equal(
      ask(h, VM.A.port, arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: VM.B.ip })).arp?.senderMac,
      mac(VM.B.mac),
    );
    const unicast = arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: VM.B.ip, dst: VM.B.mac });
    assert.equal(ask(h, VM.A.port, unicast).arp?.senderMac, mac(VM.B.mac));
    const probe = ask(h, VM.A.port, arpProbe({ mac: VM.A.mac, targetIp: VM.B.ip }));
    assert.equal(probe.arp?.senderMac, mac(VM.B.mac));
    assert.equal(probe.arp.targetIp, 0);
  });

  it("never answers for the asker's own address (no false conflict) nor across subnets or VPCs", () => {
    const h = harness();
    unanswered(h, VM.A.port, arpProbe({ mac: VM.A.mac, targetIp: VM.A.ip }), "arp-own-address");
    unanswered(h, VM.A.port, arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: VM.CLIENT.ip }), "arp-unknown-target");
    unanswered(h, VM.A.port, arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: "10.0.1.99" }), "arp-unknown-target");
    // vm-X's VPC has the same CIDR; vm-B's address means nothing there.
    unanswered(h, VM.X.port, arpRequest({ mac: VM.X.mac, ip: VM.X.ip, targetIp: VM.B.ip }), "arp-unknown-target");
  });

  it("answers for a HAVIP with its virtual MAC only while it has a holder, never to the holder itself", () => {
    const h = harness();
    const req = arpRequest({ mac: VM.C.mac, ip: VM.C.ip, targetIp: HAVIP.ip });
    unanswered(h, VM.C.port, req, "havip-no-holder");
    h.port(VM.B.port).inject(gratuitousArp({ mac: VM.B.mac, ip: HAVIP.ip }));
    h.drain();
    assert.equal(ask(h, VM.C.port, req).arp?.senderMac, mac(HAVIP.virtualMac));
    unanswered(h, VM.B.port, arpProbe({ mac: VM.B.mac, targetIp: HAVIP.ip }), "arp-own-address");
    // The standby member gets the virtual MAC like any client.
    assert.equal(
      ask(h, VM.A.port, arpRequest({ mac: VM.A.mac, ip: VM.A.ip, targetIp: HAVIP.ip })).arp?.senderMac,
      mac(HAVIP.virtualMac),
    );
  });

  it("drops an unsolicited unicast ARP reply", () => {
    const h = harness();
    unanswered(
      h,
      VM.A.port,
      arpReply({ mac: VM.A.mac, ip: VM.A.ip, targetMac: VM.B.mac, targetIp: VM.B.ip }),
      "arp-reply-unexpected",
    );
  });
});

describe("ARP on the internet port", () => {
  it("asks for its next hop as soon as the internet port is attached", () => {
    const fabric = new Fabric(seedSpec(), { clock: new ManualClock() });
    const inet = new MemoryPort(NET.port);
    fabric.attachPort(inet);
    assert.equal(inet.delivered.length, 1);
    const f = checkFrame(inet.delivered[0]!);
    assert.equal(f.dst, 0xffffffffffff);
    assert.deepEqual(f.arp, {
      op: 1,
      senderMac: mac(EDGE_MAC),
      senderIp: ip(NET.edgeIp),
      targetMac: 0,
      targetIp: ip(NET.gatewayIp),
    });
  });

  it("answers for its own address and every EIP with the edge MAC, and learns the asker", () => {
    const h = harness();
    for (const target of [NET.edgeIp, EIP_HAVIP.publicIp, EIP_CLIENT.publicIp]) {
      const a = ask(h, NET.port, arpRequest({ mac: NET.hostMac, ip: NET.hostIp, targetIp: target }));
      assert.equal(a.arp?.senderMac, mac(EDGE_MAC));
      assert.equal(a.arp.senderIp, ip(target));
      assert.equal(a.dst, mac(NET.hostMac));
    }
    unanswered(
      h,
      NET.port,
      arpRequest({ mac: NET.hostMac, ip: NET.hostIp, targetIp: "198.51.100.99" }),
      "arp-unknown-target",
    );
    assert.deepEqual(h.fabric.neighbours(), [{ ip: ip(NET.hostIp), mac: mac(NET.hostMac) }]);
  });

  it("learns from replies and gratuitous ARP on its prefix only", () => {
    const h = harness();
    h.port(NET.port).inject(
      arpReply({ mac: NET.gatewayMac, ip: NET.gatewayIp, targetMac: EDGE_MAC, targetIp: NET.edgeIp }),
    );
    assert.equal(h.fabric.lastOutcome().verdict, "consumed");
    h.port(NET.port).inject(gratuitousArp({ mac: "02:00:00:00:ee:99", ip: "192.0.2.1" }));
    assert.deepEqual(h.fabric.neighbours(), [{ ip: ip(NET.gatewayIp), mac: mac(NET.gatewayMac) }]);
  });
});
