// The Internet checksum (RFC 1071) and its incremental update (RFC 1624). Sums are kept in a double
// while adding (exact far beyond any packet length) and folded to 16 bits at the end.

function fold(sum: number): number {
  // `& 0xffff` is exact for any integer below 2^53: ToInt32 reduces modulo 2^32, a multiple of 2^16.
  sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * One's complement sum of the big-endian 16-bit words in buf[start, end), plus `initial` (for instance a
 * pseudo-header sum), folded to 16 bits and not inverted. An odd last byte is padded with zero.
 */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  const evenEnd = end - ((end - start) & 1);
  for (; i < evenEnd; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return fold(sum);
}

/** The checksum to store: the inverted one's complement sum of buf[start, end) plus `initial`. */
export function internetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesComplementSum(buf, start, end, initial) & 0xffff;
}

/** Folded sum of the IPv4 pseudo-header used by UDP, TCP and VRRPv3 (not inverted). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return fold((src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length);
}

/**
 * RFC 1624 eqn. 3: the new stored checksum after a 16-bit word of the covered data changes from oldWord
 * to newWord, HC' = ~(~HC + ~m + m'). Call it only for a real change (RFC 1624 errata 4782).
 */
export function checksumAdjust16(checksum: number, oldWord: number, newWord: number): number {
  const sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~fold(sum) & 0xffff;
}

/** RFC 1624 eqn. 3 for a 32-bit value (two aligned words), such as an IPv4 address rewritten by NAT. */
export function checksumAdjust32(checksum: number, oldValue: number, newValue: number): number {
  const sum =
    (~checksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  return ~fold(sum) & 0xffff;
}
