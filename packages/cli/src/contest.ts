// How a contested HAVIP (split brain: several instances hold its address at once) reads in the terminal. It
// must not be missed: a mark beside the status in lists with a footnote, a block above the details of `show`,
// and a readable line for the contest events of the change log.
import type { ChangeEvent, HaVip, HaVipMember } from "@havip/control";
import { time } from "./table.ts";

/** Instance names by id, so claimants read "vm-A" rather than an id. Empty when not looked up. */
export type InstanceNames = ReadonlyMap<string, string>;

export const SPLIT_BRAIN_GUIDE = "docs/guides/split-brain.md";

/** The status cell: `in-use CONTESTED` while contested. */
export function statusText(h: HaVip): string {
  return h.contested === null ? h.status : `${h.status} CONTESTED`;
}

/** "vm-A (i-…)" when the name is known, else the instance id. */
function instanceLabel(instanceId: string, names: InstanceNames): string {
  const name = names.get(instanceId);
  return name === undefined ? instanceId : `${name} (${instanceId})`;
}

function claimantLine(h: HaVip, c: HaVipMember, names: InstanceNames): string {
  const holder = h.holder?.vnicId === c.vnicId ? " — the holder the fabric keeps" : "";
  return `${instanceLabel(c.instanceId, names)}, vNIC ${c.vnicId}${holder}`;
}

/** The lines under a list that marks contested HAVIPs; empty when none is. */
export function contestFootnote(havips: readonly HaVip[]): string {
  const contested = havips.filter((h) => h.contested !== null);
  if (contested.length === 0) return "";
  const which = contested.map((h) => h.name || h.id).join(", ");
  return (
    `\nCONTESTED: several instances hold the address at once (split brain): ${which}.\n` +
    `"havip havip show <havip>" names them; what to do: ${SPLIT_BRAIN_GUIDE}.\n`
  );
}

/** The block printed above `havip havip show` while the HAVIP is contested; empty otherwise. */
export function contestBlock(h: HaVip, names: InstanceNames): string {
  const contest = h.contested;
  if (contest === null) return "";
  const lines = [
    `CONTESTED since ${time(contest.since) ?? contest.since}: ${contest.claimants.length} instances hold ${h.ipAddress} at once (split brain)`,
    ...contest.claimants.map((c) => `  ${claimantLine(h, c, names)}`),
    "The fabric keeps the holder and ignores the others' announcements until one answers alone.",
    `Make all but one release the address (do the VRRP peers hear each other?): ${SPLIT_BRAIN_GUIDE}`,
  ];
  const rule = "!".repeat(78);
  return `${rule}\n${lines.map((l) => `! ${l}`).join("\n")}\n${rule}\n\n`;
}

/** The instance ids a HAVIP mentions (holder, members, claimants): whose names are worth looking up. */
export function instancesOf(h: HaVip): string[] {
  const ids = [
    ...(h.holder === null ? [] : [h.holder.instanceId]),
    ...(h.members ?? []).map((m) => m.instanceId),
    ...(h.contested?.claimants ?? []).map((c) => c.instanceId),
  ];
  return [...new Set(ids)];
}

function isHaVip(data: unknown): data is HaVip {
  return typeof data === "object" && data !== null && "ipAddress" in data && "contested" in data;
}

/** What a HAVIP event changed, in a few words: the DETAIL column of `havip events`. */
export function eventDetail(e: ChangeEvent, names: InstanceNames): string | null {
  if (e.resource !== "havip" || !isHaVip(e.data)) return null;
  const h = e.data;
  const name = (id: string) => names.get(id) ?? id;
  switch (e.action) {
    case "holder-changed":
      return h.holder === null
        ? `no holder, generation ${h.generation}`
        : `holder ${name(h.holder.instanceId)}, generation ${h.generation}`;
    case "contest-started": {
      const who = (h.contested?.claimants ?? []).map((c) => name(c.instanceId)).join(", ");
      return `CONTESTED: ${who} hold ${h.ipAddress} (split brain)`;
    }
    case "contest-ended":
      return h.holder === null ? "no longer contested" : `no longer contested; holder ${name(h.holder.instanceId)}`;
    default:
      return null;
  }
}

/** The instance ids the DETAIL column of these events would name. */
export function instancesOfEvents(events: readonly ChangeEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.resource === "havip" && isHaVip(e.data)) for (const id of instancesOf(e.data)) ids.add(id);
  }
  return [...ids];
}
