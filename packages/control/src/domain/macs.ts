// MAC addresses the platform hands out: locally administered unicast (bit 1 of the first octet set,
// bit 0 clear), so they can never clash with a vendor's burnt-in address. vNICs get 02:…, HAVIP
// virtual MACs get 0e:…; uniqueness is a database constraint, collisions are retried by the caller.
import { randomBytes } from "node:crypto";

export const VNIC_MAC_PREFIX = 0x02;
export const HAVIP_MAC_PREFIX = 0x0e;

export function randomMac(firstOctet: number): string {
  return [firstOctet, ...randomBytes(5)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export function isLocallyAdministeredUnicast(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) && (first & 0x02) === 0x02 && (first & 0x01) === 0;
}
