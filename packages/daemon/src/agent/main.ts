// The fabric agent as a program: `node main.ts --socket /run/havip/fabric.sock --vxlan 169.254.77.1:4789`
// [--io auto|dgram|batch] (how VXLAN datagrams move; auto: batched recvmmsg/sendmmsg when the addon is built)
// [--cpu-slice-us 100] (the forwarding thread's scheduler slice, see @havip/fabric's cpu-slice.ts; 0: the kernel's)
// [--observation-delay-ms 2] (how long holder changes wait before havipd hears of them; 0: after the batch)
// [--rx-moderation-us 100] [--rx-moderation-frames 8] (receive moderation of the batched sockets: a wake-up that
// read that many frames or more reads again that much later rather than at the next frame; 0 µs: off)
// [--police-arp-pps 200] [--police-arp-burst 400] [--police-broadcast-pps 1000] [--police-broadcast-burst 2000]
// (per-vNIC token buckets for ARP and for other broadcast/multicast; excess dropped as rate-limited; 0 pps: off).
// [--verify-interval-ms 1000] [--verify-release-after 3] (holder verification: how often each held HAVIP is asked
// who has its address, and after how many silent rounds in a row its holder is released; 0 ms: off).
// Started inside the fabric's network namespace (`ip netns exec …`); havipd drives it with --fabric-agent.
// Prints one JSON line when ready; SIGINT or SIGTERM closes it. On its way out it says why in one JSON line
// (`{"stopping":true,"signal":…}`, then `{"exited":true,"code":…}`): a supervisor reads them from its log to tell
// a deliberate stop from a crash (killed by a signal, it says nothing).
import { writeSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  DEFAULT_POLICING,
  DEFAULT_VERIFICATION,
  MAX_FRAMES_PER_WAKE,
  MAX_HOLD_US,
  checkCpuSliceUs,
  setCpuSlice,
  type PolicingConfig,
  type ReceiveModeration,
} from "@havip/fabric";
import { parseListenAddress } from "../listen-address.ts";
import { startFabricAgent } from "./fabric-agent.ts";

/** The forwarding thread's default slice: short enough that an announcement never queues behind a busy process. */
const DEFAULT_CPU_SLICE_US = 100;
/** Long enough for the first packets after a failover, short against the API's 10 ms. */
const DEFAULT_OBSERVATION_DELAY_MS = 2;
const MAX_OBSERVATION_DELAY_MS = 1000;
const MAX_VERIFY_INTERVAL_MS = 3_600_000;
/**
 * Receive moderation: under a 64-byte flood, reading a hold later rather than at the next frame wakes everyone
 * less often for bigger bursts, and the receiving instance read about a fifth more (bench/dataplane/README.md); a
 * trickle under 8 frames per wake-up (announcements, probes) is read at once.
 */
const DEFAULT_RX_MODERATION_US = 100;
const DEFAULT_RX_MODERATION_FRAMES = 8;
/** Far above any instance's need (a flood from one vNIC is what policing is for), and a sane bound on a typo. */
const MAX_POLICE_RATE = 10_000_000;

function fail(message: string): never {
  process.stderr.write(`fabric agent: ${message}\n`);
  process.exit(2);
}

