// Values the store wrote itself were validated on the way in; reading them back cannot fail unless the
// database was edited by hand, which is a bug worth a loud error rather than an API code.
import { type Cidr, type IPv4, parseCidr, parseIPv4 } from "@havip/ipam";

export function storedCidr(cidr: string): Cidr {
  const r = parseCidr(cidr);
  if (!r.ok) throw new Error(`stored CIDR is invalid: ${cidr}`);
  return r.value;
}

export function storedIp(ip: string): IPv4 {
  const r = parseIPv4(ip);
  if (!r.ok) throw new Error(`stored address is invalid: ${ip}`);
  return r.value;
}
