// The API's JSON schemas (TypeBox = JSON Schema). One object per shape serves three jobs: request
// validation, response serialisation and the generated OpenAPI document. Resource shapes mirror model.ts;
// the compile-time checks at the end of this file fail when the two drift apart.
import { Type, type Static, type TSchema } from "typebox";
import { ERROR_CATALOGUE, type ErrorCode } from "../errors.ts";
import type {
  ChangeEvent,
  Eip,
  EipPool,
  HaVip,
  HolderHistoryEntry,
  Instance,
  Project,
  Quotas,
  ResourceKind,
  Subnet,
  Vnic,
  Vpc,
} from "../model.ts";
import { VPC_MTU } from "../domain/index.ts";
import { idSchema, memberIdSchema } from "./ids.ts";

const closed = { additionalProperties: false } as const;
const Timestamp = Type.String({ description: "ISO 8601 timestamp" });
const Ipv4 = Type.String({ description: "IPv4 address, dotted quad", maxLength: 64 });
const Cidr = Type.String({ description: "IPv4 CIDR block, e.g. 10.0.0.0/16", maxLength: 64 });
const Name = Type.String({ maxLength: 255 });
const Description = Type.String({ maxLength: 1024 });
// Regions and zones: lowercase letters, digits and inner dashes, 1–64 characters (as domain/values.ts).
const LABEL = "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$";
const Region = Type.String({ pattern: LABEL, description: "e.g. region-1" });
const Zone = Type.String({ pattern: LABEL, description: "e.g. zone-a" });
const VpcMtu = Type.Integer({
  minimum: VPC_MTU.min,
  maximum: VPC_MTU.max,
  description:
    `The largest IP packet the VPC carries, in bytes: ${VPC_MTU.min}–${VPC_MTU.max} (jumbo frames), ` +
    `default ${VPC_MTU.default}. Bigger packets are dropped; toward the internet (MTU 1500) a packet with DF set ` +
    `is answered with ICMP fragmentation needed.`,
});
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

// ---- errors ----------------------------------------------------------------------------------------

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Enum(ERROR_CODES, {
          description: "A stable code from the error catalogue (docs/reference/errors.md).",
        }),
        message: Type.String(),
        requestId: Type.String(),
      },
      closed,
    ),
  },
  { ...closed, title: "Error" },
);
export type ErrorBody = Static<typeof ErrorResponse>;

// ---- resources -------------------------------------------------------------------------------------

export const ProjectSchema = Type.Object(
  { id: idSchema("project"), name: Name, createdAt: Timestamp },
  { ...closed, title: "Project" },
);
export const CreatedProjectSchema = Type.Object(
  {
    id: idSchema("project"),
    name: Name,
    token: Type.String({ description: "The project's bearer token; shown only once." }),
    createdAt: Timestamp,
  },
  { ...closed, title: "CreatedProject" },
);

export const VpcSchema = Type.Object(
  {
    id: idSchema("vpc"),
    projectId: idSchema("project"),
    name: Name,
    cidr: Cidr,
    region: Region,
    mtu: VpcMtu,
    createdAt: Timestamp,
  },
  { ...closed, title: "Vpc" },
);

export const BroadcastModeSchema = Type.Union([Type.Literal("auto"), Type.Literal("unicast-only")], {
  description: "auto: broadcast/multicast inside the subnet once it holds a HAVIP; unicast-only: never.",
});

export const SubnetSchema = Type.Object(
  {
    id: idSchema("subnet"),
    projectId: idSchema("project"),
    vpcId: idSchema("vpc"),
    name: Name,
    cidr: Cidr,
    zone: Zone,
    broadcast: BroadcastModeSchema,
    gatewayIp: Ipv4,
    createdAt: Timestamp,
  },
  { ...closed, title: "Subnet" },
);

export const VnicSchema = Type.Object(
  {
    id: idSchema("vnic"),
    projectId: idSchema("project"),
    instanceId: idSchema("instance"),
    subnetId: idSchema("subnet"),
    vpcId: idSchema("vpc"),
    macAddress: Type.String({ description: "Locally administered unicast MAC, 02:xx:xx:xx:xx:xx" }),
    ipAddress: Ipv4,
    primary: Type.Boolean(),
    createdAt: Timestamp,
  },
  { ...closed, title: "Vnic" },
);

