import assert from "node:assert/strict";
import { test } from "node:test";
import { ETHERTYPE, IPPROTO } from "./constants.ts";
import { isWireError } from "./errors.ts";
import { emitEthernet, parseEthernet, type EthernetRepr } from "./ethernet.ts";
import { VXLAN_ARP, VXLAN_ICMP } from "./fixtures.ts";
import { parseIcmpEcho } from "./icmp.ts";
import { emitIpv4, parseIpv4Packet, type Ipv4Repr } from "./ipv4.ts";
import { parseArp } from "./arp.ts";
import { emitUdp, parseUdp, type UdpRepr } from "./udp.ts";
import { VXLAN_HEADER_LEN, VXLAN_OVERHEAD, VXLAN_PORT, readVni, writeVxlanHeader } from "./vxlan.ts";

const OUTER_UDP = 14 + 20;
const VXLAN = OUTER_UDP + 8;
const INNER = VXLAN + VXLAN_HEADER_LEN;

test("RFC 7348 layout: flags 0x08, 24 reserved bits, 24-bit VNI, 8 reserved bits", () => {
  const out = new Uint8Array(10).fill(0xa5);
  assert.equal(writeVxlanHeader(out, 1, 0x123456), VXLAN_HEADER_LEN);
  assert.deepEqual([...out], [0xa5, 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0, 0xa5]);
  assert.equal(readVni(out, 1), 0x123456);
  writeVxlanHeader(out, 1, 0xff_ffff);
  assert.equal(readVni(out, 1), 0xff_ffff);
});

test("reads the VNI of captured kernel VXLAN packets and the inner frames", () => {
  for (const frame of [VXLAN_ARP, VXLAN_ICMP]) {
    assert.equal((parseUdp(frame, OUTER_UDP, frame.length - OUTER_UDP) as UdpRepr).dstPort, VXLAN_PORT);
    assert.equal(readVni(frame, VXLAN), 4242);
  }
  assert.equal(INNER, VXLAN_OVERHEAD, "outer Ethernet + IPv4 + UDP + VXLAN is 50 bytes");
  const inner = VXLAN_ICMP.subarray(INNER);
  assert.deepEqual(parseEthernet(inner, inner.length), {
    dst: 0x0200_0000_0b02,
    src: 0x0200_0000_0a02,
    ethertype: ETHERTYPE.IPV4,
  });
  const ip = parseIpv4Packet(inner, 14, inner.length - 14) as Ipv4Repr;
  assert.equal(ip.src, 0x0ac9_0001);
  assert.equal(ip.dst, 0x0ac9_0002);
  assert.equal(ip.protocol, IPPROTO.ICMP);
  assert.ok(!isWireError(parseIcmpEcho(inner, 34, ip.payloadLen)));
  const arpFrame = VXLAN_ARP.subarray(INNER);
  assert.deepEqual(parseArp(arpFrame, 14, arpFrame.length - 14), {
    op: 1,
    senderMac: 0x0200_0000_0a02,
    senderIp: 0x0ac9_0001,
    targetMac: 0,
    targetIp: 0x0ac9_0002,
  });
});

test("readVni: -1 without the I flag or when the header does not fit; reserved bits ignored", () => {
  const copy = VXLAN_ICMP.slice();
  copy[VXLAN] = 0x00;
  assert.equal(readVni(copy, VXLAN), -1);
  copy[VXLAN] = 0xff; // every flag bit, reserved ones included
  copy[VXLAN + 1] = 0xff;
  copy[VXLAN + 7] = 0xff;
  assert.equal(readVni(copy, VXLAN), 4242);
  assert.equal(readVni(VXLAN_ICMP.subarray(0, VXLAN + 7), VXLAN), -1);
  assert.equal(readVni(VXLAN_ICMP, -1), -1);
});

test("encapsulation from the codecs reproduces the captured kernel packet byte for byte", () => {
  const inner = VXLAN_ICMP.subarray(INNER);
  const out = new Uint8Array(VXLAN_OVERHEAD + inner.length).fill(0xa5);
  out.set(inner, VXLAN_OVERHEAD);
  const outerIp = parseIpv4Packet(VXLAN_ICMP, 14, VXLAN_ICMP.length - 14) as Ipv4Repr;
  const outerUdp = parseUdp(VXLAN_ICMP, OUTER_UDP, outerIp.payloadLen) as UdpRepr;
  let at = emitEthernet(parseEthernet(VXLAN_ICMP, VXLAN_ICMP.length) as EthernetRepr, out, 0);
  at += emitIpv4(outerIp, out, at);
  const udpAt = at;
  at += 8;
  at += writeVxlanHeader(out, at, 4242);
  assert.equal(at, VXLAN_OVERHEAD);
  emitUdp(outerUdp, out, udpAt, outerIp.src, outerIp.dst); // last: its checksum covers the VXLAN header
  assert.deepEqual(out, VXLAN_ICMP);
});
