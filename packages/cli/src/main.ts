// The `havip` executable.
import { runCli } from "./cli.ts";
import { processEnvironment } from "./environment.ts";

const interrupted = new AbortController();
// Ctrl-C ends a following stream cleanly (exit 0); a second one leaves at once.
process.once("SIGINT", () => {
  interrupted.abort();
  process.once("SIGINT", () => process.exit(130));
});
process.exitCode = await runCli(process.argv.slice(2), { ...processEnvironment(), signal: interrupted.signal });