export const InstanceSchema = Type.Object(
  {
    id: idSchema("instance"),
    projectId: idSchema("project"),
    vpcId: idSchema("vpc"),
    name: Name,
    primaryVnicId: idSchema("vnic"),
    vnics: Type.Array(VnicSchema),
    createdAt: Timestamp,
  },
  { ...closed, title: "Instance" },
);

export const HaVipHolderSchema = Type.Object(
  {
    instanceId: idSchema("instance"),
    vnicId: idSchema("vnic"),
    since: Timestamp,
    generation: Type.Integer({ minimum: 1 }),
  },
  { ...closed, title: "HaVipHolder" },
);

export const HaVipMemberSchema = Type.Object(
  { instanceId: idSchema("instance"), vnicId: idSchema("vnic") },
  { ...closed, title: "HaVipMember" },
);

export const HaVipContestSchema = Type.Object(
  {
    since: Timestamp,
    claimants: Type.Array(HaVipMemberSchema, {
      description: "The instances that hold the address at once (answered the same probe, or claim in turns)",
    }),
  },
  { ...closed, title: "HaVipContest" },
);

export const HaVipSchema = Type.Object(
  {
    id: idSchema("havip"),
    projectId: idSchema("project"),
    vpcId: idSchema("vpc"),
    subnetId: idSchema("subnet"),
    ipAddress: Ipv4,
    name: Name,
    description: Description,
    virtualMac: Type.String({ description: "Stable virtual MAC the fabric answers ARP with" }),
    members: Nullable(Type.Array(HaVipMemberSchema)),
    status: Type.Union([Type.Literal("available"), Type.Literal("in-use")]),
    holder: Nullable(HaVipHolderSchema),
    generation: Type.Integer({ minimum: 0, description: "Last generation issued (0 before the first holder)" }),
    contested: Type.Union([HaVipContestSchema, Type.Null()], {
      description: "Split brain: several instances hold the address at once; null otherwise",
    }),
    eip: Nullable(Type.Object({ id: idSchema("eip"), publicIp: Ipv4 }, closed)),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { ...closed, title: "HaVip" },
);

export const HolderHistoryEntrySchema = Type.Object(
  {
    generation: Type.Integer({ minimum: 1 }),
    instanceId: Nullable(idSchema("instance")),
    vnicId: Nullable(idSchema("vnic")),
    previousVnicId: Nullable(idSchema("vnic")),
    at: Timestamp,
    reason: Type.Union([
      Type.Literal("announcement"),
      Type.Literal("verified"),
      Type.Literal("withdrawn"),
      Type.Literal("released"),
      Type.Literal("manual"),
    ]),
  },
  { ...closed, title: "HolderHistoryEntry" },
);

export const EipTargetSchema = Type.Union(
  [
    Type.Object({ type: Type.Literal("havip"), havipId: idSchema("havip") }, closed),
    Type.Object({ type: Type.Literal("vnic"), vnicId: idSchema("vnic") }, closed),
  ],
  { title: "EipTarget" },
);

export const EipSchema = Type.Object(
  {
    id: idSchema("eip"),
    projectId: idSchema("project"),
    region: Region,
    publicIp: Ipv4,
    status: Type.Union([Type.Literal("available"), Type.Literal("bound")]),
    target: Nullable(EipTargetSchema),
    createdAt: Timestamp,
  },
  { ...closed, title: "Eip" },
);

export const EipPoolSchema = Type.Object(
  { id: idSchema("pool"), region: Region, cidr: Cidr, createdAt: Timestamp },
  { ...closed, title: "EipPool" },
);

const QuotaValue = Type.Integer({ minimum: 0, maximum: 1_000_000 });
export const QuotasSchema = Type.Object(
  {
    membersPerHaVip: QuotaValue,
    haVipsPerVnic: QuotaValue,
    eipsPerHaVip: QuotaValue,
    haVipsPerProject: QuotaValue,
  },
  { ...closed, title: "Quotas" },
);

const RESOURCE_KINDS: ResourceKind[] = [
  "project",
  "vpc",
  "subnet",
  "instance",
  "vnic",
  "havip",
  "eip",
  "eip-pool",
  "quotas",
];
export const ResourceKindSchema = Type.Enum(RESOURCE_KINDS);

export const ChangeEventSchema = Type.Object(
  {
    revision: Type.Integer({ minimum: 1 }),
    at: Timestamp,
    projectId: Nullable(idSchema("project")),
    resource: ResourceKindSchema,
    id: Type.String(),
    action: Type.Union([
      Type.Literal("created"),
      Type.Literal("updated"),
      Type.Literal("deleted"),
      Type.Literal("holder-changed"),
      Type.Literal("contest-started"),
      Type.Literal("contest-ended"),
    ]),
    data: Type.Unknown({ description: "The resource after the change (null for deletes)" }),
  },
  { ...closed, title: "ChangeEvent" },
);

export const HolderVerificationSchema = Type.Object(
  {
    outcome: Type.Union(
      [
        Type.Literal("confirmed"),
        Type.Literal("moved"),
        Type.Literal("contested"),
        Type.Literal("silent"),
        Type.Literal("released"),
        Type.Literal("unheld"),
        Type.Literal("unasked"),
      ],
      {
        description:
          "confirmed: the holder answered; moved: another instance has the address and is now the holder; contested: several answered; silent: nobody answered (yet); released: nobody answered for several rounds; unheld: no holder, nobody answered; unasked: no instance that may claim it is attached to the fabric",
      },
    ),
    holderVnicId: Type.Union([idSchema("vnic"), Type.Null()]),
    generation: Type.Integer({ minimum: 0 }),
    answered: Type.Array(idSchema("vnic"), { description: "The vNICs that answered: they have the address" }),
  },
  { ...closed, title: "HolderVerification" },
);

export const ObservationResultSchema = Type.Object(
  {
    changed: Type.Boolean({
      description: "false: nothing recorded (the reported holder already holds it, or an older generation)",
    }),
    stale: Type.Optional(Type.Boolean({ description: "The observation's generation was older than the stored one" })),
    havip: HaVipSchema,
    verification: Type.Optional(
      Type.Union([HolderVerificationSchema, Type.Null()], {
        description: "What the fabric found when it verified the report (null: the fabric could not be asked)",
      }),
    ),
  },
  { ...closed, title: "ObservationResult" },
);

export const HealthSchema = Type.Object(
  {
    status: Type.Literal("ok"),
    revision: Type.Integer({ minimum: 0 }),
    store: Type.Literal("up", {
      description: "The database answered this check; when it does not, health answers 503 ServiceUnavailable.Store",
    }),
  },
  { ...closed, title: "Health" },
);

export function PageOf<T extends TSchema>(item: T, title: string) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Nullable(Type.String({ description: "Pass as `cursor` to read the next page; null at the end" })),
    },
    { ...closed, title },
  );
}

