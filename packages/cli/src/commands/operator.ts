// Operator commands: projects (tenants and their tokens), public EIP pools, quotas.
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { EipPool, Project, Quotas } from "@havip/control";
import { UsageError } from "../errors.ts";
import { pageSize, quotaValue } from "../parsers.ts";
import { KINDS, resolveId } from "../resolve.ts";
import { poolColumns, projectColumns, projectCreatedDetails, quotaDetails } from "../views.ts";
import type { ContextOf } from "./shared.ts";

export function registerOperatorCommands(program: CommandUnknownOpts, context: ContextOf): void {
  const project = program.command("project").description("projects (tenants) and their tokens [operator]");
  project
    .command("create")
    .description("create a project; prints its token (shown only once)")
    .argument("<name>", "project name")
    .option("--idempotency-key <key>", "repeat a create safely: the same key returns the first result")
    .action(async (name, opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const created = await client.request<Project & { token: string }>("POST", "/v1/projects", {
        body: { name },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      ctx.show(created, projectCreatedDetails);
      if (!ctx.json) ctx.note("keep the token: it is not shown again");
    });
  project
    .command("list")
    .description("list projects")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      await ctx.list<Project>("/v1/projects", {}, opts, (items) => ctx.table(projectColumns, items));
    });

  const pool = program.command("pool").description("public address pools for EIPs [operator]");
  pool
    .command("create")
    .description("add a public address pool to a region")
    .requiredOption("--region <region>", "region the EIPs are allocated in")
    .requiredOption("--cidr <cidr>", "public IPv4 block, e.g. 198.51.100.0/24")
    .option("--idempotency-key <key>", "repeat a create safely: the same key returns the first result")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const created = await client.request<EipPool>("POST", "/v1/eip-pools", {
        body: { region: opts.region, cidr: opts.cidr },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      ctx.show(created, (p) => ctx.table(poolColumns, [p]));
    });
  pool
    .command("list")
    .description("list address pools")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      await ctx.list<EipPool>("/v1/eip-pools", {}, opts, (items) => ctx.table(poolColumns, items));
    });
  pool
    .command("delete")
    .description("delete an address pool (refused while it has allocated EIPs)")
    .argument("<pool>", "pool id or CIDR")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<EipPool>(client, KINDS.pool, ref);
      await client.request("DELETE", `/v1/eip-pools/${encodeURIComponent(id)}`);
      if (!ctx.json) ctx.print(`deleted ${id}\n`);
    });

  const quota = program.command("quota").description("deployment-wide quotas");
  quota
    .command("show")
    .description("show the quotas")
    .action(async (_opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      ctx.show(await client.get<Quotas>("/v1/quotas"), quotaDetails);
    });
  quota
    .command("set")
    .description("change one or more quotas [operator]")
    .option("--members-per-havip <n>", "vNICs or instances in one HAVIP's member list", quotaValue)
    .option("--havips-per-vnic <n>", "HAVIP member lists one vNIC may be in", quotaValue)
    .option("--eips-per-havip <n>", "EIPs bound to one HAVIP", quotaValue)
    .option("--havips-per-project <n>", "HAVIPs in one project", quotaValue)
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const change: Partial<Quotas> = {};
      if (opts.membersPerHavip !== undefined) change.membersPerHaVip = opts.membersPerHavip;
      if (opts.havipsPerVnic !== undefined) change.haVipsPerVnic = opts.havipsPerVnic;
      if (opts.eipsPerHavip !== undefined) change.eipsPerHaVip = opts.eipsPerHavip;
      if (opts.havipsPerProject !== undefined) change.haVipsPerProject = opts.havipsPerProject;
      if (Object.keys(change).length === 0) throw new UsageError("quota set needs at least one quota option");
      const client = await ctx.client();
      ctx.show(await client.request<Quotas>("PUT", "/v1/quotas", { body: change }), quotaDetails);
    });
}
