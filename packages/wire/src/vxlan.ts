// VXLAN (RFC 7348): an 8-byte header after UDP, then the inner Ethernet frame.
//
//   flags (8, I = 0x08) | reserved (24) | VNI (24) | reserved (8)
// Reserved bits are written as zero and ignored on receipt, as the RFC asks.

import { fits, writeU32 } from "./bytes.ts";

export const VXLAN_HEADER_LEN = 8;
export const VXLAN_PORT = 4789;
export const VXLAN_FLAGS = 0;
export const VXLAN_VNI = 4;
/** The I flag: the VNI is valid. */
export const VXLAN_FLAG_I = 0x08;
/** Outer Ethernet + IPv4 + UDP + VXLAN headers: what the underlay MTU must exceed the instance MTU by. */
export const VXLAN_OVERHEAD = 14 + 20 + 8 + VXLAN_HEADER_LEN;
export const VXLAN_MAX_VNI = 0xff_ffff;

/** The 24-bit VNI, or -1 when the I flag is not set or the header does not fit in `buf`. */
export function readVni(buf: Uint8Array, off: number): number {
  if (!fits(buf, off, VXLAN_HEADER_LEN)) return -1;
  if ((buf[off + VXLAN_FLAGS]! & VXLAN_FLAG_I) === 0) return -1;
  return (buf[off + VXLAN_VNI]! << 16) | (buf[off + VXLAN_VNI + 1]! << 8) | buf[off + VXLAN_VNI + 2]!;
}

/** Writes the header with the I flag and `vni`; returns 8. */
export function writeVxlanHeader(buf: Uint8Array, off: number, vni: number): number {
  writeU32(buf, off + VXLAN_FLAGS, VXLAN_FLAG_I << 24);
  writeU32(buf, off + VXLAN_VNI, (vni & VXLAN_MAX_VNI) << 8);
  return VXLAN_HEADER_LEN;
}
