// Instances and their vNICs. A vNIC takes an address of its subnet and a platform MAC; deleting an
// instance releases its addresses, its member entries and any HAVIP it holds.
import type { Kysely } from "kysely";
import { VNIC_MAC_PREFIX, newId, randomMac, requireId, requireText, toPage } from "../domain/index.ts";
import { ApiError } from "../errors.ts";
import type { Instance, Page, Vnic } from "../model.ts";
import type { Actor, CreateInstanceInput, CreateVnicInput, ListOptions } from "../service.ts";
import { type Database, type WriteTx, toInstance, toVnic } from "../store/index.ts";
import type { InstancesTable, SubnetsTable, VnicsTable } from "../store/schema.ts";
import { owned, tenantProject, visible } from "./access.ts";
import { releaseAddresses, takeAddress } from "./addresses.ts";
import { type ServiceContext, byCreation, listWindow, pageOf } from "./context.ts";
import { changeHolder, havipRow, loadHaVip } from "./havip-state.ts";

async function loadInstances(db: Kysely<Database>, rows: readonly InstancesTable[]): Promise<Instance[]> {
  if (rows.length === 0) return [];
  const vnics = await db
    .selectFrom("vnics")
    .selectAll()
    .where(
      "instance_id",
      "in",
      rows.map((r) => r.id),
    )
    .execute();
  // Grouped once: a page of 1,000 instances must not scan all their vNICs per instance.
  const byInstance = new Map<string, VnicsTable[]>();
  for (const v of vnics) {
    const list = byInstance.get(v.instance_id);
    if (list === undefined) byInstance.set(v.instance_id, [v]);
    else list.push(v);
  }
  return rows.map((r) => toInstance(r, byInstance.get(r.id) ?? []));
}

async function loadInstance(db: Kysely<Database>, row: InstancesTable): Promise<Instance> {
  const [instance] = await loadInstances(db, [row]);
  if (!instance) throw new Error("unreachable: loadInstances lost a row");
  return instance;
}

/** A MAC no vNIC has yet. Random 40 bits make a clash rare; the unique constraint makes it impossible. */
async function freshVnicMac(tx: WriteTx): Promise<string> {
  for (;;) {
    const mac = randomMac(VNIC_MAC_PREFIX);
    const used = await tx.db.selectFrom("vnics").select("id").where("mac_address", "=", mac).executeTakeFirst();
    if (!used) return mac;
  }
}

async function insertVnic(
  tx: WriteTx,
  instance: { id: string; project_id: string },
  subnet: SubnetsTable,
  ipAddress: string | undefined,
  primary: boolean,
): Promise<Vnic> {
  const id = newId("vnic");
  const ip = await takeAddress(tx, subnet, ipAddress, { kind: "vnic", id });
  const row = {
    id,
    project_id: instance.project_id,
    instance_id: instance.id,
    subnet_id: subnet.id,
    vpc_id: subnet.vpc_id,
    mac_address: await freshVnicMac(tx),
    ip_address: ip,
    is_primary: primary ? 1 : 0,
    created_at: tx.at,
  };
  await tx.db.insertInto("vnics").values(row).execute();
  return toVnic(row);
}

