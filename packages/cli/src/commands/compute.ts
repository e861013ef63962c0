// Instances and their vNICs.
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { Instance, Subnet, Vnic, Vpc } from "@havip/control";
import { pageSize } from "../parsers.ts";
import { KINDS, resolveId } from "../resolve.ts";
import { instanceColumns, instanceDetails, vnicDetails } from "../views.ts";
import { path, type ContextOf } from "./shared.ts";

const IDEMPOTENCY = "repeat a create safely: the same key returns the first result";

export function registerComputeCommands(program: CommandUnknownOpts, context: ContextOf): void {
  const instance = program.command("instance").description("instances and their primary vNIC");
  instance
    .command("create")
    .description("create an instance with a primary vNIC in a subnet")
    .requiredOption("--name <name>", "instance name, e.g. vm-A")
    .requiredOption("--subnet <subnet>", "subnet of the primary vNIC (id or name)")
    .option("--ip <address>", "primary address (default: the lowest free one)")
    .option("--idempotency-key <key>", IDEMPOTENCY)
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const subnetId = await resolveId<Subnet>(client, KINDS.subnet, opts.subnet);
      const created = await client.request<Instance>("POST", "/v1/instances", {
        body: { name: opts.name, subnetId, ipAddress: opts.ip },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      ctx.show(created, instanceDetails);
    });
  instance
    .command("list")
    .description("list instances")
    .option("--vpc <vpc>", "only this VPC's (id or name)")
    .option("--subnet <subnet>", "only those with a vNIC in this subnet (id or name)")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const vpcId = opts.vpc === undefined ? undefined : await resolveId<Vpc>(client, KINDS.vpc, opts.vpc);
      const subnetId =
        opts.subnet === undefined ? undefined : await resolveId<Subnet>(client, KINDS.subnet, opts.subnet);
      await ctx.list<Instance>("/v1/instances", { vpcId, subnetId }, opts, (items) =>
        ctx.table(instanceColumns, items),
      );
    });
  instance
    .command("show")
    .description("show an instance and its vNICs")
    .argument("<instance>", "instance id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Instance>(client, KINDS.instance, ref);
      ctx.show(await client.get<Instance>(path("/v1/instances", id)), instanceDetails);
    });
  instance
    .command("delete")
    .description("delete an instance: releases its addresses and any HAVIP it holds")
    .argument("<instance>", "instance id or name")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Instance>(client, KINDS.instance, ref);
      await client.request("DELETE", path("/v1/instances", id));
      if (!ctx.json) ctx.print(`deleted ${id}\n`);
    });

  const vnic = program.command("vnic").description("extra vNICs of an instance");
  vnic
    .command("create")
    .description("add a vNIC to an instance, in a subnet of the instance's VPC")
    .requiredOption("--instance <instance>", "instance id or name")
    .requiredOption("--subnet <subnet>", "subnet id or name")
    .option("--ip <address>", "address (default: the lowest free one)")
    .option("--idempotency-key <key>", IDEMPOTENCY)
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const instanceId = await resolveId<Instance>(client, KINDS.instance, opts.instance);
      const subnetId = await resolveId<Subnet>(client, KINDS.subnet, opts.subnet);
      const created = await client.request<Vnic>("POST", "/v1/vnics", {
        body: { instanceId, subnetId, ipAddress: opts.ip },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      ctx.show(created, vnicDetails);
    });
  vnic
    .command("show")
    .description("show a vNIC")
    .argument("<vnic>", "vNIC id (eni-…)")
    .action(async (id, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      ctx.show(await client.get<Vnic>(path("/v1/vnics", id)), vnicDetails);
    });
}
