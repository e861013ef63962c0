// MAC and IPv4 addresses as plain numbers: a MAC is a 48-bit integer (exact in a double), an IPv4 address
// an unsigned 32-bit integer. Numbers compare with ===, key Maps, and cost nothing to pass around.

import { readU32, writeU32 } from "./bytes.ts";

const TWO_32 = 0x1_0000_0000;
const TWO_40 = 0x100_0000_0000;

export const BROADCAST_MAC = 0xffff_ffff_ffff;

export function readMac(buf: Uint8Array, off: number): number {
  const hi = (buf[off]! << 8) | buf[off + 1]!;
  return hi * TWO_32 + readU32(buf, off + 2);
}

export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / TWO_32);
  buf[off] = (hi >>> 8) & 0xff;
  buf[off + 1] = hi & 0xff;
  writeU32(buf, off + 2, mac - hi * TWO_32);
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/** "02:00:5e:00:01:01": six lower-case, colon-separated pairs. */
export function formatMac(mac: number): string {
  const hi = Math.floor(mac / TWO_32);
  const lo = mac - hi * TWO_32;
  return [
    hex2((hi >>> 8) & 0xff),
    hex2(hi & 0xff),
    hex2(lo >>> 24),
    hex2((lo >>> 16) & 0xff),
    hex2((lo >>> 8) & 0xff),
    hex2(lo & 0xff),
  ].join(":");
}

const MAC_PATTERN = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;

/** Six colon-separated hex pairs (either case); anything else is undefined. */
export function parseMac(s: string): number | undefined {
  if (!MAC_PATTERN.test(s)) return undefined;
  return Number.parseInt(s.replaceAll(":", ""), 16);
}

/** The I/G bit (first octet's lowest bit): multicast and broadcast destinations. */
export function isMulticastMac(mac: number): boolean {
  return (Math.floor(mac / TWO_40) & 1) === 1;
}

/** The Ethernet address an IPv4 multicast group maps to (RFC 1112: 01:00:5e + the low 23 bits). */
export function ipv4MulticastMac(group: number): number {
  return 0x0100_5e00_0000 + (group & 0x7f_ffff);
}

export function readIpv4(buf: Uint8Array, off: number): number {
  return readU32(buf, off);
}

export function writeIpv4(buf: Uint8Array, off: number, ip: number): void {
  writeU32(buf, off, ip);
}

export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

// Strict dotted quad: four decimal octets 0-255, no leading zeros (they mean octal to some parsers).
const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4_PATTERN = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** A strict dotted quad ("10.0.0.1") as a uint32; short forms, leading zeros, spaces are undefined. */
export function parseIpv4Address(s: string): number | undefined {
  if (!IPV4_PATTERN.test(s)) return undefined;
  const parts = s.split(".");
  return ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
}

/** 224.0.0.0/4. */
export function isIpv4Multicast(ip: number): boolean {
  return ip >>> 28 === 0xe;
}
