// What the running kernel offers, for tests that depend on it.
import { release } from "node:os";

/** Linux 6.12 brought custom slices (sched_setattr's sched_runtime) to the fair scheduler. */
export function kernelHasCustomSlices(): boolean {
  const [major = 0, minor = 0] = release().split(".").map(Number);
  return major > 6 || (major === 6 && minor >= 12);
}
