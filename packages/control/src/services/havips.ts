// HAVIPs: an address of one subnet (chosen or allocated; fixed for life), a stable virtual MAC, an
// optional member list, and the holder as the fabric observed it. The platform never elects: the holder
// is whoever announced last among those allowed to.
import { HAVIP_MAC_PREFIX, idKind, newId, randomMac, requireId, requireText, toPage } from "../domain/index.ts";
import { decodeCursor, encodeCursor, pageLimit } from "../domain/paging.ts";
import { ApiError } from "../errors.ts";
import type { HaVip, HolderHistoryEntry, Page, Quotas } from "../model.ts";
import type {
  Actor,
  ContestObservation,
  CreateHaVipInput,
  HolderObservation,
  ListOptions,
  ObservationResult,
  UpdateHaVipInput,
} from "../service.ts";
import { type WriteTx, toHaVip, toHistoryEntry } from "../store/index.ts";
import type { HavipsTable, SubnetsTable } from "../store/schema.ts";
import { owned, tenantProject, visible } from "./access.ts";
import { releaseAddresses, takeAddress } from "./addresses.ts";
import { type ServiceContext, byCreation, listWindow, pageOf } from "./context.ts";
import { changeHolder, havipRow, loadHaVip, loadHaVips } from "./havip-state.ts";
import { readQuotas } from "./quotas.ts";

interface ResolvedMember {
  vnicId: string;
  instanceId: string;
}

/**
 * Resolves member ids (vNIC ids, or instance ids meaning that instance's vNIC in the subnet) and checks
 * the member quotas. havipId: the HAVIP being updated (its own memberships do not count), or null.
 */
async function resolveMembers(
  tx: WriteTx,
  projectId: string,
  subnet: SubnetsTable,
  members: unknown,
  havipId: string | null,
  quotas: Quotas,
): Promise<ResolvedMember[]> {
  if (!Array.isArray(members))
    throw new ApiError("InvalidParameter", "members must be a list of vNIC or instance ids.");
  if (members.length > quotas.membersPerHaVip) {
    throw new ApiError(
      "QuotaExceeded.MembersPerHaVip",
      `A HAVIP may have at most ${quotas.membersPerHaVip} members; ${members.length} were given.`,
    );
  }
  const resolved: ResolvedMember[] = [];
  for (const member of members as unknown[]) {
    const kind = typeof member === "string" ? idKind(member) : null;
    if (typeof member !== "string" || (kind !== "vnic" && kind !== "instance")) {
      throw new ApiError("InvalidId", "each member must be a vNIC id (eni-…) or an instance id (i-…).");
    }
    let q = tx.db
      .selectFrom("vnics")
      .select(["id", "instance_id"])
      .where("project_id", "=", projectId)
      .where("subnet_id", "=", subnet.id);
    q = kind === "vnic" ? q.where("id", "=", member) : q.where("instance_id", "=", member);
    // An instance with several vNICs in the subnet: its primary, else its oldest.
    const vnic = await q.orderBy("is_primary", "desc").orderBy("created_at").orderBy("id").executeTakeFirst();
    if (!vnic) {
      throw new ApiError("InvalidMember.NotInSubnet", `${member} has no vNIC in subnet ${subnet.id}.`);
    }
    if (resolved.some((r) => r.vnicId === vnic.id)) {
      throw new ApiError("InvalidMember.Duplicate", `vNIC ${vnic.id} is named twice in members.`);
    }
    let others = tx.db
      .selectFrom("havip_members")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("vnic_id", "=", vnic.id);
    if (havipId !== null) others = others.where("havip_id", "!=", havipId);
    const { n } = await others.executeTakeFirstOrThrow();
    if (Number(n) >= quotas.haVipsPerVnic) {
      throw new ApiError(
        "QuotaExceeded.HaVipsPerVnic",
        `vNIC ${vnic.id} is already in ${Number(n)} HAVIP member lists (at most ${quotas.haVipsPerVnic}).`,
      );
    }
    resolved.push({ vnicId: vnic.id, instanceId: vnic.instance_id });
  }
  return resolved;
}

