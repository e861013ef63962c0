// Runs one `havip` command line and returns its exit status. Every failure is one line on stderr.
import { CommanderError } from "@commander-js/extra-typings";
import type { CliEnvironment } from "./environment.ts";
import { describeFailure, EXIT_OK, EXIT_USAGE } from "./errors.ts";
import { createProgram } from "./program.ts";

export async function runCli(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const program = createProgram(environment);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its message (or the help). Help and version exit 0; a command
      // group given without a subcommand prints its help and counts as a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const { line, exitCode } = describeFailure(e);
    environment.stderr.write(`${line}\n`);
    return exitCode;
  }
}
