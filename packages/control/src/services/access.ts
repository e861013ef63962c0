// Who may do what: operators manage projects, pools, quotas and observations and may read everything;
// tenant resources are created and changed only by project tokens, each in its own project. A project
// never learns that another project's resource exists: it gets NotFound.
import { ApiError } from "../errors.ts";
import type { Actor } from "../service.ts";

export function requireOperator(actor: Actor): void {
  if (actor.kind !== "operator") throw new ApiError("Forbidden", "Only the operator token may do this.");
}

/** The project a tenant write happens in. Operators may read tenant resources but not create or change them. */
export function tenantProject(actor: Actor): string {
  if (actor.kind !== "project") {
    throw new ApiError("Forbidden", "Tenant resources are created and changed with a project token.");
  }
  return actor.projectId;
}

export function canSee(actor: Actor, projectId: string | null): boolean {
  return actor.kind === "operator" || actor.projectId === projectId;
}

export function notFound(what: string, id: string): ApiError {
  return new ApiError("NotFound", `${what} ${id} does not exist.`);
}

/** Returns row when the actor may see it, else throws NotFound (the same answer as for a missing id). */
export function visible<R extends { project_id: string }>(
  actor: Actor,
  row: R | undefined,
  what: string,
  id: string,
): R {
  if (!row || !canSee(actor, row.project_id)) throw notFound(what, id);
  return row;
}

/** For writes: the row must exist and belong to the acting project. */
export function owned<R extends { project_id: string }>(
  projectId: string,
  row: R | undefined,
  what: string,
  id: string,
): R {
  if (!row || row.project_id !== projectId) throw notFound(what, id);
  return row;
}
