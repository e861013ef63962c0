// The catalogue of drop reasons: stable kebab-case strings (they appear in counters, observations, logs and
// docs). The hot path uses their numeric codes (index in this list); README.md describes each one and a test
// keeps the two in sync.

export const DROP_REASONS = [
  // ingress checks
  "unknown-port",
  "malformed",
  "bad-checksum",
  "vlan-tagged",
  "unsupported-ethertype",
  "spoofed-source-mac",
  "spoofed-source-ip",
  "fenced-stale-holder",
  // announcements
  "claim-wrong-subnet",
  "claim-not-member",
  "storm-guarded",
  // ARP
  "arp-unknown-target",
  "arp-own-address",
  "arp-reply-unexpected",
  // broadcast domain
  "broadcast-not-carried",
  "not-in-broadcast-domain",
  // switching and routing
  "havip-no-holder",
  "unknown-destination-mac",
  "ttl-exceeded",
  "no-route",
  "to-router",
  "port-not-attached",
  // EIP and the internet edge
  "no-eip",
  "eip-unbound",
  "neighbour-unresolved",
  // MTU (appended, so that the codes above stay what they were)
  "too-big",
  // verification (appended)
  "claim-contested",
  // per-vNIC policing of ARP and broadcast (appended)
  "rate-limited",
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

const codes = new Map<string, number>(DROP_REASONS.map((r, i) => [r, i]));

/** The numeric code of a reason, for the hot path (resolve once, at module load). */
export function dropCode(reason: DropReason): number {
  return codes.get(reason)!;
}

export function dropReasonOf(code: number): DropReason {
  const r = DROP_REASONS[code];
  if (r === undefined) throw new RangeError(`no drop reason with code ${code}`);
  return r;
}

/** Reasons a claim (announcement) can be denied for; a subset of the drop reasons. */
export type ClaimDenialReason =
  "spoofed-source-mac" | "claim-wrong-subnet" | "claim-not-member" | "storm-guarded" | "claim-contested";
