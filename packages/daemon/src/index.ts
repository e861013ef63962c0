// havipd as a library: start the control plane in-process (tests, embedding) with the same options and
// behaviour as the command.
export { startDaemon, type RunningDaemon } from "./daemon.ts";
export { parseInvocation, USAGE, type DaemonOptions, type Invocation } from "./options.ts";
export { createLogging, type LogSetup } from "./log.ts";
export { StartupError } from "./startup-error.ts";
