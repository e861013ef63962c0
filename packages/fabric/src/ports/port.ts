// A port is where frames enter and leave the fabric: a VXLAN attachment, the internet edge, a memory port in
// tests, or a wrapper (capture, faults) around another port.

/** Called by a port with each frame it receives from outside. `frame` is only valid during the call. */
export type FrameReceiver = (frame: Uint8Array, len: number) => void;

export interface Port {
  readonly id: string;
  /**
   * Transmits one frame of `len` bytes. The buffer is only valid during the call (the fabric reuses it):
   * a port that needs the bytes later copies them. Must not throw.
   */
  send(frame: Uint8Array, len: number): void;
  /** Installs the receiver (the fabric does this when the port is attached); null detaches it. */
  setReceiver(receiver: FrameReceiver | null): void;
}
