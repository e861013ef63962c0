// Batched I/O through the fabric's native addon (packages/fabric/native/batch-udp.c): UDP datagrams, or the raw
// Ethernet frames of one interface (an AF_PACKET socket), arrive in batches (one recvmmsg, one JS call) in a
// receive ring, and leave from a send ring in batches (one sendmmsg).
// The rings are ArrayBuffers made once by the addon; this class makes a Buffer view per slot once, so nothing
// is allocated per datagram. The addon is optional: `loadBatchUdp` says why when it cannot be loaded.
import { loadNativeAddon, type AddonLoad } from "../native-addon.ts";

/** Metadata words per ring slot: [length, IPv4 address as uint32 (host order), UDP port, flags]. */
const META_WORDS = 4;
const META_LENGTH = 0;
const META_ADDRESS = 1;
const META_PORT = 2;
const META_FLAGS = 3;
/** Flags bit: the datagram was longer than a slot and was cut (MSG_TRUNC). */
const FLAG_TRUNCATED = 1;

/** Counter indexes of the addon's counters buffer (batch-udp.c). */
const C = {
  sent: 0,
  sendErrors: 1,
  sendDropped: 2,
  received: 3,
  batches: 4,
  receiveErrors: 5,
  truncated: 6,
  holds: 7,
} as const;

interface NativeSocket {
  handle: object;
  rx: ArrayBuffer;
  rxMeta: ArrayBuffer;
  tx: ArrayBuffer;
  txMeta: ArrayBuffer;
  counters: ArrayBuffer;
  port: number;
  slotSize: number;
  slots: number;
}

export interface BatchUdpAddon {
  open(address: string, port: number, bufferBytes: number, onBatch: (count: number) => void): NativeSocket;
  /** An AF_PACKET socket bound to `ifname` (absent from an addon built before it existed). */
  openPacket?(ifname: string, bufferBytes: number, onBatch: (count: number) => void): NativeSocket;
  flush(handle: object, count: number): number;
  /** Receive moderation (absent from an addon built before it existed); holdUs 0 turns it off. */
  moderate?(handle: object, holdUs: number, minFrames: number): void;
  close(handle: object): void;
}

/**
 * Receive moderation, as NICs coalesce interrupts: when one wake-up reads at least `minFrames` datagrams, the
 * socket is read again `holdUs` later rather than at the next datagram, as long as that read finds `minFrames`
 * or more. Under a flood the process (and the sender that wakes it, and the receiver its batches wake) is woken
 * once per hold with a bigger batch; fewer than `minFrames` at a time (an announcement, a probe) is read at once.
 */
export interface ReceiveModeration {
  /** 1..100000 µs; 0 turns moderation off. */
  holdUs: number;
  /** At least 1. */
  minFrames: number;
}

/** The largest hold the addon takes (µs). */
export const MAX_HOLD_US = 100_000;

/** The most datagrams one wake-up reads (8 batches of 64, batch-udp.c): a larger `minFrames` never holds. */
export const MAX_FRAMES_PER_WAKE = 512;

/** Throws a RangeError naming what is wrong with `m`. */
export function checkReceiveModeration(m: ReceiveModeration): void {
  if (!Number.isInteger(m.holdUs) || m.holdUs < 0 || m.holdUs > MAX_HOLD_US) {
    throw new RangeError(`receive moderation: holdUs must be an integer from 0 to ${MAX_HOLD_US}, got ${m.holdUs}`);
  }
  if (!Number.isInteger(m.minFrames) || m.minFrames < 1) {
    throw new RangeError(`receive moderation: minFrames must be an integer of at least 1, got ${m.minFrames}`);
  }
}

export type BatchUdpLoad = AddonLoad<BatchUdpAddon>;

let loaded: BatchUdpLoad | null = null;

/** Loads the addon once; never throws: without it, `reason` says why (not built, wrong platform, ...). */
export function loadBatchUdp(): BatchUdpLoad {
  loaded ??= loadNativeAddon<BatchUdpAddon>("batch-udp", ["open", "flush", "close"]);
  return loaded;
}

/** Dotted quad → uint32 (host order), the form the rings carry; -1 when `address` is not an IPv4 literal. */
export function ipv4ToUint32(address: string): number {
  const parts = address.split(".");
  if (parts.length !== 4) return -1;
  let value = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return -1;
    value = value * 256 + Number(p);
  }
  return value;
}

/** Frames up to this many bytes are copied byte by byte: no view object per frame on the hot path. */
const LOOP_COPY_MAX = 256;

/**
 * Copies `frame[0, len)` into `slot` at `offset`. The fabric hands ports a reused buffer larger than the frame;
 * a `subarray` view per frame would be an allocation per datagram, so small frames (most of them) are copied in
 * a loop and only large ones, where the copy dwarfs a view, go through `set`.
 */
export function copyFrame(slot: Uint8Array, offset: number, frame: Uint8Array, len: number): void {
  if (len === frame.length) slot.set(frame, offset);
  else if (len <= LOOP_COPY_MAX) for (let i = 0; i < len; i++) slot[offset + i] = frame[i]!;
  else slot.set(frame.subarray(0, len), offset);
}

export interface BatchSocketCounters {
  sent: number;
  sendErrors: number;
  /** Datagrams not sent because the socket's send buffer was full (the socket never waits for room). */
  sendDropped: number;
  received: number;
  batches: number;
  receiveErrors: number;
  /** Datagrams longer than a slot (cut, and dropped by the receiver). */
  truncated: number;
  /** Receive moderation: times the socket was read a hold later instead of at once. */
  holds: number;
}

