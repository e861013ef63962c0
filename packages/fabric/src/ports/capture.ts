// Capture: a wrapper that records every frame a port receives and sends to a pcap stream (tcpdump reads it),
// timestamped by the injected clock.
import { closeSync, openSync, writeSync } from "node:fs";
import { PcapWriter } from "@havip/wire";
import type { Clock } from "../clock.ts";
import type { FrameReceiver, Port } from "./port.ts";

export interface FrameRecorder {
  write(tsMicros: bigint, frame: Uint8Array, len: number): void;
}

export class CapturePort implements Port {
  readonly id: string;
  private readonly inner: Port;
  private readonly recorder: FrameRecorder;
  private readonly clock: Clock;
  private readonly direction: "rx" | "tx" | "both";

  constructor(inner: Port, recorder: FrameRecorder, clock: Clock, direction: "rx" | "tx" | "both" = "both") {
    this.id = inner.id;
    this.inner = inner;
    this.recorder = recorder;
    this.clock = clock;
    this.direction = direction;
  }

  private record(frame: Uint8Array, len: number): void {
    this.recorder.write(BigInt(Math.round(this.clock.now() * 1000)), frame, len);
  }

  send(frame: Uint8Array, len: number): void {
    if (this.direction !== "rx") this.record(frame, len);
    this.inner.send(frame, len);
  }

  setReceiver(receiver: FrameReceiver | null): void {
    if (receiver === null || this.direction === "tx") {
      this.inner.setReceiver(receiver);
      return;
    }
    this.inner.setReceiver((frame, len) => {
      this.record(frame, len);
      receiver(frame, len);
    });
  }
}

/** A pcap file on disk (written synchronously, so a crash loses nothing already captured). */
export class PcapFile implements FrameRecorder {
  private fd: number | null;
  private readonly writer: PcapWriter;

  constructor(path: string, snaplen = 65535) {
    const fd = openSync(path, "w");
    this.fd = fd;
    this.writer = new PcapWriter((chunk) => {
      if (this.fd !== null) writeSync(this.fd, chunk);
    }, snaplen);
  }

  write(tsMicros: bigint, frame: Uint8Array, len: number): void {
    this.writer.write(tsMicros, frame, len);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
