// Transport checksums at ingress: TCP and UDP (with the IPv4 pseudo-header) and ICMP. Verifying them where a
// frame enters means that every frame the fabric emits carries valid checksums, since the fabric itself only
// changes them incrementally (RFC 1624).
import { IPPROTO, onesComplementSum, verifyTcpChecksum, verifyUdpChecksum } from "@havip/wire";

/**
 * 0: valid (or not verifiable: a fragment, another protocol); 1: malformed; 2: bad checksum. Addresses may be
 * given as int32 or uint32 (the pseudo-header sum only takes their 16-bit halves).
 */
export function verifyTransport(
  buf: Uint8Array,
  ipOff: number,
  headerLen: number,
  totalLen: number,
  proto: number,
  src: number,
  dst: number,
): number {
  // A fragment's checksum covers the whole datagram: nothing to verify here.
  if ((buf[ipOff + 6]! & 0x3f) !== 0 || buf[ipOff + 7] !== 0) return 0;
  const l4 = ipOff + headerLen;
  const l4Len = totalLen - headerLen;
  switch (proto) {
    case IPPROTO.TCP: {
      if (l4Len < 20) return 1;
      const dataOffset = (buf[l4 + 12]! >> 4) * 4;
      if (dataOffset < 20 || dataOffset > l4Len) return 1;
      return verifyTcpChecksum(buf, l4, l4Len, src, dst) ? 0 : 2;
    }
    case IPPROTO.UDP: {
      if (l4Len < 8) return 1;
      if (((buf[l4 + 4]! << 8) | buf[l4 + 5]!) !== l4Len) return 1;
      return verifyUdpChecksum(buf, l4, l4Len, src, dst) ? 0 : 2;
    }
    case IPPROTO.ICMP:
      if (l4Len < 8) return 1;
      return onesComplementSum(buf, l4, l4 + l4Len) === 0xffff ? 0 : 2;
    default:
      return 0;
  }
}
