// The tables as Kysely sees them. Timestamps are ISO 8601 text (portable and ordered on both dialects),
// booleans are integers 0/1, addresses are dotted-quad text.
import type { HolderChangeReason } from "../model.ts";

export interface ProjectsTable {
  id: string;
  name: string;
  token_hash: string; // sha-256 hex of the project token; the token itself is shown once
  created_at: string;
}

export interface SettingsTable {
  name: string; // e.g. "quota.membersPerHaVip"
  value: number;
}

export interface EipPoolsTable {
  id: string;
  region: string;
  cidr: string;
  created_at: string;
}

export interface VpcsTable {
  id: string;
  project_id: string;
  name: string;
  cidr: string;
  region: string;
  mtu: number; // migration 0003 (existing rows: 1500)
  created_at: string;
}

export interface SubnetsTable {
  id: string;
  project_id: string;
  vpc_id: string;
  name: string;
  cidr: string;
  zone: string;
  broadcast: string;
  gateway_ip: string;
  created_at: string;
  /**
   * Allocation floor (migration 0004): every assignable address below first-assignable + alloc_floor is taken.
   * Null until the first automatic allocation computes it. Kept in the allocating or releasing transaction.
   */
  alloc_floor?: number | null;
}

export interface InstancesTable {
  id: string;
  project_id: string;
  vpc_id: string;
  name: string;
  created_at: string;
}

export interface VnicsTable {
  id: string;
  project_id: string;
  instance_id: string;
  subnet_id: string;
  vpc_id: string;
  mac_address: string;
  ip_address: string;
  is_primary: number;
  created_at: string;
}

/** Every address taken in a subnet, by a vNIC or a HAVIP: the (subnet_id, ip) key makes two owners impossible. */
export interface SubnetAddressesTable {
  subnet_id: string;
  ip: string;
  owner_kind: "vnic" | "havip";
  owner_id: string;
}

export interface HavipsTable {
  id: string;
  project_id: string;
  vpc_id: string;
  subnet_id: string;
  ip_address: string;
  name: string;
  description: string;
  virtual_mac: string;
  members_set: number; // 0: no member list (any vNIC of the subnet may claim)
  holder_vnic_id: string | null;
  holder_instance_id: string | null;
  holder_since: string | null;
  generation: number;
  /** A contest: when it started, and its claimants as JSON `[{instanceId, vnicId}]`; null without one. */
  contested_since: string | null;
  contested_claimants: string | null;
  created_at: string;
  updated_at: string;
}

export interface HavipMembersTable {
  havip_id: string;
  vnic_id: string;
  instance_id: string;
  position: number;
}

export interface HavipHistoryTable {
  havip_id: string;
  generation: number;
  instance_id: string | null;
  vnic_id: string | null;
  previous_vnic_id: string | null;
  at: string;
  reason: HolderChangeReason;
}

export interface EipsTable {
  id: string;
  project_id: string;
  region: string;
  pool_id: string;
  public_ip: string;
  target_havip_id: string | null;
  target_vnic_id: string | null;
  created_at: string;
}

export interface ChangesTable {
  revision: number;
  at: string;
  project_id: string | null;
  resource: string;
  resource_id: string;
  action: string;
  data: string; // JSON
}

export interface RevisionCounterTable {
  id: number;
  revision: number;
}

export interface IdempotencyKeysTable {
  actor_key: string;
  idem_key: string;
  fingerprint: string;
  state: "done"; // recorded in the create's own transaction (former versions also wrote "pending")
  response: string | null; // JSON of the first result
  created_at: string;
}

export interface Database {
  projects: ProjectsTable;
  settings: SettingsTable;
  eip_pools: EipPoolsTable;
  vpcs: VpcsTable;
  subnets: SubnetsTable;
  instances: InstancesTable;
  vnics: VnicsTable;
  subnet_addresses: SubnetAddressesTable;
  havips: HavipsTable;
  havip_members: HavipMembersTable;
  havip_history: HavipHistoryTable;
  eips: EipsTable;
  changes: ChangesTable;
  revision_counter: RevisionCounterTable;
  idempotency_keys: IdempotencyKeysTable;
}
