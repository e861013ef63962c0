// What the console knows: the caller's resources by id, kept current by applying change events. Every
// event carries the whole resource after the change, so applying one twice (a list read and the stream
// overlapping) gives the same state.
import type { ChangeEvent, Eip, HaVip, Instance, Subnet, Vnic, Vpc } from "@havip/control";

export interface ConsoleState {
  revision: number;
  vpcs: ReadonlyMap<string, Vpc>;
  subnets: ReadonlyMap<string, Subnet>;
  instances: ReadonlyMap<string, Instance>;
  havips: ReadonlyMap<string, HaVip>;
  eips: ReadonlyMap<string, Eip>;
}

export function emptyState(): ConsoleState {
  return { revision: 0, vpcs: new Map(), subnets: new Map(), instances: new Map(), havips: new Map(), eips: new Map() };
}

function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

export function stateOf(
  revision: number,
  lists: { vpcs: Vpc[]; subnets: Subnet[]; instances: Instance[]; havips: HaVip[]; eips: Eip[] },
): ConsoleState {
  return {
    revision,
    vpcs: byId(lists.vpcs),
    subnets: byId(lists.subnets),
    instances: byId(lists.instances),
    havips: byId(lists.havips),
    eips: byId(lists.eips),
  };
}

function upsert<T>(map: ReadonlyMap<string, T>, id: string, value: T | null): Map<string, T> {
  const next = new Map(map);
  if (value === null) next.delete(id);
  else next.set(id, value);
  return next;
}

/** A vNIC change, folded into its instance's list of vNICs. */
function withVnic(state: ConsoleState, event: ChangeEvent): ConsoleState {
  const vnic = event.data as Vnic | null;
  const owner = vnic
    ? state.instances.get(vnic.instanceId)
    : [...state.instances.values()].find((i) => i.vnics.some((v) => v.id === event.id));
  if (!owner) return state;
  const vnics = owner.vnics.filter((v) => v.id !== event.id);
  if (vnic) vnics.push(vnic);
  return { ...state, instances: upsert(state.instances, owner.id, { ...owner, vnics }) };
}

/** The state after one change event; events at or below the state's revision change nothing. */
export function applyEvent(state: ConsoleState, event: ChangeEvent): ConsoleState {
  if (event.revision <= state.revision) return state;
  const next = { ...state, revision: event.revision };
  const data = event.action === "deleted" ? null : event.data;
  switch (event.resource) {
    case "vpc":
      return { ...next, vpcs: upsert(state.vpcs, event.id, data as Vpc | null) };
    case "subnet":
      return { ...next, subnets: upsert(state.subnets, event.id, data as Subnet | null) };
    case "instance":
      return { ...next, instances: upsert(state.instances, event.id, data as Instance | null) };
    case "havip":
      return { ...next, havips: upsert(state.havips, event.id, data as HaVip | null) };
    case "eip":
      return { ...next, eips: upsert(state.eips, event.id, data as Eip | null) };
    case "vnic":
      return withVnic(next, event);
    default:
      return next; // projects, pools, quotas: not shown
  }
}

/** Items of a map sorted for display: by name, then by id (creation order of ids is not meaningful). */
export function sorted<T extends { id: string; name?: string }>(map: ReadonlyMap<string, T>): T[] {
  return [...map.values()].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || a.id.localeCompare(b.id));
}

/** The instance that owns a vNIC, if the console knows it. */
export function instanceOfVnic(state: ConsoleState, vnicId: string): Instance | undefined {
  for (const instance of state.instances.values()) if (instance.vnics.some((v) => v.id === vnicId)) return instance;
  return undefined;
}
