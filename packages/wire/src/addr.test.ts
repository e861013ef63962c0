import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  BROADCAST_MAC,
  formatIpv4,
  formatMac,
  ipv4MulticastMac,
  isIpv4Multicast,
  isMulticastMac,
  parseIpv4Address,
  parseMac,
  readIpv4,
  readMac,
  writeIpv4,
  writeMac,
} from "./addr.ts";
import { parseIpv4 } from "./ipv4.ts";
import { ARP_REQUEST, VRRP2_ADVERT } from "./fixtures.ts";

const mac48 = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

test("MACs read from a captured frame", () => {
  assert.equal(readMac(ARP_REQUEST, 0), BROADCAST_MAC);
  assert.equal(readMac(ARP_REQUEST, 6), 0x0200_0000_0a01);
  assert.equal(formatMac(readMac(ARP_REQUEST, 6)), "02:00:00:00:0a:01");
});

test("writeMac writes six bytes and nothing else", () => {
  const buf = new Uint8Array(8).fill(0xa5);
  writeMac(buf, 1, 0x0200_5e00_0101);
  assert.deepEqual([...buf], [0xa5, 0x02, 0x00, 0x5e, 0x00, 0x01, 0x01, 0xa5]);
});

test("formatMac and parseMac", () => {
  assert.equal(formatMac(0x0200_5e00_0101), "02:00:5e:00:01:01");
  assert.equal(formatMac(BROADCAST_MAC), "ff:ff:ff:ff:ff:ff");
  assert.equal(formatMac(0), "00:00:00:00:00:00");
  assert.equal(parseMac("02:00:5E:00:01:01"), 0x0200_5e00_0101);
  for (const bad of [
    "",
    "02:00:5e:00:01",
    "02:00:5e:00:01:01:01",
    "02-00-5e-00-01-01",
    "0200.5e00.0101",
    "2:0:5e:0:1:1",
  ]) {
    assert.equal(parseMac(bad), undefined, bad);
  }
  assert.equal(parseMac(" 02:00:5e:00:01:01"), undefined);
  assert.equal(parseMac("02:00:5e:00:01:0g"), undefined);
});

test("isMulticastMac looks at the I/G bit; broadcast is multicast", () => {
  assert.equal(isMulticastMac(BROADCAST_MAC), true);
  assert.equal(isMulticastMac(0x0100_5e00_0012), true);
  assert.equal(isMulticastMac(0x3333_0000_0001), true);
  assert.equal(isMulticastMac(0x0200_0000_0a01), false);
  assert.equal(isMulticastMac(0x0000_5e00_0133), false);
});

test("ipv4MulticastMac maps 224.0.0.18 to the destination keepalived used", () => {
  assert.equal(ipv4MulticastMac(0xe000_0012), readMac(VRRP2_ADVERT, 0));
  assert.equal(formatMac(ipv4MulticastMac(parseIpv4Address("239.128.1.2")!)), "01:00:5e:00:01:02");
});

test("IPv4 addresses: read, write, format", () => {
  assert.equal(readIpv4(ARP_REQUEST, 28), 0x0ac8_0001);
  assert.equal(formatIpv4(readIpv4(ARP_REQUEST, 28)), "10.200.0.1");
  assert.equal(formatIpv4(0xffff_ffff), "255.255.255.255");
  const buf = new Uint8Array(6).fill(0xa5);
  writeIpv4(buf, 1, 0xe000_0012);
  assert.deepEqual([...buf], [0xa5, 224, 0, 0, 18, 0xa5]);
});

test("parseIpv4Address accepts strict dotted quads only", () => {
  assert.equal(parseIpv4Address("10.200.0.1"), 0x0ac8_0001);
  assert.equal(parseIpv4Address("0.0.0.0"), 0);
  assert.equal(parseIpv4Address("255.255.255.255"), 0xffff_ffff);
  for (const bad of [
    "",
    "10.200.0",
    "10.200.0.1.1",
    "127.1",
    "010.0.0.1",
    "1.2.3.256",
    " 1.2.3.4",
    "1.2.3.4 ",
    "0x1.2.3.4",
    "1..3.4",
    "-1.2.3.4",
    "1.2.3.4/32",
  ]) {
    assert.equal(parseIpv4Address(bad), undefined, bad);
  }
});

test("parseIpv4 with a string is the dotted-quad parser", () => {
  assert.equal(parseIpv4("192.168.1.1"), 0xc0a8_0101);
  assert.equal(parseIpv4("192.168.1"), undefined);
});

test("isIpv4Multicast is 224.0.0.0/4", () => {
  assert.equal(isIpv4Multicast(0xe000_0012), true);
  assert.equal(isIpv4Multicast(0xefff_ffff), true);
  assert.equal(isIpv4Multicast(0xdfff_ffff), false);
  assert.equal(isIpv4Multicast(0xf000_0000), false);
});

test("property: MACs and IPv4 addresses survive write/read and format/parse", () => {
  fc.assert(
    fc.property(mac48, uint32, (mac, ip) => {
      const buf = new Uint8Array(10);
      writeMac(buf, 0, mac);
      writeIpv4(buf, 6, ip);
      assert.equal(readMac(buf, 0), mac);
      assert.equal(readIpv4(buf, 6), ip);
      assert.equal(parseMac(formatMac(mac)), mac);
      assert.equal(parseIpv4Address(formatIpv4(ip)), ip);
    }),
  );
});
