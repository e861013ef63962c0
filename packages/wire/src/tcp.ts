// TCP (RFC 9293) headers, for checksums and NAT only: no options are interpreted and no state is kept.
// Offsets are relative to the TCP header; `len` / `tcpLen` count bytes from the header on (the IPv4
// payload length: a checksum covers exactly the segment, never Ethernet padding).

import { readU32, fits, readU16, writeU16, writeU32 } from "./bytes.ts";
import { onesComplementSum, pseudoHeaderSum } from "./checksum.ts";
import { IPPROTO } from "./constants.ts";
import { WIRE_ERRORS, type WireError } from "./errors.ts";

export const TCP_MIN_HEADER_LEN = 20;
export const TCP_SRC_PORT = 0;
export const TCP_DST_PORT = 2;
export const TCP_SEQ = 4;
export const TCP_ACK = 8;
/** Data offset (high 4 bits), reserved bits, then the flags octet at 13. */
export const TCP_OFFSET_FLAGS = 12;
export const TCP_WINDOW = 14;
export const TCP_CSUM = 16;
export const TCP_URGENT = 18;

export const TCP_FLAGS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** The 12 bits after the data offset: TCP_FLAGS in the low octet, reserved/AE bits above. */
  flags: number;
  window: number;
  /** Header length in bytes including options (a multiple of 4, 20 to 60). */
  headerLen: number;
}

/** Header present, data offset at least 5 and within `len`. Does not verify the checksum. */
export function checkTcp(buf: Uint8Array, off: number, len: number): WireError | undefined {
  if (len < TCP_MIN_HEADER_LEN || !fits(buf, off, len)) return WIRE_ERRORS.truncated;
  const headerLen = (buf[off + TCP_OFFSET_FLAGS]! >>> 4) << 2;
  if (headerLen < TCP_MIN_HEADER_LEN) return WIRE_ERRORS["bad-header-length"];
  if (headerLen > len) return WIRE_ERRORS.truncated;
  return undefined;
}

/** The header as a record (structure only; verify the checksum with verifyTcpChecksum). */
export function parseTcp(buf: Uint8Array, off: number, len: number): TcpRepr | WireError {
  const error = checkTcp(buf, off, len);
  if (error) return error;
  const offsetFlags = readU16(buf, off + TCP_OFFSET_FLAGS);
  return {
    srcPort: readU16(buf, off + TCP_SRC_PORT),
    dstPort: readU16(buf, off + TCP_DST_PORT),
    seq: readU32(buf, off + TCP_SEQ),
    ack: readU32(buf, off + TCP_ACK),
    flags: offsetFlags & 0x0fff,
    window: readU16(buf, off + TCP_WINDOW),
    headerLen: (offsetFlags >>> 12) << 2,
  };
}

/** The checksum to store for the segment buf[tcpOff, tcpOff + tcpLen), its checksum field taken as zero. */
export function tcpChecksum(buf: Uint8Array, tcpOff: number, tcpLen: number, src: number, dst: number): number {
  let sum = pseudoHeaderSum(src, dst, IPPROTO.TCP, tcpLen);
  sum = onesComplementSum(buf, tcpOff, tcpOff + TCP_CSUM, sum);
  sum = onesComplementSum(buf, tcpOff + TCP_CSUM + 2, tcpOff + tcpLen, sum);
  return ~sum & 0xffff;
}

export function verifyTcpChecksum(buf: Uint8Array, tcpOff: number, tcpLen: number, src: number, dst: number): boolean {
  return onesComplementSum(buf, tcpOff, tcpOff + tcpLen, pseudoHeaderSum(src, dst, IPPROTO.TCP, tcpLen)) === 0xffff;
}

/**
 * Writes the fixed 20-byte header at `off` (urgent pointer 0) and the checksum over the whole segment.
 * Options (headerLen - 20 bytes) and the payload (payloadLen bytes) must already be in place after it.
 * Returns headerLen, the offset of the payload.
 */
export function emitTcp(
  repr: TcpRepr,
  buf: Uint8Array,
  off: number,
  src: number,
  dst: number,
  payloadLen: number,
): number {
  writeU16(buf, off + TCP_SRC_PORT, repr.srcPort);
  writeU16(buf, off + TCP_DST_PORT, repr.dstPort);
  writeU32(buf, off + TCP_SEQ, repr.seq);
  writeU32(buf, off + TCP_ACK, repr.ack);
  writeU16(buf, off + TCP_OFFSET_FLAGS, ((repr.headerLen >>> 2) << 12) | (repr.flags & 0x0fff));
  writeU16(buf, off + TCP_WINDOW, repr.window);
  writeU16(buf, off + TCP_URGENT, 0);
  writeU16(buf, off + TCP_CSUM, tcpChecksum(buf, off, repr.headerLen + payloadLen, src, dst));
  return repr.headerLen;
}
