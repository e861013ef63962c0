// Elastic IPs: allocation from the region's pools, binding to a HAVIP or a vNIC.
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { Eip, HaVip, Instance } from "@havip/control";
import { UsageError } from "../errors.ts";
import { pageSize } from "../parsers.ts";
import { KINDS, resolveId } from "../resolve.ts";
import { eipColumns, eipDetails } from "../views.ts";
import { path, type ContextOf } from "./shared.ts";

export function registerEipCommands(program: CommandUnknownOpts, context: ContextOf): void {
  const eip = program.command("eip").description("elastic (public) IPs");
  eip
    .command("allocate")
    .description("allocate a public address from the region's pools")
    .requiredOption("--region <region>", "region, e.g. region-1")
    .option("--idempotency-key <key>", "repeat an allocation safely: the same key returns the first result")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const created = await client.request<Eip>("POST", "/v1/eips", {
        body: { region: opts.region },
        idempotencyKey: ctx.idempotencyKey(opts.idempotencyKey),
      });
      ctx.show(created, eipDetails);
    });
  eip
    .command("list")
    .description("list EIPs")
    .option("--limit <n>", "one page of at most n items", pageSize)
    .option("--cursor <cursor>", "the page after this cursor")
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      await ctx.list<Eip>("/v1/eips", {}, opts, (items) => ctx.table(eipColumns, items));
    });
  eip
    .command("show")
    .description("show an EIP")
    .argument("<eip>", "EIP id or public address")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Eip>(client, KINDS.eip, ref);
      ctx.show(await client.get<Eip>(path("/v1/eips", id)), eipDetails);
    });
  eip
    .command("release")
    .description("give the address back to its pool (refused while bound)")
    .argument("<eip>", "EIP id or public address")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Eip>(client, KINDS.eip, ref);
      await client.request("DELETE", path("/v1/eips", id));
      if (!ctx.json) ctx.print(`released ${id}\n`);
    });
  eip
    .command("associate")
    .description("bind an EIP to a HAVIP (follows its holder) or to a vNIC")
    .argument("<eip>", "EIP id or public address")
    .option("--havip <havip>", "HAVIP id or name")
    .option("--vnic <vnic>", "vNIC id (eni-…)")
    .option("--instance <instance>", "instance id or name: its primary vNIC")
    .action(async (ref, opts, cmd) => {
      const ctx = context(cmd);
      const targets = [opts.havip, opts.vnic, opts.instance].filter((t) => t !== undefined);
      if (targets.length !== 1) throw new UsageError("eip associate needs exactly one of --havip, --vnic, --instance");
      const client = await ctx.client();
      const id = await resolveId<Eip>(client, KINDS.eip, ref);
      let body: { havipId: string } | { vnicId: string };
      if (opts.havip !== undefined) body = { havipId: await resolveId<HaVip>(client, KINDS.havip, opts.havip) };
      else if (opts.vnic !== undefined) body = { vnicId: opts.vnic };
      else {
        const instanceId = await resolveId<Instance>(client, KINDS.instance, opts.instance ?? "");
        body = { vnicId: (await client.get<Instance>(path("/v1/instances", instanceId))).primaryVnicId };
      }
      ctx.show(await client.request<Eip>("POST", path("/v1/eips", id, "/associate"), { body }), eipDetails);
    });
  eip
    .command("disassociate")
    .description("unbind an EIP")
    .argument("<eip>", "EIP id or public address")
    .action(async (ref, _opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const id = await resolveId<Eip>(client, KINDS.eip, ref);
      ctx.show(await client.request<Eip>("POST", path("/v1/eips", id, "/disassociate"), { body: {} }), eipDetails);
    });
}
