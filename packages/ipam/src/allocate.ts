// Address allocators: the lowest free address of a range, a subnet's host addresses (never network,
// gateway or broadcast) and public EIP pools.
import { type Cidr, broadcastAddress, cidrContains, firstUsable, lastUsable } from "./cidr.ts";
import type { IPv4 } from "./ipv4.ts";

/** The lowest address in [first, last] not in used, or null when all are taken. */
export function lowestFree(first: IPv4, last: IPv4, used: Iterable<IPv4>): IPv4 | null {
  const taken = [...new Set(used)].filter((ip) => ip >= first && ip <= last).sort((a, b) => a - b);
  let candidate = first;
  for (const ip of taken) {
    if (ip > candidate) break;
    candidate = ip + 1;
  }
  return candidate <= last ? candidate : null;
}

/** The subnet's gateway: its first usable address. */
export function gatewayAddress(subnet: Cidr): IPv4 {
  return firstUsable(subnet);
}

/** Network, gateway and broadcast addresses are the platform's, never a vNIC's or a HAVIP's. */
export function isReservedInSubnet(subnet: Cidr, ip: IPv4): boolean {
  return ip === subnet.network || ip === gatewayAddress(subnet) || ip === broadcastAddress(subnet);
}

/** The addresses a vNIC or HAVIP may take, or null when the subnet is too small to have any. */
export function assignableRange(subnet: Cidr): { first: IPv4; last: IPv4 } | null {
  if (subnet.prefix > 29) return null; // a /30 has a single host address, and the gateway takes it
  return { first: gatewayAddress(subnet) + 1, last: lastUsable(subnet) };
}

/** The lowest assignable address of the subnet not in used. */
export function allocateSubnetAddress(subnet: Cidr, used: Iterable<IPv4>): IPv4 | null {
  const range = assignableRange(subnet);
  return range ? lowestFree(range.first, range.last, used) : null;
}

/** The lowest free address over public pools, in the pools' order; network/broadcast skipped below /31. */
export function allocatePublicAddress(pools: readonly Cidr[], used: Iterable<IPv4>): IPv4 | null {
  const usedList = [...used];
  for (const pool of pools) {
    const free = lowestFree(
      firstUsable(pool),
      lastUsable(pool),
      usedList.filter((ip) => cidrContains(pool, ip)),
    );
    if (free !== null) return free;
  }
  return null;
}
