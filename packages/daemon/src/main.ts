// havipd's entry point: parse flags, start, stop on signals. Every failure is one line on stderr.
import { readFileSync } from "node:fs";
import type { RunningDaemon } from "./daemon.ts";
import { createLogging } from "./log.ts";
import { parseInvocation, USAGE, UsageError } from "./options.ts";
import { handleShutdownSignals } from "./shutdown.ts";
import { StartupError } from "./startup-error.ts";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function fail(message: string, code: number): never {
  process.stderr.write(`havipd: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let invocation;
  try {
    invocation = parseInvocation(process.argv.slice(2), process.env, process.cwd());
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\nRun "havipd --help" for usage.`, 2);
    throw e;
  }
  if (invocation.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (invocation.kind === "version") {
    process.stdout.write(`havipd ${version()}\n`);
    return;
  }
  const { options } = invocation;
  const format = options.logFormat === "auto" ? (process.stdout.isTTY ? "pretty" : "json") : options.logFormat;
  const logging = createLogging(options.logLevel, format);
  const { logger } = logging;

  process.on("uncaughtException", (e) => {
    logger.fatal({ err: e }, "unexpected error; havipd exits");
    process.exit(1);
  });
  process.on("unhandledRejection", (e) => {
    logger.fatal({ err: e }, "unexpected error; havipd exits");
    process.exit(1);
  });

  logger.info({ version: version(), dataDir: options.dataDir }, "havipd starting");
  let daemon: RunningDaemon;
  try {
    // Loaded only now: --help, --version and usage errors need none of the server's modules.
    const { startDaemon } = await import("./daemon.ts");
    daemon = await startDaemon(options, logging);
  } catch (e) {
    if (e instanceof StartupError) fail(`error: ${e.message}`, 1);
    logger.debug({ err: e }, "startup failed");
    fail(`error: ${e instanceof Error ? (e.message.split("\n")[0] ?? e.message) : String(e)}`, 1);
  }

  handleShutdownSignals({
    graceful(signal) {
      logger.info({ signal }, `${signal} received: shutting down (send it again to exit at once)`);
      daemon.stop().then(
        () => process.exit(0),
        (e: unknown) => {
          logger.error({ err: e }, "shutdown did not complete cleanly");
          process.exit(1);
        },
      );
    },
    immediate(signal) {
      logger.warn({ signal }, `${signal} received again: exiting at once`);
      process.exit(1);
    },
  });
}

await main();
