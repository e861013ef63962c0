// A contested HAVIP (split brain: several instances hold its address at once), in words for the page: who the
// claimants are, which one the fabric keeps, and what to do. Pure, so the wording is tested without a browser.
import type { HaVip } from "@havip/control";
import { instanceOfVnic, type ConsoleState } from "./state.ts";

export interface Claimant {
  /** The instance's name when the console knows it, else its id. */
  name: string;
  instanceId: string;
  vnicId: string;
  /** The fabric keeps this one as the holder while the contest lasts. */
  holder: boolean;
}

/** Where the operator's guide is (docs are not served by havipd: the path in the havip repository). */
export const SPLIT_BRAIN_GUIDE = "docs/guides/split-brain.md";

export const CONTEST_MEANING =
  "The fabric keeps the current holder and ignores the other claimants' announcements until only one instance " +
  "answers for the address. Clients may still reach either instance: connections can break.";

export const CONTEST_ADVICE =
  "Make every instance but one release the address: check that the VRRP peers hear each other (unicast peers on " +
  "a unicast-only subnet), and that a health check stepped the right one down.";

export function claimants(havip: HaVip, state: ConsoleState): Claimant[] {
  return (havip.contested?.claimants ?? []).map((c) => ({
    name: (state.instances.get(c.instanceId) ?? instanceOfVnic(state, c.vnicId))?.name ?? c.instanceId,
    instanceId: c.instanceId,
    vnicId: c.vnicId,
    holder: havip.holder?.vnicId === c.vnicId,
  }));
}

/** "vm-A and vm-B both hold 10.0.1.50", "vm-A, vm-B and vm-C all hold 10.0.1.50". */
export function contestHeadline(havip: HaVip, state: ConsoleState): string {
  const names = claimants(havip, state).map((c) => c.name);
  if (names.length < 2) return `Several instances hold ${havip.ipAddress} at once`;
  const list = `${names.slice(0, -1).join(", ")} and ${names[names.length - 1] ?? ""}`;
  return `${list} ${names.length === 2 ? "both" : "all"} hold ${havip.ipAddress}`;
}

/** The contested HAVIPs, for a count in the list's heading. */
export function contestedHavips(state: ConsoleState): HaVip[] {
  return [...state.havips.values()].filter((h) => h.contested !== null);
}
