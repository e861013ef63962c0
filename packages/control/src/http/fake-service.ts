// A small in-memory ControlService for the HTTP layer's plumbing tests (auth, errors, schemas, paging,
// idempotency, event framing). It implements projects, VPCs and the change log; the rules of every
// resource are tested through HTTP against the real services elsewhere. Not used in production.
import { randomBytes } from "node:crypto";
import { ApiError } from "../errors.ts";
import { DEFAULT_QUOTAS, type ChangeEvent, type Page, type Project, type Quotas, type Vpc } from "../model.ts";
import type { Actor, ControlService, ListOptions } from "../service.ts";

export interface FakeService extends ControlService {
  /** Every call the HTTP layer made, for asserting what reached the service. */
  readonly calls: { method: string; args: unknown[] }[];
  /** Appends a change to the log as if a write committed (for event tests). */
  commit(change: Omit<ChangeEvent, "revision" | "at">): ChangeEvent;
  /** How many times createVpc actually ran (idempotency tests). */
  readonly vpcCreates: number;
}

function hexId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;
}

function page<T extends { id: string }>(all: T[], opts: ListOptions): Page<T> {
  const limit = opts.limit ?? 100;
  const start = opts.cursor ? all.findIndex((x) => x.id === opts.cursor) + 1 : 0;
  if (opts.cursor && start === 0) throw new ApiError("InvalidParameter", "cursor is not valid for this list.");
  const items = all.slice(start, start + limit);
  const last = items.at(-1);
  return { items, nextCursor: start + limit < all.length && last ? last.id : null };
}

