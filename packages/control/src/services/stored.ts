// Values the store wrote itself were validated on the way in; reading them back cannot fail unless the
// database was edited by hand, which is a bug worth a loud error rather than an API code.
import { type Cidr, type IPv4, parseCidr, parseIPv4 } from "@havip/ipam";

export function storedCidr(cidr: string): Cidr {
  const r = parseCidr(cidr);
  if (!r.ok) throw new Error(`stored CIDR is invalid: ${cidr}`);
  return r.value;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function storedIp(ip: string): IPv4 {
  // Fast path for what the store writes (formatIPv4's canonical form): allocation reads a whole subnet's
  // addresses per create, and the general parser is the slow part of that.
  const m = DOTTED_QUAD.exec(ip);
  if (m !== null) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const c = Number(m[3]);
    const d = Number(m[4]);
    if (a <= 255 && b <= 255 && c <= 255 && d <= 255) return ((a * 256 + b) * 256 + c) * 256 + d;
  }
  const r = parseIPv4(ip);
  if (!r.ok) throw new Error(`stored address is invalid: ${ip}`);
  return r.value;
}
