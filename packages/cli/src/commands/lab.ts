// `havip lab …`: the Linux lab (root). havipd, started as root with --lab-dir, makes the lab's fabric
// namespace and runs the fabric there; these commands attach API instances as namespaces, run commands in
// them, bring up the seed example, show a failover, and take everything down.
import { spawn } from "node:child_process";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { labDown, requireRoot } from "@havip/lab";
import { integerIn } from "../parsers.ts";
import { UsageError } from "../errors.ts";
import { execArguments, labAwait, labCall, LabContext, labPlaces } from "./lab-context.ts";
import { failover } from "./lab-failover.ts";
import { attachApiInstance, detachInstance } from "./lab-instance.ts";
import { seedExampleUp, SEED } from "./lab-seed.ts";
import type { SeedUp } from "./lab-seed.ts";
import { formatTimeline } from "./lab-timeline.ts";
import { labStatus } from "./lab-status.ts";
import type { ContextOf } from "./shared.ts";

export const LAB_EXAMPLES = ["seed-example"] as const;

function labContext(context: ContextOf, cmd: CommandUnknownOpts, needs: string): LabContext {
  labCall(() => {
    requireRoot(needs);
  });
  const all = cmd.optsWithGlobals();
  const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const ctx = context(cmd);
  const places = labPlaces(
    { dataDir: text(all.dataDir), labDir: text(all.labDir) },
    ctx.environment.env,
    process.cwd(),
  );
  return new LabContext(ctx, places);
}

export function registerLabCommands(program: CommandUnknownOpts, context: ContextOf): void {
  const lab = program
    .command("lab")
    .description("the Linux lab (root): instances as network namespaces on havipd's fabric, real keepalived")
    .option("--data-dir <dir>", "havipd's data directory: its operator token (env HAVIP_DATA_DIR; default ./data)")
    .option("--lab-dir <dir>", "the lab's directory, havipd's --lab-dir (env HAVIP_LAB_DIR; default <data-dir>/lab)")
    .addHelpText(
      "after",
      `
Start havipd as root with --lab-dir first (it creates the lab's fabric namespace and runs the fabric there).
The lab commands use the operator token (HAVIP_ADMIN_TOKEN, else <data-dir>/admin-token).`,
    );

  lab
    .command("up")
    .description("bring up an example: seed-example (seed 001 with keepalived, vm-C as client, an EIP)")
    .argument("<example>", LAB_EXAMPLES.join(", "))
    .action(async (example, _opts, cmd) => {
      if (!(LAB_EXAMPLES as readonly string[]).includes(example)) {
        throw new UsageError(`unknown example "${example}": choose ${LAB_EXAMPLES.join(", ")}`);
      }
      const lc = labContext(context, cmd, "attach instances as network namespaces and run keepalived");
      const up = await seedExampleUp(lc);
      if (lc.ctx.json) {
        lc.ctx.printJson({
          havip: up.havip,
          eip: up.eip,
          instances: up.instances,
          holder: up.holder,
          remade: up.remade,
          restarted: up.restarted,
        });
        return;
      }
      const restored = [...up.remade.map((n) => `re-made namespace ${n}`), ...up.restarted];
      lc.ctx.print(restored.map((line) => `lab: ${line}\n`).join("") + seedSummary(up, lc.places.dataDir));
    });

  const instance = lab.command("instance").description("attach API instances to the lab");
  instance
    .command("up")
    .description("attach an instance: its primary vNIC as a namespace (eth0: VXLAN with the vNIC's MAC and address)")
    .argument("<instance>", "instance id or unique name")
    .option(
      "--attach <kind>",
      "how eth0 reaches the fabric: vxlan (a kernel VXLAN device) or veth (a veth pair)",
      "vxlan",
    )
    .action(async (ref, opts: { attach: string }, cmd) => {
      if (opts.attach !== "vxlan" && opts.attach !== "veth") {
        throw new UsageError(`--attach expects vxlan or veth, got "${opts.attach}"`);
      }
      const lc = labContext(context, cmd, "create the instance's network namespace");
      const admin = await lc.admin();
      const l = lc.lab();
      const remade = await labAwait(() => l.restore()); // after a reboot: the lab's namespaces first
      if (!lc.ctx.json) lc.ctx.print(remade.map((n) => `lab: re-made namespace ${n}\n`).join(""));
      const r = await attachApiInstance(l, admin, ref, opts.attach);
      const a = r.attached;
      if (lc.ctx.json) lc.ctx.printJson({ instanceId: r.instance.id, ...a });
      else {
        const verb = r.already ? "already attached" : "attached";
        lc.ctx.print(
          `${r.instance.name} ${verb} as ${a.name} (namespace ${a.namespace}): eth0 ${a.mac} ${a.ip}/${a.prefixLen}` +
            ` via ${a.gateway ?? "no gateway"}, MTU ${a.mtu}, ` +
            (a.endpoint.kind === "veth" ? `veth (fabric end ${a.endpoint.interface})\n` : `VNI ${a.vni}\n`),
        );
      }
    });
  instance
    .command("down")
    .description("detach an instance: its processes and namespace go, its attachment is removed")
    .argument("<instance>", "instance id, name, or its lab name")
    .action(async (ref, _opts, cmd) => {
      const lc = labContext(context, cmd, "remove the instance's network namespace");
      const admin = await lc.admin().catch(() => undefined);
      const name = await detachInstance(lc.lab(), admin, ref);
      if (!lc.ctx.json) lc.ctx.print(`detached ${name}\n`);
    });

  lab
    .command("exec")
    .description("run a command inside an instance's namespace; its exit status is havip's")
    .argument("<instance>", "the lab's instance name (vm-a), or the API instance's id or name")
    .argument("<command...>", "the command, after --")
    .usage("<instance> -- <command...>")
    .action(async (ref, command, _opts, cmd) => {
      const lc = labContext(context, cmd, "enter the instance's network namespace");
      const { program: run, args } = execArguments(command);
      const l = lc.lab();
      const name = l.state.instances.some((i) => i.name === ref) ? ref : ref.toLowerCase();
      const [ip = "ip", ...argv] = labCall(() => l.commandIn(name, run, args));
      const child = spawn(ip, argv, { stdio: "inherit" });
      const code = await new Promise<number>((resolve) => {
        child.once("error", () => {
          resolve(127);
        });
        child.once("exit", (c, signal) => {
          resolve(c ?? 128 + signalNumber(signal));
        });
      });
      // Interactive: the command's status is the answer (not the CLI's own 0/1/2).
      process.exit(code);
    });

  lab
    .command("status")
    .description("what the lab has: namespaces, instances, processes, and havipd's view of them")
    .action(async (_opts, cmd) => {
      const lc = labContext(context, cmd, "read the lab's network namespaces");
      lc.ctx.print(await labStatus(lc));
    });

  lab
    .command("failover")
    .description("take the HAVIP's holder down while a client probes it, and print the timeline")
    .option("--havip <havip>", "the HAVIP (id or name)", SEED.havip.name)
    .option("--client <instance>", "the instance that probes http://<HAVIP>/", "vm-C")
    .option("--cut-link", "take the holder's eth0 down instead of stopping its keepalived")
    .option("--every <ms>", "probe interval in ms (1–1000)", integerIn(1, 1000), 20)
    .option("--timeout <ms>", "how long to wait for the new holder, in ms", integerIn(1000, 600_000), 20_000)
    .action(async (opts, cmd) => {
      const lc = labContext(context, cmd, "run keepalived and probes in the lab's namespaces");
      const timeline = await failover(lc, {
        havip: opts.havip,
        client: opts.client,
        cutLink: opts.cutLink === true,
        everyMs: opts.every,
        timeoutMs: opts.timeout,
      });
      if (lc.ctx.json) lc.ctx.printJson(timeline);
      else lc.ctx.print(formatTimeline(timeline));
      lc.ctx.note(
        opts.cutLink === true
          ? `restore the link: havip lab exec ${timeline.oldHolder} -- ip link set eth0 up`
          : `start ${timeline.oldHolder}'s keepalived again: havip lab up seed-example`,
      );
    });

  lab
    .command("down")
    .description("remove everything the lab made (namespaces, processes, files), also after a crash")
    .option(
      "--prefix <prefix>",
      "namespace prefix to sweep when the lab's record is gone (env HAVIP_LAB_PREFIX; default: recorded, else hvl-)",
    )
    .action(async (opts, cmd) => {
      const lc = labContext(context, cmd, "remove the lab's network namespaces and processes");
      // Best effort: forget the lab's attachments in havipd (it may be stopped already).
      await forgetAttachments(lc).catch(() => undefined);
      const envPrefix = lc.ctx.environment.env.HAVIP_LAB_PREFIX;
      const prefix = opts.prefix ?? (envPrefix === undefined || envPrefix === "" ? undefined : envPrefix);
      const report = await labAwait(() => labDown({ stateDir: lc.places.labDir, prefix }));
      if (lc.ctx.json) lc.ctx.printJson(report);
      else {
        const what = report.namespaces.length === 0 ? "nothing was up" : `removed ${report.namespaces.join(", ")}`;
        lc.ctx.print(`lab down: ${what}; ${report.processes} processes stopped\n`);
      }
    });
}

