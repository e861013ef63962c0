// ARP for IPv4 over Ethernet (RFC 826). Offsets are relative to the ARP header; `len` is the number of
// bytes available from `off` (Ethernet padding after the 28 bytes is ignored).

import { readIpv4, readMac, writeIpv4, writeMac } from "./addr.ts";
import { fits, readU16, writeU16 } from "./bytes.ts";
import { ETHERTYPE } from "./constants.ts";
import { WIRE_ERRORS, type WireError } from "./errors.ts";

export const ARP_LEN = 28;
export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;
export type ArpOp = (typeof ARP_OP)[keyof typeof ARP_OP];

export const ARP_HTYPE = 0;
export const ARP_PTYPE = 2;
export const ARP_HLEN = 4;
export const ARP_PLEN = 5;
export const ARP_OPER = 6;
export const ARP_SHA = 8;
export const ARP_SPA = 14;
export const ARP_THA = 18;
export const ARP_TPA = 24;

const HTYPE_ETHERNET = 1;

export interface ArpRepr {
  op: ArpOp;
  senderMac: number;
  senderIp: number;
  targetMac: number;
  targetIp: number;
}

/** Ethernet/IPv4 ARP only: hardware type 1, protocol type 0x0800, lengths 6 and 4. */
export function checkArp(buf: Uint8Array, off: number, len: number): WireError | undefined {
  if (len < ARP_LEN || !fits(buf, off, ARP_LEN)) return WIRE_ERRORS.truncated;
  if (readU16(buf, off + ARP_HTYPE) !== HTYPE_ETHERNET) return WIRE_ERRORS["bad-hardware-type"];
  if (readU16(buf, off + ARP_PTYPE) !== ETHERTYPE.IPV4) return WIRE_ERRORS["bad-protocol-type"];
  if (buf[off + ARP_HLEN] !== 6 || buf[off + ARP_PLEN] !== 4) return WIRE_ERRORS["bad-address-length"];
  return undefined;
}

/** Like checkArp, and the operation must be a request or a reply ("bad-operation" otherwise). */
export function parseArp(buf: Uint8Array, off: number, len: number): ArpRepr | WireError {
  const error = checkArp(buf, off, len);
  if (error) return error;
  const op = readU16(buf, off + ARP_OPER);
  if (op !== ARP_OP.REQUEST && op !== ARP_OP.REPLY) return WIRE_ERRORS["bad-operation"];
  return {
    op,
    senderMac: readMac(buf, off + ARP_SHA),
    senderIp: readIpv4(buf, off + ARP_SPA),
    targetMac: readMac(buf, off + ARP_THA),
    targetIp: readIpv4(buf, off + ARP_TPA),
  };
}

/** Writes the 28-byte ARP message at `off`; returns 28. */
export function emitArp(repr: ArpRepr, buf: Uint8Array, off: number): number {
  writeU16(buf, off + ARP_HTYPE, HTYPE_ETHERNET);
  writeU16(buf, off + ARP_PTYPE, ETHERTYPE.IPV4);
  buf[off + ARP_HLEN] = 6;
  buf[off + ARP_PLEN] = 4;
  writeU16(buf, off + ARP_OPER, repr.op);
  writeMac(buf, off + ARP_SHA, repr.senderMac);
  writeIpv4(buf, off + ARP_SPA, repr.senderIp);
  writeMac(buf, off + ARP_THA, repr.targetMac);
  writeIpv4(buf, off + ARP_TPA, repr.targetIp);
  return ARP_LEN;
}

/**
 * A gratuitous ARP (request or reply) announces the sender's own address: sender IP = target IP. Whether
 * it is a valid announcement for a HAVIP (own MAC, own port, subnet, members) is the fabric's decision.
 */
export function isGratuitousArp(repr: ArpRepr): boolean {
  return repr.senderIp === repr.targetIp;
}

/** An ARP probe (RFC 5227) has sender IP 0.0.0.0: address conflict detection, not an announcement. */
export function isArpProbe(repr: ArpRepr): boolean {
  return repr.senderIp === 0;
}
