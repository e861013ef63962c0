// The control plane's resources as the API shows them. Field names here are the public contract
// (JSON bodies of the HTTP API); the store maps rows to these shapes.

export type BroadcastMode = "auto" | "unicast-only";

export interface Project {
  id: string; // proj-…
  name: string;
  createdAt: string; // ISO 8601
}

export interface Vpc {
  id: string; // vpc-…
  projectId: string;
  name: string;
  cidr: string; // IPv4, /16–/28
  region: string;
  mtu: number; // largest IP packet the VPC carries, 1280–8950 (jumbo frames), default 1500
  createdAt: string;
}

export interface Subnet {
  id: string; // subnet-…
  projectId: string;
  vpcId: string;
  name: string;
  cidr: string; // inside the VPC's CIDR, no overlap with siblings
  zone: string;
  broadcast: BroadcastMode;
  gatewayIp: string; // first usable address
  createdAt: string;
}

export interface Vnic {
  id: string; // eni-…
  projectId: string;
  instanceId: string;
  subnetId: string;
  vpcId: string;
  macAddress: string; // locally administered unicast, unique, "02:xx:xx:xx:xx:xx"
  ipAddress: string;
  primary: boolean;
  createdAt: string;
}

export interface Instance {
  id: string; // i-…
  projectId: string;
  vpcId: string;
  name: string;
  primaryVnicId: string;
  vnics: Vnic[];
  createdAt: string;
}

export interface HaVipHolder {
  instanceId: string;
  vnicId: string;
  since: string; // when this holder took the address
  generation: number; // increments on every holder change
}

export interface HaVipMember {
  instanceId: string;
  vnicId: string;
}

export type HaVipStatus = "available" | "in-use";

export interface HaVip {
  id: string; // havip-…
  projectId: string;
  vpcId: string;
  subnetId: string;
  ipAddress: string;
  name: string;
  description: string;
  virtualMac: string; // stable for the HAVIP's life (DESIGN §2.5)
  members: HaVipMember[] | null; // null: any vNIC of the subnet may claim
  status: HaVipStatus;
  holder: HaVipHolder | null;
  generation: number; // last generation issued (0 before the first holder)
  contested: HaVipContest | null; // null unless several instances hold the address at once
  eip: { id: string; publicIp: string } | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Why a holder changed: `announcement` — the new holder's gratuitous ARP, seen by the fabric; `verified` — the
 * fabric asked who has the address and the new holder answered (the old one was silent); `withdrawn` — nobody
 * answered for several rounds in a row, the holder was released; `released` — the holder lost the right to claim
 * (removed from the member list, instance deleted); `manual` — reported by hand (`POST /v1/observations`).
 */
export type HolderChangeReason = "announcement" | "verified" | "withdrawn" | "released" | "manual";

export interface HolderHistoryEntry {
  generation: number;
  instanceId: string | null; // null when the holder was released (instance deleted)
  vnicId: string | null;
  previousVnicId: string | null;
  at: string;
  reason: HolderChangeReason;
}

/** Several instances hold the HAVIP's address at once (split brain), as the fabric saw it. */
export interface HaVipContest {
  since: string;
  claimants: HaVipMember[];
}

export type EipTarget = { type: "havip"; havipId: string } | { type: "vnic"; vnicId: string };

export interface Eip {
  id: string; // eip-…
  projectId: string;
  region: string;
  publicIp: string;
  status: "available" | "bound";
  target: EipTarget | null;
  createdAt: string;
}

export interface EipPool {
  id: string; // pool-…
  region: string;
  cidr: string;
  createdAt: string;
}

export interface Quotas {
  membersPerHaVip: number; // default 10
  haVipsPerVnic: number; // member lists a vNIC may be in, default 5
  eipsPerHaVip: number; // default 1
  haVipsPerProject: number; // default 50
}

export const DEFAULT_QUOTAS: Quotas = Object.freeze({
  membersPerHaVip: 10,
  haVipsPerVnic: 5,
  eipsPerHaVip: 1,
  haVipsPerProject: 50,
});

export type ResourceKind = "project" | "vpc" | "subnet" | "instance" | "vnic" | "havip" | "eip" | "eip-pool" | "quotas";

/** One committed change. Revisions increase by one per change, with no gaps, in commit order. */
export interface ChangeEvent {
  revision: number;
  at: string;
  projectId: string | null; // null for operator-level resources (pools, quotas)
  resource: ResourceKind;
  id: string;
  action: "created" | "updated" | "deleted" | "holder-changed" | "contest-started" | "contest-ended";
  data: unknown; // the resource after the change (null for deletes)
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
