// Taking and releasing addresses of a subnet. Every vNIC and HAVIP address is a row of subnet_addresses,
// whose (subnet_id, ip) key makes a double assignment impossible even if two writers raced past the checks.
import { type Cidr, type IPv4, assignableRange, cidrContains, formatIPv4, isReservedInSubnet } from "@havip/ipam";
import { requireIPv4 } from "../domain/index.ts";
import { ApiError } from "../errors.ts";
import type { SubnetsTable } from "../store/schema.ts";
import type { WriteTx } from "../store/index.ts";
import { storedCidr, storedIp } from "./stored.ts";

export interface AddressOwner {
  kind: "vnic" | "havip";
  id: string;
}

/**
 * The lowest address of the range not in `used` (same answer as ipam's lowestFree), by marking
 * the used offsets in a bitmap: linear in the subnet's addresses, where a sort of the used list was the cost.
 */
function lowestFreeInSubnet(range: { first: IPv4; last: IPv4 }, used: readonly { ip: string }[]): IPv4 | null {
  const size = range.last - range.first + 1;
  const taken = new Uint8Array(size);
  for (const row of used) {
    const offset = storedIp(row.ip) - range.first;
    if (offset >= 0 && offset < size) taken[offset] = 1;
  }
  const offset = taken.indexOf(0);
  return offset === -1 ? null : range.first + offset;
}

/** Validates a chosen address (or allocates the lowest free one) and records it as taken by owner. */
export async function takeAddress(
  tx: WriteTx,
  subnet: SubnetsTable,
  requested: string | undefined,
  owner: AddressOwner,
): Promise<string> {
  const cidr = storedCidr(subnet.cidr);
  let ip: string;
  if (requested !== undefined) {
    const value = requireIPv4(requested, "ipAddress");
    if (!cidrContains(cidr, value)) {
      throw new ApiError(
        "InvalidIpAddress.NotInSubnet",
        `${requested} is outside subnet ${subnet.id} (${subnet.cidr}).`,
      );
    }
    if (isReservedInSubnet(cidr, value)) {
      throw new ApiError(
        "InvalidIpAddress.Reserved",
        `${requested} is the network, gateway or broadcast address of subnet ${subnet.id}.`,
      );
    }
    ip = formatIPv4(value);
    const taken = await tx.db
      .selectFrom("subnet_addresses")
      .select("owner_id")
      .where("subnet_id", "=", subnet.id)
      .where("ip", "=", ip)
      .executeTakeFirst();
    if (taken) throw new ApiError("InvalidIpAddress.InUse", `${ip} is already used in subnet ${subnet.id}.`);
  } else {
    ip = formatIPv4(await lowestFree(tx, subnet.id, cidr));
  }
  await tx.db
    .insertInto("subnet_addresses")
    .values({ subnet_id: subnet.id, ip, owner_kind: owner.kind, owner_id: owner.id })
    .execute();
  return ip;
}

/**
 * The subnet's lowest free assignable address. The subnet's allocation floor says every address below it is
 * taken, so the search starts there and usually ends at its first probe; without a floor yet, the subnet's
 * addresses are read once. The floor moves up past the address taken (and down on a release), in the write's
 * transaction, so it holds for every writer and process.
 */
async function lowestFree(tx: WriteTx, subnetId: string, cidr: Cidr): Promise<IPv4> {
  const range = assignableRange(cidr);
  const full = () => new ApiError("InsufficientAddresses.Subnet", `subnet ${subnetId} has no free address.`);
  if (range === null) throw full();
  const { alloc_floor: floor } = await tx.db
    .selectFrom("subnets")
    .select("alloc_floor")
    .where("id", "=", subnetId)
    .executeTakeFirstOrThrow();
  let candidate: IPv4 | null;
  if (floor === null || floor === undefined) {
    const used = await tx.db.selectFrom("subnet_addresses").select("ip").where("subnet_id", "=", subnetId).execute();
    candidate = lowestFreeInSubnet(range, used);
  } else {
    candidate = null;
    for (let ip = range.first + floor; ip <= range.last; ip++) {
      const taken = await tx.db
        .selectFrom("subnet_addresses")
        .select("owner_id")
        .where("subnet_id", "=", subnetId)
        .where("ip", "=", formatIPv4(ip))
        .executeTakeFirst();
      if (!taken) {
        candidate = ip;
        break;
      }
    }
  }
  if (candidate === null) throw full();
  await tx.db
    .updateTable("subnets")
    .set({ alloc_floor: candidate + 1 - range.first })
    .where("id", "=", subnetId)
    .execute();
  return candidate;
}

/** Lowers the floor of each subnet an address was released in, so the address is found again. */
export async function releaseAddresses(tx: WriteTx, owner: AddressOwner): Promise<void> {
  const released = await tx.db
    .selectFrom("subnet_addresses")
    .innerJoin("subnets", "subnets.id", "subnet_addresses.subnet_id")
    .select(["subnet_addresses.subnet_id", "subnet_addresses.ip", "subnets.cidr"])
    .where("owner_kind", "=", owner.kind)
    .where("owner_id", "=", owner.id)
    .execute();
  await tx.db
    .deleteFrom("subnet_addresses")
    .where("owner_kind", "=", owner.kind)
    .where("owner_id", "=", owner.id)
    .execute();
  for (const r of released) {
    const range = assignableRange(storedCidr(r.cidr));
    if (range === null) continue;
    const offset = storedIp(r.ip) - range.first;
    await tx.db
      .updateTable("subnets")
      .set({ alloc_floor: offset })
      .where("id", "=", r.subnet_id)
      .where("alloc_floor", ">", offset)
      .execute();
  }
}
