// HAVIPs, their holder history, and the operator's holder observation (`havip observe`).
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { HaVip, HolderHistoryEntry, Instance, ObservationResult, Subnet, Vpc } from "@havip/control";
import type { ApiClient } from "../client.ts";
import type { Context } from "../context.ts";
import { ApiRequestError, UsageError } from "../errors.ts";
import { collect, isoTime, pageSize } from "../parsers.ts";
import { KINDS, resolveId } from "../resolve.ts";
import { contestFootnote, instancesOf } from "../contest.ts";
import { lookupInstanceNames } from "../names.ts";
import { verificationLine, type VnicLabels } from "../verification.ts";
import { havipColumns, havipDetails, historyColumns, type InstanceNames } from "../views.ts";
import { path, type ContextOf } from "./shared.ts";

const IDEMPOTENCY = "repeat a create safely: the same key returns the first result";

/** Members are vNIC ids as they are, or instances (id or name), which the API maps to their vNIC. */
async function resolveMembers(client: ApiClient, refs: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    ids.push(ref.startsWith("eni-") ? ref : await resolveId<Instance>(client, KINDS.instance, ref));
  }
  return ids;
}

/** Instance names for holder, member and claimant columns; ids are shown when the lookup fails. */
function instanceNames(ctx: Context, havips: HaVip[]): Promise<InstanceNames> {
  return lookupInstanceNames(ctx, havips.flatMap(instancesOf));
}

/** "vm-B (eni-…)" by vNIC id, for what verification found; empty when the instances cannot be read. */
async function vnicLabels(client: ApiClient): Promise<VnicLabels> {
  try {
    const instances = await client.listAll<Instance>("/v1/instances");
    return new Map(instances.flatMap((i) => i.vnics.map((v) => [v.id, `${i.name} (${v.id})`] as const)));
  } catch {
    return new Map();
  }
}

function holderNow(h: HaVip, labels: VnicLabels): string {
  const holder = h.holder === null ? "nobody" : (labels.get(h.holder.vnicId) ?? h.holder.vnicId);
  return `holder now: ${holder}, generation ${h.generation}\n`;
}

