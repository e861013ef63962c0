// The builders produce what instances send, with valid checksums; the checkers catch a flipped bit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TCP_FLAGS } from "@havip/wire";
import { checkFrame, describeFrame, frameProblem, FrameCheckError } from "./checkers.ts";
import {
  arpProbe,
  arpReply,
  arpRequest,
  gratuitousArp,
  icmpEchoFrame,
  icmpErrorFrame,
  ip,
  ipPacketOf,
  mac,
  multicastMac,
  tcpFrame,
  udpFrame,
  vrrpAdvertFrame,
} from "./frames.ts";

const A = { mac: "02:00:00:00:01:0b", ip: "10.0.1.11" };
const B = { mac: "02:00:00:00:01:0c", ip: "10.0.1.12" };

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

describe("frame builders", () => {
  it("builds keepalived's gratuitous ARP byte for byte", () => {
    assert.equal(
      hex(gratuitousArp({ mac: A.mac, ip: "10.0.1.50" })),
      "ffffffffffff" +
        "02000000010b" +
        "0806" +
        "0001" +
        "0800" +
        "06" +
        "04" +
        "0001" +
        "02000000010b" +
        "0a000132" +
        "ffffffffffff" +
        "0a000132",
    );
    const reply = checkFrame(gratuitousArp({ mac: A.mac, ip: "10.0.1.50", op: "reply" }));
    assert.equal(reply.arp?.op, 2);
    assert.equal(reply.dst, 0xffffffffffff);
  });

  it("builds ARP requests, probes and replies", () => {
    assert.deepEqual(checkFrame(arpRequest({ ...A, targetIp: B.ip })).arp, {
      op: 1,
      senderMac: mac(A.mac),
      senderIp: ip(A.ip),
      targetMac: 0,
      targetIp: ip(B.ip),
    });
    assert.equal(checkFrame(arpProbe({ mac: A.mac, targetIp: B.ip })).arp?.senderIp, 0);
    const r = checkFrame(arpReply({ ...B, targetMac: A.mac, targetIp: A.ip }));
    assert.equal(r.dst, mac(A.mac));
    assert.equal(r.arp?.targetMac, mac(A.mac));
  });

  it("builds UDP, TCP and ICMP frames with valid checksums", () => {
    const eth = { srcMac: A.mac, dstMac: B.mac, src: A.ip, dst: B.ip };
    const u = checkFrame(udpFrame({ ...eth, srcPort: 5353, dstPort: 53, payload: new Uint8Array([1, 2, 3]) }));
    assert.deepEqual([u.udp?.srcPort, u.udp?.dstPort, u.udp?.payloadLen], [5353, 53, 3]);
    assert.notEqual(u.udp?.checksum, 0);
    assert.equal(checkFrame(udpFrame({ ...eth, srcPort: 1, dstPort: 2, checksum: false })).udp?.checksum, 0);
    const t = checkFrame(tcpFrame({ ...eth, srcPort: 40000, dstPort: 80, flags: TCP_FLAGS.SYN, seq: 77 }));
    assert.equal(t.tcp?.seq, 77);
    assert.equal(t.ip?.ttl, 64);
    const e = checkFrame(icmpEchoFrame({ ...eth, id: 9, seq: 3 }));
    assert.deepEqual(e.icmp, { type: 8, code: 0, id: 9, seq: 3 });
    const err = checkFrame(
      icmpErrorFrame({ ...eth, type: 3, code: 3, embedded: ipPacketOf(udpFrame({ ...eth, srcPort: 1, dstPort: 2 })) }),
    );
    assert.deepEqual(err.icmp?.embedded, { src: ip(A.ip), dst: ip(B.ip), protocol: 17 });
  });

  it("builds VRRP v2 and v3 adverts like keepalived's", () => {
    for (const version of [2, 3] as const) {
      const f = checkFrame(
        vrrpAdvertFrame({ srcMac: A.mac, src: A.ip, version, vrid: 51, priority: 150, addresses: ["10.0.1.50"] }),
      );
      assert.equal(f.dst, multicastMac("224.0.0.18"));
      assert.equal(f.dst, 0x01005e000012);
      assert.equal(f.ip?.ttl, 255);
      assert.equal(f.ip.tos, 0xc0);
      assert.equal(f.ip.dst, ip("224.0.0.18"));
      assert.equal(f.vrrp?.version, version);
      assert.equal(f.vrrp.priority, 150);
      assert.deepEqual(f.vrrp.addresses, [ip("10.0.1.50")]);
    }
  });
});

describe("frame checkers", () => {
  it("reports a flipped bit in any checksummed part, and accepts the original", () => {
    const eth = { srcMac: A.mac, dstMac: B.mac, src: A.ip, dst: B.ip };
    const frames = [
      udpFrame({ ...eth, srcPort: 1, dstPort: 2, payload: new Uint8Array([5, 6]) }),
      tcpFrame({ ...eth, srcPort: 1, dstPort: 2 }),
      icmpEchoFrame(eth),
      vrrpAdvertFrame({ srcMac: A.mac, src: A.ip, vrid: 1, addresses: ["10.0.1.50"], version: 3 }),
    ];
    for (const f of frames) {
      assert.equal(frameProblem(f), null);
      for (const at of [24, f.length - 1]) {
        const bad = f.slice();
        bad[at]! ^= 0x10;
        assert.notEqual(frameProblem(bad), null, `bit flip at ${at} of ${describeFrame(f)}`);
        assert.throws(() => checkFrame(bad), FrameCheckError);
      }
    }
  });

  it("describes frames for failure messages", () => {
    assert.equal(
      describeFrame(arpRequest({ ...A, targetIp: B.ip })),
      "02:00:00:00:01:0b > ff:ff:ff:ff:ff:ff ARP who-has 10.0.1.12 tell 10.0.1.11",
    );
    assert.match(
      describeFrame(tcpFrame({ srcMac: A.mac, dstMac: B.mac, src: A.ip, dst: B.ip, srcPort: 1, dstPort: 2 })),
      /IPv4 10\.0\.1\.11 > 10\.0\.1\.12 proto 6/,
    );
  });
});
