// How each resource looks in table output: the columns a person wants in a list, and the fields of one
// resource. JSON output (--json) prints the API's JSON instead.
import type {
  ChangeEvent,
  Eip,
  EipPool,
  HaVip,
  HolderHistoryEntry,
  Instance,
  Project,
  Quotas,
  Subnet,
  Vnic,
  Vpc,
} from "@havip/control";
import { contestBlock, eventDetail, statusText, type InstanceNames } from "./contest.ts";
import { cell, renderDetails, renderTable, time, type Column } from "./table.ts";

export type { InstanceNames } from "./contest.ts";

export const projectColumns: Column<Project>[] = [
  { header: "ID", value: (p) => p.id },
  { header: "NAME", value: (p) => p.name },
  { header: "CREATED", value: (p) => time(p.createdAt) },
];

export const poolColumns: Column<EipPool>[] = [
  { header: "ID", value: (p) => p.id },
  { header: "REGION", value: (p) => p.region },
  { header: "CIDR", value: (p) => p.cidr },
  { header: "CREATED", value: (p) => time(p.createdAt) },
];

export const vpcColumns: Column<Vpc>[] = [
  { header: "ID", value: (v) => v.id },
  { header: "NAME", value: (v) => v.name },
  { header: "CIDR", value: (v) => v.cidr },
  { header: "REGION", value: (v) => v.region },
  { header: "MTU", value: (v) => String(v.mtu) },
  { header: "CREATED", value: (v) => time(v.createdAt) },
];

export const subnetColumns: Column<Subnet>[] = [
  { header: "ID", value: (s) => s.id },
  { header: "NAME", value: (s) => s.name },
  { header: "VPC", value: (s) => s.vpcId },
  { header: "CIDR", value: (s) => s.cidr },
  { header: "ZONE", value: (s) => s.zone },
  { header: "GATEWAY", value: (s) => s.gatewayIp },
  { header: "BROADCAST", value: (s) => s.broadcast },
];

function primaryVnic(instance: Instance): Vnic | undefined {
  return instance.vnics.find((v) => v.id === instance.primaryVnicId) ?? instance.vnics[0];
}

export const instanceColumns: Column<Instance>[] = [
  { header: "ID", value: (i) => i.id },
  { header: "NAME", value: (i) => i.name },
  { header: "VPC", value: (i) => i.vpcId },
  { header: "SUBNET", value: (i) => primaryVnic(i)?.subnetId },
  { header: "ADDRESS", value: (i) => primaryVnic(i)?.ipAddress },
  { header: "MAC", value: (i) => primaryVnic(i)?.macAddress },
  { header: "VNICS", value: (i) => i.vnics.length },
];

export const vnicColumns: Column<Vnic>[] = [
  { header: "ID", value: (v) => v.id },
  { header: "INSTANCE", value: (v) => v.instanceId },
  { header: "SUBNET", value: (v) => v.subnetId },
  { header: "ADDRESS", value: (v) => v.ipAddress },
  { header: "MAC", value: (v) => v.macAddress },
  { header: "PRIMARY", value: (v) => (v.primary ? "yes" : "no") },
];

function holderName(h: HaVip, names: InstanceNames): string | null {
  if (h.holder === null) return null;
  return names.get(h.holder.instanceId) ?? h.holder.instanceId;
}

export function havipColumns(names: InstanceNames): Column<HaVip>[] {
  return [
    { header: "ID", value: (h) => h.id },
    { header: "NAME", value: (h) => h.name },
    { header: "ADDRESS", value: (h) => h.ipAddress },
    { header: "STATUS", value: statusText },
    { header: "HOLDER", value: (h) => holderName(h, names) },
    { header: "GENERATION", value: (h) => h.generation },
    { header: "EIP", value: (h) => h.eip?.publicIp },
  ];
}

/** Holder changes; INSTANCE is the instance's name when known (a released or withdrawn entry has none). */
export function historyColumns(names: InstanceNames): Column<HolderHistoryEntry>[] {
  return [
    { header: "GENERATION", value: (e) => e.generation },
    { header: "AT", value: (e) => time(e.at) },
    { header: "REASON", value: (e) => e.reason },
    { header: "INSTANCE", value: (e) => (e.instanceId === null ? null : (names.get(e.instanceId) ?? e.instanceId)) },
    { header: "VNIC", value: (e) => e.vnicId },
    { header: "PREVIOUS VNIC", value: (e) => e.previousVnicId },
  ];
}

function eipTarget(e: Eip): string | null {
  if (e.target === null) return null;
  return e.target.type === "havip" ? e.target.havipId : e.target.vnicId;
}

export const eipColumns: Column<Eip>[] = [
  { header: "ID", value: (e) => e.id },
  { header: "PUBLIC IP", value: (e) => e.publicIp },
  { header: "REGION", value: (e) => e.region },
  { header: "STATUS", value: (e) => e.status },
  { header: "TARGET", value: eipTarget },
];

const eventBase: Column<ChangeEvent>[] = [
  { header: "REVISION", value: (e) => e.revision },
  { header: "AT", value: (e) => time(e.at) },
  { header: "ACTION", value: (e) => e.action },
  { header: "RESOURCE", value: (e) => e.resource },
  { header: "ID", value: (e) => e.id },
  { header: "PROJECT", value: (e) => e.projectId },
];

