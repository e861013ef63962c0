// UDP (RFC 768) over IPv4. Offsets are relative to the UDP header. `len` / `udpLen` count bytes from the
// header on; a checksum covers exactly the UDP length, so pass the IPv4 payload length, not what is left
// of an Ethernet frame (which may carry padding).

import { fits, readU16, writeU16 } from "./bytes.ts";
import { checksumAdjust16, checksumAdjust32, onesComplementSum, pseudoHeaderSum } from "./checksum.ts";
import { IPPROTO } from "./constants.ts";
import { WIRE_ERRORS, type WireError } from "./errors.ts";

export const UDP_HEADER_LEN = 8;
export const UDP_SRC_PORT = 0;
export const UDP_DST_PORT = 2;
export const UDP_LEN = 4;
export const UDP_CSUM = 6;

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payloadLen: number;
}

/** Header present and its length field between 8 and `len`. Does not verify the checksum. */
export function checkUdp(buf: Uint8Array, off: number, len: number): WireError | undefined {
  if (len < UDP_HEADER_LEN || !fits(buf, off, len)) return WIRE_ERRORS.truncated;
  const udpLen = readU16(buf, off + UDP_LEN);
  if (udpLen < UDP_HEADER_LEN) return WIRE_ERRORS["bad-length"];
  if (udpLen > len) return WIRE_ERRORS.truncated;
  return undefined;
}

/** The header as a record (structure only; verify the checksum with verifyUdpChecksum). */
export function parseUdp(buf: Uint8Array, off: number, len: number): UdpRepr | WireError {
  const error = checkUdp(buf, off, len);
  if (error) return error;
  return {
    srcPort: readU16(buf, off + UDP_SRC_PORT),
    dstPort: readU16(buf, off + UDP_DST_PORT),
    payloadLen: readU16(buf, off + UDP_LEN) - UDP_HEADER_LEN,
  };
}

/**
 * The checksum to store for the datagram buf[udpOff, udpOff + udpLen), its checksum field taken as zero.
 * A computed 0 is returned as 0xffff, since 0 on the wire means "no checksum".
 */
export function udpChecksum(buf: Uint8Array, udpOff: number, udpLen: number, src: number, dst: number): number {
  let sum = pseudoHeaderSum(src, dst, IPPROTO.UDP, udpLen);
  sum = onesComplementSum(buf, udpOff, udpOff + UDP_CSUM, sum);
  sum = onesComplementSum(buf, udpOff + UDP_CSUM + 2, udpOff + udpLen, sum);
  const checksum = ~sum & 0xffff;
  return checksum === 0 ? 0xffff : checksum;
}

/** True when the stored checksum is 0 (none was sent) or matches the datagram. */
export function verifyUdpChecksum(buf: Uint8Array, udpOff: number, udpLen: number, src: number, dst: number): boolean {
  if (readU16(buf, udpOff + UDP_CSUM) === 0) return true;
  return onesComplementSum(buf, udpOff, udpOff + udpLen, pseudoHeaderSum(src, dst, IPPROTO.UDP, udpLen)) === 0xffff;
}

/**
 * Writes the 8-byte header at `off` for a payload already in place after it, with the checksum computed
 * over header and payload (or 0, "no checksum", when withChecksum is false: RFC 7348 allows it for VXLAN);
 * returns 8.
 */
export function emitUdp(
  repr: UdpRepr,
  buf: Uint8Array,
  off: number,
  src: number,
  dst: number,
  withChecksum = true,
): number {
  const udpLen = UDP_HEADER_LEN + repr.payloadLen;
  writeU16(buf, off + UDP_SRC_PORT, repr.srcPort);
  writeU16(buf, off + UDP_DST_PORT, repr.dstPort);
  writeU16(buf, off + UDP_LEN, udpLen);
  writeU16(buf, off + UDP_CSUM, withChecksum ? udpChecksum(buf, off, udpLen, src, dst) : 0);
  return UDP_HEADER_LEN;
}

/**
 * checksumAdjust16 for a UDP checksum: a stored 0 ("no checksum") stays 0, and a result of 0 is stored as
 * 0xffff. Use after rewriting a port.
 */
export function udpChecksumAdjust16(checksum: number, oldWord: number, newWord: number): number {
  if (checksum === 0) return 0;
  const adjusted = checksumAdjust16(checksum, oldWord, newWord);
  return adjusted === 0 ? 0xffff : adjusted;
}

/** checksumAdjust32 for a UDP checksum (see udpChecksumAdjust16). Use after rewriting an address (NAT). */
export function udpChecksumAdjust32(checksum: number, oldValue: number, newValue: number): number {
  if (checksum === 0) return 0;
  const adjusted = checksumAdjust32(checksum, oldValue, newValue);
  return adjusted === 0 ? 0xffff : adjusted;
}
