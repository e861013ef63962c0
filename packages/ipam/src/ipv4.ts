// IPv4 addresses as unsigned 32-bit integers. ipaddr.js is used only for its strict validators, so that
// "01.2.3.4", "1.2.3" or "0x1.2.3.4" are rejected instead of being read the way inet_aton would.
import ipaddr from "ipaddr.js";

/** An IPv4 address as an unsigned 32-bit integer (0 … 2^32-1). */
export type IPv4 = number;

export type AddressError = "malformed" | "ipv6";
export type Parsed<T, E extends string> = { ok: true; value: T } | { ok: false; error: E };

export const IPV4_MAX = 0xffff_ffff;

/** Parses a strict dotted quad. IPv6 text is reported apart, so callers can answer "not IPv4". */
export function parseIPv4(text: string): Parsed<IPv4, AddressError> {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { ok: false, error: ipaddr.IPv6.isValid(text) ? "ipv6" : "malformed" };
  }
  let value = 0;
  for (const part of text.split(".")) value = value * 256 + Number(part);
  return { ok: true, value };
}

export function formatIPv4(ip: IPv4): string {
  if (!isIPv4(ip)) throw new RangeError(`not an IPv4 value: ${ip}`);
  return `${Math.floor(ip / 0x100_0000)}.${Math.floor(ip / 0x1_0000) % 256}.${Math.floor(ip / 0x100) % 256}.${ip % 256}`;
}

export function isIPv4(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= IPV4_MAX;
}
