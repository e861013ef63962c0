// Guest halt polling for the latency benchmarks. On a KVM guest whose idle driver is cpuidle-haltpoll, an idle
// vCPU polls for `guest_halt_poll_ns` before it halts; a halted vCPU is woken through the hypervisor, which then
// has to schedule it again. This machine boots with `haltpoll.guest_halt_poll_ns=0` (the kernel's default is
// 200000): every wake-up of an idle core is a hypervisor round trip, and some take a millisecond. The failover
// benchmark sets the kernel's default for its run, on both systems alike, and restores the boot value after.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const GUEST_HALT_POLL_PATH = "/sys/module/haltpoll/parameters/guest_halt_poll_ns";

/** The kernel's own default (drivers/cpuidle/governors/haltpoll.c). */
export const KERNEL_DEFAULT_HALT_POLL_NS = 200_000;

/** At most 10 ms: longer polling only burns the host's CPU. */
const MAX_HALT_POLL_NS = 10_000_000;

/** What the benchmark should do: set a value (ns), or leave the machine as it is. */
export type HaltPollWish = { kind: "set"; ns: number } | { kind: "keep" };

/**
 * Reads the wish from an environment value: unset or empty → the kernel's default; `keep` → leave it;
 * an integer 0..10000000 → that many ns. Anything else throws with a one-line reason.
 */
export function parseHaltPollWish(value: string | undefined, name = "BENCH_GUEST_HALT_POLL_NS"): HaltPollWish {
  if (value === undefined || value.trim() === "") return { kind: "set", ns: KERNEL_DEFAULT_HALT_POLL_NS };
  const v = value.trim();
  if (v === "keep") return { kind: "keep" };
  if (!/^\d+$/.test(v) || Number(v) > MAX_HALT_POLL_NS) {
    throw new Error(`${name} must be 'keep' or an integer from 0 to ${String(MAX_HALT_POLL_NS)} (ns), not '${v}'`);
  }
  return { kind: "set", ns: Number(v) };
}

/** What was applied, for the report: the value found and the value the benchmark ran with (null: no haltpoll). */
export interface HaltPollSetting {
  foundNs: number | null;
  duringNs: number | null;
  /** Puts the value found back (idempotent). */
  restore(): void;
}

function readNs(path: string): number | null {
  if (!existsSync(path)) return null;
  const n = Number(readFileSync(path, "utf8").trim());
  return Number.isInteger(n) ? n : null;
}

/**
 * Applies `wish` to the guest's halt-polling parameter at `path` and returns how to restore it. Without the
 * parameter (another idle driver, bare metal, no haltpoll module) nothing changes. The value found is also
 * put back when the process exits without calling restore (an error, Ctrl-C handled by the caller).
 */
export function applyHaltPoll(wish: HaltPollWish, path = GUEST_HALT_POLL_PATH): HaltPollSetting {
  const foundNs = readNs(path);
  if (foundNs === null || wish.kind === "keep" || wish.ns === foundNs) {
    return { foundNs, duringNs: foundNs, restore: () => undefined };
  }
  writeFileSync(path, String(wish.ns));
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off("exit", restore);
    writeFileSync(path, String(foundNs));
  };
  process.on("exit", restore);
  return { foundNs, duringNs: readNs(path), restore };
}
