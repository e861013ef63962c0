// VPCs and subnets: CIDR rules (VPC /16–/28; subnet inside its VPC, no overlap with siblings; gateway =
// first usable address) and their delete rules.
import { cidrContainsCidr, cidrsOverlap, firstUsable, formatCidr, formatIPv4 } from "@havip/ipam";
import {
  SUBNET_PREFIX,
  VPC_MTU,
  VPC_PREFIX,
  newId,
  requireCidr,
  requireId,
  requireInteger,
  requireLabel,
  requireText,
  toPage,
} from "../domain/index.ts";
import { ApiError } from "../errors.ts";
import type { BroadcastMode, Page, Subnet, Vpc } from "../model.ts";
import type { Actor, CreateSubnetInput, CreateVpcInput, ListOptions } from "../service.ts";
import { toSubnet, toVpc } from "../store/index.ts";
import { owned, tenantProject, visible } from "./access.ts";
import { type ServiceContext, byCreation, listWindow, pageOf } from "./context.ts";
import { storedCidr } from "./stored.ts";

const BROADCAST_MODES: readonly BroadcastMode[] = ["auto", "unicast-only"];

export function networkServices(ctx: ServiceContext) {
  const { store } = ctx;

  async function createVpc(actor: Actor, input: CreateVpcInput): Promise<Vpc> {
    const projectId = tenantProject(actor);
    const name = requireText(input.name, "name", { max: 255 });
    const cidr = requireCidr(input.cidr, "cidr", VPC_PREFIX);
    const region = requireLabel(input.region, "region");
    const mtu = requireInteger(input.mtu, "mtu", VPC_MTU);
    return store.write(async (tx) => {
      const row = {
        id: newId("vpc"),
        project_id: projectId,
        name,
        cidr: formatCidr(cidr),
        region,
        mtu,
        created_at: tx.at,
      };
      await tx.db.insertInto("vpcs").values(row).execute();
      const vpc = toVpc(row);
      tx.record({ projectId, resource: "vpc", id: vpc.id, action: "created", data: vpc });
      return vpc;
    });
  }

  async function listVpcs(actor: Actor, opts: ListOptions): Promise<Page<Vpc>> {
    const window = listWindow(opts);
    let q = store.db.selectFrom("vpcs").selectAll();
    if (actor.kind === "project") q = q.where("project_id", "=", actor.projectId);
    const rows = await pageOf(q, window);
    return toPage(rows, window.limit, toVpc, byCreation);
  }

  async function getVpc(actor: Actor, id: string): Promise<Vpc> {
    requireId("vpc", id);
    const row = await store.db.selectFrom("vpcs").selectAll().where("id", "=", id).executeTakeFirst();
    return toVpc(visible(actor, row, "VPC", id));
  }

  async function deleteVpc(actor: Actor, id: string): Promise<void> {
    const projectId = tenantProject(actor);
    requireId("vpc", id);
    await store.write(async (tx) => {
      owned(projectId, await tx.db.selectFrom("vpcs").selectAll().where("id", "=", id).executeTakeFirst(), "VPC", id);
      const subnet = await tx.db.selectFrom("subnets").select("id").where("vpc_id", "=", id).executeTakeFirst();
      if (subnet) throw new ApiError("DependencyViolation.VpcHasSubnets", `VPC ${id} still has subnet ${subnet.id}.`);
      await tx.db.deleteFrom("vpcs").where("id", "=", id).execute();
      tx.record({ projectId, resource: "vpc", id, action: "deleted", data: null });
    });
  }

  async function createSubnet(actor: Actor, input: CreateSubnetInput): Promise<Subnet> {
    const projectId = tenantProject(actor);
    const vpcId = requireId("vpc", input.vpcId, "vpcId");
    const name = requireText(input.name, "name", { max: 255 });
    const cidr = requireCidr(input.cidr, "cidr", SUBNET_PREFIX);
    const zone = requireLabel(input.zone, "zone");
    const broadcast = input.broadcast ?? "auto";
    if (!BROADCAST_MODES.includes(broadcast)) {
      throw new ApiError("InvalidParameter", `broadcast must be one of ${BROADCAST_MODES.join(", ")}.`);
    }
    return store.write(async (tx) => {
      const vpc = owned(
        projectId,
        await tx.db.selectFrom("vpcs").selectAll().where("id", "=", vpcId).executeTakeFirst(),
        "VPC",
        vpcId,
      );
      if (!cidrContainsCidr(storedCidr(vpc.cidr), cidr)) {
        throw new ApiError("InvalidCidr.NotInVpc", `${formatCidr(cidr)} is not inside VPC ${vpc.id} (${vpc.cidr}).`);
      }
      // Writers are serialised (store.write), so this check cannot race with a sibling's creation.
      const siblings = await tx.db.selectFrom("subnets").select(["id", "cidr"]).where("vpc_id", "=", vpcId).execute();
      const clash = siblings.find((s) => cidrsOverlap(storedCidr(s.cidr), cidr));
      if (clash)
        throw new ApiError("InvalidCidr.Overlap", `${formatCidr(cidr)} overlaps subnet ${clash.id} (${clash.cidr}).`);
      const row = {
        id: newId("subnet"),
        project_id: projectId,
        vpc_id: vpcId,
        name,
        cidr: formatCidr(cidr),
        zone,
        broadcast,
        gateway_ip: formatIPv4(firstUsable(cidr)),
        created_at: tx.at,
      };
      await tx.db.insertInto("subnets").values(row).execute();
      const subnet = toSubnet(row);
      tx.record({ projectId, resource: "subnet", id: subnet.id, action: "created", data: subnet });
      return subnet;
    });
  }

  async function listSubnets(actor: Actor, opts: ListOptions & { vpcId?: string }): Promise<Page<Subnet>> {
    const window = listWindow(opts);
    let q = store.db.selectFrom("subnets").selectAll();
    if (actor.kind === "project") q = q.where("project_id", "=", actor.projectId);
    if (opts.vpcId !== undefined) q = q.where("vpc_id", "=", requireId("vpc", opts.vpcId, "vpcId"));
    const rows = await pageOf(q, window);
    return toPage(rows, window.limit, toSubnet, byCreation);
  }

  async function getSubnet(actor: Actor, id: string): Promise<Subnet> {
    requireId("subnet", id);
    const row = await store.db.selectFrom("subnets").selectAll().where("id", "=", id).executeTakeFirst();
    return toSubnet(visible(actor, row, "subnet", id));
  }

  async function deleteSubnet(actor: Actor, id: string): Promise<void> {
    const projectId = tenantProject(actor);
    requireId("subnet", id);
    await store.write(async (tx) => {
      owned(
        projectId,
        await tx.db.selectFrom("subnets").selectAll().where("id", "=", id).executeTakeFirst(),
        "subnet",
        id,
      );
      const vnic = await tx.db.selectFrom("vnics").select("instance_id").where("subnet_id", "=", id).executeTakeFirst();
      if (vnic) {
        throw new ApiError(
          "DependencyViolation.SubnetHasInstances",
          `subnet ${id} still has a vNIC of ${vnic.instance_id}.`,
        );
      }
      const havip = await tx.db.selectFrom("havips").select("id").where("subnet_id", "=", id).executeTakeFirst();
      if (havip) throw new ApiError("DependencyViolation.SubnetHasHaVips", `subnet ${id} still has HAVIP ${havip.id}.`);
      await tx.db.deleteFrom("subnets").where("id", "=", id).execute();
      tx.record({ projectId, resource: "subnet", id, action: "deleted", data: null });
    });
  }

  return { createVpc, listVpcs, getVpc, deleteVpc, createSubnet, listSubnets, getSubnet, deleteSubnet };
}
