// IPv4 headers (RFC 791). Options are tolerated (skipped, never interpreted); emit writes a 20-byte header.
// Offsets are relative to the IP header; `len` is the number of bytes available from `off`, which may be
// more than the total length (Ethernet padding) but never less.

import { parseIpv4Address, readIpv4, writeIpv4 } from "./addr.ts";
import { fits, readU16, writeU16 } from "./bytes.ts";
import { internetChecksum, onesComplementSum } from "./checksum.ts";
import { WIRE_ERRORS, type WireError } from "./errors.ts";

export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_VERSION_IHL = 0;
export const IPV4_TOS = 1;
export const IPV4_TOTAL_LEN = 2;
export const IPV4_ID = 4;
export const IPV4_FLAGS_FRAGMENT = 6;
export const IPV4_TTL = 8;
export const IPV4_PROTO = 9;
export const IPV4_CSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;

const FLAG_DONT_FRAGMENT = 0x4000;
const MORE_FRAGMENTS_AND_OFFSET = 0x3fff;

export interface Ipv4Repr {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  /** The whole second octet (DSCP and ECN); 0 when absent. */
  tos?: number;
  /** Identification; 0 when absent. */
  id?: number;
  /** The DF flag; false when absent. */
  dontFragment?: boolean;
  /** Bytes after the header (total length minus header length, options included in the header). */
  payloadLen: number;
}

/** Header length in bytes from the IHL field (not validated: call checkIpv4 first). */
export function ipv4HeaderLen(buf: Uint8Array, off: number): number {
  return (buf[off + IPV4_VERSION_IHL]! & 0x0f) << 2;
}

/** The header checksum to store, computed over the header with its checksum field taken as zero. */
export function ipv4HeaderChecksum(buf: Uint8Array, off: number, headerLen: number): number {
  const before = onesComplementSum(buf, off, off + IPV4_CSUM);
  return internetChecksum(buf, off + IPV4_CSUM + 2, off + headerLen, before);
}

/**
 * Version 4, IHL at least 5, header and total length within `len`, header checksum valid. After it returns
 * undefined every field accessor at the offsets above, and the payload up to the total length, is safe.
 */
export function checkIpv4(buf: Uint8Array, off: number, len: number): WireError | undefined {
  if (len < IPV4_MIN_HEADER_LEN || !fits(buf, off, len)) return WIRE_ERRORS.truncated;
  const versionIhl = buf[off + IPV4_VERSION_IHL]!;
  if (versionIhl >>> 4 !== 4) return WIRE_ERRORS["bad-version"];
  const headerLen = (versionIhl & 0x0f) << 2;
  if (headerLen < IPV4_MIN_HEADER_LEN) return WIRE_ERRORS["bad-header-length"];
  const totalLen = readU16(buf, off + IPV4_TOTAL_LEN);
  if (totalLen < headerLen) return WIRE_ERRORS["bad-total-length"];
  if (totalLen > len) return WIRE_ERRORS.truncated;
  if (onesComplementSum(buf, off, off + headerLen) !== 0xffff) return WIRE_ERRORS["bad-checksum"];
  return undefined;
}

/** The packet form of parseIpv4 (see the overloads below). */
export function parseIpv4Packet(buf: Uint8Array, off: number, len: number): Ipv4Repr | WireError {
  const error = checkIpv4(buf, off, len);
  if (error) return error;
  const flagsFragment = readU16(buf, off + IPV4_FLAGS_FRAGMENT);
  return {
    src: readIpv4(buf, off + IPV4_SRC),
    dst: readIpv4(buf, off + IPV4_DST),
    protocol: buf[off + IPV4_PROTO]!,
    ttl: buf[off + IPV4_TTL]!,
    tos: buf[off + IPV4_TOS]!,
    id: readU16(buf, off + IPV4_ID),
    dontFragment: (flagsFragment & FLAG_DONT_FRAGMENT) !== 0,
    payloadLen: readU16(buf, off + IPV4_TOTAL_LEN) - ipv4HeaderLen(buf, off),
  };
}

/**
 * The contract gives addr.ts a `parseIpv4(s)` for dotted quads and ipv4.ts a `parseIpv4(buf, off, len)` for
 * packets; one package cannot export two functions of one name, so this one name serves both by overload.
 * `parseIpv4Address` and `parseIpv4Packet` are the unambiguous spellings.
 */
export function parseIpv4(s: string): number | undefined;
export function parseIpv4(buf: Uint8Array, off: number, len: number): Ipv4Repr | WireError;
export function parseIpv4(
  bufOrString: Uint8Array | string,
  off = 0,
  len = 0,
): Ipv4Repr | WireError | number | undefined {
  return typeof bufOrString === "string" ? parseIpv4Address(bufOrString) : parseIpv4Packet(bufOrString, off, len);
}

/** Writes a 20-byte header (no options, not a fragment) with its checksum; returns 20. */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, off: number): number {
  buf[off + IPV4_VERSION_IHL] = 0x45;
  buf[off + IPV4_TOS] = repr.tos ?? 0;
  writeU16(buf, off + IPV4_TOTAL_LEN, IPV4_MIN_HEADER_LEN + repr.payloadLen);
  writeU16(buf, off + IPV4_ID, repr.id ?? 0);
  writeU16(buf, off + IPV4_FLAGS_FRAGMENT, repr.dontFragment === true ? FLAG_DONT_FRAGMENT : 0);
  buf[off + IPV4_TTL] = repr.ttl;
  buf[off + IPV4_PROTO] = repr.protocol;
  writeU16(buf, off + IPV4_CSUM, 0);
  writeIpv4(buf, off + IPV4_SRC, repr.src);
  writeIpv4(buf, off + IPV4_DST, repr.dst);
  writeU16(buf, off + IPV4_CSUM, internetChecksum(buf, off, off + IPV4_MIN_HEADER_LEN));
  return IPV4_MIN_HEADER_LEN;
}

/** True for any fragment of a fragmented datagram (MF set or a non-zero fragment offset). */
export function isFragment(buf: Uint8Array, off: number): boolean {
  return (readU16(buf, off + IPV4_FLAGS_FRAGMENT) & MORE_FRAGMENTS_AND_OFFSET) !== 0;
}
