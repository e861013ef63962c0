// Stage 3, announcements (DESIGN §2.2–2.3): a valid announcement makes its sender the holder at once; the
// holder's re-announcement refreshes without a new generation; a denied claim is dropped and counted per
// HAVIP, and reported at most once per (HAVIP, vNIC, reason) per second (claim-denials.ts); the storm guard
// limits holder changes per HAVIP per second.
import { dropCode, type ClaimDenialReason } from "../reasons.ts";
import type { PipelineState } from "../state.ts";
import type { HaVipEntry, VnicEntry } from "../tables.ts";

export const CLAIM = { CHANGED: 0, REFRESHED: 1, DENIED: 2 } as const;
export type ClaimResult = (typeof CLAIM)[keyof typeof CLAIM];

const STORM_GUARDED = dropCode("storm-guarded");
const STORM_WINDOW_MS = 1000;

/**
 * Processes a valid-looking announcement of `havip` by `vnic` (the caller has checked that it is a gratuitous
 * ARP request or an ARP reply with the HAVIP as sender, from the vNIC's own MAC on its own port).
 */
export function announce(s: PipelineState, havip: HaVipEntry, vnic: VnicEntry): ClaimResult {
  if (vnic.subnet !== havip.subnet) {
    denyClaim(s, havip, vnic, "claim-wrong-subnet");
    return CLAIM.DENIED;
  }
  if (havip.members !== null && !havip.members.has(vnic.id)) {
    denyClaim(s, havip, vnic, "claim-not-member");
    return CLAIM.DENIED;
  }
  const rt = havip.runtime;
  if (havip.holder === vnic) {
    rt.stats.claims++;
    return CLAIM.REFRESHED;
  }
  const now = s.now();
  if (now - rt.stormWindowStart >= STORM_WINDOW_MS || now < rt.stormWindowStart) {
    rt.stormWindowStart = now;
    rt.stormWindowChanges = 0;
  }
  if (rt.stormWindowChanges >= s.config.maxHolderChangesPerSecond) {
    rt.stats.stormGuarded++;
    s.drop(STORM_GUARDED);
    reportDenial(s, havip, vnic, "storm-guarded");
    return CLAIM.DENIED;
  }
  rt.stormWindowChanges++;
  const previous = havip.holder;
  havip.holder = vnic;
  rt.holderVnicId = vnic.id;
  rt.generation++;
  rt.holderSince = now;
  rt.stats.claims++;
  rt.stats.holderChanges++;
  // Re-pointed: the announcement's latency through the fabric (only frames that reached it as ARP carry a stamp).
  if (s.arrivedAt >= 0) s.counters.announceToRepoint.record((s.latencyClock() - s.arrivedAt) * 1000);
  s.out.observations.push({
    kind: "holder-changed",
    havipId: havip.id,
    vnicId: vnic.id,
    previousVnicId: previous === null ? null : previous.id,
    generation: rt.generation,
    at: now,
  });
  return CLAIM.CHANGED;
}

/** Drops the frame as a denied claim of `havip`: counted per HAVIP and reported (coalesced). */
export function denyClaim(s: PipelineState, havip: HaVipEntry, vnic: VnicEntry, reason: ClaimDenialReason): void {
  havip.runtime.stats.deniedClaims++;
  s.drop(dropCode(reason));
  reportDenial(s, havip, vnic, reason);
}

/** Reports a denial unless an earlier one of the same pair and reason was reported within the window. */
function reportDenial(s: PipelineState, havip: HaVipEntry, vnic: VnicEntry, reason: ClaimDenialReason): void {
  const at = s.now();
  const suppressed = s.denials.admit(havip.id, vnic.id, reason, at);
  if (suppressed < 0) return;
  s.out.observations.push(
    suppressed === 0
      ? { kind: "claim-denied", havipId: havip.id, vnicId: vnic.id, reason, at }
      : { kind: "claim-denied", havipId: havip.id, vnicId: vnic.id, reason, at, suppressed },
  );
}
