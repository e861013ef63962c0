// Versioned schema migrations, run at open by Kysely's Migrator. Portable DDL only (text, integer), so one
// list serves SQLite and PostgreSQL. Never edit a released migration: add the next one.
import { type Kysely, sql } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";

// Constraint names are part of the store: constraints.ts maps violations of these names to API errors.
export const CONSTRAINT = {
  subnetAddress: "subnet_addresses_pk",
  vnicMac: "vnics_mac_uq",
  havipMac: "havips_virtual_mac_uq",
  havipMember: "havip_members_pk",
  eipPublicIp: "eips_public_ip_uq",
  eipTargetHavip: "eips_target_havip_uq",
  eipTargetVnic: "eips_target_vnic_uq",
  eipOneTarget: "eips_one_target_ck",
  projectToken: "projects_token_uq",
} as const;

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("projects")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addUniqueConstraint(CONSTRAINT.projectToken, ["token_hash"])
      .execute();
    await db.schema
      .createTable("settings")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "integer", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("eip_pools")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("region", "text", (c) => c.notNull())
      .addColumn("cidr", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("vpcs")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("cidr", "text", (c) => c.notNull())
      .addColumn("region", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("subnets")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
      .addColumn("vpc_id", "text", (c) => c.notNull().references("vpcs.id"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("cidr", "text", (c) => c.notNull())
      .addColumn("zone", "text", (c) => c.notNull())
      .addColumn("broadcast", "text", (c) => c.notNull())
      .addColumn("gateway_ip", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addCheckConstraint("subnets_broadcast_ck", sql`broadcast in ('auto', 'unicast-only')`)
      .execute();
    await db.schema
      .createTable("instances")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
      .addColumn("vpc_id", "text", (c) => c.notNull().references("vpcs.id"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("vnics")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
      .addColumn("instance_id", "text", (c) => c.notNull().references("instances.id"))
      .addColumn("subnet_id", "text", (c) => c.notNull().references("subnets.id"))
      .addColumn("vpc_id", "text", (c) => c.notNull().references("vpcs.id"))
      .addColumn("mac_address", "text", (c) => c.notNull())
      .addColumn("ip_address", "text", (c) => c.notNull())
      .addColumn("is_primary", "integer", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addUniqueConstraint(CONSTRAINT.vnicMac, ["mac_address"])
      .execute();
    await db.schema
      .createTable("subnet_addresses")
      .addColumn("subnet_id", "text", (c) => c.notNull().references("subnets.id"))
      .addColumn("ip", "text", (c) => c.notNull())
      .addColumn("owner_kind", "text", (c) => c.notNull())
      .addColumn("owner_id", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint(CONSTRAINT.subnetAddress, ["subnet_id", "ip"])
      .addCheckConstraint("subnet_addresses_owner_ck", sql`owner_kind in ('vnic', 'havip')`)
      .execute();
    await db.schema
      .createTable("havips")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
      .addColumn("vpc_id", "text", (c) => c.notNull().references("vpcs.id"))
      .addColumn("subnet_id", "text", (c) => c.notNull().references("subnets.id"))
      .addColumn("ip_address", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("description", "text", (c) => c.notNull())
      .addColumn("virtual_mac", "text", (c) => c.notNull())
      .addColumn("members_set", "integer", (c) => c.notNull())
      .addColumn("holder_vnic_id", "text", (c) => c.references("vnics.id"))
      .addColumn("holder_instance_id", "text")
      .addColumn("holder_since", "text")
      .addColumn("generation", "integer", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addUniqueConstraint(CONSTRAINT.havipMac, ["virtual_mac"])
      .execute();
    await db.schema
      .createTable("havip_members")
      .addColumn("havip_id", "text", (c) => c.notNull().references("havips.id"))
      .addColumn("vnic_id", "text", (c) => c.notNull().references("vnics.id"))
      .addColumn("instance_id", "text", (c) => c.notNull())
      .addColumn("position", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint(CONSTRAINT.havipMember, ["havip_id", "vnic_id"])
      .execute();
    await db.schema.createIndex("havip_members_vnic_ix").on("havip_members").column("vnic_id").execute();
    await db.schema
      .createTable("havip_history")
      .addColumn("havip_id", "text", (c) => c.notNull().references("havips.id"))
      .addColumn("generation", "integer", (c) => c.notNull())
      .addColumn("instance_id", "text")
      .addColumn("vnic_id", "text")
      .addColumn("previous_vnic_id", "text")
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("havip_history_pk", ["havip_id", "generation"])
      .execute();
    await db.schema
      .createTable("eips")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
      .addColumn("region", "text", (c) => c.notNull())
      .addColumn("pool_id", "text", (c) => c.notNull().references("eip_pools.id"))
      .addColumn("public_ip", "text", (c) => c.notNull())
      .addColumn("target_havip_id", "text", (c) => c.references("havips.id"))
      .addColumn("target_vnic_id", "text", (c) => c.references("vnics.id"))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addUniqueConstraint(CONSTRAINT.eipPublicIp, ["public_ip"])
      .addCheckConstraint(CONSTRAINT.eipOneTarget, sql`target_havip_id is null or target_vnic_id is null`)
      .execute();
    // Unique on a nullable column: many unbound EIPs (NULL), but at most one EIP per target.
    await db.schema.createIndex(CONSTRAINT.eipTargetHavip).unique().on("eips").column("target_havip_id").execute();
    await db.schema.createIndex(CONSTRAINT.eipTargetVnic).unique().on("eips").column("target_vnic_id").execute();
    await db.schema
      .createTable("changes")
      .addColumn("revision", "integer", (c) => c.primaryKey())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("project_id", "text")
      .addColumn("resource", "text", (c) => c.notNull())
      .addColumn("resource_id", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("data", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("revision_counter")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("revision", "integer", (c) => c.notNull())
      .addCheckConstraint("revision_counter_one_row_ck", sql`id = 1`)
      .execute();
    await db.schema.createIndex("subnets_vpc_ix").on("subnets").column("vpc_id").execute();
    await db.schema.createIndex("vnics_instance_ix").on("vnics").column("instance_id").execute();
    await db.schema.createIndex("vnics_subnet_ix").on("vnics").column("subnet_id").execute();
    await db.schema.createIndex("havips_subnet_ix").on("havips").column("subnet_id").execute();
    await db.schema.createIndex("eips_pool_ix").on("eips").column("pool_id").execute();
    await sql`insert into revision_counter (id, revision) values (1, 0)`.execute(db);
    await db.schema
      .createTable("idempotency_keys")
      .addColumn("actor_key", "text", (c) => c.notNull())
      .addColumn("idem_key", "text", (c) => c.notNull())
      .addColumn("fingerprint", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("response", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("idempotency_keys_pk", ["actor_key", "idem_key"])
      .execute();
  },
};

// Idempotency keys are now recorded in the create's own transaction, finished ("done") or not at all.
// A "pending" row is a leftover of the former protocol (a create cut off before its answer was stored):
// it would never finish, so it is let go and a retry runs the create afresh, as it did before.
const idempotencyKeysCommittedWithCreate: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`delete from idempotency_keys where state <> 'done'`.execute(db);
  },
};

// Per-VPC MTU (jumbo frames). Existing VPCs keep what they always had: 1500.
const vpcMtu: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("vpcs")
      .addColumn("mtu", "integer", (c) => c.notNull().defaultTo(1500))
      .execute();
  },
};

// Lists page by (created_at, id), per project or over all (the operator, the fabric's rebuild), and a create
// counts the project's HAVIPs for its quota: indexes that serve those as range scans instead of a full scan
// and a sort of the table per page. Releasing an owner's addresses finds them by owner. And each subnet keeps an
// allocation floor (see SubnetsTable.alloc_floor), so that taking the lowest free address reads a few rows,
// not every address of the subnet.
const indexesAndAddressFloor: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("subnets").addColumn("alloc_floor", "integer").execute();
    await db.schema
      .createIndex("subnet_addresses_owner_ix")
      .ifNotExists()
      .on("subnet_addresses")
      .columns(["owner_id"])
      .execute();
    for (const table of ["instances", "havips", "eips"]) {
      await db.schema
        .createIndex(`${table}_project_created_ix`)
        .ifNotExists()
        .on(table)
        .columns(["project_id", "created_at", "id"])
        .execute();
      await db.schema
        .createIndex(`${table}_created_ix`)
        .ifNotExists()
        .on(table)
        .columns(["created_at", "id"])
        .execute();
    }
  },
};

// A HAVIP can be contested (several instances hold its address at once; the fabric sees it): when it started and
// who the claimants are, so that every replica and the console show it.
const havipContest: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("havips").addColumn("contested_since", "text").execute();
    await db.schema.alterTable("havips").addColumn("contested_claimants", "text").execute();
  },
};

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001_initial": initial,
  "0002_idempotency_keys_committed_with_create": idempotencyKeysCommittedWithCreate,
  "0003_vpc_mtu": vpcMtu,
  "0004_indexes_and_address_floor": indexesAndAddressFloor,
  "0005_havip_contest": havipContest,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