export function fakeService(operatorToken = "op-token"): FakeService {
  const tokens = new Map<string, Actor>([[operatorToken, { kind: "operator" }]]);
  const projects: Project[] = [];
  const vpcs: Vpc[] = [];
  const log: ChangeEvent[] = [];
  const listeners = new Set<(e: ChangeEvent) => void>();
  const calls: { method: string; args: unknown[] }[] = [];
  let vpcCreates = 0;
  let quotas: Quotas = { ...DEFAULT_QUOTAS };

  function commit(change: Omit<ChangeEvent, "revision" | "at">): ChangeEvent {
    const event: ChangeEvent = { ...change, revision: log.length + 1, at: new Date().toISOString() };
    log.push(event);
    for (const l of listeners) l(event);
    return event;
  }
  const visible = (actor: Actor, projectId: string) => actor.kind === "operator" || actor.projectId === projectId;
  const record = (method: string, ...args: unknown[]) => calls.push({ method, args });
  const stub = (name: string) => () => Promise.reject(new Error(`fake service: ${name} is not implemented`));

  const service: FakeService = {
    calls,
    commit,
    get vpcCreates() {
      return vpcCreates;
    },
    authenticate(token) {
      return Promise.resolve(tokens.get(token) ?? null);
    },
    createProject(_actor, input) {
      const project: Project = { id: hexId("proj"), name: input.name, createdAt: new Date().toISOString() };
      const token = `tok-${randomBytes(12).toString("hex")}`;
      projects.push(project);
      tokens.set(token, { kind: "project", projectId: project.id });
      commit({ projectId: project.id, resource: "project", id: project.id, action: "created", data: project });
      return Promise.resolve({ project, token });
    },
    listProjects(actor, opts) {
      record("listProjects", actor, opts);
      return Promise.resolve(page(projects, opts));
    },
    createEipPool: stub("createEipPool"),
    listEipPools: stub("listEipPools"),
    deleteEipPool: stub("deleteEipPool"),
    getQuotas() {
      return Promise.resolve(quotas);
    },
    setQuotas(_actor, input) {
      quotas = { ...quotas, ...input };
      return Promise.resolve(quotas);
    },
    async createVpc(actor, input) {
      record("createVpc", actor, input);
      if (actor.kind !== "project") throw new ApiError("Forbidden", "project token needed");
      if (input.cidr === "crash") throw new Error("boom: a bug with a secret stack");
      await new Promise((r) => setTimeout(r, 5)); // widens the window for concurrent-retry tests
      vpcCreates += 1;
      const vpc: Vpc = {
        id: hexId("vpc"),
        projectId: actor.projectId,
        name: input.name ?? "",
        cidr: input.cidr,
        region: input.region,
        mtu: input.mtu ?? 1500,
        createdAt: new Date().toISOString(),
      };
      vpcs.push(vpc);
      commit({ projectId: vpc.projectId, resource: "vpc", id: vpc.id, action: "created", data: vpc });
      return vpc;
    },
    listVpcs(actor, opts) {
      record("listVpcs", actor, opts);
      return Promise.resolve(
        page(
          vpcs.filter((v) => visible(actor, v.projectId)),
          opts,
        ),
      );
    },
    getVpc(actor, id) {
      const vpc = vpcs.find((v) => v.id === id && visible(actor, v.projectId));
      return vpc ? Promise.resolve(vpc) : Promise.reject(new ApiError("NotFound", `VPC ${id} not found.`));
    },
    deleteVpc(actor, id) {
      const i = vpcs.findIndex((v) => v.id === id && visible(actor, v.projectId));
      if (i < 0) return Promise.reject(new ApiError("NotFound", `VPC ${id} not found.`));
      const [vpc] = vpcs.splice(i, 1);
      commit({ projectId: vpc?.projectId ?? null, resource: "vpc", id, action: "deleted", data: null });
      return Promise.resolve();
    },
    createSubnet: stub("createSubnet"),
    listSubnets(actor, opts) {
      record("listSubnets", actor, opts);
      return Promise.resolve({ items: [], nextCursor: null });
    },
    getSubnet: stub("getSubnet"),
    deleteSubnet: stub("deleteSubnet"),
    createInstance: stub("createInstance"),
    listInstances(actor, opts) {
      record("listInstances", actor, opts);
      return Promise.resolve({ items: [], nextCursor: null });
    },
    getInstance: stub("getInstance"),
    deleteInstance: stub("deleteInstance"),
    createVnic: stub("createVnic"),
    getVnic: stub("getVnic"),
    createHaVip: stub("createHaVip"),
    listHaVips(actor, opts) {
      record("listHaVips", actor, opts);
      return Promise.resolve({ items: [], nextCursor: null });
    },
    getHaVip: stub("getHaVip"),
    updateHaVip: stub("updateHaVip"),
    deleteHaVip: stub("deleteHaVip"),
    getHaVipHistory: stub("getHaVipHistory"),
    allocateEip: stub("allocateEip"),
    listEips: stub("listEips"),
    getEip: stub("getEip"),
    releaseEip: stub("releaseEip"),
    associateEip(actor, id, input) {
      record("associateEip", actor, id, input);
      return Promise.reject(new ApiError("NotFound", `EIP ${id} not found.`));
    },
    disassociateEip(actor, id) {
      record("disassociateEip", actor, id);
      return Promise.reject(new ApiError("NotFound", `EIP ${id} not found.`));
    },
    observeHolder(obs) {
      record("observeHolder", obs);
      return Promise.reject(new ApiError("NotFound", `HAVIP ${obs.havipId} not found.`));
    },
    observeContest(obs) {
      record("observeContest", obs);
      return Promise.resolve(null);
    },
    eventsSince(actor, since, limit) {
      record("eventsSince", actor, since, limit);
      if (since > log.length) return Promise.reject(new ApiError("InvalidParameter", "since is in the future"));
      return Promise.resolve(
        log
          .filter((e) => e.revision > since && (actor.kind === "operator" || e.projectId === actor.projectId))
          .slice(0, limit),
      );
    },
    currentRevision() {
      return Promise.resolve(log.length);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      return Promise.resolve();
    },
  };
  return service;
}