/**
 * The change log's columns for these events; DETAIL (what a HAVIP event changed: holder, contest, with instance
 * names) only when one of them has something to say.
 */
export function eventColumns(events: readonly ChangeEvent[], names: InstanceNames): Column<ChangeEvent>[] {
  if (!events.some((e) => eventDetail(e, names) !== null)) return eventBase;
  return [...eventBase, { header: "DETAIL", value: (e) => eventDetail(e, names) }];
}

// A followed stream cannot measure its rows in advance: fixed widths that fit typical values (the ACTION
// column fits "contest-started").
const EVENT_WIDTHS = [8, 20, 15, 8, 23, 22];

function fixedLine(cells: string[]): string {
  return cells
    .map((text, i) => text.padEnd(EVENT_WIDTHS[i] ?? 0))
    .join("  ")
    .trimEnd();
}

/** The header of `events --follow`. */
export function eventHeader(): string {
  return fixedLine([...eventBase.map((c) => c.header), "DETAIL"]);
}

/** One event as a line under eventHeader(), for `events --follow` (DETAIL left empty when there is none). */
export function eventLine(e: ChangeEvent, names: InstanceNames): string {
  const detail = eventDetail(e, names);
  return fixedLine([...eventBase.map((c) => cell(c.value(e))), ...(detail === null ? [] : [cell(detail)])]);
}

export function havipDetails(h: HaVip, names: InstanceNames): string {
  const holder =
    h.holder === null
      ? null
      : `${holderName(h, names) ?? ""}${names.has(h.holder.instanceId) ? ` (${h.holder.instanceId})` : ""}, vNIC ${h.holder.vnicId}, since ${time(h.holder.since) ?? ""}`;
  const members =
    h.members === null
      ? "any vNIC in the subnet"
      : h.members.length === 0
        ? "none"
        : h.members.map((m) => `${names.get(m.instanceId) ?? m.instanceId}/${m.vnicId}`).join(", ");
  const contested =
    h.contested === null
      ? "no"
      : `since ${time(h.contested.since) ?? ""}: ${h.contested.claimants.map((c) => names.get(c.instanceId) ?? c.instanceId).join(", ")}`;
  return (
    contestBlock(h, names) +
    renderDetails([
      ["id", h.id],
      ["name", h.name],
      ["description", h.description],
      ["address", h.ipAddress],
      ["status", h.status],
      ["holder", holder],
      ["contested", contested],
      ["generation", h.generation],
      ["eip", h.eip === null ? null : `${h.eip.publicIp} (${h.eip.id})`],
      ["members", members],
      ["virtual mac", h.virtualMac],
      ["subnet", h.subnetId],
      ["vpc", h.vpcId],
      ["created", time(h.createdAt)],
      ["updated", time(h.updatedAt)],
    ])
  );
}

export function instanceDetails(i: Instance): string {
  return (
    renderDetails([
      ["id", i.id],
      ["name", i.name],
      ["vpc", i.vpcId],
      ["primary vnic", i.primaryVnicId],
      ["created", time(i.createdAt)],
    ]) +
    "\n" +
    renderTable(vnicColumns, i.vnics)
  );
}

export function vnicDetails(v: Vnic): string {
  return renderDetails([
    ["id", v.id],
    ["instance", v.instanceId],
    ["subnet", v.subnetId],
    ["vpc", v.vpcId],
    ["address", v.ipAddress],
    ["mac", v.macAddress],
    ["primary", v.primary ? "yes" : "no"],
    ["created", time(v.createdAt)],
  ]);
}

export function vpcDetails(v: Vpc): string {
  return renderDetails([
    ["id", v.id],
    ["name", v.name],
    ["cidr", v.cidr],
    ["region", v.region],
    ["mtu", String(v.mtu)],
    ["project", v.projectId],
    ["created", time(v.createdAt)],
  ]);
}

export function subnetDetails(s: Subnet): string {
  return renderDetails([
    ["id", s.id],
    ["name", s.name],
    ["vpc", s.vpcId],
    ["cidr", s.cidr],
    ["zone", s.zone],
    ["gateway", s.gatewayIp],
    ["broadcast", s.broadcast],
    ["project", s.projectId],
    ["created", time(s.createdAt)],
  ]);
}

export function eipDetails(e: Eip): string {
  return renderDetails([
    ["id", e.id],
    ["public ip", e.publicIp],
    ["region", e.region],
    ["status", e.status],
    ["target", e.target === null ? null : `${e.target.type} ${eipTarget(e) ?? ""}`],
    ["project", e.projectId],
    ["created", time(e.createdAt)],
  ]);
}

export function quotaDetails(q: Quotas): string {
  return renderDetails([
    ["members per havip", q.membersPerHaVip],
    ["havips per vnic", q.haVipsPerVnic],
    ["eips per havip", q.eipsPerHaVip],
    ["havips per project", q.haVipsPerProject],
  ]);
}

export function projectCreatedDetails(p: Project & { token: string }): string {
  return renderDetails([
    ["id", p.id],
    ["name", p.name],
    ["token", p.token],
    ["created", time(p.createdAt)],
  ]);
}
