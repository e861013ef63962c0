// What processing one frame decided: the frames to transmit (port index, buffer, length), the verdict, the
// drop reason, and any observations. Preallocated and reused for every frame; the pipeline never throws.
import type { Observation } from "./observations.ts";

export const VERDICT = {
  NONE: 0,
  /** Delivered to one port (switched, routed, translated). */
  FORWARDED: 1,
  /** Delivered to the other members of a broadcast domain. */
  FLOODED: 2,
  /** Answered by the fabric itself (ARP). */
  REPLIED: 3,
  /** Taken in by the fabric with nothing to send (e.g. an announcement not flooded, an ARP reply learned). */
  CONSUMED: 4,
  DROPPED: 5,
} as const;

export type Verdict = (typeof VERDICT)[keyof typeof VERDICT];

const EMPTY = new Uint8Array(0);

export class Actions {
  count = 0;
  ports = new Int32Array(16);
  bufs: Uint8Array[] = new Array<Uint8Array>(16).fill(EMPTY);
  lens = new Int32Array(16);
  verdict: Verdict = VERDICT.NONE;
  /** Drop reason code (reasons.ts) when the verdict is DROPPED, else -1. */
  drop = -1;
  /** The codec's reason for a `malformed` / `bad-checksum` drop (a preallocated string), else null. */
  detail: string | null = null;
  /** Observations made while processing the frame (rare: holder changes, denied claims). */
  readonly observations: Observation[] = [];

  reset(): void {
    this.count = 0;
    this.verdict = VERDICT.NONE;
    this.drop = -1;
    this.detail = null;
    if (this.observations.length > 0) this.observations.length = 0;
  }

  /** Queues a frame for transmission. The buffer must stay untouched until the actions are dispatched. */
  send(port: number, buf: Uint8Array, len: number): void {
    if (this.count === this.ports.length) this.grow();
    const i = this.count++;
    this.ports[i] = port;
    this.bufs[i] = buf;
    this.lens[i] = len;
  }

  private grow(): void {
    const n = this.ports.length * 2;
    const ports = new Int32Array(n);
    ports.set(this.ports);
    const lens = new Int32Array(n);
    lens.set(this.lens);
    this.ports = ports;
    this.lens = lens;
    for (let i = this.bufs.length; i < n; i++) this.bufs.push(EMPTY);
  }
}
