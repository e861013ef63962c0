// Reading HAVIPs with their members and EIP, and the one place that changes a HAVIP's holder (so that
// every change bumps the generation and writes a history entry).
import type { Kysely } from "kysely";
import type { HaVip, HolderHistoryEntry } from "../model.ts";
import { type Database, type WriteTx, toHaVip } from "../store/index.ts";
import type { HavipsTable } from "../store/schema.ts";

export async function loadHaVips(db: Kysely<Database>, rows: readonly HavipsTable[]): Promise<HaVip[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const members = await db.selectFrom("havip_members").selectAll().where("havip_id", "in", ids).execute();
  const eips = await db
    .selectFrom("eips")
    .select(["id", "public_ip", "target_havip_id"])
    .where("target_havip_id", "in", ids)
    .execute();
  // Grouped once: a page of 1,000 HAVIPs must not scan every member and EIP per HAVIP.
  const membersOf = new Map<string, (typeof members)[number][]>();
  for (const m of members) {
    const list = membersOf.get(m.havip_id);
    if (list === undefined) membersOf.set(m.havip_id, [m]);
    else list.push(m);
  }
  const eipOf = new Map(eips.map((e) => [e.target_havip_id, e]));
  return rows.map((r) => toHaVip(r, membersOf.get(r.id) ?? [], eipOf.get(r.id)));
}

export async function loadHaVip(db: Kysely<Database>, row: HavipsTable): Promise<HaVip> {
  const [havip] = await loadHaVips(db, [row]);
  if (!havip) throw new Error("unreachable: loadHaVips lost a row");
  return havip;
}

export async function havipRow(db: Kysely<Database>, id: string): Promise<HavipsTable | undefined> {
  return db.selectFrom("havips").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Sets (or clears, with newHolder null) the holder: a new generation (the one the fabric issued, which the caller
 * has checked is newer; else the stored one + 1), a history entry, updated_at, and a `holder-changed` event.
 * Returns the HAVIP after the change.
 */
export async function changeHolder(
  tx: WriteTx,
  row: HavipsTable,
  newHolder: { vnicId: string; instanceId: string; since: string } | null,
  reason: HolderHistoryEntry["reason"],
  issued?: number,
): Promise<HaVip> {
  if (issued !== undefined && issued <= row.generation) {
    throw new Error(`unreachable: generation ${issued} is not newer than ${row.generation}`);
  }
  const generation = issued ?? row.generation + 1;
  await tx.db
    .updateTable("havips")
    .set({
      holder_vnic_id: newHolder?.vnicId ?? null,
      holder_instance_id: newHolder?.instanceId ?? null,
      holder_since: newHolder?.since ?? null,
      generation,
      updated_at: tx.at,
    })
    .where("id", "=", row.id)
    .execute();
  await tx.db
    .insertInto("havip_history")
    .values({
      havip_id: row.id,
      generation,
      instance_id: newHolder?.instanceId ?? null,
      vnic_id: newHolder?.vnicId ?? null,
      previous_vnic_id: row.holder_vnic_id,
      at: newHolder?.since ?? tx.at,
      reason,
    })
    .execute();
  const fresh = await havipRow(tx.db, row.id);
  if (!fresh) throw new Error("unreachable: HAVIP vanished inside its transaction");
  const havip = await loadHaVip(tx.db, fresh);
  tx.record({ projectId: row.project_id, resource: "havip", id: row.id, action: "holder-changed", data: havip });
  return havip;
}
