// The forwarding thread's CPU time slice (native/cpu-slice.c). Under Linux's EEVDF scheduler (6.12 and later) a
// thread may ask for a slice shorter than the default (0.75–3 ms, depending on the number of CPUs); when it wakes
// it then preempts a thread with a longer slice instead of queueing behind it, while its share of the CPU stays
// what nice gives it. Measured in the failover benchmark on 2 cores: with the default slice an announcement that
// arrived while keepalived and tcpdump held the CPUs waited 0.5–1.9 ms before the agent read it; with 100 µs it
// did not wait. Optional: without the addon, or on an older kernel, the kernel's slice stays and `reason` says why.
import { loadNativeAddon, type AddonLoad } from "./native-addon.ts";

/** The shortest and longest slice the kernel accepts (it clamps to these), in microseconds. */
export const CPU_SLICE_MIN_US = 100;
export const CPU_SLICE_MAX_US = 100_000;

interface CpuSliceAddon {
  get(): number;
  set(ns: number): number;
}

export type CpuSliceResult = { ok: true; sliceUs: number } | { ok: false; reason: string };

let loaded: AddonLoad<CpuSliceAddon> | null = null;

function load(): AddonLoad<CpuSliceAddon> {
  loaded ??= loadNativeAddon<CpuSliceAddon>("cpu-slice", ["get", "set"]);
  return loaded;
}

/** Throws a RangeError unless `micros` is a whole number of microseconds the kernel accepts. */
export function checkCpuSliceUs(micros: number): void {
  if (!Number.isInteger(micros) || micros < CPU_SLICE_MIN_US || micros > CPU_SLICE_MAX_US) {
    throw new RangeError(
      `a CPU slice is a whole number of microseconds from ${CPU_SLICE_MIN_US} to ${CPU_SLICE_MAX_US}, got ${micros}`,
    );
  }
}

/**
 * Asks the kernel to give the calling thread a slice of `micros` microseconds (Node's main thread when called
 * from JS: the one that forwards frames). Never throws for a kernel or addon that cannot: says why instead.
 */
export function setCpuSlice(micros: number): CpuSliceResult {
  checkCpuSliceUs(micros);
  const { addon, reason } = load();
  if (addon === null) return { ok: false, reason };
  let got: number;
  try {
    got = addon.set(micros * 1000);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  // Before Linux 6.12 the fair scheduler ignores the request (and reports no slice): nothing changed.
  if (got !== micros * 1000) {
    return { ok: false, reason: "the kernel kept its own slice (a custom slice needs Linux 6.12 or later)" };
  }
  return { ok: true, sliceUs: micros };
}

/** The calling thread's slice in microseconds as the kernel reports it; null when it cannot be read. */
export function cpuSliceUs(): number | null {
  const { addon } = load();
  if (addon === null) return null;
  try {
    const ns = addon.get();
    return ns > 0 ? ns / 1000 : null;
  } catch {
    return null;
  }
}