export function registerHaVipCommands(program: CommandUnknownOpts, context: ContextOf): void {
  const havip = program.command("havip").description("high-availability virtual IPs");
  havip
    .command("create")
    .description("reserve a HAVIP address in a subnet")
    .requiredOption("--subnet <subnet>", "subnet id or name")
    .option("--ip <address>", "the address (default: the lowest free one)")
    .option("--name <name>", "a name to refer to it by")
    .option("--description <text>", "free text")
    .option("--member <instance-or-vnic>", "may claim the HAVIP (repeat; default: any vNIC in the subnet)", collect, [])
    .option("--idempotency-key <key>", IDEMPOTENCY)
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const subnetId = await resolveId<Subnet>(client, KINDS.subnet, opts.subnet);
      const members = opts.member.length === 0 ? undefined : await resolveMembers(client, opts.member);
      const created = await client.request<HaVip>("POST", "/v1/havips", {
        body: { subnetId, ipAddress: opts.ip, name: opts.name, description: opts.description, members },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      const names = await instanceNames(ctx, [created]);
      ctx.show(created, (h) => havipDetails(h, names));
    });
  havip
    .command("list")
    .description("list HAVIPs")
    .option("--vpc <vpc>", "only this VPC's (id or name)")
    .option("--subnet <subnet>", "only this subnet's (id or name)")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const vpcId = opts.vpc === undefined ? undefined : await resolveId<Vpc>(client, KINDS.vpc, opts.vpc);
      const subnetId =
        opts.subnet === undefined ? undefined : await resolveId<Subnet>(client, KINDS.subnet, opts.subnet);
      await ctx.list<HaVip>(
        "/v1/havips",
        { vpcId, subnetId },
        opts,
        async (items) => ctx.table(havipColumns(await instanceNames(ctx, items)), items) + contestFootnote(items),
      );
    });
  havip
    .command("show")
    .description("show a HAVIP: status, holder, generation, EIP, members")
    .argument("<havip>", "HAVIP id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<HaVip>(client, KINDS.havip, ref);
      const found = await client.get<HaVip>(path("/v1/havips", id));
      const names = await instanceNames(ctx, [found]);
      ctx.show(found, (h) => havipDetails(h, names));
    });
  havip
    .command("update")
    .description("rename, describe, or change the member list (subnet and address never change)")
    .argument("<havip>", "HAVIP id or name")
    .option("--name <name>", "new name")
    .option("--description <text>", "new description")
    .option("--member <instance-or-vnic>", "the new member list (repeat)", collect, [])
    .option("--clear-members", "drop the member list: any vNIC in the subnet may claim")
    .action(async (ref, opts, cmd) => {
      const ctx = context(cmd);
      if (opts.member.length > 0 && opts.clearMembers === true) {
        throw new UsageError("--member and --clear-members cannot be used together");
      }
      const nothing = [opts.name, opts.description, opts.clearMembers].every((v) => v === undefined);
      if (nothing && opts.member.length === 0) {
        throw new UsageError("havip update needs --name, --description, --member or --clear-members");
      }
      const client = await ctx.client();
      const id = await resolveId<HaVip>(client, KINDS.havip, ref);
      const change: { name?: string; description?: string; members?: string[] | null } = {};
      if (opts.name !== undefined) change.name = opts.name;
      if (opts.description !== undefined) change.description = opts.description;
      if (opts.member.length > 0) change.members = await resolveMembers(client, opts.member);
      if (opts.clearMembers === true) change.members = null;
      const updated = await client.request<HaVip>("PATCH", path("/v1/havips", id), { body: change });
      const names = await instanceNames(ctx, [updated]);
      ctx.show(updated, (h) => havipDetails(h, names));
    });
  havip
    .command("delete")
    .description("release a HAVIP (refused while an EIP is bound)")
    .argument("<havip>", "HAVIP id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<HaVip>(client, KINDS.havip, ref);
      await client.request("DELETE", path("/v1/havips", id));
      if (!ctx.json) ctx.print(`deleted ${id}\n`);
    });
  havip
    .command("history")
    .description("holder changes, oldest first")
    .argument("<havip>", "HAVIP id or name")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (ref, opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<HaVip>(client, KINDS.havip, ref);
      await ctx.list<HolderHistoryEntry>(path("/v1/havips", id, "/history"), {}, opts, async (items) => {
        const ids = items.flatMap((e) => (e.instanceId === null ? [] : [e.instanceId]));
        return ctx.table(historyColumns(await lookupInstanceNames(ctx, ids)), items);
      });
    });

  program
    .command("observe")
    .description("report that a vNIC announced a HAVIP, as the fabric does [operator, internal]")
    .argument("<havip>", "HAVIP id or name")
    .argument("<vnic-or-instance>", "vNIC id, or instance id or name (its vNIC in the HAVIP's subnet)")
    .option("--at <time>", "when it was seen (ISO 8601; default now)", isoTime)
    .action(async (havipRef, claimant, opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const havipId = await resolveId<HaVip>(client, KINDS.havip, havipRef);
      let vnicId = claimant;
      let label = claimant;
      if (!claimant.startsWith("eni-")) {
        const instanceId = await resolveId<Instance>(client, KINDS.instance, claimant);
        const [target, owner] = await Promise.all([
          client.get<HaVip>(path("/v1/havips", havipId)),
          client.get<Instance>(path("/v1/instances", instanceId)),
        ]);
        const vnic = owner.vnics.find((v) => v.subnetId === target.subnetId);
        if (vnic === undefined) {
          throw new ApiRequestError(
            "IncorrectState.HolderNotAllowed",
            `instance ${owner.name} (${owner.id}) has no vNIC in the HAVIP's subnet ${target.subnetId}`,
            409,
          );
        }
        vnicId = vnic.id;
        label = `${owner.name} (${vnic.id})`;
      }
      const result = await client.request<ObservationResult>("POST", "/v1/observations", {
        body: { havipId, vnicId, at: opts.at },
      });
      const labels = ctx.json || result.verification == null ? new Map<string, string>() : await vnicLabels(client);
      ctx.show(result, ({ changed, havip: h, verification }) => {
        const name = `${h.name || h.id} (${h.ipAddress})`;
        const held = h.holder?.vnicId === vnicId;
        const what = !changed
          ? `${label} already held ${name}: holder unchanged, generation ${h.generation}`
          : held
            ? `${label} now holds ${name}, generation ${h.generation}`
            : `${label} reported as the holder of ${name}`;
        // The holder after verification, when it is not the reported one (corrected, released).
        const after = held ? "" : holderNow(h, labels);
        return `${what}\n${verificationLine(verification, labels)}${after}`;
      });
    });
}
