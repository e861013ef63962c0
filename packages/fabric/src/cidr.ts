// IPv4 prefixes as numbers: the spec carries CIDR strings, the tables carry (network, mask) pairs.
import { parseIpv4 } from "@havip/wire";

export interface Prefix {
  readonly network: number; // uint32, host bits zero
  readonly mask: number; // uint32
  readonly length: number;
}

export function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** Parses "a.b.c.d/n" strictly; the address must be the network address (no host bits set). */
export function parseCidr(s: string): Prefix | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIpv4(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (ip === undefined || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(lenText)) return undefined;
  const length = Number(lenText);
  const mask = maskOf(length);
  if ((ip & ~mask) >>> 0 !== 0) return undefined;
  return { network: ip, mask, length };
}

export function prefixContains(p: Prefix, ip: number): boolean {
  return (ip & p.mask) >>> 0 === p.network;
}

/** Whether `inner` lies entirely inside `outer`. */
export function prefixWithin(inner: Prefix, outer: Prefix): boolean {
  return inner.length >= outer.length && prefixContains(outer, inner.network);
}

export function broadcastOf(p: Prefix): number {
  return (p.network | ~p.mask) >>> 0;
}