async function forgetAttachments(lc: LabContext): Promise<void> {
  const l = lc.lab();
  const admin = await lc.admin();
  const vnis = new Set(l.state.instances.map((i) => i.vni));
  const { items } = await admin.get<{ items: { vnicId: string; vni: number }[] }>("/v1/fabric/attachments");
  for (const a of items.filter((x) => vnis.has(x.vni))) {
    await admin.request("DELETE", `/v1/fabric/attachments/${encodeURIComponent(a.vnicId)}`);
  }
  if (l.state.instances.some((i) => i.name === "internet")) await admin.request("DELETE", "/v1/fabric/internet");
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return signal === null ? 0 : (numbers[signal] ?? 1);
}

function seedSummary(up: SeedUp, dataDir: string): string {
  const lines = [
    `seed example up: HAVIP ${up.havip.name} ${up.havip.ipAddress} (EIP ${up.eip.publicIp}), holder ${up.holder ?? "none yet"}`,
    ...up.instances.map(
      (i) => `  ${i.name.padEnd(5)} ${i.vnics[0]?.ipAddress ?? ""}  namespace of lab instance ${i.name.toLowerCase()}`,
    ),
    `  internet 203.0.113.10 (echo service on port 7777)`,
    "",
    "Try (as root, in this repository):",
    `  npx havip lab exec vm-c -- curl -s http://${up.havip.ipAddress}/          # served by the holder`,
    `  npx havip lab exec internet -- curl -s http://${up.eip.publicIp}/     # the same, through the EIP`,
    "  npx havip lab failover                   # stop the holder's keepalived; prints the timeline",
    "  npx havip lab failover --cut-link        # or take its link down",
    `  HAVIP_TOKEN=$(cat ${dataDir}/${SEED.tokenFile}) npx havip havip history ${up.havip.name}`,
    "  npx havip lab status",
    "  npx havip lab down                       # removes everything the lab made",
    "",
  ];
  return lines.join("\n");
}
