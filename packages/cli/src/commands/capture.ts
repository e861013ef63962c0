// havip capture: records what the fabric sees on a vNIC's port, on a HAVIP's address, or on the internet port
// (POST /v1/captures) and writes the pcap file (tcpdump -r reads it). Progress goes to stderr, so that
// `-w -` can stream the file to stdout (`havip capture … -w - | tcpdump -r -`).
import { writeFile } from "node:fs/promises";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { HaVip } from "@havip/control";
import { errorFromResponse } from "../client.ts";
import { integerIn } from "../parsers.ts";
import { KINDS, resolveId } from "../resolve.ts";
import type { ContextOf } from "./shared.ts";

const frameCount = integerIn(1, 100_000);
const timeoutSeconds = integerIn(1, 300);
/** How much longer than the capture itself the CLI waits for havipd's answer. */
const ANSWER_GRACE_MS = 30_000;

/** vNIC ids and "internet" go as they are; anything else names a HAVIP (id or name). */
async function captureTarget(ref: string, resolveHaVip: (ref: string) => Promise<string>): Promise<string> {
  if (ref === "internet" || ref.startsWith("eni-")) return ref;
  return resolveHaVip(ref);
}

export function registerCaptureCommand(program: CommandUnknownOpts, context: ContextOf): void {
  program
    .command("capture")
    .description("record what the fabric sees on a vNIC, a HAVIP's address or the internet port, as a pcap file")
    .argument("<target>", 'a vNIC id (eni-…), a HAVIP (id or name), or "internet" [operator]')
    .requiredOption("-w, --write <file>", 'the pcap file to write ("-": standard output)')
    .option("--count <n>", "stop after n frames (1–100000)", frameCount, 100)
    .option("--timeout <seconds>", "stop after this long even with fewer frames (1–300)", timeoutSeconds, 10)
    .action(async (ref, opts, cmd) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const target = await captureTarget(ref, (r) => resolveId<HaVip>(client, KINDS.havip, r));
      const timeoutMs = opts.timeout * 1000;
      ctx.note(`capturing on ${target}: up to ${opts.count} frames or ${opts.timeout} s`);
      const headers = client.headers({ "content-type": "application/json", accept: "application/vnd.tcpdump.pcap" });
      let response: Response;
      try {
        response = await ctx.environment.fetch(client.url("/v1/captures"), {
          method: "POST",
          headers,
          body: JSON.stringify({ target, count: opts.count, timeoutMs }),
          signal: AbortSignal.timeout(timeoutMs + ANSWER_GRACE_MS),
        });
      } catch (e) {
        throw client.connectionError(e);
      }
      if (!response.ok) {
        throw errorFromResponse(response.status, response.statusText, await response.text().catch(() => ""));
      }
      const pcap = new Uint8Array(await response.arrayBuffer());
      const frames = response.headers.get("x-capture-frames") ?? "?";
      if (opts.write === "-") {
        // Binary on stdout: process.stdout takes bytes (the Output type only promises strings).
        (ctx.environment.stdout as unknown as { write(bytes: Uint8Array): unknown }).write(pcap);
      } else {
        await writeFile(opts.write, pcap);
      }
      const truncated = response.headers.get("x-capture-truncated") === "true" ? " (stopped at the size limit)" : "";
      const where = opts.write === "-" ? "standard output" : opts.write;
      ctx.note(`${frames} frames written to ${where}${truncated}`);
    });
}
