// Operator services: projects and their tokens, EIP pools, quotas, and token authentication.
import { cidrsOverlap, formatCidr } from "@havip/ipam";
import {
  POOL_PREFIX,
  hashToken,
  newId,
  newProjectToken,
  requireCidr,
  requireId,
  requireLabel,
  requireText,
  toPage,
  tokensEqual,
} from "../domain/index.ts";
import { ApiError } from "../errors.ts";
import type { EipPool, Page, Project, Quotas } from "../model.ts";
import type { Actor, ListOptions } from "../service.ts";
import { toEipPool, toProject } from "../store/index.ts";
import { notFound, requireOperator } from "./access.ts";
import { type ServiceContext, byCreation, listWindow, pageOf } from "./context.ts";
import { storedCidr as parsed } from "./stored.ts";
import { readQuotas, storeQuotas, validateQuotas } from "./quotas.ts";

export function adminServices(ctx: ServiceContext) {
  const { store } = ctx;

  async function authenticate(token: string): Promise<Actor | null> {
    if (typeof token !== "string" || token === "") return null;
    if (tokensEqual(token, ctx.operatorToken)) return { kind: "operator" };
    const row = await store.db
      .selectFrom("projects")
      .select("id")
      .where("token_hash", "=", hashToken(token))
      .executeTakeFirst();
    return row ? { kind: "project", projectId: row.id } : null;
  }

  async function createProject(actor: Actor, input: { name: string }): Promise<{ project: Project; token: string }> {
    requireOperator(actor);
    const name = requireText(input.name, "name", { max: 255, required: true });
    const token = newProjectToken();
    const project = await store.write(async (tx) => {
      const row = { id: newId("project"), name, token_hash: hashToken(token), created_at: tx.at };
      await tx.db.insertInto("projects").values(row).execute();
      const project = toProject(row);
      tx.record({ projectId: project.id, resource: "project", id: project.id, action: "created", data: project });
      return project;
    });
    return { project, token };
  }

  async function listProjects(actor: Actor, opts: ListOptions): Promise<Page<Project>> {
    requireOperator(actor);
    const window = listWindow(opts);
    const q = store.db.selectFrom("projects").selectAll();
    const rows = await pageOf(q, window);
    return toPage(rows, window.limit, toProject, byCreation);
  }

  async function createEipPool(actor: Actor, input: { region: string; cidr: string }): Promise<EipPool> {
    requireOperator(actor);
    const region = requireLabel(input.region, "region");
    const cidr = requireCidr(input.cidr, "cidr", POOL_PREFIX);
    return store.write(async (tx) => {
      const pools = await tx.db.selectFrom("eip_pools").select(["id", "cidr"]).execute();
      const clash = pools.find((p) => cidrsOverlap(parsed(p.cidr), cidr));
      if (clash) throw new ApiError("InvalidCidr.Overlap", `cidr overlaps pool ${clash.id} (${clash.cidr}).`);
      const row = { id: newId("pool"), region, cidr: formatCidr(cidr), created_at: tx.at };
      await tx.db.insertInto("eip_pools").values(row).execute();
      const pool = toEipPool(row);
      tx.record({ projectId: null, resource: "eip-pool", id: pool.id, action: "created", data: pool });
      return pool;
    });
  }

  async function listEipPools(actor: Actor, opts: ListOptions): Promise<Page<EipPool>> {
    requireOperator(actor);
    const window = listWindow(opts);
    const q = store.db.selectFrom("eip_pools").selectAll();
    const rows = await pageOf(q, window);
    return toPage(rows, window.limit, toEipPool, byCreation);
  }

  async function deleteEipPool(actor: Actor, id: string): Promise<void> {
    requireOperator(actor);
    requireId("pool", id);
    await store.write(async (tx) => {
      const pool = await tx.db.selectFrom("eip_pools").select("id").where("id", "=", id).executeTakeFirst();
      if (!pool) throw notFound("EIP pool", id);
      const eip = await tx.db.selectFrom("eips").select("id").where("pool_id", "=", id).executeTakeFirst();
      if (eip) throw new ApiError("DependencyViolation.PoolHasEips", `EIP ${eip.id} was allocated from pool ${id}.`);
      await tx.db.deleteFrom("eip_pools").where("id", "=", id).execute();
      tx.record({ projectId: null, resource: "eip-pool", id, action: "deleted", data: null });
    });
  }

  async function getQuotas(_actor: Actor): Promise<Quotas> {
    return readQuotas(store.db, ctx.baseQuotas);
  }

  async function setQuotas(actor: Actor, input: Partial<Quotas>): Promise<Quotas> {
    requireOperator(actor);
    const changes = validateQuotas(input);
    return store.write(async (tx) => {
      await storeQuotas(tx.db, changes);
      const quotas = await readQuotas(tx.db, ctx.baseQuotas);
      tx.record({ projectId: null, resource: "quotas", id: "quotas", action: "updated", data: quotas });
      return quotas;
    });
  }

  return {
    authenticate,
    createProject,
    listProjects,
    createEipPool,
    listEipPools,
    deleteEipPool,
    getQuotas,
    setQuotas,
  };
}