async function writeMembers(tx: WriteTx, havipId: string, members: readonly ResolvedMember[]): Promise<void> {
  await tx.db.deleteFrom("havip_members").where("havip_id", "=", havipId).execute();
  if (members.length === 0) return;
  await tx.db
    .insertInto("havip_members")
    .values(
      members.map((m, position) => ({ havip_id: havipId, vnic_id: m.vnicId, instance_id: m.instanceId, position })),
    )
    .execute();
}

async function freshVirtualMac(tx: WriteTx): Promise<string> {
  for (;;) {
    const mac = randomMac(HAVIP_MAC_PREFIX);
    const used = await tx.db.selectFrom("havips").select("id").where("virtual_mac", "=", mac).executeTakeFirst();
    if (!used) return mac;
  }
}

/** May this vNIC claim the HAVIP? It must be in the HAVIP's subnet and, with a member list, a member. */
async function mayClaim(tx: WriteTx, havip: HavipsTable, vnicId: string): Promise<boolean> {
  const vnic = await tx.db.selectFrom("vnics").select(["subnet_id"]).where("id", "=", vnicId).executeTakeFirst();
  if (vnic?.subnet_id !== havip.subnet_id) return false;
  if (havip.members_set !== 1) return true;
  const member = await tx.db
    .selectFrom("havip_members")
    .select("vnic_id")
    .where("havip_id", "=", havip.id)
    .where("vnic_id", "=", vnicId)
    .executeTakeFirst();
  return member !== undefined;
}

