// havipd's logs: pino, as JSON lines on stdout (for collectors), or as short readable lines when stdout is
// a terminal. The same stream serves the daemon's own messages and fastify's request logs.
import { pino, type Logger } from "pino";
import type { LogLevel } from "./options.ts";

export type LogFormat = "json" | "pretty";

export interface LogSink {
  write(line: string): void;
}

export interface LogSetup {
  logger: Logger;
  /** pino options for the HTTP server's own logger, writing to the same place. */
  serverLoggerOptions: { level: LogLevel; stream: LogSink; base: Record<string, string> };
}

export function createLogging(level: LogLevel, format: LogFormat, out: LogSink = process.stdout): LogSetup {
  const stream = format === "json" ? out : prettyStream(out);
  return {
    logger: pino({ level, base: { service: "havipd" } }, stream),
    serverLoggerOptions: { level, stream, base: { service: "havipd" } },
  };
}

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const OMITTED = new Set(["level", "time", "msg", "pid", "hostname", "service"]);

/** Turns pino JSON lines into "12:34:56.789 INFO  message key=value". */
export function prettyStream(out: LogSink): LogSink {
  return {
    write(line: string): void {
      out.write(`${formatPretty(line)}\n`);
    },
  };
}

export function formatPretty(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const time = typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 23) : "";
  const level = (LEVEL_NAMES[Number(record.level)] ?? String(record.level)).padEnd(5);
  const msg = typeof record.msg === "string" ? record.msg : "";
  const fields = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return [time, level, msg, ...fields].filter((part) => part !== "").join(" ");
}
