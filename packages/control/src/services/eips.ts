// EIPs: public addresses allocated from the operator's pools of a region, bound to at most one target
// (a HAVIP or a vNIC) in the same region. One EIP per target is a unique index on each target column.
import { allocatePublicAddress, cidrContains, formatIPv4 } from "@havip/ipam";
import { newId, requireId, requireLabel, toPage } from "../domain/index.ts";
import { ApiError } from "../errors.ts";
import type { Eip, Page } from "../model.ts";
import type { Actor, AssociateEipInput, ListOptions } from "../service.ts";
import { type WriteTx, toEip } from "../store/index.ts";
import type { EipsTable } from "../store/schema.ts";
import { owned, tenantProject, visible } from "./access.ts";
import { type ServiceContext, byCreation, listWindow, pageOf } from "./context.ts";
import { havipRow, loadHaVip } from "./havip-state.ts";
import { readQuotas } from "./quotas.ts";
import { storedCidr, storedIp } from "./stored.ts";

async function eipRow(tx: WriteTx, id: string): Promise<EipsTable | undefined> {
  return tx.db.selectFrom("eips").selectAll().where("id", "=", id).executeTakeFirst();
}

async function regionOfVpc(tx: WriteTx, vpcId: string): Promise<string> {
  const vpc = await tx.db.selectFrom("vpcs").select("region").where("id", "=", vpcId).executeTakeFirstOrThrow();
  return vpc.region;
}

/** The HAVIP's `eip` field changed: watchers of HAVIPs get an update too. */
async function recordHaVipUpdated(tx: WriteTx, havipId: string): Promise<void> {
  await tx.db.updateTable("havips").set({ updated_at: tx.at }).where("id", "=", havipId).execute();
  const row = await havipRow(tx.db, havipId);
  if (!row) return;
  tx.record({
    projectId: row.project_id,
    resource: "havip",
    id: havipId,
    action: "updated",
    data: await loadHaVip(tx.db, row),
  });
}

