// IPv4 CIDR blocks: parsing (host bits set is an error), bounds, containment and overlap.
import ipaddr from "ipaddr.js";
import { type IPv4, type Parsed, formatIPv4, parseIPv4 } from "./ipv4.ts";

export interface Cidr {
  readonly network: IPv4;
  readonly prefix: number; // 0 … 32
}

export type CidrError = "malformed" | "ipv6" | "host-bits";

const PREFIX = /^(?:[0-9]|[12][0-9]|3[0-2])$/;

export function parseCidr(text: string): Parsed<Cidr, CidrError> {
  const slash = text.indexOf("/");
  if (slash < 0) return { ok: false, error: ipaddr.IPv6.isValid(text) ? "ipv6" : "malformed" };
  const prefixText = text.slice(slash + 1);
  const address = parseIPv4(text.slice(0, slash));
  if (!address.ok || !PREFIX.test(prefixText)) {
    return { ok: false, error: ipaddr.IPv6.isValidCIDR(text) ? "ipv6" : "malformed" };
  }
  const prefix = Number(prefixText);
  const network = networkOf(address.value, prefix);
  if (network !== address.value) return { ok: false, error: "host-bits" };
  return { ok: true, value: { network, prefix } };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIPv4(cidr.network)}/${cidr.prefix}`;
}

/** The block of the given prefix that contains ip. */
export function networkOf(ip: IPv4, prefix: number): IPv4 {
  const size = 2 ** (32 - prefix);
  return ip - (ip % size);
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function networkAddress(cidr: Cidr): IPv4 {
  return cidr.network;
}

export function broadcastAddress(cidr: Cidr): IPv4 {
  return cidr.network + cidrSize(cidr) - 1;
}

/** First host address: network + 1, except in /31 and /32 blocks where every address is a host (RFC 3021). */
export function firstUsable(cidr: Cidr): IPv4 {
  return cidr.prefix >= 31 ? cidr.network : cidr.network + 1;
}

export function lastUsable(cidr: Cidr): IPv4 {
  return cidr.prefix >= 31 ? broadcastAddress(cidr) : broadcastAddress(cidr) - 1;
}

export function cidrContains(cidr: Cidr, ip: IPv4): boolean {
  return ip >= cidr.network && ip <= broadcastAddress(cidr);
}

/** True when inner lies entirely inside outer (equal blocks included). */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.network);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network <= broadcastAddress(b) && b.network <= broadcastAddress(a);
}

/** The n-th address of the block, counting from the network address (n = 0). */
export function nthAddress(cidr: Cidr, n: number): IPv4 {
  if (!Number.isInteger(n) || n < 0 || n >= cidrSize(cidr)) {
    throw new RangeError(`address #${n} is outside ${formatCidr(cidr)}`);
  }
  return cidr.network + n;
}