// ---- request bodies ----------------------------------------------------------------------------

export const CreateProjectBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, closed);
export const CreateEipPoolBody = Type.Object({ region: Region, cidr: Cidr }, closed);
export const UpdateQuotasBody = Type.Partial(QuotasSchema, closed);

export const CreateVpcBody = Type.Object(
  { name: Type.Optional(Name), cidr: Cidr, region: Region, mtu: Type.Optional(VpcMtu) },
  { ...closed, title: "CreateVpc" },
);
export const CreateSubnetBody = Type.Object(
  {
    vpcId: idSchema("vpc"),
    name: Type.Optional(Name),
    cidr: Cidr,
    zone: Zone,
    broadcast: Type.Optional(BroadcastModeSchema),
  },
  { ...closed, title: "CreateSubnet" },
);
export const CreateInstanceBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    subnetId: idSchema("subnet"),
    ipAddress: Type.Optional(Ipv4),
  },
  { ...closed, title: "CreateInstance" },
);
export const CreateVnicBody = Type.Object(
  { instanceId: idSchema("instance"), subnetId: idSchema("subnet"), ipAddress: Type.Optional(Ipv4) },
  { ...closed, title: "CreateVnic" },
);
const MemberList = Type.Array(memberIdSchema(), {
  maxItems: 1000, // the quota (default 10) is the real limit; this only bounds the request size
  description: "vNIC ids (eni-…) or instance ids (i-…, meaning its vNIC in the HAVIP's subnet)",
});
export const CreateHaVipBody = Type.Object(
  {
    subnetId: idSchema("subnet"),
    ipAddress: Type.Optional(Ipv4),
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    members: Type.Optional(MemberList),
  },
  { ...closed, title: "CreateHaVip" },
);
export const UpdateHaVipBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    members: Type.Optional(Nullable(MemberList)),
  },
  { ...closed, title: "UpdateHaVip" },
);
export const AllocateEipBody = Type.Object({ region: Region }, { ...closed, title: "AllocateEip" });
export const AssociateEipBody = Type.Union(
  [Type.Object({ havipId: idSchema("havip") }, closed), Type.Object({ vnicId: idSchema("vnic") }, closed)],
  { title: "AssociateEip", description: "Exactly one target: a HAVIP or a vNIC" },
);
export const ObservationBody = Type.Union(
  [
    Type.Object({ havipId: idSchema("havip"), vnicId: idSchema("vnic"), at: Type.Optional(Timestamp) }, closed),
    Type.Object({ havipId: idSchema("havip"), instanceId: idSchema("instance"), at: Type.Optional(Timestamp) }, closed),
  ],
  {
    title: "Observation",
    description:
      "vNIC X announced HAVIP Y at time T (default: now). An instanceId stands for its vNIC in the HAVIP's subnet.",
  },
);

