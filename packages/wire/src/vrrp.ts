// VRRP advertisements for IPv4: version 2 (RFC 3768) and version 3 (RFC 9568). Offsets are relative to
// the VRRP header; `len` is the VRRP message length (the IPv4 payload length, never Ethernet padding).
//
//   v2: ver/type | VRID | priority | count | auth type | advert int (s)    | checksum | addresses | auth data (8)
//   v3: ver/type | VRID | priority | count | rsvd(4) + max advert int (cs) | checksum | addresses
// The v2 checksum covers the VRRP message; the v3 checksum adds the IPv4 pseudo-header (RFC 9568 5.2.8).

import { readIpv4, writeIpv4 } from "./addr.ts";
import { fits, readU16, writeU16 } from "./bytes.ts";
import { internetChecksum, onesComplementSum, pseudoHeaderSum } from "./checksum.ts";
import { IPPROTO } from "./constants.ts";
import { WIRE_ERRORS, type WireError } from "./errors.ts";

/** 224.0.0.18, the VRRP group. */
export const VRRP_MULTICAST = 0xe000_0012;
/** Adverts are sent with TTL 255 and receivers drop others (RFC 9568 5.1.1.3). */
export const VRRP_TTL = 255;
export const VRRP_HEADER_LEN = 8;
export const VRRP_V2_AUTH_DATA_LEN = 8;
export const VRRP_ADVERTISEMENT = 1;

export const VRRP_VERSION_TYPE = 0;
export const VRRP_VRID = 1;
export const VRRP_PRIORITY = 2;
export const VRRP_COUNT = 3;
/** v2 only: authentication type. */
export const VRRP_V2_AUTH_TYPE = 4;
/** v2 only: advertisement interval in seconds. */
export const VRRP_V2_ADVERT_INT = 5;
/** v3 only: 4 reserved bits and the 12-bit maximum advertisement interval in centiseconds. */
export const VRRP_V3_MAX_ADVERT_INT = 4;
export const VRRP_CSUM = 6;
export const VRRP_ADDRESSES = 8;

export interface VrrpRepr {
  version: 2 | 3;
  vrid: number;
  priority: number;
  /** v2: seconds (8 bits); v3: centiseconds (12 bits). */
  advertInterval: number;
  /** v2 only: 0 none, 1 simple text password, 2 IP AH (both deprecated by RFC 3768, still sent). */
  authType?: number;
  /** v2 only: the 8 authentication bytes (a copy); zeros when absent. */
  authData?: Uint8Array;
  addresses: number[];
}

/** The length of an advert with `count` addresses. */
export function vrrpLength(version: 2 | 3, count: number): number {
  return VRRP_HEADER_LEN + 4 * count + (version === 2 ? VRRP_V2_AUTH_DATA_LEN : 0);
}

/** The 00:00:5e:00:01:{VRID} virtual router MAC (RFC 9568 7.3). */
export function vrrpVirtualMac(vrid: number): number {
  return 0x0000_5e00_0100 + (vrid & 0xff);
}

function checksumInitial(version: number, src: number, dst: number, len: number): number {
  return version === 3 ? pseudoHeaderSum(src, dst, IPPROTO.VRRP, len) : 0;
}

/**
 * An advertisement of version 2 or 3 whose addresses fit in `len` and whose checksum is valid (v3 with
 * the pseudo-header of src and dst). Bytes after the addresses (and the v2 auth data) are tolerated and
 * covered by the checksum, as the whole IPv4 payload is.
 */
export function checkVrrp(buf: Uint8Array, off: number, len: number, src: number, dst: number): WireError | undefined {
  if (len < VRRP_HEADER_LEN || !fits(buf, off, len)) return WIRE_ERRORS.truncated;
  const versionType = buf[off + VRRP_VERSION_TYPE]!;
  const version = versionType >>> 4;
  if (version !== 2 && version !== 3) return WIRE_ERRORS["bad-version"];
  if ((versionType & 0x0f) !== VRRP_ADVERTISEMENT) return WIRE_ERRORS["bad-type"];
  if (len < vrrpLength(version, buf[off + VRRP_COUNT]!)) return WIRE_ERRORS.truncated;
  if (onesComplementSum(buf, off, off + len, checksumInitial(version, src, dst, len)) !== 0xffff) {
    return WIRE_ERRORS["bad-checksum"];
  }
  return undefined;
}

export function parseVrrp(buf: Uint8Array, off: number, len: number, src: number, dst: number): VrrpRepr | WireError {
  const error = checkVrrp(buf, off, len, src, dst);
  if (error) return error;
  const version = buf[off + VRRP_VERSION_TYPE]! >>> 4 === 2 ? 2 : 3;
  const count = buf[off + VRRP_COUNT]!;
  const addresses: number[] = [];
  for (let i = 0; i < count; i++) addresses.push(readIpv4(buf, off + VRRP_ADDRESSES + 4 * i));
  const common = { version, vrid: buf[off + VRRP_VRID]!, priority: buf[off + VRRP_PRIORITY]! } as const;
  if (version === 3) {
    return { ...common, advertInterval: readU16(buf, off + VRRP_V3_MAX_ADVERT_INT) & 0x0fff, addresses };
  }
  const authStart = off + VRRP_ADDRESSES + 4 * count;
  // Copied byte by byte: Buffer#slice would return a view, and a Buffer rather than a Uint8Array.
  const authData = new Uint8Array(VRRP_V2_AUTH_DATA_LEN);
  for (let i = 0; i < VRRP_V2_AUTH_DATA_LEN; i++) authData[i] = buf[authStart + i]!;
  return {
    ...common,
    advertInterval: buf[off + VRRP_V2_ADVERT_INT]!,
    authType: buf[off + VRRP_V2_AUTH_TYPE]!,
    authData,
    addresses,
  };
}

/** Writes the advert at `off` with its checksum (v3 over the pseudo-header of src, dst); returns its length. */
export function emitVrrp(repr: VrrpRepr, buf: Uint8Array, off: number, src: number, dst: number): number {
  const count = repr.addresses.length;
  const len = vrrpLength(repr.version, count);
  buf[off + VRRP_VERSION_TYPE] = (repr.version << 4) | VRRP_ADVERTISEMENT;
  buf[off + VRRP_VRID] = repr.vrid;
  buf[off + VRRP_PRIORITY] = repr.priority;
  buf[off + VRRP_COUNT] = count;
  if (repr.version === 3) {
    writeU16(buf, off + VRRP_V3_MAX_ADVERT_INT, repr.advertInterval & 0x0fff);
  } else {
    buf[off + VRRP_V2_AUTH_TYPE] = repr.authType ?? 0;
    buf[off + VRRP_V2_ADVERT_INT] = repr.advertInterval;
  }
  writeU16(buf, off + VRRP_CSUM, 0);
  for (let i = 0; i < count; i++) writeIpv4(buf, off + VRRP_ADDRESSES + 4 * i, repr.addresses[i]!);
  if (repr.version === 2) {
    const authStart = off + VRRP_ADDRESSES + 4 * count;
    buf.fill(0, authStart, authStart + VRRP_V2_AUTH_DATA_LEN);
    if (repr.authData) buf.set(repr.authData.subarray(0, VRRP_V2_AUTH_DATA_LEN), authStart);
  }
  writeU16(buf, off + VRRP_CSUM, internetChecksum(buf, off, off + len, checksumInitial(repr.version, src, dst, len)));
  return len;
}
