// Instance names for holders, members and claimants, so output reads "vm-A" rather than an id. One list call;
// when it fails the ids are shown (a name is a courtesy, never a reason to fail a command).
import type { Instance } from "@havip/control";
import type { InstanceNames } from "./contest.ts";
import type { Context } from "./context.ts";

/** The names of every instance the caller sees, when `ids` needs any (never with --json). */
export async function lookupInstanceNames(ctx: Context, ids: readonly string[]): Promise<InstanceNames> {
  if (ctx.json || ids.length === 0) return new Map();
  try {
    const client = await ctx.client();
    const instances = await client.listAll<Instance>("/v1/instances");
    return new Map(instances.map((i) => [i.id, i.name]));
  } catch {
    return new Map();
  }
}

/**
 * Names for a stream of events: looked up again when an event names an instance not seen before (created after
 * the last lookup), at most once per unknown id.
 */
export class InstanceNameCache {
  private names: InstanceNames = new Map();
  private readonly tried = new Set<string>();
  private readonly ctx: Context;

  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  async for(ids: readonly string[]): Promise<InstanceNames> {
    const unknown = ids.filter((id) => !this.names.has(id) && !this.tried.has(id));
    if (unknown.length > 0) {
      for (const id of unknown) this.tried.add(id);
      const fresh = await lookupInstanceNames(this.ctx, unknown);
      if (fresh.size > 0) this.names = fresh;
    }
    return this.names;
  }
}
