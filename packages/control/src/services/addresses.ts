// Taking and releasing addresses of a subnet. Every vNIC and HAVIP address is a row of subnet_addresses,
// whose (subnet_id, ip) key makes a double assignment impossible even if two writers raced past the checks.
import { allocateSubnetAddress, cidrContains, formatIPv4, isReservedInSubnet } from "@havip/ipam";
import { requireIPv4 } from "../domain/index.ts";
import { ApiError } from "../errors.ts";
import type { SubnetsTable } from "../store/schema.ts";
import type { WriteTx } from "../store/index.ts";
import { storedCidr, storedIp } from "./stored.ts";

export interface AddressOwner {
  kind: "vnic" | "havip";
  id: string;
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
    const used = await tx.db.selectFrom("subnet_addresses").select("ip").where("subnet_id", "=", subnet.id).execute();
    const free = allocateSubnetAddress(
      cidr,
      used.map((r) => storedIp(r.ip)),
    );
    if (free === null) throw new ApiError("InsufficientAddresses.Subnet", `subnet ${subnet.id} has no free address.`);
    ip = formatIPv4(free);
  }
  await tx.db
    .insertInto("subnet_addresses")
    .values({ subnet_id: subnet.id, ip, owner_kind: owner.kind, owner_id: owner.id })
    .execute();
  return ip;
}

export async function releaseAddresses(tx: WriteTx, owner: AddressOwner): Promise<void> {
  await tx.db
    .deleteFrom("subnet_addresses")
    .where("owner_kind", "=", owner.kind)
    .where("owner_id", "=", owner.id)
    .execute();
}
