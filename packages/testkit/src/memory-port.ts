// Memory ports: a fabric port whose other end is the test. `inject` plays the instance sending a frame into the
// fabric; `delivered` captures (copies of) what the fabric sent out of the port. Structurally a fabric Port.

export type FrameReceiver = (frame: Uint8Array, len: number) => void;

export class MemoryPort {
  readonly id: string;
  /** Frames the fabric transmitted on this port, oldest first (copies). */
  readonly delivered: Uint8Array[] = [];
  private receiver: FrameReceiver | null = null;

  constructor(id: string) {
    this.id = id;
  }

  send(frame: Uint8Array, len: number): void {
    this.delivered.push(new Uint8Array(frame.subarray(0, len)));
  }

  setReceiver(receiver: FrameReceiver | null): void {
    this.receiver = receiver;
  }

  get attached(): boolean {
    return this.receiver !== null;
  }

  /** The instance sends `frame` into the fabric (processed synchronously). */
  inject(frame: Uint8Array, len = frame.length): void {
    if (this.receiver === null) throw new Error(`memory port ${this.id} is not attached`);
    this.receiver(frame, len);
  }

  /** Returns the frames delivered so far and forgets them. */
  take(): Uint8Array[] {
    return this.delivered.splice(0, this.delivered.length);
  }

  clear(): void {
    this.delivered.length = 0;
  }
}

/**
 * A port that only counts what it is sent (benchmarks: no copy, no retention). The counts live in a typed array,
 * so that counting past 2^31 bytes never allocates.
 */
export class CountingPort {
  readonly id: string;
  private readonly counts = new Float64Array(2);
  private receiver: FrameReceiver | null = null;

  get frames(): number {
    return this.counts[0]!;
  }

  get bytes(): number {
    return this.counts[1]!;
  }

  constructor(id: string) {
    this.id = id;
  }

  send(_frame: Uint8Array, len: number): void {
    this.counts[0] = this.counts[0]! + 1;
    this.counts[1] = this.counts[1]! + len;
  }

  setReceiver(receiver: FrameReceiver | null): void {
    this.receiver = receiver;
  }

  inject(frame: Uint8Array, len = frame.length): void {
    if (this.receiver === null) throw new Error(`port ${this.id} is not attached`);
    this.receiver(frame, len);
  }
}
