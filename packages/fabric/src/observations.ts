// Observations: what the network saw, reported to whoever subscribes (the daemon records holder changes in the
// control plane). Plain JSON-serialisable data; `at` is the injected clock's time in milliseconds.
import type { ClaimDenialReason } from "./reasons.ts";

/** A valid announcement made `vnicId` the holder (DESIGN §2.2–2.3). Refreshes by the holder are not reported. */
export interface HolderChanged {
  kind: "holder-changed";
  havipId: string;
  vnicId: string;
  previousVnicId: string | null;
  generation: number;
  at: number;
}

/**
 * A holder lost the role because the spec changed under it (its vNIC was removed, or it left the member list).
 * The generation is not incremented: the next announcement starts the next generation.
 */
export interface HolderReleased {
  kind: "holder-released";
  havipId: string;
  previousVnicId: string;
  generation: number;
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

export type Observation = HolderChanged | HolderReleased | ClaimDenied;

export type ObservationListener = (observation: Observation) => void;
