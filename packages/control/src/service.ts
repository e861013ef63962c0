// The contract between the HTTP layer and the control plane's services. The services own every rule
// (validation of domain values, IPAM, quotas, uniqueness inside transactions) and throw ApiError with a
// catalogue code; the HTTP layer owns auth, schemas, paging parameters, idempotency and serialisation.
import type {
  BroadcastMode,
  ChangeEvent,
  Eip,
  EipPool,
  HaVip,
  HolderHistoryEntry,
  Instance,
  Page,
  Project,
  Quotas,
  Subnet,
  Vnic,
  Vpc,
} from "./model.ts";

/** Who is calling. A project actor sees only its own project's resources: others answer NotFound. */
export type Actor = { kind: "operator" } | { kind: "project"; projectId: string };

export interface ListOptions {
  limit?: number; // 1..1000, default 100
  cursor?: string | null; // opaque, from Page.nextCursor
}

export interface CreateVpcInput {
  name?: string;
  cidr: string;
  region: string;
  mtu?: number; // VPC_MTU.min–max, default VPC_MTU.default
}
export interface CreateSubnetInput {
  vpcId: string;
  name?: string;
  cidr: string;
  zone: string;
  broadcast?: BroadcastMode; // default "auto"
}
export interface CreateInstanceInput {
  name: string;
  subnetId: string; // subnet of the primary vNIC
  ipAddress?: string; // primary vNIC address; auto-allocated when absent
}
export interface CreateVnicInput {
  instanceId: string;
  subnetId: string; // must be in the instance's VPC
  ipAddress?: string;
}
export interface CreateHaVipInput {
  subnetId: string;
  ipAddress?: string;
  name?: string;
  description?: string;
  members?: string[]; // vNIC ids (eni-…) or instance ids (i-…, meaning its vNIC in that subnet)
}
export interface UpdateHaVipInput {
  name?: string;
  description?: string;
  members?: string[] | null; // null clears the list (anyone in the subnet may claim)
}
export type AssociateEipInput = { havipId: string } | { vnicId: string };

/** "vNIC X announced HAVIP Y at time T", reported by the fabric. */
/**
 * What the network saw of a HAVIP's holder. From the fabric: with the `generation` the fabric issued (recorded
 * only when newer than the stored one, a compare-and-set that never goes backwards) and its reason; `vnicId` null
 * is a release (`withdrawn`). By hand (`POST /v1/observations`): no generation; the control plane issues the
 * next one, reason `manual`.
 */
export interface HolderObservation {
  havipId: string;
  vnicId: string | null;
  at: Date;
  generation?: number;
  reason?: "announcement" | "verified" | "withdrawn";
}
export interface ObservationResult {
  /** false: nothing recorded — a refresh by the current holder, or (`stale`) an older generation than the stored one. */
  changed: boolean;
  stale?: boolean;
  havip: HaVip;
  /**
   * A manual observation is verified by the fabric (when there is one): what it found. `havip` is then the HAVIP after
   * that verification was recorded (a wrong report is corrected at once).
   */
  verification?: HolderVerification | null;
}

/** What the fabric found when asked who has a HAVIP's address (after a manual observation). */
export interface HolderVerification {
  outcome: "confirmed" | "moved" | "contested" | "silent" | "released" | "unheld" | "unasked";
  /** The holder after the round (the fabric's word); null: none. */
  holderVnicId: string | null;
  generation: number;
  /** The vNICs that answered: they have the address. */
  answered: string[];
}

/** A contest the fabric sees (claimants: vNIC ids), or its end (null claimants). */
export interface ContestObservation {
  havipId: string;
  claimants: string[] | null;
  since: Date;
}

export interface ControlService {
  // operator
  createProject(actor: Actor, input: { name: string }): Promise<{ project: Project; token: string }>;
  listProjects(actor: Actor, opts: ListOptions): Promise<Page<Project>>;
  createEipPool(actor: Actor, input: { region: string; cidr: string }): Promise<EipPool>;
  listEipPools(actor: Actor, opts: ListOptions): Promise<Page<EipPool>>;
  deleteEipPool(actor: Actor, id: string): Promise<void>;
  getQuotas(actor: Actor): Promise<Quotas>;
  setQuotas(actor: Actor, input: Partial<Quotas>): Promise<Quotas>;
  /** Resolves a bearer token to an actor, or null when unknown. */
  authenticate(token: string): Promise<Actor | null>;

  createVpc(actor: Actor, input: CreateVpcInput): Promise<Vpc>;
  listVpcs(actor: Actor, opts: ListOptions): Promise<Page<Vpc>>;
  getVpc(actor: Actor, id: string): Promise<Vpc>;
  deleteVpc(actor: Actor, id: string): Promise<void>;

  createSubnet(actor: Actor, input: CreateSubnetInput): Promise<Subnet>;
  listSubnets(actor: Actor, opts: ListOptions & { vpcId?: string }): Promise<Page<Subnet>>;
  getSubnet(actor: Actor, id: string): Promise<Subnet>;
  deleteSubnet(actor: Actor, id: string): Promise<void>;

  createInstance(actor: Actor, input: CreateInstanceInput): Promise<Instance>;
  listInstances(actor: Actor, opts: ListOptions & { vpcId?: string; subnetId?: string }): Promise<Page<Instance>>;
  getInstance(actor: Actor, id: string): Promise<Instance>;
  deleteInstance(actor: Actor, id: string): Promise<void>;

  createVnic(actor: Actor, input: CreateVnicInput): Promise<Vnic>;
  getVnic(actor: Actor, id: string): Promise<Vnic>;

  createHaVip(actor: Actor, input: CreateHaVipInput): Promise<HaVip>;
  listHaVips(actor: Actor, opts: ListOptions & { vpcId?: string; subnetId?: string }): Promise<Page<HaVip>>;
  getHaVip(actor: Actor, id: string): Promise<HaVip>;
  updateHaVip(actor: Actor, id: string, input: UpdateHaVipInput): Promise<HaVip>;
  deleteHaVip(actor: Actor, id: string): Promise<void>;
  getHaVipHistory(actor: Actor, id: string, opts: ListOptions): Promise<Page<HolderHistoryEntry>>;

  allocateEip(actor: Actor, input: { region: string }): Promise<Eip>;
  listEips(actor: Actor, opts: ListOptions): Promise<Page<Eip>>;
  getEip(actor: Actor, id: string): Promise<Eip>;
  releaseEip(actor: Actor, id: string): Promise<void>;
  associateEip(actor: Actor, id: string, input: AssociateEipInput): Promise<Eip>;
  disassociateEip(actor: Actor, id: string): Promise<Eip>;

  /** Internal (fabric → control): records a holder observation. Throws IncorrectState.HolderNotAllowed. */
  observeHolder(obs: HolderObservation): Promise<ObservationResult>;
  /** Records that a HAVIP is contested (or no longer is); an event when that changes. Unknown vNICs are left out. */
  observeContest(obs: ContestObservation): Promise<HaVip | null>;

  /** Change log: events with revision > since, visible to the actor, oldest first, at most `limit`. */
  eventsSince(actor: Actor, since: number, limit: number): Promise<ChangeEvent[]>;
  /** The newest committed revision. */
  currentRevision(): Promise<number>;
  /** Called (synchronously, after commit) for every committed change, in revision order. */
  onChange(listener: (event: ChangeEvent) => void): () => void;

  close(): Promise<void>;
}
