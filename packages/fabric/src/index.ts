// @havip/fabric: the VPC data plane. A NetworkSpec in (whole or as changes), frames through ports, observations
// (holder changes, denied claims) and counters out. See README.md for the pipeline, the spec format and the
// drop reasons.
export { Fabric, SpecError, UnknownCaptureTarget } from "./fabric.ts";
export { keepFabricWarm, warmUpFabric } from "./warm-up.ts";
export type { FabricWarmth, KeepWarmOptions } from "./warm-up.ts";
export { CPU_SLICE_MAX_US, CPU_SLICE_MIN_US, checkCpuSliceUs, cpuSliceUs, setCpuSlice } from "./cpu-slice.ts";
export type { CpuSliceResult } from "./cpu-slice.ts";
export { DEFAULT_VERIFICATION } from "./verification.ts";
export type { VerificationOptions, VerificationOutcome } from "./verification.ts";
export type {
  FabricCounters,
  FabricOptions,
  HaVipCounters,
  Holder,
  HolderState,
  Outcome,
  PortCounters,
  VerdictName,
} from "./fabric.ts";
export type { Clock, Timer, TimerClock } from "./clock.ts";
export { ANNOUNCE_LATENCY_BOUNDS_MICROS } from "./counters.ts";
export { DEFAULT_POLICING } from "./policers.ts";
export type { PolicedCounts, PolicingConfig } from "./policers.ts";
export type { HistogramSnapshot } from "./counters.ts";
export { carriesAddress } from "./taps.ts";
export type { CaptureTarget } from "./taps.ts";
export { systemClock } from "./clock.ts";
export type {
  ClaimDenied,
  ContestEnded,
  ContestStarted,
  HolderChangeReason,
  HolderChanged,
  HolderReleaseReason,
  HolderReleased,
  Observation,
  ObservationListener,
} from "./observations.ts";
export { DROP_REASONS } from "./reasons.ts";
export type { ClaimDenialReason, DropReason } from "./reasons.ts";
export { emptySpec } from "./spec.ts";
export type {
  BroadcastMode,
  EipSpec,
  EipTargetSpec,
  HaVipSpec,
  InternetSpec,
  NetworkSpec,
  ResourceKind,
  SpecChange,
  SubnetSpec,
  VnicSpec,
  VpcSpec,
} from "./spec.ts";
export type { FrameReceiver, Port } from "./ports/port.ts";
export { translateDestination, translateSource } from "./stages/nat.ts";
export { VxlanPortSet } from "./ports/vxlan.ts";
export { MAX_FRAMES_PER_WAKE, MAX_HOLD_US, checkReceiveModeration } from "./ports/batch-socket.ts";
export type { ReceiveModeration } from "./ports/batch-socket.ts";
export { PacketPort, PACKET_SOCKET_BUFFER, addPacketCounters, packetPortsAvailable } from "./ports/packet.ts";
export type { PacketPortCounters, PacketPortOptions } from "./ports/packet.ts";
export type { VxlanAttachment, VxlanCounters, VxlanPortSetOptions } from "./ports/vxlan.ts";
export { FaultyPort } from "./ports/faults.ts";
export type { FaultCounters, FaultOptions } from "./ports/faults.ts";
export { CapturePort, PcapFile } from "./ports/capture.ts";
export type { FrameRecorder } from "./ports/capture.ts";