/** `value` as an integer from `min` to `max`, or exit 2 naming the option. */
function integerOption(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    fail(`--${name} expects an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        socket: { type: "string" },
        vxlan: { type: "string" },
        io: { type: "string", default: "auto" },
        "cpu-slice-us": { type: "string", default: String(DEFAULT_CPU_SLICE_US) },
        "observation-delay-ms": { type: "string", default: String(DEFAULT_OBSERVATION_DELAY_MS) },
        "rx-moderation-us": { type: "string", default: String(DEFAULT_RX_MODERATION_US) },
        "rx-moderation-frames": { type: "string", default: String(DEFAULT_RX_MODERATION_FRAMES) },
        "police-arp-pps": { type: "string", default: String(DEFAULT_POLICING.arpPerSecond) },
        "police-arp-burst": { type: "string", default: String(DEFAULT_POLICING.arpBurst) },
        "police-broadcast-pps": { type: "string", default: String(DEFAULT_POLICING.broadcastPerSecond) },
        "police-broadcast-burst": { type: "string", default: String(DEFAULT_POLICING.broadcastBurst) },
        "verify-interval-ms": { type: "string", default: String(DEFAULT_VERIFICATION.intervalMs) },
        "verify-release-after": { type: "string", default: String(DEFAULT_VERIFICATION.releaseAfterMisses) },
      },
      strict: true,
    });
  } catch (e) {
    fail((e as Error).message); // an unknown option, a missing or ambiguous value: Node's message, exit 2
  }
})();
if (values.socket === undefined || !values.socket.startsWith("/")) fail("--socket /abs/path.sock is required");
let vxlan: { host: string; port: number } | null = null;
if (values.vxlan !== undefined) {
  const parsed = parseListenAddress(values.vxlan);
  if ("error" in parsed || parsed.path !== undefined) fail(`--vxlan expects HOST:PORT, got "${values.vxlan}"`);
  vxlan = parsed;
}
const io = values.io;
if (io !== "auto" && io !== "dgram" && io !== "batch") fail(`--io expects auto, dgram or batch, got "${io}"`);
const sliceArg = values["cpu-slice-us"];
const sliceUs = /^\d+$/.test(sliceArg) ? Number(sliceArg) : NaN;
if (sliceUs !== 0) {
  try {
    checkCpuSliceUs(sliceUs);
  } catch (e) {
    fail(`--cpu-slice-us: ${(e as Error).message.replace("got NaN", `got "${sliceArg}"`)} (or 0: the kernel's own)`);
  }
}
const observationDelayMs = integerOption(
  "observation-delay-ms",
  values["observation-delay-ms"],
  0,
  MAX_OBSERVATION_DELAY_MS,
);
const holdUs = integerOption("rx-moderation-us", values["rx-moderation-us"], 0, MAX_HOLD_US);
const minFrames = integerOption("rx-moderation-frames", values["rx-moderation-frames"], 1, MAX_FRAMES_PER_WAKE);
const rxModeration: ReceiveModeration | null = holdUs === 0 ? null : { holdUs, minFrames };
/** A rate and its burst: a burst of at least one frame unless the rate is 0 (that class is not policed). */
function policeOption(kind: "arp" | "broadcast"): [number, number] {
  const rate = integerOption(`police-${kind}-pps`, values[`police-${kind}-pps`], 0, MAX_POLICE_RATE);
  const burst = integerOption(`police-${kind}-burst`, values[`police-${kind}-burst`], 0, MAX_POLICE_RATE);
  if (rate > 0 && burst < 1) fail(`--police-${kind}-burst must be at least 1 when --police-${kind}-pps is not 0`);
  return [rate, burst];
}
const [arpPerSecond, arpBurst] = policeOption("arp");
const [broadcastPerSecond, broadcastBurst] = policeOption("broadcast");
const policing: PolicingConfig | null =
  arpPerSecond === 0 && broadcastPerSecond === 0
    ? null
    : { arpPerSecond, arpBurst, broadcastPerSecond, broadcastBurst };
const verifyIntervalMs = integerOption("verify-interval-ms", values["verify-interval-ms"], 0, MAX_VERIFY_INTERVAL_MS);
if (verifyIntervalMs !== 0 && verifyIntervalMs <= DEFAULT_VERIFICATION.answerWindowMs) {
  fail(
    `--verify-interval-ms must be 0 (off) or more than ${DEFAULT_VERIFICATION.answerWindowMs}, got ${verifyIntervalMs}`,
  );
}
const releaseAfter = integerOption("verify-release-after", values["verify-release-after"], 1, 100);
const verification =
  verifyIntervalMs === 0
    ? (false as const)
    : {
        intervalMs: verifyIntervalMs,
        unheldIntervalMs: Math.max(verifyIntervalMs, DEFAULT_VERIFICATION.unheldIntervalMs),
        releaseAfterMisses: releaseAfter,
      };
const onWarning = (message: string) => {
  process.stderr.write(`fabric agent: ${message}\n`);
};
// Frames are forwarded on this (the main) thread: ask for a short slice before the first one.
let cpuSliceUs: number | null = null;
if (sliceUs !== 0) {
  const slice = setCpuSlice(sliceUs);
  if (slice.ok) cpuSliceUs = slice.sliceUs;
  else onWarning(`--cpu-slice-us ${sliceUs} not applied, the kernel's slice stays: ${slice.reason}`);
}
// From here on (the options are fine), every exit is said. Synchronous: the process is on its way out.
process.once("exit", (code) => {
  writeSync(1, `${JSON.stringify({ exited: true, code })}\n`);
});
const agent = await startFabricAgent({
  socketPath: values.socket,
  vxlan,
  io,
  onWarning,
  observationDelayMs,
  policing,
  ...(rxModeration === null ? {} : { receiveModeration: rxModeration }),
  verification,
}).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
const ready = {
  ready: true,
  socket: values.socket,
  vxlan: agent.vxlan,
  io: agent.io,
  cpuSliceUs,
  observationDelayMs,
  rxModeration,
  policing,
  verification,
};
process.stdout.write(`${JSON.stringify(ready)}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    writeSync(1, `${JSON.stringify({ stopping: true, signal })}\n`);
    void agent.close().then(() => process.exit(0));
  });
}
