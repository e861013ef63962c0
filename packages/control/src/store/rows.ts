// Row ↔ model mapping, in one place. Integer columns are 32-bit on PostgreSQL, which pg returns as numbers.
import type {
  BroadcastMode,
  ChangeEvent,
  Eip,
  EipPool,
  HaVip,
  HaVipContest,
  HaVipMember,
  HolderHistoryEntry,
  Instance,
  Project,
  Subnet,
  Vnic,
  Vpc,
} from "../model.ts";
import type {
  ChangesTable,
  EipPoolsTable,
  EipsTable,
  HavipHistoryTable,
  HavipsTable,
  ProjectsTable,
  SubnetsTable,
  VnicsTable,
  VpcsTable,
} from "./schema.ts";

export function toProject(r: ProjectsTable): Project {
  return { id: r.id, name: r.name, createdAt: r.created_at };
}

export function toEipPool(r: EipPoolsTable): EipPool {
  return { id: r.id, region: r.region, cidr: r.cidr, createdAt: r.created_at };
}

export function toVpc(r: VpcsTable): Vpc {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    cidr: r.cidr,
    region: r.region,
    mtu: r.mtu,
    createdAt: r.created_at,
  };
}

export function toSubnet(r: SubnetsTable): Subnet {
  return {
    id: r.id,
    projectId: r.project_id,
    vpcId: r.vpc_id,
    name: r.name,
    cidr: r.cidr,
    zone: r.zone,
    broadcast: r.broadcast as BroadcastMode,
    gatewayIp: r.gateway_ip,
    createdAt: r.created_at,
  };
}

export function toVnic(r: VnicsTable): Vnic {
  return {
    id: r.id,
    projectId: r.project_id,
    instanceId: r.instance_id,
    subnetId: r.subnet_id,
    vpcId: r.vpc_id,
    macAddress: r.mac_address,
    ipAddress: r.ip_address,
    primary: r.is_primary === 1,
    createdAt: r.created_at,
  };
}

/** vnics: the instance's vNICs in any order; the primary comes first, then by creation. */
export function toInstance(
  r: { id: string; project_id: string; vpc_id: string; name: string; created_at: string },
  vnics: readonly VnicsTable[],
): Instance {
  const list = vnics
    .map(toVnic)
    .sort((a, b) =>
      a.primary !== b.primary
        ? a.primary
          ? -1
          : 1
        : a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
  const primary = list.find((v) => v.primary);
  return {
    id: r.id,
    projectId: r.project_id,
    vpcId: r.vpc_id,
    name: r.name,
    primaryVnicId: primary?.id ?? "",
    vnics: list,
    createdAt: r.created_at,
  };
}

export function toHaVip(
  r: HavipsTable,
  members: readonly { vnic_id: string; instance_id: string; position: number }[],
  eip: { id: string; public_ip: string } | undefined,
): HaVip {
  const holder =
    r.holder_vnic_id !== null && r.holder_instance_id !== null && r.holder_since !== null
      ? {
          instanceId: r.holder_instance_id,
          vnicId: r.holder_vnic_id,
          since: r.holder_since,
          generation: r.generation,
        }
      : null;
  const memberList: HaVipMember[] = [...members]
    .sort((a, b) => a.position - b.position)
    .map((m) => ({ instanceId: m.instance_id, vnicId: m.vnic_id }));
  return {
    id: r.id,
    projectId: r.project_id,
    vpcId: r.vpc_id,
    subnetId: r.subnet_id,
    ipAddress: r.ip_address,
    name: r.name,
    description: r.description,
    virtualMac: r.virtual_mac,
    members: r.members_set === 1 ? memberList : null,
    status: holder ? "in-use" : "available",
    holder,
    generation: r.generation,
    contested: contestOf(r),
    eip: eip ? { id: eip.id, publicIp: eip.public_ip } : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function contestOf(r: HavipsTable): HaVipContest | null {
  if (r.contested_since === null || r.contested_claimants === null) return null;
  return { since: r.contested_since, claimants: JSON.parse(r.contested_claimants) as HaVipMember[] };
}

export function toHistoryEntry(r: HavipHistoryTable): HolderHistoryEntry {
  return {
    generation: r.generation,
    instanceId: r.instance_id,
    vnicId: r.vnic_id,
    previousVnicId: r.previous_vnic_id,
    at: r.at,
    reason: r.reason,
  };
}

export function toEip(r: EipsTable): Eip {
  const target =
    r.target_havip_id !== null
      ? { type: "havip" as const, havipId: r.target_havip_id }
      : r.target_vnic_id !== null
        ? { type: "vnic" as const, vnicId: r.target_vnic_id }
        : null;
  return {
    id: r.id,
    projectId: r.project_id,
    region: r.region,
    publicIp: r.public_ip,
    status: target ? "bound" : "available",
    target,
    createdAt: r.created_at,
  };
}

export function toChangeEvent(r: ChangesTable): ChangeEvent {
  return {
    revision: r.revision,
    at: r.at,
    projectId: r.project_id,
    resource: r.resource as ChangeEvent["resource"],
    id: r.resource_id,
    action: r.action as ChangeEvent["action"],
    data: JSON.parse(r.data) as unknown,
  };
}
