export { runCli } from "./cli.ts";
export { processEnvironment, type CliEnvironment } from "./environment.ts";