export function havipServices(ctx: ServiceContext) {
  const { store } = ctx;

  async function createHaVip(actor: Actor, input: CreateHaVipInput): Promise<HaVip> {
    const projectId = tenantProject(actor);
    const subnetId = requireId("subnet", input.subnetId, "subnetId");
    const name = requireText(input.name, "name", { max: 255 });
    const description = requireText(input.description, "description", { max: 1024 });
    return store.write(async (tx) => {
      const quotas = await readQuotas(tx.db, ctx.baseQuotas);
      const subnet = owned(
        projectId,
        await tx.db.selectFrom("subnets").selectAll().where("id", "=", subnetId).executeTakeFirst(),
        "subnet",
        subnetId,
      );
      const { n } = await tx.db
        .selectFrom("havips")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("project_id", "=", projectId)
        .executeTakeFirstOrThrow();
      if (Number(n) >= quotas.haVipsPerProject) {
        throw new ApiError(
          "QuotaExceeded.HaVipsPerProject",
          `The project has ${Number(n)} HAVIPs, its limit is ${quotas.haVipsPerProject}.`,
        );
      }
      const members =
        input.members === undefined ? null : await resolveMembers(tx, projectId, subnet, input.members, null, quotas);
      const id = newId("havip");
      const ip = await takeAddress(tx, subnet, input.ipAddress, { kind: "havip", id });
      const row: HavipsTable = {
        id,
        project_id: projectId,
        vpc_id: subnet.vpc_id,
        subnet_id: subnet.id,
        ip_address: ip,
        name,
        description,
        virtual_mac: await freshVirtualMac(tx),
        members_set: members === null ? 0 : 1,
        holder_vnic_id: null,
        holder_instance_id: null,
        holder_since: null,
        generation: 0,
        contested_since: null,
        contested_claimants: null,
        created_at: tx.at,
        updated_at: tx.at,
      };
      await tx.db.insertInto("havips").values(row).execute();
      if (members) await writeMembers(tx, id, members);
      // Built from what was just written (a new HAVIP has no EIP): no read-back round trips.
      const memberRows = (members ?? []).map((m, position) => ({
        vnic_id: m.vnicId,
        instance_id: m.instanceId,
        position,
      }));
      const havip = toHaVip(row, memberRows, undefined);
      tx.record({ projectId, resource: "havip", id, action: "created", data: havip });
      return havip;
    });
  }

  async function listHaVips(
    actor: Actor,
    opts: ListOptions & { vpcId?: string; subnetId?: string },
  ): Promise<Page<HaVip>> {
    const window = listWindow(opts);
    let q = store.db.selectFrom("havips").selectAll();
    if (actor.kind === "project") q = q.where("project_id", "=", actor.projectId);
    if (opts.vpcId !== undefined) q = q.where("vpc_id", "=", requireId("vpc", opts.vpcId, "vpcId"));
    if (opts.subnetId !== undefined) q = q.where("subnet_id", "=", requireId("subnet", opts.subnetId, "subnetId"));
    const rows = await pageOf(q, window);
    const page = toPage(rows, window.limit, (r) => r, byCreation);
    return { items: await loadHaVips(store.db, page.items), nextCursor: page.nextCursor };
  }

  async function getHaVip(actor: Actor, id: string): Promise<HaVip> {
    requireId("havip", id);
    return loadHaVip(store.db, visible(actor, await havipRow(store.db, id), "HAVIP", id));
  }

  async function updateHaVip(actor: Actor, id: string, input: UpdateHaVipInput): Promise<HaVip> {
    const projectId = tenantProject(actor);
    requireId("havip", id);
    const name = input.name === undefined ? undefined : requireText(input.name, "name", { max: 255 });
    const description =
      input.description === undefined ? undefined : requireText(input.description, "description", { max: 1024 });
    return store.write(async (tx) => {
      const quotas = await readQuotas(tx.db, ctx.baseQuotas);
      const row = owned(projectId, await havipRow(tx.db, id), "HAVIP", id);
      const set: Partial<HavipsTable> = { updated_at: tx.at };
      if (name !== undefined) set.name = name;
      if (description !== undefined) set.description = description;
      if (input.members === null) {
        set.members_set = 0;
        await writeMembers(tx, id, []);
      } else if (input.members !== undefined) {
        const subnet = await tx.db
          .selectFrom("subnets")
          .selectAll()
          .where("id", "=", row.subnet_id)
          .executeTakeFirstOrThrow();
        const members = await resolveMembers(tx, projectId, subnet, input.members, id, quotas);
        set.members_set = 1;
        await writeMembers(tx, id, members);
      }
      await tx.db.updateTable("havips").set(set).where("id", "=", id).execute();
      let updated = await havipRow(tx.db, id);
      if (!updated) throw new Error("unreachable: HAVIP vanished inside its transaction");
      tx.record({ projectId, resource: "havip", id, action: "updated", data: await loadHaVip(tx.db, updated) });
      // A holder taken off the member list may no longer hold the address: release it.
      if (updated.holder_vnic_id !== null && !(await mayClaim(tx, updated, updated.holder_vnic_id))) {
        await changeHolder(tx, updated, null, "released");
        updated = await havipRow(tx.db, id);
        if (!updated) throw new Error("unreachable: HAVIP vanished inside its transaction");
      }
      return loadHaVip(tx.db, updated);
    });
  }

  async function deleteHaVip(actor: Actor, id: string): Promise<void> {
    const projectId = tenantProject(actor);
    requireId("havip", id);
    await store.write(async (tx) => {
      owned(projectId, await havipRow(tx.db, id), "HAVIP", id);
      const eip = await tx.db.selectFrom("eips").select("id").where("target_havip_id", "=", id).executeTakeFirst();
      if (eip) {
        throw new ApiError(
          "DependencyViolation.HaVipHasEip",
          `EIP ${eip.id} is bound to HAVIP ${id}; disassociate it first.`,
        );
      }
      await tx.db.deleteFrom("havip_members").where("havip_id", "=", id).execute();
      await tx.db.deleteFrom("havip_history").where("havip_id", "=", id).execute();
      await releaseAddresses(tx, { kind: "havip", id });
      await tx.db.deleteFrom("havips").where("id", "=", id).execute();
      tx.record({ projectId, resource: "havip", id, action: "deleted", data: null });
    });
  }

  async function getHaVipHistory(actor: Actor, id: string, opts: ListOptions): Promise<Page<HolderHistoryEntry>> {
    requireId("havip", id);
    const limit = pageLimit(opts.limit);
    const after = opts.cursor ? decodeCursor(opts.cursor, ["number"] as const)[0] : 0;
    visible(actor, await havipRow(store.db, id), "HAVIP", id);
    const rows = await store.db
      .selectFrom("havip_history")
      .selectAll()
      .where("havip_id", "=", id)
      .where("generation", ">", after)
      .orderBy("generation")
      .limit(limit + 1)
      .execute();
    const more = rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map(toHistoryEntry);
    const last = items.at(-1);
    return { items, nextCursor: more && last ? encodeCursor([last.generation]) : null };
  }

  async function observeHolder(obs: HolderObservation): Promise<ObservationResult> {
    const havipId = requireId("havip", obs.havipId, "havipId");
    const vnicId = obs.vnicId === null ? null : requireId("vnic", obs.vnicId, "vnicId");
    if (!(obs.at instanceof Date) || Number.isNaN(obs.at.getTime())) {
      throw new ApiError("InvalidParameter", "at must be a valid time.");
    }
    const issued = obs.generation;
    if (issued !== undefined && (!Number.isSafeInteger(issued) || issued < 1)) {
      throw new ApiError("InvalidParameter", "generation must be a positive integer.");
    }
    if (vnicId === null && issued === undefined) {
      throw new ApiError("InvalidParameter", "a release (no vNIC) needs the generation the fabric issued.");
    }
    const at = obs.at.toISOString();
    return store.write(async (tx) => {
      const row = await havipRow(tx.db, havipId);
      if (!row) throw new ApiError("NotFound", `HAVIP ${havipId} does not exist.`);
      // The data plane issues generations (max seen + 1): an older or equal one than the stored is not recorded,
      // so that the record never goes backwards. The fabric hears of the stored state through the spec.
      if (issued !== undefined && issued <= row.generation) {
        return {
          changed: false,
          stale: issued < row.generation || row.holder_vnic_id !== vnicId,
          havip: await loadHaVip(tx.db, row),
        };
      }
      if (vnicId === null) {
        const havip = await changeHolder(tx, row, null, obs.reason ?? "withdrawn", issued);
        return { changed: true, havip };
      }
      if (!(await mayClaim(tx, row, vnicId))) {
        throw new ApiError(
          "IncorrectState.HolderNotAllowed",
          `vNIC ${vnicId} may not claim HAVIP ${havipId} (unknown, other subnet, or not a member).`,
        );
      }
      // A re-announcement by the holder refreshes it: no new generation, no history, no event (a report by hand
      // of the holder there is changes nothing either).
      if (row.holder_vnic_id === vnicId && issued === undefined) {
        return { changed: false, havip: await loadHaVip(tx.db, row) };
      }
      const vnic = await tx.db
        .selectFrom("vnics")
        .select("instance_id")
        .where("id", "=", vnicId)
        .executeTakeFirstOrThrow();
      const reason = issued === undefined ? "manual" : (obs.reason ?? "announcement");
      const holder = { vnicId, instanceId: vnic.instance_id, since: at };
      const havip = await changeHolder(tx, row, holder, reason, issued);
      return { changed: true, havip };
    });
  }

  async function observeContest(obs: ContestObservation): Promise<HaVip | null> {
    const havipId = requireId("havip", obs.havipId, "havipId");
    return store.write(async (tx) => {
      const row = await havipRow(tx.db, havipId);
      if (!row) return null;
      let claimants: { vnicId: string; instanceId: string }[] = [];
      if (obs.claimants !== null && obs.claimants.length > 0) {
        const vnics = await tx.db
          .selectFrom("vnics")
          .select(["id", "instance_id"])
          .where("id", "in", obs.claimants)
          .execute();
        const instanceOf = new Map(vnics.map((v) => [v.id, v.instance_id]));
        claimants = obs.claimants.flatMap((id) => {
          const instanceId = instanceOf.get(id);
          return instanceId === undefined ? [] : [{ instanceId, vnicId: id }];
        });
      }
      const ended = claimants.length === 0;
      const json = ended ? null : JSON.stringify(claimants);
      if (row.contested_claimants === json) return loadHaVip(tx.db, row);
      const since = ended ? null : (row.contested_since ?? obs.since.toISOString());
      await tx.db
        .updateTable("havips")
        .set({ contested_since: since, contested_claimants: json, updated_at: tx.at })
        .where("id", "=", havipId)
        .execute();
      const fresh = await havipRow(tx.db, havipId);
      if (!fresh) throw new Error("unreachable: HAVIP vanished inside its transaction");
      const havip = await loadHaVip(tx.db, fresh);
      if (ended && row.contested_claimants === null) return havip;
      const action = ended ? "contest-ended" : "contest-started";
      tx.record({ projectId: row.project_id, resource: "havip", id: havipId, action, data: havip });
      return havip;
    });
  }

  return {
    createHaVip,
    listHaVips,
    getHaVip,
    updateHaVip,
    deleteHaVip,
    getHaVipHistory,
    observeHolder,
    observeContest,
  };
}