export function instanceServices(ctx: ServiceContext) {
  const { store } = ctx;

  async function ownedSubnet(tx: WriteTx, projectId: string, subnetId: string): Promise<SubnetsTable> {
    const row = await tx.db.selectFrom("subnets").selectAll().where("id", "=", subnetId).executeTakeFirst();
    return owned(projectId, row, "subnet", subnetId);
  }

  async function createInstance(actor: Actor, input: CreateInstanceInput): Promise<Instance> {
    const projectId = tenantProject(actor);
    const name = requireText(input.name, "name", { max: 255, required: true });
    const subnetId = requireId("subnet", input.subnetId, "subnetId");
    return store.write(async (tx) => {
      const subnet = await ownedSubnet(tx, projectId, subnetId);
      const row = { id: newId("instance"), project_id: projectId, vpc_id: subnet.vpc_id, name, created_at: tx.at };
      await tx.db.insertInto("instances").values(row).execute();
      await insertVnic(tx, row, subnet, input.ipAddress, true);
      const instance = await loadInstance(tx.db, row);
      tx.record({ projectId, resource: "instance", id: instance.id, action: "created", data: instance });
      return instance;
    });
  }

  async function listInstances(
    actor: Actor,
    opts: ListOptions & { vpcId?: string; subnetId?: string },
  ): Promise<Page<Instance>> {
    const window = listWindow(opts);
    let q = store.db.selectFrom("instances").selectAll();
    if (actor.kind === "project") q = q.where("project_id", "=", actor.projectId);
    if (opts.vpcId !== undefined) q = q.where("vpc_id", "=", requireId("vpc", opts.vpcId, "vpcId"));
    if (opts.subnetId !== undefined) {
      const subnetId = requireId("subnet", opts.subnetId, "subnetId");
      q = q.where("id", "in", store.db.selectFrom("vnics").select("instance_id").where("subnet_id", "=", subnetId));
    }
    const rows = await pageOf(q, window);
    const page = toPage(rows, window.limit, (r) => r, byCreation);
    return { items: await loadInstances(store.db, page.items), nextCursor: page.nextCursor };
  }

  async function getInstance(actor: Actor, id: string): Promise<Instance> {
    requireId("instance", id);
    const row = await store.db.selectFrom("instances").selectAll().where("id", "=", id).executeTakeFirst();
    return loadInstance(store.db, visible(actor, row, "instance", id));
  }

  async function deleteInstance(actor: Actor, id: string): Promise<void> {
    const projectId = tenantProject(actor);
    requireId("instance", id);
    await store.write(async (tx) => {
      owned(
        projectId,
        await tx.db.selectFrom("instances").selectAll().where("id", "=", id).executeTakeFirst(),
        "instance",
        id,
      );
      const vnics = await tx.db.selectFrom("vnics").select("id").where("instance_id", "=", id).execute();
      const vnicIds = vnics.map((v) => v.id);
      if (vnicIds.length > 0) {
        const eip = await tx.db
          .selectFrom("eips")
          .select(["id", "target_vnic_id"])
          .where("target_vnic_id", "in", vnicIds)
          .executeTakeFirst();
        if (eip) {
          throw new ApiError(
            "DependencyViolation.VnicHasEip",
            `EIP ${eip.id} is bound to vNIC ${eip.target_vnic_id ?? ""} of instance ${id}; disassociate it first.`,
          );
        }
        // The holder role goes with the instance: the HAVIP becomes available with a new generation.
        const held = await tx.db.selectFrom("havips").selectAll().where("holder_vnic_id", "in", vnicIds).execute();
        const released = new Set<string>();
        for (const havip of held) {
          await changeHolder(tx, havip, null, "released");
          released.add(havip.id);
        }
        const memberships = await tx.db
          .selectFrom("havip_members")
          .select("havip_id")
          .distinct()
          .where("vnic_id", "in", vnicIds)
          .execute();
        await tx.db.deleteFrom("havip_members").where("vnic_id", "in", vnicIds).execute();
        for (const { havip_id } of memberships) {
          await tx.db.updateTable("havips").set({ updated_at: tx.at }).where("id", "=", havip_id).execute();
          const row = await havipRow(tx.db, havip_id);
          if (!row) continue;
          tx.record({
            projectId: row.project_id,
            resource: "havip",
            id: row.id,
            action: "updated",
            data: await loadHaVip(tx.db, row),
          });
        }
        for (const vnicId of vnicIds) await releaseAddresses(tx, { kind: "vnic", id: vnicId });
        await tx.db.deleteFrom("vnics").where("instance_id", "=", id).execute();
      }
      await tx.db.deleteFrom("instances").where("id", "=", id).execute();
      tx.record({ projectId, resource: "instance", id, action: "deleted", data: null });
    });
  }

  async function createVnic(actor: Actor, input: CreateVnicInput): Promise<Vnic> {
    const projectId = tenantProject(actor);
    const instanceId = requireId("instance", input.instanceId, "instanceId");
    const subnetId = requireId("subnet", input.subnetId, "subnetId");
    return store.write(async (tx) => {
      const instance = owned(
        projectId,
        await tx.db.selectFrom("instances").selectAll().where("id", "=", instanceId).executeTakeFirst(),
        "instance",
        instanceId,
      );
      const subnet = await ownedSubnet(tx, projectId, subnetId);
      if (subnet.vpc_id !== instance.vpc_id) {
        throw new ApiError(
          "InvalidVnic.SubnetNotInVpc",
          `subnet ${subnetId} is in VPC ${subnet.vpc_id}, instance ${instanceId} in VPC ${instance.vpc_id}.`,
        );
      }
      const vnic = await insertVnic(tx, instance, subnet, input.ipAddress, false);
      tx.record({ projectId, resource: "vnic", id: vnic.id, action: "created", data: vnic });
      const updated = await loadInstance(tx.db, instance);
      tx.record({ projectId, resource: "instance", id: instanceId, action: "updated", data: updated });
      return vnic;
    });
  }

  async function getVnic(actor: Actor, id: string): Promise<Vnic> {
    requireId("vnic", id);
    const row = await store.db.selectFrom("vnics").selectAll().where("id", "=", id).executeTakeFirst();
    return toVnic(visible(actor, row, "vNIC", id));
  }

  return { createInstance, listInstances, getInstance, deleteInstance, createVnic, getVnic };
}
