import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BROADCAST_MAC } from "./addr.ts";
import {
  ARP_LEN,
  ARP_OP,
  ARP_OPER,
  checkArp,
  emitArp,
  isArpProbe,
  isGratuitousArp,
  parseArp,
  type ArpRepr,
} from "./arp.ts";
import { writeU16 } from "./bytes.ts";
import { ETHERTYPE } from "./constants.ts";
import { WIRE_ERRORS, isWireError } from "./errors.ts";
import { emitEthernet, parseEthernet, type EthernetRepr } from "./ethernet.ts";
import { ARP_REPLY, ARP_REQUEST, GARP_KEEPALIVED, GARP_REPLY, GARP_REQUEST, VLAN_GARP } from "./fixtures.ts";

const A_MAC = 0x0200_0000_0a01;
const B_MAC = 0x0200_0000_0b01;
const A_IP = 0x0ac8_0001;
const B_IP = 0x0ac8_0002;

function filled(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xa5);
}

function arpAt(frame: Uint8Array, off = 14): ArpRepr {
  const repr = parseArp(frame, off, frame.length - off);
  assert.ok(!isWireError(repr), "parses");
  return repr;
}

const captured: [name: string, frame: Uint8Array, off: number, repr: ArpRepr, gratuitous: boolean][] = [
  [
    "request",
    ARP_REQUEST,
    14,
    { op: ARP_OP.REQUEST, senderMac: A_MAC, senderIp: A_IP, targetMac: 0, targetIp: B_IP },
    false,
  ],
  [
    "reply",
    ARP_REPLY,
    14,
    { op: ARP_OP.REPLY, senderMac: B_MAC, senderIp: B_IP, targetMac: A_MAC, targetIp: A_IP },
    false,
  ],
  [
    "arping -U",
    GARP_REQUEST,
    14,
    { op: ARP_OP.REQUEST, senderMac: A_MAC, senderIp: A_IP, targetMac: BROADCAST_MAC, targetIp: A_IP },
    true,
  ],
  [
    "arping -U -P",
    GARP_REPLY,
    14,
    { op: ARP_OP.REPLY, senderMac: A_MAC, senderIp: A_IP, targetMac: BROADCAST_MAC, targetIp: A_IP },
    true,
  ],
  [
    "keepalived",
    GARP_KEEPALIVED,
    14,
    { op: ARP_OP.REQUEST, senderMac: A_MAC, senderIp: 0x0ac8_0066, targetMac: BROADCAST_MAC, targetIp: 0x0ac8_0066 },
    true,
  ],
  [
    "802.1Q-tagged",
    VLAN_GARP,
    18,
    { op: ARP_OP.REQUEST, senderMac: A_MAC, senderIp: A_IP, targetMac: BROADCAST_MAC, targetIp: A_IP },
    true,
  ],
];

for (const [name, frame, off, expected, gratuitous] of captured) {
  test(`parses the captured ${name} ARP, every field`, () => {
    assert.equal(checkArp(frame, off, frame.length - off), undefined);
    const repr = arpAt(frame, off);
    assert.deepEqual(repr, expected);
    assert.equal(isGratuitousArp(repr), gratuitous);
    assert.equal(isArpProbe(repr), false);
  });

  test(`emit reproduces the captured ${name} frame byte for byte`, () => {
    const out = filled(frame.length);
    const eth = parseEthernet(frame, frame.length) as EthernetRepr;
    const at = emitEthernet(eth, out, 0);
    assert.equal(at, off);
    assert.equal(emitArp(arpAt(frame, off), out, at), ARP_LEN);
    assert.deepEqual(out.subarray(0, off + ARP_LEN), frame.subarray(0, off + ARP_LEN));
  });
}

test("the padded gratuitous ARPs from arping carry zeros after the 28 bytes", () => {
  assert.equal(GARP_REQUEST.length, 58);
  assert.ok(GARP_REQUEST.subarray(42).every((b) => b === 0));
});

test("an ARP probe (sender 0.0.0.0) is not an announcement", () => {
  const probe: ArpRepr = { op: ARP_OP.REQUEST, senderMac: A_MAC, senderIp: 0, targetMac: 0, targetIp: B_IP };
  assert.equal(isArpProbe(probe), true);
  assert.equal(isGratuitousArp(probe), false);
});

test("malformed ARP is rejected with a reason", () => {
  const at = 14;
  const len = ARP_REQUEST.length - at;
  assert.equal(checkArp(ARP_REQUEST, at, 27), WIRE_ERRORS.truncated);
  assert.equal(parseArp(ARP_REQUEST, at, 27), WIRE_ERRORS.truncated);
  assert.equal(parseArp(ARP_REQUEST.subarray(0, 41), at, len), WIRE_ERRORS.truncated, "len beyond the buffer");
  assert.equal(parseArp(ARP_REQUEST, -1, len), WIRE_ERRORS.truncated);
  const mutate = (pos: number, value: number) => {
    const copy = ARP_REQUEST.slice();
    copy[at + pos] = value;
    return parseArp(copy, at, len);
  };
  assert.equal(mutate(1, 6), WIRE_ERRORS["bad-hardware-type"]); // IEEE 802 instead of Ethernet
  assert.equal(mutate(2, 0x86), WIRE_ERRORS["bad-protocol-type"]);
  assert.equal(mutate(4, 8), WIRE_ERRORS["bad-address-length"]);
  assert.equal(mutate(5, 16), WIRE_ERRORS["bad-address-length"]);
  const rarp = ARP_REQUEST.slice();
  writeU16(rarp, at + ARP_OPER, 3);
  assert.equal(checkArp(rarp, at, len), undefined, "checkArp does not look at the operation");
  assert.equal(parseArp(rarp, at, len), WIRE_ERRORS["bad-operation"]);
});

const arpRepr: fc.Arbitrary<ArpRepr> = fc.record(
  {
    op: fc.constantFrom(ARP_OP.REQUEST, ARP_OP.REPLY),
    senderMac: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    senderIp: fc.integer({ min: 0, max: 0xffff_ffff }),
    targetMac: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    targetIp: fc.integer({ min: 0, max: 0xffff_ffff }),
  },
  { noNullPrototype: true },
);

test("property: parse(emit(repr)) = repr, at any offset", () => {
  fc.assert(
    fc.property(arpRepr, fc.nat(20), (repr, off) => {
      const out = filled(off + ARP_LEN);
      assert.equal(emitArp(repr, out, off), ARP_LEN);
      assert.deepEqual(parseArp(out, off, ARP_LEN), repr);
      assert.equal(isGratuitousArp(repr), repr.senderIp === repr.targetIp);
    }),
  );
});

test("ETHERTYPE.ARP frames in the fixtures all carry Ethernet/IPv4 ARP", () => {
  for (const [, frame, off] of captured) {
    const eth = parseEthernet(frame, frame.length) as EthernetRepr;
    assert.equal(eth.ethertype, ETHERTYPE.ARP);
    assert.equal(checkArp(frame, off, frame.length - off), undefined);
  }
});
