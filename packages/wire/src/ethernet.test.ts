import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BROADCAST_MAC } from "./addr.ts";
import { ETHERTYPE } from "./constants.ts";
import { WIRE_ERRORS } from "./errors.ts";
import {
  emitEthernet,
  ethernetPayloadOffset,
  ethernetType,
  ethernetVlanId,
  parseEthernet,
  type EthernetRepr,
} from "./ethernet.ts";
import { ARP_REPLY, GARP_REQUEST, ICMP_ECHO_REQUEST, VLAN_GARP, VRRP3_ADVERT } from "./fixtures.ts";

const A_MAC = 0x0200_0000_0a01;
const B_MAC = 0x0200_0000_0b01;

function filled(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

test("parses untagged captured frames", () => {
  assert.deepEqual(parseEthernet(ARP_REPLY, ARP_REPLY.length), { dst: A_MAC, src: B_MAC, ethertype: ETHERTYPE.ARP });
  assert.deepEqual(parseEthernet(ICMP_ECHO_REQUEST, ICMP_ECHO_REQUEST.length), {
    dst: B_MAC,
    src: A_MAC,
    ethertype: ETHERTYPE.IPV4,
  });
  assert.deepEqual(parseEthernet(VRRP3_ADVERT, VRRP3_ADVERT.length), {
    dst: 0x0100_5e00_0012,
    src: A_MAC,
    ethertype: ETHERTYPE.IPV4,
  });
  assert.equal(ethernetPayloadOffset(ARP_REPLY, ARP_REPLY.length), 14);
  assert.equal(ethernetType(ARP_REPLY, ARP_REPLY.length), ETHERTYPE.ARP);
  assert.equal(ethernetVlanId(ARP_REPLY, ARP_REPLY.length), -1);
});

test("parses the captured 802.1Q frame (VLAN 100, priority 5)", () => {
  assert.deepEqual(parseEthernet(VLAN_GARP, VLAN_GARP.length), {
    dst: BROADCAST_MAC,
    src: A_MAC,
    ethertype: ETHERTYPE.ARP,
    vlanId: 100,
    vlanPriority: 5,
  });
  assert.equal(ethernetPayloadOffset(VLAN_GARP, VLAN_GARP.length), 18);
  assert.equal(ethernetType(VLAN_GARP, VLAN_GARP.length), ETHERTYPE.ARP);
  assert.equal(ethernetVlanId(VLAN_GARP, VLAN_GARP.length), 100);
});

test("emit reproduces the captured headers byte for byte", () => {
  for (const frame of [ARP_REPLY, ICMP_ECHO_REQUEST, VRRP3_ADVERT, VLAN_GARP]) {
    const repr = parseEthernet(frame, frame.length) as EthernetRepr;
    const out = filled(20);
    const n = emitEthernet(repr, out, 0);
    assert.equal(n, ethernetPayloadOffset(frame, frame.length));
    assert.deepEqual(out.subarray(0, n), frame.subarray(0, n));
    assert.ok(
      out.subarray(n).every((b) => b === 0xa5),
      "nothing written past the header",
    );
  }
});

test("emit at an offset", () => {
  const out = filled(16);
  assert.equal(emitEthernet({ dst: BROADCAST_MAC, src: A_MAC, ethertype: ETHERTYPE.ARP }, out, 2), 14);
  assert.deepEqual([...out.subarray(0, 2)], [0xa5, 0xa5]);
  assert.deepEqual(out.subarray(2, 16), GARP_REQUEST.subarray(0, 14));
});

test("short frames are truncated", () => {
  assert.equal(parseEthernet(ARP_REPLY, 13), WIRE_ERRORS.truncated);
  assert.equal(ethernetPayloadOffset(ARP_REPLY, 13), -1);
  assert.equal(ethernetType(ARP_REPLY, 0), -1);
  // A tag needs 18 bytes.
  assert.equal(parseEthernet(VLAN_GARP, 17), WIRE_ERRORS.truncated);
  assert.equal(ethernetPayloadOffset(VLAN_GARP, 17), -1);
  assert.equal(ethernetType(VLAN_GARP, 16), -1);
  // A length beyond the buffer is not believed.
  assert.equal(parseEthernet(ARP_REPLY.subarray(0, 10), 42), WIRE_ERRORS.truncated);
  assert.equal(ethernetPayloadOffset(new Uint8Array(12), 14), -1);
});

const ethernetRepr: fc.Arbitrary<EthernetRepr> = fc.oneof(
  fc.record(
    {
      dst: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      src: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      ethertype: fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== ETHERTYPE.VLAN),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      dst: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      src: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      ethertype: fc.integer({ min: 0, max: 0xffff }),
      vlanId: fc.integer({ min: 0, max: 4095 }),
      vlanPriority: fc.integer({ min: 0, max: 7 }),
    },
    { noNullPrototype: true },
  ),
);

test("property: parse(emit(repr)) = repr", () => {
  fc.assert(
    fc.property(ethernetRepr, (repr) => {
      const out = filled(18);
      const n = emitEthernet(repr, out, 0);
      assert.deepEqual(parseEthernet(out, n), repr);
      assert.equal(ethernetType(out, n), repr.ethertype);
    }),
  );
});
