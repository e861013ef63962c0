// Observations: what the network saw, reported to whoever subscribes (the daemon records holder changes in the
// control plane). Plain JSON-serialisable data; `at` is the injected clock's time in milliseconds.
import type { ClaimDenialReason } from "./reasons.ts";

/**
 * Why the holder changed: `announcement` — a valid announcement by the new holder (DESIGN §2.2–2.3);
 * `verified` — verification found that the new holder has the address (the old one was silent, or the spec named
 * the same generation with another holder and this is the fabric's answer).
 */
export type HolderChangeReason = "announcement" | "verified";

/** `vnicId` became the holder with a new generation (issued here: max seen + 1). Refreshes are not reported. */
export interface HolderChanged {
  kind: "holder-changed";
  havipId: string;
  vnicId: string;
  previousVnicId: string | null;
  generation: number;
  reason: HolderChangeReason;
  at: number;
}

/**
 * Why a holder lost the role: `withdrawn` — nobody answered verification for several rounds in a row (a new
 * generation, with no holder); `spec` — the spec changed under it (its vNIC was removed, or it left the member
 * list): the control plane made that change and records the release itself, so the generation is not incremented.
 */
export type HolderReleaseReason = "withdrawn" | "spec";

export interface HolderReleased {
  kind: "holder-released";
  havipId: string;
  previousVnicId: string;
  generation: number;
  reason: HolderReleaseReason;
  at: number;
}

/**
 * Several vNICs hold the HAVIP's address at once (split brain, DESIGN §2.10): they answered the same probe, or
 * claimed it in alternation. Reported when it starts and again when the claimants change. Meanwhile the fabric
 * keeps `holderVnicId` rather than re-pointing on every claim.
 */
export interface ContestStarted {
  kind: "contest-started";
  havipId: string;
  claimants: string[];
  holderVnicId: string | null;
  since: number;
  at: number;
}

/** The contest is over: at most one vNIC answers for the address. */
export interface ContestEnded {
  kind: "contest-ended";
  havipId: string;
  since: number;
  at: number;
}

/**
 * An announcement for the HAVIP that did not make its sender the holder. Reported at most once per (HAVIP, vNIC,
 * reason) per second: the denials in between are counted and reported together, as one observation when the
 * second ends (or with the next report). Each observation stands for `1 + (suppressed ?? 0)` denials; the
 * counters count every one.
 */
export interface ClaimDenied {
  kind: "claim-denied";
  havipId: string;
  vnicId: string;
  reason: ClaimDenialReason;
  /** The denial's time; for a run of suppressed denials, the last one's. */
  at: number;
  /** Denials of the same pair and reason before this one that were not reported (absent: none). */
  suppressed?: number;
}

export type Observation = HolderChanged | HolderReleased | ClaimDenied | ContestStarted | ContestEnded;

export type ObservationListener = (observation: Observation) => void;
