// One capture on a live fabric: a tap that keeps a pcap in memory and ends after `count` frames, after
// `timeoutMs`, when the pcap reaches its byte budget, or when its signal aborts, whichever comes first. Used by the in-process fabric
// and by the fabric agent (which sends the pcap back over the agent protocol).
import type { CaptureTarget, Fabric } from "@havip/fabric";
import { PcapWriter } from "@havip/wire";

export interface CaptureRequest {
  target: CaptureTarget;
  /** Frames to record before the capture ends. */
  count: number;
  /** The capture ends after this long even if fewer frames came by. */
  timeoutMs: number;
  /** Ends the capture early, with what it recorded (the client went away). */
  signal?: AbortSignal;
}

export interface CaptureResult {
  /** A classic pcap file (Ethernet, microsecond timestamps). */
  pcap: Uint8Array;
  frames: number;
  /** True when the capture ended because it reached the byte budget. */
  truncated: boolean;
}

/** The most a capture keeps in memory (it ends there: 100 000 jumbo frames would not fit). */
export const CAPTURE_MAX_BYTES = 64 * 1024 * 1024;
export const CAPTURE_MAX_FRAMES = 100_000;
export const CAPTURE_MAX_TIMEOUT_MS = 300_000;

/** Starts the capture at once (throws UnknownCaptureTarget synchronously) and resolves when it ends. */
export function runCapture(
  fabric: Fabric,
  request: CaptureRequest,
  maxBytes = CAPTURE_MAX_BYTES,
): Promise<CaptureResult> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let frames = 0;
  let truncated = false;
  const writer = new PcapWriter((chunk) => {
    chunks.push(chunk);
    bytes += chunk.length;
  });
  let done = false;
  let stop: () => void = () => undefined;
  let resolveEnded: (result: CaptureResult) => void = () => undefined;
  const ended = new Promise<CaptureResult>((resolve) => {
    resolveEnded = resolve;
  });
  const finish = () => {
    if (done) return;
    done = true;
    stop();
    clearTimeout(timer);
    request.signal?.removeEventListener("abort", finish);
    resolveEnded({ pcap: Buffer.concat(chunks), frames, truncated });
  };
  stop = fabric.startCapture(request.target, {
    write(ts, frame, len) {
      if (done) return;
      if (bytes + 16 + len > maxBytes) {
        truncated = true;
        finish();
        return;
      }
      writer.write(ts, frame, len);
      frames++;
      if (frames >= request.count) finish();
    },
  });
  // Declared last: finish() runs only from the tap, this timer or the signal, all after this line.
  const timer = setTimeout(finish, request.timeoutMs);
  if (request.signal?.aborted === true) finish();
  else request.signal?.addEventListener("abort", finish, { once: true });
  return ended;
}
