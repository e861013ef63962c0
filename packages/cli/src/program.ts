// The `havip` command tree. Global options (--api, --token, --json) are accepted anywhere on the line.
import { readFileSync } from "node:fs";
import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { registerCaptureCommand } from "./commands/capture.ts";
import { registerComputeCommands } from "./commands/compute.ts";
import { registerEipCommands } from "./commands/eip.ts";
import { registerEventCommands } from "./commands/events.ts";
import { registerHaVipCommands } from "./commands/havip.ts";
import { registerLabCommands } from "./commands/lab.ts";
import { registerLoginCommand } from "./commands/login.ts";
import { registerNetworkCommands } from "./commands/network.ts";
import { registerOperatorCommands } from "./commands/operator.ts";
import { Context } from "./context.ts";
import type { CliEnvironment } from "./environment.ts";

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function createProgram(environment: CliEnvironment): CommandUnknownOpts {
  const program = new Command("havip")
    .description("Command-line client of the havip control-plane API (havipd).")
    .version(version(), "-V, --version", "show the version")
    .option("--api <url>", "havipd's address (env HAVIP_API, then `havip login`; default http://127.0.0.1:7480)")
    .option("--token <token>", "bearer token (env HAVIP_TOKEN, then `havip login`)")
    .option("--json", "print the API's JSON instead of tables")
    .helpOption("-h, --help", "show help")
    .addHelpText(
      "after",
      `
Resources are named by id or, where unambiguous, by name (an EIP also by its public address).
Exit status: 0 success, 1 the request failed (API error or havipd unreachable), 2 usage error.`,
    )
    .showHelpAfterError("(add --help for usage)")
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => environment.stdout.write(text),
      writeErr: (text) => environment.stderr.write(text),
    })
    .exitOverride();
  const context = (command: CommandUnknownOpts): Context => Context.of(environment, command);
  registerLoginCommand(program, context);
  registerOperatorCommands(program, context);
  registerNetworkCommands(program, context);
  registerComputeCommands(program, context);
  registerHaVipCommands(program, context);
  registerEipCommands(program, context);
  registerEventCommands(program, context);
  registerCaptureCommand(program, context);
  registerLabCommands(program, context);
  return program;
}
