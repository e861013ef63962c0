// @havip/testkit: what tests of the data plane need: memory ports, a manual clock, frame builders (like the
// frames keepalived and Linux send) and frame checkers that validate checksums first; a free loopback port; a
// VXLAN peer on loopback; and what the running kernel offers.
export { CountingPort, MemoryPort, type FrameReceiver } from "./memory-port.ts";
export { ManualClock, type ManualTimer } from "./clock.ts";
export * from "./frames.ts";
export * from "./checkers.ts";
export { freePort } from "./free-port.ts";
export { kernelHasCustomSlices } from "./kernel.ts";
export { Vtep } from "./vtep.ts";
