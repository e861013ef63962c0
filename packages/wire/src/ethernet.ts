// Ethernet II frames, with at most one 802.1Q tag tolerated. Frames start at offset 0 of their buffer;
// `len` is the frame length (a receive buffer may be longer than the frame).

import { readMac, writeMac } from "./addr.ts";
import { readU16, writeU16 } from "./bytes.ts";
import { ETHERTYPE } from "./constants.ts";
import { WIRE_ERRORS, type WireError } from "./errors.ts";

export const ETH_HEADER_LEN = 14;
export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;
/** With an 802.1Q tag: the tag control information (PCP, DEI, VLAN id) and the inner EtherType. */
export const ETH_VLAN_TCI = 14;
export const ETH_VLAN_TYPE = 16;
export const ETH_VLAN_HEADER_LEN = 18;

export interface EthernetRepr {
  dst: number;
  src: number;
  /** The EtherType of the payload (after the 802.1Q tag when there is one). */
  ethertype: number;
  /** Present when the frame carries an 802.1Q tag. */
  vlanId?: number;
  /** 802.1Q priority code point (0-7); read and written only with vlanId. */
  vlanPriority?: number;
}

function usable(buf: Uint8Array, len: number, need: number): boolean {
  return len >= need && len <= buf.length;
}

/** Where the payload starts: 14, or 18 after one 802.1Q tag; -1 if the frame is too short. */
export function ethernetPayloadOffset(buf: Uint8Array, len: number): number {
  if (!usable(buf, len, ETH_HEADER_LEN)) return -1;
  if (readU16(buf, ETH_TYPE) !== ETHERTYPE.VLAN) return ETH_HEADER_LEN;
  return usable(buf, len, ETH_VLAN_HEADER_LEN) ? ETH_VLAN_HEADER_LEN : -1;
}

/** The payload's EtherType (the inner one after an 802.1Q tag); -1 if the frame is too short. */
export function ethernetType(buf: Uint8Array, len: number): number {
  const payloadOff = ethernetPayloadOffset(buf, len);
  return payloadOff < 0 ? -1 : readU16(buf, payloadOff - 2);
}

/** The VLAN id of a tagged frame, -1 when untagged or too short. */
export function ethernetVlanId(buf: Uint8Array, len: number): number {
  return ethernetPayloadOffset(buf, len) === ETH_VLAN_HEADER_LEN ? readU16(buf, ETH_VLAN_TCI) & 0x0fff : -1;
}

export function parseEthernet(buf: Uint8Array, len: number): EthernetRepr | WireError {
  const payloadOff = ethernetPayloadOffset(buf, len);
  if (payloadOff < 0) return WIRE_ERRORS.truncated;
  const dst = readMac(buf, ETH_DST);
  const src = readMac(buf, ETH_SRC);
  if (payloadOff === ETH_HEADER_LEN) return { dst, src, ethertype: readU16(buf, ETH_TYPE) };
  const tci = readU16(buf, ETH_VLAN_TCI);
  return { dst, src, ethertype: readU16(buf, ETH_VLAN_TYPE), vlanId: tci & 0x0fff, vlanPriority: tci >>> 13 };
}

/** Writes the header at `off`; returns its length (14, or 18 with a tag). */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, off: number): number {
  writeMac(buf, off + ETH_DST, repr.dst);
  writeMac(buf, off + ETH_SRC, repr.src);
  if (repr.vlanId === undefined) {
    writeU16(buf, off + ETH_TYPE, repr.ethertype);
    return ETH_HEADER_LEN;
  }
  writeU16(buf, off + ETH_TYPE, ETHERTYPE.VLAN);
  writeU16(buf, off + ETH_VLAN_TCI, (((repr.vlanPriority ?? 0) & 7) << 13) | (repr.vlanId & 0x0fff));
  writeU16(buf, off + ETH_VLAN_TYPE, repr.ethertype);
  return ETH_VLAN_HEADER_LEN;
}