export function eipServices(ctx: ServiceContext) {
  const { store } = ctx;

  async function allocateEip(actor: Actor, input: { region: string }): Promise<Eip> {
    const projectId = tenantProject(actor);
    const region = requireLabel(input.region, "region");
    return store.write(async (tx) => {
      const pools = await tx.db
        .selectFrom("eip_pools")
        .select(["id", "cidr"])
        .where("region", "=", region)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      const used = await tx.db
        .selectFrom("eips")
        .select("public_ip")
        .where("pool_id", "in", pools.length > 0 ? pools.map((p) => p.id) : [""])
        .execute();
      const cidrs = pools.map((p) => storedCidr(p.cidr));
      const ip = allocatePublicAddress(
        cidrs,
        used.map((u) => storedIp(u.public_ip)),
      );
      const pool = ip === null ? undefined : pools.find((_, i) => cidrContains(cidrs[i]!, ip));
      if (ip === null || !pool) {
        throw new ApiError("InsufficientAddresses.EipPool", `No free public address in region ${region}.`);
      }
      const row: EipsTable = {
        id: newId("eip"),
        project_id: projectId,
        region,
        pool_id: pool.id,
        public_ip: formatIPv4(ip),
        target_havip_id: null,
        target_vnic_id: null,
        created_at: tx.at,
      };
      await tx.db.insertInto("eips").values(row).execute();
      const eip = toEip(row);
      tx.record({ projectId, resource: "eip", id: eip.id, action: "created", data: eip });
      return eip;
    });
  }

  async function listEips(actor: Actor, opts: ListOptions): Promise<Page<Eip>> {
    const window = listWindow(opts);
    let q = store.db.selectFrom("eips").selectAll();
    if (actor.kind === "project") q = q.where("project_id", "=", actor.projectId);
    const rows = await pageOf(q, window);
    return toPage(rows, window.limit, toEip, byCreation);
  }

  async function getEip(actor: Actor, id: string): Promise<Eip> {
    requireId("eip", id);
    const row = await store.db.selectFrom("eips").selectAll().where("id", "=", id).executeTakeFirst();
    return toEip(visible(actor, row, "EIP", id));
  }

  async function releaseEip(actor: Actor, id: string): Promise<void> {
    const projectId = tenantProject(actor);
    requireId("eip", id);
    await store.write(async (tx) => {
      const row = owned(projectId, await eipRow(tx, id), "EIP", id);
      if (row.target_havip_id !== null || row.target_vnic_id !== null) {
        throw new ApiError("DependencyViolation.EipBound", `EIP ${id} is bound; disassociate it before releasing it.`);
      }
      await tx.db.deleteFrom("eips").where("id", "=", id).execute();
      tx.record({ projectId, resource: "eip", id, action: "deleted", data: null });
    });
  }

  async function associateEip(actor: Actor, id: string, input: AssociateEipInput): Promise<Eip> {
    const projectId = tenantProject(actor);
    requireId("eip", id);
    const target = input as { havipId?: unknown; vnicId?: unknown };
    if ((target.havipId === undefined) === (target.vnicId === undefined)) {
      throw new ApiError("InvalidParameter", "Give exactly one of havipId or vnicId.");
    }
    const havipId = target.havipId === undefined ? null : requireId("havip", target.havipId, "havipId");
    const vnicId = target.vnicId === undefined ? null : requireId("vnic", target.vnicId, "vnicId");
    return store.write(async (tx) => {
      const row = owned(projectId, await eipRow(tx, id), "EIP", id);
      if (row.target_havip_id !== null || row.target_vnic_id !== null) {
        throw new ApiError("IncorrectState.EipBound", `EIP ${id} is already bound; disassociate it first.`);
      }
      if (havipId !== null) {
        const havip = owned(projectId, await havipRow(tx.db, havipId), "HAVIP", havipId);
        const region = await regionOfVpc(tx, havip.vpc_id);
        if (region !== row.region) {
          throw new ApiError(
            "InvalidEip.RegionMismatch",
            `EIP ${id} is in ${row.region}, HAVIP ${havipId} in ${region}.`,
          );
        }
        const quotas = await readQuotas(tx.db, ctx.baseQuotas);
        const { n } = await tx.db
          .selectFrom("eips")
          .select((eb) => eb.fn.countAll<number | string>().as("n"))
          .where("target_havip_id", "=", havipId)
          .executeTakeFirstOrThrow();
        if (Number(n) >= quotas.eipsPerHaVip) {
          throw new ApiError(
            "QuotaExceeded.EipsPerHaVip",
            `HAVIP ${havipId} may have at most ${quotas.eipsPerHaVip} EIP bound.`,
          );
        }
        await tx.db.updateTable("eips").set({ target_havip_id: havipId }).where("id", "=", id).execute();
      } else if (vnicId !== null) {
        const vnic = owned(
          projectId,
          await tx.db.selectFrom("vnics").selectAll().where("id", "=", vnicId).executeTakeFirst(),
          "vNIC",
          vnicId,
        );
        const region = await regionOfVpc(tx, vnic.vpc_id);
        if (region !== row.region) {
          throw new ApiError(
            "InvalidEip.RegionMismatch",
            `EIP ${id} is in ${row.region}, vNIC ${vnicId} in ${region}.`,
          );
        }
        const other = await tx.db
          .selectFrom("eips")
          .select("id")
          .where("target_vnic_id", "=", vnicId)
          .executeTakeFirst();
        if (other) throw new ApiError("IncorrectState.TargetHasEip", `vNIC ${vnicId} already has EIP ${other.id}.`);
        await tx.db.updateTable("eips").set({ target_vnic_id: vnicId }).where("id", "=", id).execute();
      }
      const eip = toEip(await eipRow(tx, id).then((r) => r ?? row));
      tx.record({ projectId, resource: "eip", id, action: "updated", data: eip });
      if (havipId !== null) await recordHaVipUpdated(tx, havipId);
      return eip;
    });
  }

  async function disassociateEip(actor: Actor, id: string): Promise<Eip> {
    const projectId = tenantProject(actor);
    requireId("eip", id);
    return store.write(async (tx) => {
      const row = owned(projectId, await eipRow(tx, id), "EIP", id);
      if (row.target_havip_id === null && row.target_vnic_id === null) {
        throw new ApiError("IncorrectState.EipNotBound", `EIP ${id} is not bound.`);
      }
      await tx.db
        .updateTable("eips")
        .set({ target_havip_id: null, target_vnic_id: null })
        .where("id", "=", id)
        .execute();
      const eip = toEip({ ...row, target_havip_id: null, target_vnic_id: null });
      tx.record({ projectId, resource: "eip", id, action: "updated", data: eip });
      if (row.target_havip_id !== null) await recordHaVipUpdated(tx, row.target_havip_id);
      return eip;
    });
  }

  return { allocateEip, listEips, getEip, releaseEip, associateEip, disassociateEip };
}