/** A UDP socket bound to (address, port), or a packet socket bound to one interface (`interface`). */
export type BatchSocketOptions = BatchSocketCommon & ({ address: string; port: number } | { interface: string });

interface BatchSocketCommon {
  /** SO_RCVBUF and SO_SNDBUF in bytes. */
  bufferBytes: number;
  /**
   * Called once per received batch with the number of datagrams in the receive ring (slots 0..count-1).
   * Datagrams sent from inside it are flushed together when it returns.
   */
  onBatch: (count: number) => void;
  /** Off by default: every wake-up reads at once. */
  moderation?: ReceiveModeration;
}

export class BatchSocket {
  /** The bound UDP port (0 for a packet socket). */
  readonly port: number;
  /** Bytes a slot holds: the largest datagram carried either way. */
  readonly slotSize: number;
  /** One Buffer per receive slot, over the whole slot (the datagram's length is `rxLength(i)`). */
  readonly rxSlots: readonly Buffer[];
  private readonly addon: BatchUdpAddon;
  private readonly native: NativeSocket;
  private readonly rxMeta: Uint32Array;
  private readonly txSlots: readonly Buffer[];
  private readonly txMeta: Uint32Array;
  private readonly nativeCounters: Float64Array;
  private readonly onBatch: (count: number) => void;
  /** Slots of the send ring filled since the last flush. */
  private pending = 0;
  private inBatch = false;
  private flushQueued = false;
  private closed = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(addon: BatchUdpAddon, options: BatchSocketOptions) {
    this.addon = addon;
    this.onBatch = options.onBatch;
    const onBatch = (count: number) => {
      this.deliver(count);
    };
    if ("interface" in options) {
      if (addon.openPacket === undefined) throw new Error("the batch-udp addon has no openPacket (rebuild it)");
      this.native = addon.openPacket(options.interface, options.bufferBytes, onBatch);
    } else {
      this.native = addon.open(options.address, options.port, options.bufferBytes, onBatch);
    }
    const n = this.native;
    this.port = n.port;
    this.slotSize = n.slotSize;
    const slots = (buffer: ArrayBuffer) =>
      Array.from({ length: n.slots }, (_, i) => Buffer.from(buffer, i * n.slotSize, n.slotSize));
    this.rxSlots = slots(n.rx);
    this.txSlots = slots(n.tx);
    this.rxMeta = new Uint32Array(n.rxMeta);
    this.txMeta = new Uint32Array(n.txMeta);
    this.nativeCounters = new Float64Array(n.counters);
    if (options.moderation !== undefined) {
      try {
        this.moderate(options.moderation);
      } catch (e) {
        this.close();
        throw e;
      }
    }
  }

  /** Sets receive moderation (see ReceiveModeration); `{ holdUs: 0, ... }` turns it off. */
  moderate(m: ReceiveModeration): void {
    checkReceiveModeration(m);
    if (this.addon.moderate === undefined) {
      throw new Error("the batch-udp addon has no receive moderation (rebuild it: scripts/build-native.sh)");
    }
    if (!this.closed) this.addon.moderate(this.native.handle, m.holdUs, m.minFrames);
  }

  rxLength(slot: number): number {
    return this.rxMeta[slot * META_WORDS + META_LENGTH]!;
  }

  /** The sender's IPv4 address as a uint32 (compare with `ipv4ToUint32`). */
  rxAddress(slot: number): number {
    return this.rxMeta[slot * META_WORDS + META_ADDRESS]!;
  }

  rxPort(slot: number): number {
    return this.rxMeta[slot * META_WORDS + META_PORT]!;
  }

  rxTruncated(slot: number): boolean {
    return (this.rxMeta[slot * META_WORDS + META_FLAGS]! & FLAG_TRUNCATED) !== 0;
  }

  /**
   * The slot to write the next outgoing datagram into (at most `slotSize` bytes); `commit` sends it. Flushes
   * first when the ring is full. Until `commit`, the same slot is returned again.
   */
  sendSlot(): Buffer {
    if (this.pending === this.txSlots.length) this.flush();
    return this.txSlots[this.pending]!;
  }

  /** Queues the datagram written into `sendSlot()`: sent at the end of the current batch, or in a microtask. */
  commit(length: number, address: number, port: number): void {
    if (this.closed) return;
    if (this.pending === this.txSlots.length) this.flush(); // sendSlot was not called: never overrun the ring
    const m = this.pending * META_WORDS;
    this.txMeta[m + META_LENGTH] = length;
    this.txMeta[m + META_ADDRESS] = address;
    this.txMeta[m + META_PORT] = port;
    this.pending++;
    if (!this.inBatch && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** Sends every queued datagram now (one sendmmsg for the ring); returns how many the kernel took. */
  flush(): number {
    if (this.pending === 0 || this.closed) return 0;
    const count = this.pending;
    this.pending = 0;
    return this.addon.flush(this.native.handle, count);
  }

  get counters(): BatchSocketCounters {
    const c = this.nativeCounters;
    return {
      sent: c[C.sent]!,
      sendErrors: c[C.sendErrors]!,
      sendDropped: c[C.sendDropped]!,
      received: c[C.received]!,
      batches: c[C.batches]!,
      receiveErrors: c[C.receiveErrors]!,
      truncated: c[C.truncated]!,
      holds: c[C.holds]!,
    };
  }

  /** Sends what is queued, then stops polling and closes the socket. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.addon.close(this.native.handle);
  }

  private deliver(count: number): void {
    this.inBatch = true;
    try {
      this.onBatch(count);
    } finally {
      this.inBatch = false;
      this.flush(); // what the batch produced leaves in one sendmmsg
    }
  }
}
