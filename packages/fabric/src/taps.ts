// Taps: live captures inside the fabric. A tap sees every frame a port receives (before the pipeline decides,
// so dropped frames too) and every frame the fabric sends (forwarded, flooded, or its own ARP answers), and
// records the ones its target selects. With no tap installed the fabric pays one length check per frame.
import type { FrameRecorder } from "./ports/capture.ts";

/** What a capture records: everything on one port, or the frames of one HAVIP's address in its VPC. */
export type CaptureTarget = { kind: "port"; portId: string } | { kind: "havip"; havipId: string };

/** The port a frame passes, as the tap needs it: its id and, when it carries a vNIC, that vNIC's VPC id. */
export interface TapPort {
  portId: string;
  vpcId: string | null;
}

/** A frame selector: true when the tap wants this frame on this port. */
export type TapFilter = (port: TapPort, frame: Uint8Array, len: number) => boolean;

export class FrameTap {
  readonly filter: TapFilter;
  readonly recorder: FrameRecorder;
  constructor(filter: TapFilter, recorder: FrameRecorder) {
    this.filter = filter;
    this.recorder = recorder;
  }
}

/** Every frame received or sent on port `portId`. */
export function portFilter(portId: string): TapFilter {
  return (port) => port.portId === portId;
}

/**
 * Frames on the ports of VPC `vpcId` that carry address `ip`: ARP with it as sender or target, IPv4 with it as
 * source or destination (what a HAVIP's announcements, its clients and its holder exchange).
 */
export function addressFilter(vpcId: string, ip: number): TapFilter {
  const want = ip >>> 0;
  return (port, frame, len) => port.vpcId === vpcId && carriesAddress(frame, len, want);
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** True when an untagged ARP or IPv4 frame names `ip` (unsigned) as sender/target or source/destination. */
export function carriesAddress(frame: Uint8Array, len: number, ip: number): boolean {
  if (len < 14) return false;
  const type = (frame[12]! << 8) | frame[13]!;
  if (type === 0x0806) return len >= 42 && (u32(frame, 28) === ip || u32(frame, 38) === ip);
  if (type === 0x0800) return len >= 34 && (u32(frame, 26) === ip || u32(frame, 30) === ip);
  return false;
}
