// `havip login`: checks an API address and token against havipd and keeps them in the config file.
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { ApiClient } from "../client.ts";
import { writeConfigFile } from "../config.ts";
import { ApiRequestError, UsageError } from "../errors.ts";
import type { ContextOf } from "./shared.ts";

export function registerLoginCommand(program: CommandUnknownOpts, context: ContextOf): void {
  program
    .command("login")
    .description("save --api and --token (mode 0600) for later commands; checks them first")
    .option("--no-verify", "save without contacting havipd")
    .addHelpText("after", '\nExample:\n  havip login --api http://127.0.0.1:7480 --token "$(cat data/admin-token)"')
    .action(async (opts, cmd) => {
      const ctx = context(cmd);
      const settings = await ctx.settings();
      // The token to save must be given now, not taken from the file being replaced.
      if (settings.token === undefined || settings.tokenSource === "config file") {
        throw new UsageError("havip login needs --token (or HAVIP_TOKEN)");
      }
      let role = "";
      if (opts.verify) {
        const client = new ApiClient(settings.api, settings.token, ctx.environment.fetch);
        await client.get("/v1/quotas"); // any valid token may read the quotas
        role = await client.get("/v1/projects", { limit: 1 }).then(
          () => " as the operator",
          (e: unknown) => {
            if (e instanceof ApiRequestError && e.code === "Forbidden") return " with a project token";
            throw e;
          },
        );
      }
      await writeConfigFile(settings.configPath, { api: settings.api, token: settings.token });
      if (ctx.json) ctx.printJson({ api: settings.api, configPath: settings.configPath });
      else ctx.print(`logged in to ${settings.api}${role}; saved to ${settings.configPath}\n`);
    });
}
