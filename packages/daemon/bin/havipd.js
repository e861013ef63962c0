#!/usr/bin/env node
// Runs src/main.ts on Node >= 24 (which strips TypeScript types itself). On an older Node it re-executes
// this file with the repository's Node 24 (.tools/bin/node, set up by scripts/node-env.sh).
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
if (major >= 24) {
  await import("../src/main.ts");
} else {
  const self = realpathSync(fileURLToPath(import.meta.url));
  const node = fileURLToPath(new URL("../../../.tools/bin/node", pathToFileURL(self)));
  if (!existsSync(node)) {
    console.error(
      `havipd: needs Node 24 or newer (this is Node ${process.versions.node}); in the repository run "source scripts/node-env.sh" (see README)`,
    );
    process.exit(1);
  }
  const child = spawn(node, [self, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
