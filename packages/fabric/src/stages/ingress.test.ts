// Ingress checks: malformed frames dropped with a reason; anti-spoofing of the source MAC and IP (§2.7).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arpFrame, checkFrame, icmpEchoFrame, MemoryPort, tcpFrame, udpFrame } from "@havip/testkit";
import { HAVIP, ROUTER_MAC, VM, harness } from "../test-support.ts";

function syn(o: { srcMac?: string; src?: string; dst?: string } = {}): Uint8Array {
  return tcpFrame({
    srcMac: o.srcMac ?? VM.A.mac,
    dstMac: ROUTER_MAC,
    src: o.src ?? VM.A.ip,
    dst: o.dst ?? VM.CLIENT.ip,
    srcPort: 1234,
    dstPort: 80,
  });
}

describe("ingress checks", () => {
  it("forwards a well-formed frame from the vNIC's own MAC and IP", () => {
    const h = harness();
    h.port(VM.A.port).inject(syn());
    assert.equal(h.fabric.lastOutcome().verdict, "forwarded");
  });

  const cases: [string, () => Uint8Array, string, string | null][] = [
    ["a runt frame", () => new Uint8Array(10), "malformed", "truncated"],
    [
      "an 802.1Q-tagged frame",
      () => {
        const f = syn();
        const t = new Uint8Array(f.length + 4);
        t.set(f.subarray(0, 12));
        t.set([0x81, 0x00, 0x00, 0x0a], 12);
        t.set(f.subarray(12), 16);
        return t;
      },
      "vlan-tagged",
      null,
    ],
    [
      "an IPv6 frame",
      () => {
        const f = syn();
        f[12] = 0x86;
        f[13] = 0xdd;
        return f;
      },
      "unsupported-ethertype",
      null,
    ],
    ["another vNIC's source MAC", () => syn({ srcMac: VM.B.mac }), "spoofed-source-mac", null],
    ["a multicast source MAC", () => syn({ srcMac: "03:00:00:00:00:01" }), "spoofed-source-mac", null],
    ["another vNIC's source IP", () => syn({ src: VM.B.ip }), "spoofed-source-ip", null],
    ["an unassigned source IP", () => syn({ src: "10.0.1.200" }), "spoofed-source-ip", null],
    [
      "a bad IPv4 header checksum",
      () => {
        const f = syn();
        f[24]! ^= 0x01;
        return f;
      },
      "bad-checksum",
      "bad-checksum",
    ],
    [
      "a bad TCP checksum",
      () => {
        const f = syn();
        f[f.length - 1]! ^= 0x40; // the urgent pointer
        return f;
      },
      "bad-checksum",
      "bad-checksum",
    ],
    [
      "a bad UDP checksum",
      () => {
        const f = udpFrame({
          srcMac: VM.A.mac,
          dstMac: ROUTER_MAC,
          src: VM.A.ip,
          dst: VM.CLIENT.ip,
          srcPort: 1,
          dstPort: 2,
          payload: new Uint8Array([1, 2, 3]),
        });
        f[f.length - 1]! ^= 0xff;
        return f;
      },
      "bad-checksum",
      "bad-checksum",
    ],
    [
      "a bad ICMP checksum",
      () => {
        const f = icmpEchoFrame({ srcMac: VM.A.mac, dstMac: ROUTER_MAC, src: VM.A.ip, dst: VM.CLIENT.ip });
        f[f.length - 1]! ^= 0x01;
        return f;
      },
      "bad-checksum",
      "bad-checksum",
    ],
    ["an IPv4 total length beyond the frame", () => syn().subarray(0, 40), "malformed", "truncated"],
    [
      "a UDP length that disagrees with the IPv4 payload",
      () => {
        const f = udpFrame({
          srcMac: VM.A.mac,
          dstMac: ROUTER_MAC,
          src: VM.A.ip,
          dst: VM.CLIENT.ip,
          srcPort: 1,
          dstPort: 2,
          checksum: false,
          payload: new Uint8Array(4),
        });
        f[39] = 9;
        return f;
      },
      "malformed",
      "truncated",
    ],
    [
      "an ARP with another hardware type",
      () => {
        const f = arpFrame({ op: "request", src: VM.A.mac, senderIp: VM.A.ip, targetIp: VM.B.ip });
        f[15] = 6;
        return f;
      },
      "malformed",
      "bad-hardware-type",
    ],
    [
      "an ARP of an unknown operation",
      () => {
        const f = arpFrame({ op: "request", src: VM.A.mac, senderIp: VM.A.ip, targetIp: VM.B.ip });
        f[21] = 3;
        return f;
      },
      "malformed",
      "unsupported",
    ],
    [
      "an ARP with another sender IP",
      () => arpFrame({ op: "request", src: VM.A.mac, senderIp: VM.B.ip, targetIp: VM.C.ip }),
      "spoofed-source-ip",
      null,
    ],
  ];
  for (const [what, frame, reason, detail] of cases) {
    it(`drops ${what} (${reason})`, () => {
      const h = harness();
      h.port(VM.A.port).inject(frame());
      assert.deepEqual(h.drain(), {});
      const outcome = h.fabric.lastOutcome();
      assert.equal(outcome.verdict, "dropped");
      assert.equal(outcome.reason, reason);
      if (detail !== null) assert.equal(outcome.detail, detail);
      assert.equal(h.fabric.counters().drops[outcome.reason], 1);
      assert.equal(h.fabric.counters().ports[VM.A.port]?.drops, 1);
    });
  }

  it("accepts a UDP datagram without checksum, and Ethernet padding after the IPv4 packet", () => {
    const h = harness();
    const f = udpFrame({
      srcMac: VM.A.mac,
      dstMac: ROUTER_MAC,
      src: VM.A.ip,
      dst: VM.CLIENT.ip,
      srcPort: 1,
      dstPort: 2,
      checksum: false,
    });
    const padded = new Uint8Array(60);
    padded.set(f);
    h.port(VM.A.port).inject(padded);
    const out = h.drain()[VM.CLIENT.port];
    assert.equal(out?.length, 1);
    assert.equal(checkFrame(out[0]!).udp?.checksum, 0);
  });

  it("passes a bad transport checksum when verification is turned off (the IPv4 header is always checked)", () => {
    const h = harness(undefined, { verifyTransportChecksums: false });
    const f = syn();
    f[f.length - 1]! ^= 0x40;
    h.port(VM.A.port).inject(f);
    assert.equal(h.fabric.lastOutcome().verdict, "forwarded");
  });

  it("drops frames from a port that carries no vNIC", () => {
    const h = harness();
    const stray = new MemoryPort("p-stray");
    h.fabric.attachPort(stray);
    stray.inject(syn());
    assert.equal(h.fabric.lastOutcome().reason, "unknown-port");
  });

  it("drops packets sourced from a HAVIP by a member that does not hold it (fencing)", () => {
    const h = harness();
    h.port(VM.A.port).inject(syn({ src: HAVIP.ip }));
    assert.equal(h.fabric.lastOutcome().reason, "fenced-stale-holder");
    assert.equal(h.fabric.counters().havips[HAVIP.id]?.fenced, 1);
    // A vNIC that may not claim the HAVIP is simply spoofing.
    h.port(VM.C.port).inject(syn({ srcMac: VM.C.mac, src: HAVIP.ip }));
    assert.equal(h.fabric.lastOutcome().reason, "spoofed-source-ip");
  });
});