// ---- query strings -----------------------------------------------------------------------------

const Limit = Type.Integer({ minimum: 1, maximum: 1000, description: "Page size, 1–1000 (default 100)" });
const CursorParam = Type.String({ minLength: 1, maxLength: 512, description: "nextCursor of the previous page" });
export const PagingQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam) }, closed);
export const SubnetListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(CursorParam), vpcId: Type.Optional(idSchema("vpc")) },
  closed,
);
export const VpcSubnetListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam),
    vpcId: Type.Optional(idSchema("vpc")),
    subnetId: Type.Optional(idSchema("subnet")),
  },
  closed,
);
export const EventsQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0, description: "Send events with revision > since (default 0)" })),
    limit: Type.Optional(Limit),
    wait: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 60,
        description: "Answer with one JSON page instead of a stream; wait up to this many seconds for an event",
      }),
    ),
  },
  closed,
);
export const EventsPageSchema = Type.Object(
  {
    items: Type.Array(ChangeEventSchema),
    lastRevision: Type.Integer({ minimum: 0, description: "Pass as `since` in the next call" }),
    more: Type.Boolean({ description: "true: more events are waiting; call again at once" }),
  },
  { ...closed, title: "EventsPage" },
);

// ---- compile-time agreement with model.ts ----------------------------------------------------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Agree<T extends true> = T;
export type _SchemasAgreeWithModel = [
  Agree<Same<Static<typeof ProjectSchema>, Project>>,
  Agree<Same<Static<typeof VpcSchema>, Vpc>>,
  Agree<Same<Static<typeof SubnetSchema>, Subnet>>,
  Agree<Same<Static<typeof VnicSchema>, Vnic>>,
  Agree<Same<Static<typeof InstanceSchema>, Instance>>,
  Agree<Same<Static<typeof HaVipSchema>, HaVip>>,
  Agree<Same<Static<typeof HolderHistoryEntrySchema>, HolderHistoryEntry>>,
  Agree<Same<Static<typeof EipSchema>, Eip>>,
  Agree<Same<Static<typeof EipPoolSchema>, EipPool>>,
  Agree<Same<Static<typeof QuotasSchema>, Quotas>>,
  Agree<Same<Omit<Static<typeof ChangeEventSchema>, "data">, Omit<ChangeEvent, "data">>>,
];
