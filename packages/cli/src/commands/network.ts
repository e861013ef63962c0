// VPCs and subnets.
import { Option, type CommandUnknownOpts } from "@commander-js/extra-typings";
import type { Subnet, Vpc } from "@havip/control";
import { pageSize, vpcMtu } from "../parsers.ts";
import { KINDS, resolveId } from "../resolve.ts";
import { subnetColumns, subnetDetails, vpcColumns, vpcDetails } from "../views.ts";
import { path, type ContextOf } from "./shared.ts";

const IDEMPOTENCY = "repeat a create safely: the same key returns the first result";

export function registerNetworkCommands(program: CommandUnknownOpts, context: ContextOf): void {
  const vpc = program.command("vpc").description("VPCs: isolated IPv4 networks");
  vpc
    .command("create")
    .description("create a VPC")
    .requiredOption("--cidr <cidr>", "IPv4 block, /16 to /28, e.g. 10.0.0.0/16")
    .requiredOption("--region <region>", "region, e.g. region-1")
    .option("--name <name>", "a name to refer to it by")
    .option("--mtu <bytes>", "largest IP packet, 1280 to 8950 (jumbo frames); default 1500", vpcMtu)
    .option("--idempotency-key <key>", IDEMPOTENCY)
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const created = await client.request<Vpc>("POST", "/v1/vpcs", {
        body: { cidr: opts.cidr, region: opts.region, name: opts.name, mtu: opts.mtu },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      ctx.show(created, vpcDetails);
    });
  vpc
    .command("list")
    .description("list VPCs")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      await ctx.list<Vpc>("/v1/vpcs", {}, opts, (items) => ctx.table(vpcColumns, items));
    });
  vpc
    .command("show")
    .description("show a VPC")
    .argument("<vpc>", "VPC id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Vpc>(client, KINDS.vpc, ref);
      ctx.show(await client.get<Vpc>(path("/v1/vpcs", id)), vpcDetails);
    });
  vpc
    .command("delete")
    .description("delete a VPC (refused while it has subnets)")
    .argument("<vpc>", "VPC id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Vpc>(client, KINDS.vpc, ref);
      await client.request("DELETE", path("/v1/vpcs", id));
      if (!ctx.json) ctx.print(`deleted ${id}\n`);
    });

  const subnet = program.command("subnet").description("subnets of a VPC");
  subnet
    .command("create")
    .description("create a subnet in a VPC")
    .requiredOption("--vpc <vpc>", "VPC id or name")
    .requiredOption("--cidr <cidr>", "IPv4 block inside the VPC, e.g. 10.0.1.0/24")
    .requiredOption("--zone <zone>", "zone, e.g. zone-a")
    .option("--name <name>", "a name to refer to it by")
    .addOption(
      new Option("--broadcast <mode>", "auto: broadcast domain once it holds a HAVIP; unicast-only: never").choices([
        "auto",
        "unicast-only",
      ] as const),
    )
    .option("--idempotency-key <key>", IDEMPOTENCY)
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const vpcId = await resolveId<Vpc>(client, KINDS.vpc, opts.vpc);
      const created = await client.request<Subnet>("POST", "/v1/subnets", {
        body: { vpcId, cidr: opts.cidr, zone: opts.zone, name: opts.name, broadcast: opts.broadcast },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      ctx.show(created, subnetDetails);
    });
  subnet
    .command("list")
    .description("list subnets")
    .option("--vpc <vpc>", "only this VPC's (id or name)")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const vpcId = opts.vpc === undefined ? undefined : await resolveId<Vpc>(client, KINDS.vpc, opts.vpc);
      await ctx.list<Subnet>("/v1/subnets", { vpcId }, opts, (items) => ctx.table(subnetColumns, items));
    });
  subnet
    .command("show")
    .description("show a subnet")
    .argument("<subnet>", "subnet id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Subnet>(client, KINDS.subnet, ref);
      ctx.show(await client.get<Subnet>(path("/v1/subnets", id)), subnetDetails);
    });
  subnet
    .command("delete")
    .description("delete a subnet (refused while it has instances or HAVIPs)")
    .argument("<subnet>", "subnet id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Subnet>(client, KINDS.subnet, ref);
      await client.request("DELETE", path("/v1/subnets", id));
      if (!ctx.json) ctx.print(`deleted ${id}\n`);
    });
}
