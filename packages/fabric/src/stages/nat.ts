// Stage 6, EIP 1:1 NAT (DESIGN §2.8): stateless, so a failover loses no NAT state. Only addresses change
// (ports never do); the IPv4, TCP and UDP checksums are updated incrementally (RFC 1624), and an ICMP error's
// embedded header (the packet that caused it, travelling the other way) is translated too.
import {
  IPPROTO,
  IPV4_CSUM,
  IPV4_DST,
  IPV4_SRC,
  checksumAdjust16,
  checksumAdjust32,
  isIcmpError,
  readIpv4,
  writeIpv4,
} from "@havip/wire";

const ICMP_CSUM_OFF = 2;
const ICMP_EMBEDDED_OFF = 8;

function read16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

function write16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 8;
  buf[off + 1] = v & 0xff;
}

// Addresses are taken as int32 or uint32 alike and handled as int32 (`| 0`) inside: on the hot path a uint32
// above 2^31 would be boxed into a heap number by every call that is not inlined.

/** Outbound: the source address becomes the EIP. `ipOff` is the IPv4 header's offset. */
export function translateSource(buf: Uint8Array, ipOff: number, newSrc: number): void {
  translate(buf, ipOff, IPV4_SRC, IPV4_DST, newSrc | 0);
}

/** Inbound: the destination address (the EIP) becomes the private address. */
export function translateDestination(buf: Uint8Array, ipOff: number, newDst: number): void {
  translate(buf, ipOff, IPV4_DST, IPV4_SRC, newDst | 0);
}

/**
 * Rewrites the address at `field` and adjusts the checksums. In an ICMP error, the embedded packet went the
 * other way, so its `embeddedField` carries the same old address and is rewritten as well.
 */
function translate(buf: Uint8Array, ipOff: number, field: number, embeddedField: number, next: number): void {
  const old = readIpv4(buf, ipOff + field) | 0;
  if (old === next) return;
  writeIpv4(buf, ipOff + field, next);
  write16(buf, ipOff + IPV4_CSUM, checksumAdjust32(read16(buf, ipOff + IPV4_CSUM), old, next));
  // A non-first fragment carries no transport header.
  if ((buf[ipOff + 6]! & 0x1f) !== 0 || buf[ipOff + 7] !== 0) return;
  const headerLen = (buf[ipOff]! & 0x0f) * 4;
  const l4 = ipOff + headerLen;
  const end = ipOff + read16(buf, ipOff + 2);
  switch (buf[ipOff + 9]) {
    case IPPROTO.TCP:
      adjustTcp(buf, l4, end, old, next);
      break;
    case IPPROTO.UDP:
      adjustUdp(buf, l4, end, old, next);
      break;
    case IPPROTO.ICMP:
      translateIcmpError(buf, l4, end, embeddedField, old, next);
      break;
  }
}

/** Adjusts the TCP checksum (at l4+16) for an address change in the pseudo-header. */
function adjustTcp(buf: Uint8Array, l4: number, end: number, old: number, next: number): void {
  if (l4 + 18 > end) return;
  write16(buf, l4 + 16, checksumAdjust32(read16(buf, l4 + 16), old, next));
}

function adjustUdp(buf: Uint8Array, l4: number, end: number, old: number, next: number): void {
  if (l4 + 8 > end) return;
  const csum = read16(buf, l4 + 6);
  if (csum === 0) return; // no checksum: stays none
  const adjusted = checksumAdjust32(csum, old, next);
  write16(buf, l4 + 6, adjusted === 0 ? 0xffff : adjusted);
}

function translateIcmpError(
  buf: Uint8Array,
  icmp: number,
  end: number,
  embeddedField: number,
  old: number,
  next: number,
): void {
  const e = icmp + ICMP_EMBEDDED_OFF;
  if (e + 20 > end || !isIcmpError(buf[icmp]!)) return;
  if (buf[e]! >> 4 !== 4) return;
  const eHeaderLen = (buf[e]! & 0x0f) * 4;
  if (eHeaderLen < 20 || e + eHeaderLen > end) return;
  if ((readIpv4(buf, e + embeddedField) | 0) !== old) return;
  // Every changed 16-bit word of the ICMP message also adjusts the ICMP checksum (all are at even offsets
  // from the ICMP header, since the embedded header starts at +8 and its length is a multiple of 4).
  let icmpCsum = read16(buf, icmp + ICMP_CSUM_OFF);
  writeIpv4(buf, e + embeddedField, next);
  icmpCsum = checksumAdjust32(icmpCsum, old, next);
  const oldHeaderCsum = read16(buf, e + IPV4_CSUM);
  const newHeaderCsum = checksumAdjust32(oldHeaderCsum, old, next);
  write16(buf, e + IPV4_CSUM, newHeaderCsum);
  icmpCsum = checksumAdjust16(icmpCsum, oldHeaderCsum, newHeaderCsum);
  const el4 = e + eHeaderLen;
  const embeddedFirstFragment = (buf[e + 6]! & 0x1f) === 0 && buf[e + 7] === 0;
  if (embeddedFirstFragment) {
    let csumOff = -1;
    if (buf[e + 9] === IPPROTO.TCP && el4 + 18 <= end) csumOff = el4 + 16;
    else if (buf[e + 9] === IPPROTO.UDP && el4 + 8 <= end && read16(buf, el4 + 6) !== 0) csumOff = el4 + 6;
    if (csumOff >= 0) {
      const before = read16(buf, csumOff);
      let after = checksumAdjust32(before, old, next);
      if (after === 0 && buf[e + 9] === IPPROTO.UDP) after = 0xffff;
      write16(buf, csumOff, after);
      icmpCsum = checksumAdjust16(icmpCsum, before, after);
    }
  }
  write16(buf, icmp + ICMP_CSUM_OFF, icmpCsum);
}
