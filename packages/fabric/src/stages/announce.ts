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
const CONTESTED = dropCode("claim-contested");
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
  const now = s.now();
  rt.claimedAt.set(vnic.id, now);
  if (havip.holder === vnic) {
    rt.stats.claims++;
    return CLAIM.REFRESHED;
  }
  if (rt.contest !== null && havip.holder !== null) {
    // Split brain: the claimants take turns; keep the holder (verification moves it if it goes silent).
    rt.stats.contestDamped++;
    denyClaim(s, havip, vnic, "claim-contested");
    return CLAIM.DENIED;
  }
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
  rt.missedRounds = 0;
  rt.lastReason = "announcement";
  rt.noteChange(now, vnic.id);
  // Re-pointed: the announcement's latency through the fabric (only frames that reached it as ARP carry a stamp).
  if (s.arrivedAt >= 0) s.counters.announceToRepoint.record((s.latencyClock() - s.arrivedAt) * 1000);
  s.out.observations.push({
    kind: "holder-changed",
    havipId: havip.id,
    vnicId: vnic.id,
    previousVnicId: previous === null ? null : previous.id,
    generation: rt.generation,
    reason: "announcement",
    at: now,
  });
  if (s.config.flapChanges > 0) detectFlapping(s, havip, now);
  return CLAIM.CHANGED;
}

/**
 * Claims that alternate between vNICs faster than any failover does mean that several hold the address: when the
 * last `flapChanges` holder changes all fell within `flapWindowMs` among two or more vNICs, the HAVIP is contested
 * (claims by others are then damped). Verification ends the contest once only one vNIC answers.
 */
function detectFlapping(s: PipelineState, havip: HaVipEntry, now: number): void {
  const rt = havip.runtime;
  const n = s.config.flapChanges;
  const changes = rt.recentChanges;
  if (rt.contest !== null || changes.length < n) return;
  const first = changes[changes.length - n]!;
  if (now - first.at > s.config.flapWindowMs) return;
  const claimants: string[] = [];
  for (let i = changes.length - n; i < changes.length; i++) {
    const id = changes[i]!.vnicId;
    if (!claimants.includes(id)) claimants.push(id);
  }
  if (claimants.length < 2) return;
  claimants.sort();
  rt.contest = { since: now, claimants };
  s.out.observations.push({
    kind: "contest-started",
    havipId: havip.id,
    claimants: [...claimants],
    holderVnicId: rt.holderVnicId,
    since: now,
    at: now,
  });
}

/** Drops the frame as a denied claim of `havip`: counted per HAVIP and reported (coalesced). */
export function denyClaim(s: PipelineState, havip: HaVipEntry, vnic: VnicEntry, reason: ClaimDenialReason): void {
  havip.runtime.stats.deniedClaims++;
  s.drop(reason === "claim-contested" ? CONTESTED : dropCode(reason));
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
