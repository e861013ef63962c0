// The `havip` executable.
import { runCli } from "./cli.ts";
import { processEnvironment } from "./environment.ts";

// A reader that stops early (`havip events | head`) closes the pipe: that is the end, not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

const interrupted = new AbortController();
// Ctrl-C ends a following stream cleanly (exit 0); a second one leaves at once.
process.once("SIGINT", () => {
  interrupted.abort();
  process.once("SIGINT", () => process.exit(130));
});
process.exitCode = await runCli(process.argv.slice(2), { ...processEnvironment(), signal: interrupted.signal });
