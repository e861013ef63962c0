// A batch of HAVIP upserts that change nothing but the holder and generation is applied in place, without
// recompiling the tables. It is what the control plane sends back after every failover (the generation it
// issued for the holder the fabric saw), so it must not stall the data plane: a full compile costs time in
// proportion to the whole network (≈ 170 ms at 10,000 vNICs), this costs microseconds per HAVIP.
import type { HaVipSpec, SpecChange, SpecState } from "./spec.ts";
import type { Release, Tables } from "./tables.ts";

/**
 * The HAVIP specs of `changes` when every change is an upsert of a HAVIP the fabric already has, with the same
 * subnet, address, virtual MAC and members; otherwise null (the batch needs a full compile).
 */
export function holderOnlyUpserts(spec: SpecState, changes: readonly SpecChange[]): HaVipSpec[] | null {
  if (changes.length === 0) return null;
  const out: HaVipSpec[] = [];
  for (const c of changes) {
    if (c.op !== "upsert" || c.kind !== "havip") return null;
    const before = spec.havips.get(c.value.id);
    if (before === undefined || !sameShape(before, c.value)) return null;
    out.push(c.value);
  }
  return out;
}

function sameShape(a: HaVipSpec, b: HaVipSpec): boolean {
  if (a.subnetId !== b.subnetId || a.ip !== b.ip || a.virtualMac !== b.virtualMac) return false;
  const ma = a.members ?? null;
  const mb = b.members ?? null;
  if (ma === null || mb === null) return ma === mb;
  // As sets: the order of a member list means nothing.
  const sa = new Set(ma);
  const sb = new Set(mb);
  return sa.size === sb.size && [...sa].every((m) => sb.has(m));
}

/**
 * Applies holder-only upserts (from `holderOnlyUpserts`) to the spec and the live tables, with the rule of a full
 * compile: the spec's holder is taken only when its generation is newer than the fabric's; a holder that may not
 * claim the HAVIP is released. Returns the releases, to be reported.
 */
export function applyHolderUpserts(
  spec: SpecState,
  tables: Tables,
  havips: readonly HaVipSpec[],
  now: number,
): Release[] {
  const released: Release[] = [];
  for (const h of havips) {
    spec.havips.set(h.id, h);
    const entry = tables.havips.get(h.id)!;
    const rt = entry.runtime;
    if (!rt.adopt(h, now)) continue;
    const holderId = rt.holderVnicId;
    const vnic = holderId === null ? undefined : tables.vnics.get(holderId);
    if (vnic !== undefined && entry.mayClaim(vnic)) {
      entry.holder = vnic;
    } else {
      rt.holderVnicId = null;
      entry.holder = null;
      if (holderId !== null) released.push({ havipId: h.id, previousVnicId: holderId, generation: rt.generation });
    }
  }
  return released;
}
